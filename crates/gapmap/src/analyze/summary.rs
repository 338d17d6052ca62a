//! The end-of-run summary of an analysis (what `gapmap analyze` prints on stdout, from the
//! CLI and from `python -m gapmap`): totals and the ten settlements with the most unserved
//! premises, and the resilience summary.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use crate::resilience::Outcome;
use gapmap_core::resilience::RedundancyClass;
use gapmap_core::summary::Tally;
use gapmap_io::read::Settlements;

fn pct(part: u64, whole: u64) -> String {
    if whole == 0 {
        "-".into()
    } else {
        format!("{:.1} %", 100.0 * part as f64 / whole as f64)
    }
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n - 1).collect();
        t.push('…');
        t
    }
}

/// Rows (settlement index, tally) of the `n` settlements with the most unserved premises; ties
/// by more premises, then input order. The rural row is not a settlement and is left out.
pub fn top_unserved(tallies: &[Tally], n: usize) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..tallies.len().saturating_sub(1))
        .filter(|&i| tallies[i].unserved > 0)
        .collect();
    idx.sort_by(|&a, &b| {
        tallies[b]
            .unserved
            .cmp(&tallies[a].unserved)
            .then(tallies[b].premises.cmp(&tallies[a].premises))
            .then(a.cmp(&b))
    });
    idx.truncate(n);
    idx
}

/// The end-of-run summary of `gapmap analyze`.
pub fn summary(
    settlements: &Settlements,
    tallies: &[Tally],
    totals: &BTreeMap<String, u64>,
    files: usize,
    out: &Path,
    seconds: f64,
) -> String {
    let mut s = String::new();
    let t = |k: &str| totals.get(k).copied().unwrap_or(0);
    let premises = t("premises");
    let rural = tallies.last().copied().unwrap_or_default();
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "{} premises ({} households, {} workplaces): {} in {} settlements, {} rural",
        premises,
        t("households"),
        t("workplaces"),
        premises - rural.premises,
        settlements.ids.len(),
        rural.premises
    );
    let _ = writeln!(
        s,
        "  fibre passed          {:>9}  {:>7}",
        t("fibre_passed"),
        pct(t("fibre_passed"), premises)
    );
    let _ = writeln!(
        s,
        "  fibre, 2+ networks    {:>9}  {:>7}",
        t("fibre_2plus_networks"),
        pct(t("fibre_2plus_networks"), premises)
    );
    let _ = writeln!(
        s,
        "  4G                    {:>9}  {:>7}",
        t("mobile_4g"),
        pct(t("mobile_4g"), premises)
    );
    let _ = writeln!(
        s,
        "  4G, 2+ operators      {:>9}  {:>7}",
        t("mobile_4g_2plus_operators"),
        pct(t("mobile_4g_2plus_operators"), premises)
    );
    let _ = writeln!(
        s,
        "  5G                    {:>9}  {:>7}",
        t("mobile_5g"),
        pct(t("mobile_5g"), premises)
    );
    let _ = writeln!(
        s,
        "  unserved              {:>9}  {:>7}",
        t("unserved"),
        pct(t("unserved"), premises)
    );
    let _ = writeln!(
        s,
        "  households fibre passed {:>7}  {:>7}",
        t("households_fibre_passed"),
        pct(t("households_fibre_passed"), t("households"))
    );
    let _ = writeln!(
        s,
        "  gap clusters          {:>9}  ({} unserved)",
        t("gap_clusters"),
        t("unserved_clusters")
    );
    let top = top_unserved(tallies, 10);
    if !top.is_empty() {
        let _ = writeln!(s);
        let _ = writeln!(s, "Settlements with the most unserved premises:");
        let _ = writeln!(
            s,
            "  {:<12} {:<28} {:>9} {:>9} {:>8} {:>8}",
            "id", "name", "premises", "unserved", "fibre", "4G"
        );
        for i in top {
            let x = &tallies[i];
            let _ = writeln!(
                s,
                "  {:<12} {:<28} {:>9} {:>9} {:>8} {:>8}",
                truncate(&settlements.ids[i], 12),
                truncate(&settlements.names[i], 28),
                x.premises,
                x.unserved,
                pct(x.fibre_passed, x.premises),
                pct(x.mobile_4g, x.premises)
            );
        }
    }
    if rural.unserved > 0 {
        let _ = writeln!(
            s,
            "  {:<12} {:<28} {:>9} {:>9} {:>8} {:>8}",
            "",
            "(rural)",
            rural.premises,
            rural.unserved,
            pct(rural.fibre_passed, rural.premises),
            pct(rural.mobile_4g, rural.premises)
        );
    }
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "Wrote {files} files to {} in {seconds:.2} s",
        out.display()
    );
    s
}

/// The terminal summary: settlements by class and the five worst single failures.
pub fn resilience(o: &Outcome, settlements: &Settlements) -> String {
    let mut s = String::new();
    let r = &o.result;
    let count = |c: RedundancyClass| o.settlement_class.iter().filter(|&&x| x == c).count();
    let _ = writeln!(
        s,
        "\nFibre resilience: {} junctions, {} links, {} risk units ({} of several links).",
        o.graph.num_junctions(),
        o.graph.links.len(),
        o.graph.groups.len(),
        o.graph.groups.iter().filter(|g| g.len() > 1).count()
    );
    let _ = writeln!(
        s,
        "Settlements (by their fibre premises): {} redundant, {} on a single path, {} with no path to the backbone.",
        count(RedundancyClass::Redundant),
        count(RedundancyClass::Single),
        count(RedundancyClass::None)
    );
    if r.critical.is_empty() {
        let _ = writeln!(
            s,
            "No single failure cuts any premise or settlement off the backbone."
        );
        return s;
    }
    let _ = writeln!(
        s,
        "Single failures that cut off the most premises, by corridor of units in series (critical_links.*):"
    );
    let _ = writeln!(
        s,
        "  {:>4}  {:>6}  {:>10}  {:>11}  settlements cut (all their fibre premises)",
        "rank", "units", "premises", "households"
    );
    for (k, corridor) in r.corridors.iter().take(5).enumerate() {
        let u = &r.critical[corridor.units[0] as usize];
        let names: Vec<&str> = u
            .settlements_cut
            .iter()
            .take(3)
            .map(|&s| settlements.names[s as usize].as_str())
            .collect();
        let more = u.settlements_cut.len().saturating_sub(3);
        let _ = writeln!(
            s,
            "  {:>4}  {:>6}  {:>10}  {:>11}  {}{}",
            k + 1,
            corridor.units.len(),
            u.premises,
            u.households,
            names.join(", "),
            if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            }
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_orders_by_unserved_and_skips_rural() {
        let mk = |premises, unserved| Tally {
            premises,
            unserved,
            ..Default::default()
        };
        let t = vec![mk(10, 2), mk(50, 5), mk(20, 5), mk(5, 0), mk(1000, 900)];
        assert_eq!(top_unserved(&t, 10), vec![1, 2, 0]);
        assert_eq!(top_unserved(&t, 1), vec![1]);
    }
}
