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
use gapmap_io::Lang;

fn pct(part: u64, whole: u64, lang: Lang) -> String {
    if whole == 0 {
        "-".into()
    } else {
        lang.percent(part as f64 / whole as f64)
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

/// Which measures the analysis had a layer for ([`super::layers::Layers::known`]): without
/// one, no premise counts as having it, and the summary says "not known" rather than 0 %.
#[derive(Debug, Clone, Copy)]
pub struct Known {
    /// A fibre layer (`--fibre`).
    pub fibre: bool,
    /// Mobile coverage (`--mobile`) or cell sites (`--sites`).
    pub mobile: bool,
}

/// The end-of-run summary of `gapmap analyze`, in `lang`.
#[allow(
    clippy::too_many_arguments,
    reason = "the parts of one summary, each from a different place of the results"
)]
pub fn summary(
    settlements: &Settlements,
    tallies: &[Tally],
    totals: &BTreeMap<String, u64>,
    known: Known,
    files: usize,
    out: &Path,
    seconds: f64,
    lang: Lang,
) -> String {
    let mut s = String::new();
    let t = |k: &str| totals.get(k).copied().unwrap_or(0);
    let pct = |part, whole| pct(part, whole, lang);
    // A share, or "–" where the analysis had no layer for it.
    let shown = |known: bool, part, whole| {
        if known {
            pct(part, whole)
        } else {
            "–".into()
        }
    };
    let premises = t("premises");
    let rural = tallies.last().copied().unwrap_or_default();
    let _ = writeln!(s);
    let _ = match lang {
        Lang::En => writeln!(
            s,
            "{} premises ({} households, {} workplaces): {} in {} settlements, {} rural",
            premises,
            t("households"),
            t("workplaces"),
            premises - rural.premises,
            settlements.ids.len(),
            rural.premises
        ),
        Lang::Sv => writeln!(
            s,
            "{} adresser ({} hushåll, {} arbetsställen): {} i {} orter, {} på landsbygden",
            premises,
            t("households"),
            t("workplaces"),
            premises - rural.premises,
            settlements.ids.len(),
            rural.premises
        ),
    };
    // (label, count, of how many); labels padded to one width per language.
    let rows: [(&str, &str, &str, u64); 8] = [
        (
            "fibre passed",
            "fiber i absoluta närheten",
            "fibre_passed",
            premises,
        ),
        (
            "fibre, 2+ networks",
            "fiber, 2+ nät",
            "fibre_2plus_networks",
            premises,
        ),
        ("4G", "4G", "mobile_4g", premises),
        (
            "4G, 2+ operators",
            "4G, 2+ operatörer",
            "mobile_4g_2plus_operators",
            premises,
        ),
        ("5G", "5G", "mobile_5g", premises),
        ("unserved", "utan fiber och 4G", "unserved", premises),
        (
            "households fibre passed",
            "hushåll med fiber i abs. närhet",
            "households_fibre_passed",
            t("households"),
        ),
        ("gap clusters", "luckområden", "gap_clusters", 0),
    ];
    let width: usize = match lang {
        Lang::En => 21,
        Lang::Sv => 31,
    };
    for (en, sv, key, whole) in rows {
        let label = lang.pick(en, sv);
        let pad = " ".repeat(width.saturating_sub(label.chars().count()));
        let unknown = match key {
            "fibre_passed" | "fibre_2plus_networks" | "households_fibre_passed" => {
                (!known.fibre).then(|| lang.pick("no fibre layer", "inget fiberlager"))
            }
            "mobile_4g" | "mobile_4g_2plus_operators" | "mobile_5g" => (!known.mobile)
                .then(|| lang.pick("no mobile layer or sites", "inget mobillager eller master")),
            _ => None,
        };
        if let Some(why) = unknown {
            // A label wider than the column takes its excess from the count's width.
            let w = 9usize.saturating_sub(label.chars().count().saturating_sub(width));
            let _ = writeln!(
                s,
                "  {label}{pad} {:>w$}  {} ({why})",
                "–",
                lang.pick("not known", "okänt")
            );
            continue;
        }
        let _ = if key == "gap_clusters" {
            writeln!(
                s,
                "  {label}{pad} {:>9}  ({} {})",
                t(key),
                t("unserved_clusters"),
                lang.pick("unserved", "utan fiber och 4G")
            )
        } else if key == "households_fibre_passed" && lang == Lang::En {
            // As it has always been printed (its label is two characters wider).
            writeln!(s, "  {label} {:>7}  {:>7}", t(key), pct(t(key), whole))
        } else {
            writeln!(s, "  {label}{pad} {:>9}  {:>7}", t(key), pct(t(key), whole))
        };
    }
    let top = top_unserved(tallies, 10);
    if !top.is_empty() {
        let _ = writeln!(s);
        let _ = writeln!(
            s,
            "{}",
            lang.pick(
                "Settlements with the most unserved premises:",
                "Orter med flest adresser utan fiber och 4G:"
            )
        );
        let head = match lang {
            Lang::En => ["id", "name", "premises", "unserved", "fibre", "4G"],
            Lang::Sv => ["id", "namn", "adresser", "utan båda", "fiber", "4G"],
        };
        let _ = writeln!(
            s,
            "  {:<12} {:<28} {:>9} {:>9} {:>8} {:>8}",
            head[0], head[1], head[2], head[3], head[4], head[5]
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
                shown(known.fibre, x.fibre_passed, x.premises),
                shown(known.mobile, x.mobile_4g, x.premises)
            );
        }
    }
    if rural.unserved > 0 {
        let _ = writeln!(
            s,
            "  {:<12} {:<28} {:>9} {:>9} {:>8} {:>8}",
            "",
            lang.pick("(rural)", "(landsbygd)"),
            rural.premises,
            rural.unserved,
            shown(known.fibre, rural.fibre_passed, rural.premises),
            shown(known.mobile, rural.mobile_4g, rural.premises)
        );
    }
    let _ = writeln!(s);
    let _ = match lang {
        Lang::En => writeln!(
            s,
            "Wrote {files} files to {} in {seconds:.2} s",
            out.display()
        ),
        Lang::Sv => writeln!(
            s,
            "Skrev {files} filer till {} på {} s",
            out.display(),
            lang.decimal(seconds, 2)
        ),
    };
    s
}

/// The terminal summary, in `lang`: settlements by class and the five worst single failures.
pub fn resilience(o: &Outcome, settlements: &Settlements, lang: Lang) -> String {
    let mut s = String::new();
    let r = &o.result;
    let count = |c: RedundancyClass| o.settlement_class.iter().filter(|&&x| x == c).count();
    let (junctions, links, units, several) = (
        o.graph.num_junctions(),
        o.graph.links.len(),
        o.graph.groups.len(),
        o.graph.groups.iter().filter(|g| g.len() > 1).count(),
    );
    let (redundant, single, none) = (
        count(RedundancyClass::Redundant),
        count(RedundancyClass::Single),
        count(RedundancyClass::None),
    );
    let _ = match lang {
        Lang::En => writeln!(
            s,
            "\nFibre resilience: {junctions} junctions, {links} links, {units} risk units ({several} of several links).\nSettlements (by their fibre premises): {redundant} redundant, {single} on a single path, {none} with no path to the backbone."
        ),
        Lang::Sv => writeln!(
            s,
            "\nRedundans i fibernätet: {junctions} noder, {links} länkar, {units} riskenheter ({several} av flera länkar).\nOrter (efter sina fiberadresser): {redundant} redundanta, {single} med en enda väg, {none} utan väg till stamnätet."
        ),
    };
    if r.critical.is_empty() {
        let _ = writeln!(
            s,
            "{}",
            lang.pick(
                "No single failure cuts any premise or settlement off the backbone.",
                "Inget enskilt avbrott skär av någon adress eller ort från stamnätet."
            )
        );
        return s;
    }
    let _ = writeln!(
        s,
        "{}",
        lang.pick(
            "Single failures that cut off the most premises, by corridor of units in series (critical_links.*):",
            "Enskilda avbrott som skär av flest adresser, per korridor av enheter i serie (critical_links.*):"
        )
    );
    let head = match lang {
        Lang::En => [
            "rank",
            "units",
            "premises",
            "households",
            "settlements cut (all their fibre premises)",
        ],
        Lang::Sv => [
            "rang",
            "enheter",
            "adresser",
            "hushåll",
            "avskurna orter (alla deras fiberadresser)",
        ],
    };
    let _ = writeln!(
        s,
        "  {:>4}  {:>6}  {:>10}  {:>11}  {}",
        head[0], head[1], head[2], head[3], head[4]
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
            match (more, lang) {
                (0, _) => String::new(),
                (_, Lang::En) => format!(" and {more} more"),
                (_, Lang::Sv) => format!(" och {more} till"),
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
