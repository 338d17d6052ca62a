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

/// The end-of-run summary of `gapmap analyze`, in `lang`.
pub fn summary(
    settlements: &Settlements,
    tallies: &[Tally],
    totals: &BTreeMap<String, u64>,
    files: usize,
    out: &Path,
    seconds: f64,
    lang: Lang,
) -> String {
    let mut s = String::new();
    let t = |k: &str| totals.get(k).copied().unwrap_or(0);
    let pct = |part, whole| pct(part, whole, lang);
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
            lang.pick("(rural)", "(landsbygd)"),
            rural.premises,
            rural.unserved,
            pct(rural.fibre_passed, rural.premises),
            pct(rural.mobile_4g, rural.premises)
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
