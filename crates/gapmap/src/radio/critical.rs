//! Critical cell sites: what each single site's failure cuts off.

use std::borrow::Cow;

use gapmap_core::mobile::{MobileCover, Tech};
use gapmap_core::radio::predict::{PremiseRadio, NO_SITE};
use gapmap_io::read::sites::Sites;
use gapmap_io::read::Premises;
use gapmap_io::write::features::Column;

/// What each single site's failure cuts off: premises whose only 4G is that site (no other
/// site of any operator reaches the threshold, and no coverage polygon covers them).
pub struct CriticalSites {
    /// Site indices, ranked: most premises cut first, then households, then site id.
    pub ranked: Vec<u32>,
    /// Per site: premises whose only 4G it is.
    pub premises_cut: Vec<i64>,
    /// Per site: households whose only 4G it is.
    pub households_cut: Vec<i64>,
    /// Per site: workplaces whose only 4G it is.
    pub workplaces_cut: Vec<i64>,
    /// Distinct settlements with a premise cut, and the one with the most.
    pub settlements_cut: Vec<i64>,
    /// Per site: the settlement of most of the premises it alone serves.
    pub main_settlement: Vec<Option<u32>>,
    /// Per premise: its 4G hangs on one site.
    pub dependent: Vec<bool>,
}

/// Premises whose 4G hangs on a single site, per settlement and the rural row.
pub fn single_site_column(
    c: &CriticalSites,
    premise_settlement: &[Option<u32>],
    settlements: usize,
) -> Column<'static> {
    let mut n = vec![0i64; settlements + 1];
    for (s, &d) in premise_settlement.iter().zip(&c.dependent) {
        if d {
            n[s.map_or(settlements, |s| s as usize)] += 1;
        }
    }
    Column::Int(n)
}

/// Counts, per site, the premises that depend on it alone for 4G.
pub fn critical_sites(
    pred: &[PremiseRadio],
    sites: &Sites,
    premises: &Premises,
    polygon_cover: Option<&[MobileCover]>,
    premise_settlement: Option<&[Option<u32>]>,
) -> CriticalSites {
    let n = sites.sites.len();
    let (mut p, mut h, mut w) = (vec![0i64; n], vec![0i64; n], vec![0i64; n]);
    let mut by_settlement: Vec<std::collections::BTreeMap<u32, i64>> = vec![Default::default(); n];
    let mut dependent = vec![false; pred.len()];
    for (i, r) in pred.iter().enumerate() {
        if r.only_4g_site == NO_SITE || polygon_cover.is_some_and(|c| c[i].operators_4g != 0) {
            continue;
        }
        dependent[i] = true;
        let s = r.only_4g_site as usize;
        p[s] += 1;
        h[s] += i64::from(premises.households[i]);
        w[s] += i64::from(premises.workplaces[i]);
        if let Some(Some(k)) = premise_settlement.map(|ps| ps[i]) {
            *by_settlement[s].entry(k).or_default() += 1;
        }
    }
    let mut ranked: Vec<u32> = (0..n as u32)
        .filter(|&i| sites.sites[i as usize].tech == Tech::G4)
        .collect();
    ranked.sort_by(|&a, &b| {
        let (a, b) = (a as usize, b as usize);
        p[b].cmp(&p[a])
            .then(h[b].cmp(&h[a]))
            .then(sites.ids[a].cmp(&sites.ids[b]))
    });
    let settlements_cut = by_settlement.iter().map(|m| m.len() as i64).collect();
    let main_settlement = by_settlement
        .iter()
        .map(|m| {
            m.iter()
                .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
                .map(|(&k, _)| k)
        })
        .collect();
    CriticalSites {
        ranked,
        premises_cut: p,
        households_cut: h,
        workplaces_cut: w,
        settlements_cut,
        main_settlement,
        dependent,
    }
}

impl CriticalSites {
    /// The ranked table (`settlement_names` names settlements for the main-settlement column).
    pub fn table<'a>(
        &self,
        sites: &'a Sites,
        settlement_names: Option<&'a [String]>,
    ) -> Vec<(String, Column<'a>)> {
        let r = &self.ranked;
        let pick = |v: &Vec<i64>| Column::Int(r.iter().map(|&i| v[i as usize]).collect());
        let mut cols = vec![
            (
                "rank".to_string(),
                Column::Int((1..=r.len() as i64).collect()),
            ),
            (
                "site_id".into(),
                Column::Text(
                    r.iter()
                        .map(|&i| Some(Cow::Borrowed(sites.ids[i as usize].as_str())))
                        .collect(),
                ),
            ),
            (
                "operator".into(),
                Column::Text(
                    r.iter()
                        .map(|&i| {
                            let op = sites.sites[i as usize].operator as usize;
                            Some(Cow::Borrowed(sites.operators[op].as_str()))
                        })
                        .collect(),
                ),
            ),
            ("premises_cut".into(), pick(&self.premises_cut)),
            ("households_cut".into(), pick(&self.households_cut)),
            ("workplaces_cut".into(), pick(&self.workplaces_cut)),
        ];
        if let Some(names) = settlement_names {
            cols.push(("settlements_cut".into(), pick(&self.settlements_cut)));
            cols.push((
                "main_settlement".into(),
                Column::Text(
                    r.iter()
                        .map(|&i| {
                            self.main_settlement[i as usize]
                                .map(|k| Cow::Borrowed(names[k as usize].as_str()))
                        })
                        .collect(),
                ),
            ));
        }
        cols.push((
            "x".into(),
            Column::Float(
                r.iter()
                    .map(|&i| Some(sites.sites[i as usize].xy.x))
                    .collect(),
            ),
        ));
        cols.push((
            "y".into(),
            Column::Float(
                r.iter()
                    .map(|&i| Some(sites.sites[i as usize].xy.y))
                    .collect(),
            ),
        ));
        cols
    }
}
