//! The report's sections read from the analysis' tables: fibre resilience, mobile
//! dependence and critical sites, and the methods (inputs, parameters, definitions).

use std::path::Path;

use gapmap_io::write::report::Table;
use gapmap_io::Lang;
use serde_json::Value;

use super::{int, role_word, Rows, Words};
use crate::error::Result;

/// The fibre resilience section (with `--backbone`): settlements by class, and the top
/// corridors whose single failure cuts the most premises off the backbone.
pub(super) fn resilience_tables(
    dir: &Path,
    s: &Rows,
    top: usize,
    lang: Lang,
    words: Words,
    tables: &mut Vec<Table>,
) -> Result<()> {
    let path = dir.join("critical_links.csv");
    if !path.exists() {
        return Ok(());
    }
    let named: Vec<&Vec<Option<String>>> = s
        .rows
        .iter()
        .filter(|r| !s.s(r, "settlement_id").is_empty())
        .collect();
    let mut rows = Vec::new();
    for class in ["redundant", "single", "none"] {
        let these: Vec<_> = named
            .iter()
            .filter(|r| s.s(r, "fibre_redundancy_class") == class)
            .collect();
        let sum = |col: &str| these.iter().map(|r| s.f(r, col).max(0.0)).sum::<f64>();
        rows.push(vec![
            lang.redundancy_class(class).to_string(),
            int(these.len() as f64),
            int(sum("premises")),
            int(sum("premises_redundant_fibre_path")),
            int(sum("premises_single_fibre_path")),
            int(sum("premises_no_fibre_path")),
        ]);
    }
    tables.push(Table {
        title: match lang {
            Lang::En => "Fibre resilience: settlements by class".into(),
            Lang::Sv => format!("Redundans i fibernätet: {} per klass", words.many),
        },
        note: match lang {
            Lang::En => "A settlement is redundant when at least --redundant-share of its fibre premises have two disjoint paths to the backbone, single when they have one, none when none has a path. The premise columns count each settlement's fibre premises by their own paths.".into(),
            Lang::Sv => format!(
                "En {0} är redundant när minst --redundant-share av dess fiberadresser har två skilda vägar till stamnätet, en väg när de har en, ingen väg när ingen har någon väg. Adresskolumnerna räknar varje {0}s fiberadresser efter deras egna vägar.",
                words.one
            ),
        },
        headers: match lang {
            Lang::En => [
                "class",
                "settlements",
                "premises",
                "fibre premises, two paths",
                "one path",
                "no path",
            ],
            Lang::Sv => [
                "klass",
                words.many,
                "adresser",
                "fiberadresser, två vägar",
                "en väg",
                "ingen väg",
            ],
        }
        .map(String::from)
        .to_vec(),
        rows,
        numeric: vec![false, true, true, true, true, true],
        code: Vec::new(),
    });
    let c = Rows::read(&path)?;
    tables.push(Table {
        title: match lang {
            Lang::En => format!("Top {top}: critical corridors"),
            Lang::Sv => format!("Topp {top}: kritiska korridorer"),
        },
        note: lang.pick(
            "Each row is a corridor: fibre links in series whose single failure (a cut anywhere along it) cuts the same premises off the backbone, ranked by premises cut. Settlements cut: all their fibre premises lose the backbone; affected: at least one does.",
            "Varje rad är en korridor: fiberlänkar i serie där ett enda avbrott (var som helst längs den) skär av samma adresser från stamnätet, ordnade efter avskurna adresser. Avskurna orter: alla deras fiberadresser förlorar stamnätet; berörda: minst en gör det.",
        ).into(),
        headers: match lang {
            Lang::En => [
                "rank",
                "network",
                "links",
                "length (m)",
                "premises cut",
                "households cut",
                "settlements cut",
                "settlements affected",
                "settlements cut (names)",
            ],
            Lang::Sv => [
                "rang",
                "nät",
                "länkar",
                "längd (m)",
                "adresser avskurna",
                "hushåll avskurna",
                "avskurna orter",
                "berörda orter",
                "avskurna orter (namn)",
            ],
        }
        .map(String::from)
        .to_vec(),
        rows: c
            .rows
            .iter()
            .take(top)
            .map(|r| {
                vec![
                    c.s(r, "rank").to_string(),
                    c.s(r, "networks").to_string(),
                    int(c.f(r, "links")),
                    int(c.f(r, "length_m")),
                    int(c.f(r, "premises_cut")),
                    int(c.f(r, "households_cut")),
                    int(c.f(r, "settlements_cut")),
                    int(c.f(r, "settlements_affected")),
                    c.s(r, "settlement_names").replace(';', ", "),
                ]
            })
            .collect(),
        numeric: vec![true, false, true, true, true, true, true, true, false],
        code: Vec::new(),
    });
    Ok(())
}

/// The mobile section: settlements that depend on one operator for 4G, and (with cell sites)
/// the sites whose single failure leaves the most premises without 4G.
pub(super) fn mobile_tables(
    dir: &Path,
    s: &Rows,
    top: usize,
    lang: Lang,
    words: Words,
    tables: &mut Vec<Table>,
) -> Result<()> {
    let mut named: Vec<&Vec<Option<String>>> = s
        .rows
        .iter()
        .filter(|r| {
            !s.s(r, "settlement_id").is_empty() && s.f(r, "mobile_4g_single_operator") > 0.0
        })
        .collect();
    named.sort_by(|a, b| {
        s.f(b, "mobile_4g_single_operator")
            .total_cmp(&s.f(a, "mobile_4g_single_operator"))
    });
    tables.push(Table {
        title: match lang {
            Lang::En => format!("Top {top}: settlements that depend on one operator for 4G"),
            Lang::Sv => format!(
                "Topp {top}: {} som är beroende av en enda operatör för 4G",
                words.many
            ),
        },
        note: lang.pick(
            "Premises with 4G from exactly one operator: a fault or a closure of that operator's site leaves them without mobile broadband.",
            "Adresser med 4G från exakt en operatör: ett fel eller en nedläggning av operatörens mast lämnar dem utan mobilt bredband.",
        ).into(),
        headers: match lang {
            Lang::En => [
                "settlement",
                "premises",
                "4G, one operator",
                "share of premises",
                "4G, two or more",
                "no 4G",
            ],
            Lang::Sv => [
                words.one,
                "adresser",
                "4G, en operatör",
                "andel av adresserna",
                "4G, två eller fler",
                "utan 4G",
            ],
        }
        .map(String::from)
        .to_vec(),
        rows: named
            .iter()
            .take(top)
            .map(|r| {
                let n = s.f(r, "premises");
                vec![
                    s.s(r, "settlement_name").to_string(),
                    int(n),
                    int(s.f(r, "mobile_4g_single_operator")),
                    lang.percent(s.f(r, "mobile_4g_single_operator") / n),
                    int(s.f(r, "mobile_4g_2plus_operators")),
                    int(n - s.f(r, "mobile_4g")),
                ]
            })
            .collect(),
        numeric: vec![false, true, true, true, true, true],
        code: Vec::new(),
    });
    let sites = dir.join("critical_sites.csv");
    if sites.exists() {
        let c = Rows::read(&sites)?;
        let cols: Vec<String> = {
            let mut v: Vec<(&String, &usize)> = c.index.iter().collect();
            v.sort_by_key(|(_, &i)| i);
            v.into_iter().map(|(k, _)| k.clone()).collect()
        };
        tables.push(Table {
            title: match lang {
                Lang::En => format!("Top {top}: critical cell sites"),
                Lang::Sv => format!("Topp {top}: kritiska mobilmaster"),
            },
            note: lang
                .pick(
                    "Sites whose single failure leaves premises without 4G (from critical_sites.csv).",
                    "Master där ett enda avbrott lämnar adresser utan 4G (från critical_sites.csv).",
                )
                .into(),
            headers: cols.iter().map(|k| site_column(k, lang)).collect(),
            rows: c
                .rows
                .iter()
                .take(top)
                .map(|r| cols.iter().map(|k| c.s(r, k).to_string()).collect())
                .collect(),
            numeric: cols.iter().map(|_| false).collect(),
            code: Vec::new(),
        });
    }
    Ok(())
}

/// A column of critical_sites.csv as a table header; a column it does not know as it is.
fn site_column(column: &str, lang: Lang) -> String {
    let (en, sv) = match column {
        "rank" => ("rank", "rang"),
        "site_id" => ("site", "mast"),
        "operator" => ("operator", "operatör"),
        "premises_cut" => ("premises without 4G", "adresser utan 4G"),
        "households_cut" => ("households without 4G", "hushåll utan 4G"),
        "workplaces_cut" => ("workplaces without 4G", "arbetsställen utan 4G"),
        "settlements_cut" => ("settlements affected", "berörda orter"),
        "main_settlement" => ("main settlement", "mest berörda ort"),
        other => (other, other),
    };
    lang.pick(en, sv).to_string()
}

/// The methods section: every input with its SHA-256, every parameter, and what the
/// measures mean.
pub(super) fn methods_tables(run: &crate::run_info::RunInfo, lang: Lang, tables: &mut Vec<Table>) {
    tables.push(Table {
        title: lang.pick("Methods: inputs", "Metod: indata").into(),
        note: lang
            .pick(
                "Each input as the analysis read it (run.json has the fields used, repairs and skips).",
                "Varje indatafil som analysen läste den (run.json anger använda fält, reparationer och överhoppade objekt).",
            )
            .into(),
        headers: match lang {
            Lang::En => [
                "role", "source", "layer", "driver", "CRS", "features", "SHA-256",
            ],
            Lang::Sv => [
                "roll",
                "källa",
                "lager",
                "drivrutin",
                "referenssystem",
                "objekt",
                "SHA-256",
            ],
        }
        .map(String::from)
        .to_vec(),
        rows: run
            .inputs
            .iter()
            .map(|i| {
                vec![
                    role_word(&i.role, lang),
                    i.path.clone(),
                    i.layer.clone().unwrap_or_default(),
                    i.driver.clone(),
                    i.crs.clone(),
                    int(i.features as f64),
                    i.sha256.clone().unwrap_or_else(|| "–".into()),
                ]
            })
            .collect(),
        numeric: vec![false, false, false, false, false, true, false],
        // Paths, layers, drivers, CRS and digests are the machine's names, in no language.
        code: vec![false, true, true, true, true, false, true],
    });
    if let Some(tiles) = &run.tiles {
        tables.push(tiles_table(tiles, lang));
    }
    let params = serde_json::to_value(&run.parameters).unwrap_or(Value::Null);
    let rows: Vec<Vec<String>> = params
        .as_object()
        .map(|o| {
            o.iter()
                .map(|(k, v)| {
                    let text = match v {
                        Value::String(s) => s.clone(),
                        Value::Null => "–".into(),
                        other => other.to_string(),
                    };
                    vec![k.clone(), text]
                })
                .collect()
        })
        .unwrap_or_default();
    tables.push(Table {
        title: lang.pick("Methods: parameters", "Metod: parametrar").into(),
        note: match lang {
            Lang::En => format!("As run by gapmap {} (run.json's parameters).", run.version),
            Lang::Sv => format!(
                "Som gapmap {} körde analysen (parametrarna i run.json).",
                run.version
            ),
        },
        headers: vec![
            lang.pick("parameter", "parameter").into(),
            lang.pick("value", "värde").into(),
        ],
        rows,
        numeric: vec![false, false],
        // Names and values as run.json has them.
        code: vec![true, true],
    });
    let defs: [(&str, &str, &str, &str); 9] = [
        (
            "fibre passed",
            "a premise with fibre (a route or node) within the drop distance",
            "fiber i absoluta närheten",
            "en adress med fiber (en sträcka eller nod) inom anslutningsavståndet",
        ),
        (
            "4G, 5G",
            "a premise inside an operator's coverage polygon of that technology (or predicted by cell sites)",
            "4G, 5G",
            "en adress inom en operatörs täckningsområde för tekniken (eller beräknad från mobilmaster)",
        ),
        (
            "unserved",
            "neither fibre passed nor 4G",
            "utan fiber och 4G",
            "varken fiber i absoluta närheten eller 4G",
        ),
        (
            "gap cluster",
            "premises of one gap kind in one settlement, each within the gap cluster distance of another",
            "luckområde",
            "adresser med samma slags lucka i samma ort, var och en inom klusteravståndet från en annan",
        ),
        (
            "state-aid class",
            "white: no network at the target speed, nor one planned within three years; grey: one; black: two or more. An area's class: that of more than half its premises, else mixed (the area class rule)",
            "stödklass",
            "vit: inget nät med målhastigheten och inget planerat inom tre år; grå: ett; svart: två eller fler. Ett områdes klass: den som mer än hälften av dess adresser har, annars blandad (regeln för områdesklass)",
        ),
        (
            "households without fibre",
            "households of the premises that are not fibre passed",
            "hushåll utan fiber",
            "hushåll på adresser som inte har fiber i absoluta närheten",
        ),
        (
            "goals",
            "the share of households and workplaces (or premises) with the measure, against the goal's target, for the goals the run measured: --goals and --goal",
            "mål",
            "andelen hushåll och arbetsställen (eller adresser) som har det som mäts, mot målets nivå, för de mål som körningen mätte: --goals och --goal",
        ),
        (
            "critical corridor",
            "links in series whose single failure cuts the same premises off every backbone point",
            "kritisk korridor",
            "länkar i serie där ett enda avbrott skär av samma adresser från alla anslutningspunkter i stamnätet",
        ),
        (
            "one operator for 4G",
            "premises where exactly one operator provides 4G",
            "en operatör för 4G",
            "adresser där exakt en operatör ger 4G",
        ),
    ];
    let mut rows: Vec<Vec<String>> = defs
        .iter()
        .map(|&(a, b, c, d)| vec![lang.pick(a, c).to_string(), lang.pick(b, d).to_string()])
        .collect();
    if lang == Lang::Sv {
        rows.insert(
            0,
            vec![
                "adress".into(),
                "en adresspunkt eller byggnad i indata, med sina hushåll och arbetsställen".into(),
            ],
        );
    }
    tables.push(Table {
        title: lang.pick("Methods: definitions", "Metod: definitioner").into(),
        note: lang
            .pick(
                "The README's \"What the numbers mean\" defines every column of the tables.",
                "README (på engelska) definierar varje kolumn i tabellerna, i avsnittet om vad siffrorna betyder.",
            )
            .into(),
        headers: match lang {
            Lang::En => vec!["measure".into(), "definition".into()],
            Lang::Sv => vec!["mått".into(), "definition".into()],
        },
        rows,
        numeric: vec![false, false],
        code: Vec::new(),
    });
}

/// The tiles that took longest, in a partitioned run's methods.
const SLOWEST_TILES: usize = 10;

/// A partitioned run (`gapmap.distributed.analyze`): how it was split, how much work its tiles
/// had and how long they took, with the slowest tiles listed.
fn tiles_table(tiles: &crate::analyze::tiles::TilesRecord, lang: Lang) -> Table {
    let t = &tiles.tiles;
    let spread = |v: Vec<f64>, show: &dyn Fn(f64) -> String| {
        let mut v = v;
        v.sort_by(f64::total_cmp);
        match (v.first(), v.last()) {
            (Some(&lo), Some(&hi)) => format!("{}–{}–{}", show(lo), show(v[v.len() / 2]), show(hi)),
            _ => "–".into(),
        }
    };
    let seconds = |v: f64| lang.decimal(v, 2);
    let premises = spread(t.iter().map(|i| i.premises as f64).collect(), &int);
    let took = spread(t.iter().map(|i| i.seconds).collect(), &seconds);
    let mut workers: Vec<&str> = t
        .iter()
        .map(|i| i.worker.as_str())
        .filter(|w| !w.is_empty())
        .collect();
    workers.sort_unstable();
    workers.dedup();
    let size_km = lang.decimal(tiles.tile_size_m / 1000.0, 1);
    let halo_m = int(tiles.halo_m);
    let n = int(t.len() as f64);
    // Where the tiles ran, when the runner named its workers (Ray nodes).
    let on = match (lang, workers.len()) {
        (Lang::En, 0) => "computed apart".to_string(),
        (Lang::En, 1) => "computed on 1 worker".to_string(),
        (Lang::En, w) => format!("computed on {} workers", int(w as f64)),
        (Lang::Sv, 0) => "beräknades var för sig".to_string(),
        (Lang::Sv, w) => format!("beräknades på {} arbetare", int(w as f64)),
    };
    let note = match lang {
        Lang::En => format!(
            "The premises were split into {n} tiles of {size_km} km (halos of {halo_m} m) and \
             {on}; the results are those of one whole run. Premises per tile, \
             least–median–most: {premises}; seconds per tile: {took}. The {} slowest:",
            t.len().min(SLOWEST_TILES)
        ),
        Lang::Sv => format!(
            "Adresserna delades i {n} rutor om {size_km} km (med kanter om {halo_m} m) som \
             {on}; resultaten är desamma som i en hel körning. Adresser per ruta, \
             minst–median–flest: {premises}; sekunder per ruta: {took}. De {} långsammaste:",
            t.len().min(SLOWEST_TILES)
        ),
    };
    let mut slowest: Vec<&crate::analyze::tiles::TileInfo> = t.iter().collect();
    slowest.sort_by(|a, b| b.seconds.total_cmp(&a.seconds).then(a.key.cmp(&b.key)));
    slowest.truncate(SLOWEST_TILES);
    Table {
        title: lang
            .pick("Methods: tiles", "Metod: rutor i den uppdelade körningen")
            .into(),
        note,
        headers: match lang {
            Lang::En => [
                "column",
                "row",
                "premises",
                "halo premises",
                "seconds",
                "worker",
            ],
            Lang::Sv => [
                "kolumn",
                "rad",
                "adresser",
                "adresser i kanten",
                "sekunder",
                "arbetare",
            ],
        }
        .map(String::from)
        .to_vec(),
        rows: slowest
            .iter()
            .map(|i| {
                vec![
                    i.key.col.to_string(),
                    i.key.row.to_string(),
                    int(i.premises as f64),
                    int(i.halo_premises as f64),
                    seconds(i.seconds),
                    i.worker.clone(),
                ]
            })
            .collect(),
        numeric: vec![true, true, true, true, true, false],
        // Workers are the machine's names (Ray node ids).
        code: vec![false, false, false, false, false, true],
    }
}
