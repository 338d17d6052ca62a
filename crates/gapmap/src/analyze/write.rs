//! Writing an analysis: every output file, registered once with its writer ([`ARTIFACTS`]),
//! written concurrently into a staging directory and moved into place with run.json.

use std::path::Path;
use std::sync::OnceLock;

use gapmap_core::geo::MultiPolygon;
use gapmap_io::write::features::{Column, FeatureTable};
use gapmap_io::write::geojson::write_geojson;
use gapmap_io::write::gpkg::{write_gpkg, OutLayer, MULTI_POLYGON};
use gapmap_io::write::staging::Staging;
use gapmap_io::{write::style, write::tables, Crs, IoError};

use super::compute::Results;
use super::maps::{gap_table, settlement_map_table, truncate, web_copy};
use super::plan::Output;
use crate::error::{panicked, write_error, Result};
use crate::radio::{self, CriticalSites};
use crate::resilience as res;
use gapmap_core::simplify::simplify_all;

/// One output: the files it writes (in the order run.json lists them), when a run writes it,
/// and its writer. Adding an output file is adding an entry here.
struct Artifact {
    files: &'static [&'static str],
    /// When its writer starts (smaller first): the longest, the premise table and the gap
    /// map, first, so that no long writer is left to run alone at the end.
    start: u8,
    wanted: fn(&Writer<'_>) -> bool,
    /// What to make on the calling thread before the writer starts (a map table that other
    /// writers share): the tables are then made one after another, as each writer starts,
    /// rather than all at once.
    prepare: Option<fn(&Writer<'_>)>,
    write: fn(&Writer<'_>, &Staging) -> Result<()>,
}

/// Every output of `gapmap analyze` but run.json, in the order run.json lists them. Each is
/// written on its own thread; they start in the order of their `start`.
const ARTIFACTS: &[Artifact] = &[
    Artifact {
        files: &["gaps.geojson"],
        start: 1,
        wanted: |w| w.maps,
        prepare: Some(|w| {
            w.gaps();
        }),
        write: |w, f| w.write_map(f, "gaps.geojson", "gaps", w.gaps(), &w.r.computed.outlines),
    },
    Artifact {
        files: &["gaps.qml"],
        start: 9,
        wanted: |w| w.maps,
        prepare: None,
        write: |w, f| write_text(f, "gaps.qml", &style::gaps_qml(w.r.plan.lang)),
    },
    Artifact {
        files: &["settlements.geojson"],
        start: 3,
        wanted: |w| w.maps,
        prepare: Some(|w| {
            w.settlement_map();
        }),
        write: |w, f| {
            let areas = &w.r.layers.settlements.areas;
            w.write_map(
                f,
                "settlements.geojson",
                "settlements",
                w.settlement_map(),
                areas,
            )
        },
    },
    Artifact {
        files: &["settlements.qml"],
        start: 10,
        wanted: |w| w.maps,
        prepare: None,
        write: |w, f| {
            write_text(
                f,
                "settlements.qml",
                &style::settlements_qml(w.r.plan.lang, w.r.layers.known().fibre),
            )
        },
    },
    Artifact {
        files: &["aid_areas.geojson"],
        start: 2,
        wanted: |w| w.maps,
        prepare: Some(|w| {
            w.aid_areas();
        }),
        write: |w, f| {
            let outlines = w.r.computed.aid_areas.as_ref();
            let outlines = outlines.map_or(&[][..], |a| &a.outlines[..]);
            w.write_map(f, "aid_areas.geojson", "aid_areas", w.aid_areas(), outlines)
        },
    },
    Artifact {
        files: &["aid_areas.qml"],
        start: 11,
        wanted: |w| w.maps,
        prepare: None,
        write: |w, f| write_text(f, "aid_areas.qml", &style::aid_qml(w.r.plan.lang)),
    },
    Artifact {
        files: &["settlements.csv", "settlements.parquet"],
        start: 6,
        wanted: |w| w.tables,
        prepare: None,
        write: |w, f| w.write_settlement_tables(f),
    },
    Artifact {
        files: &["critical_links.csv", "critical_links.parquet"],
        start: 7,
        wanted: |w| w.tables && w.critical.is_some(),
        prepare: None,
        write: |w, f| match &w.critical {
            Some(t) => res::write_critical_tables(
                t,
                &f.path("critical_links.csv"),
                &f.path("critical_links.parquet"),
            ),
            None => Ok(()),
        },
    },
    Artifact {
        files: &["critical_units.csv", "critical_units.parquet"],
        start: 17,
        wanted: |w| w.tables && w.critical_units.is_some(),
        prepare: None,
        write: |w, f| match &w.critical_units {
            Some(t) => res::write_critical_tables(
                t,
                &f.path("critical_units.csv"),
                &f.path("critical_units.parquet"),
            ),
            None => Ok(()),
        },
    },
    Artifact {
        files: &["critical_units.geojson"],
        start: 18,
        wanted: |w| w.maps && w.critical_units.is_some(),
        prepare: None,
        write: |w, f| match &w.critical_units {
            Some(t) => Ok(write_geojson(
                &f.path("critical_units.geojson"),
                "critical_units",
                &w.own_crs()?,
                t,
            )?),
            None => Ok(()),
        },
    },
    Artifact {
        files: &["critical_sites.csv", "critical_sites.parquet"],
        start: 8,
        wanted: |w| w.tables && w.critical_sites.is_some(),
        prepare: None,
        write: |w, f| w.write_critical_sites(f),
    },
    Artifact {
        files: &["critical_links.geojson"],
        start: 4,
        wanted: |w| w.maps && w.critical.is_some(),
        prepare: None,
        write: |w, f| match &w.critical {
            Some(t) => Ok(write_geojson(
                &f.path("critical_links.geojson"),
                "critical_links",
                &w.own_crs()?,
                t,
            )?),
            None => Ok(()),
        },
    },
    Artifact {
        files: &["critical_links.qml"],
        start: 12,
        wanted: |w| w.maps && w.critical.is_some(),
        prepare: None,
        write: |w, f| {
            write_text(
                f,
                "critical_links.qml",
                &style::critical_links_qml(w.r.plan.lang),
            )
        },
    },
    Artifact {
        files: &["premises.parquet"],
        start: 0,
        wanted: |w| w.r.plan.wants(Output::Premises),
        prepare: None,
        write: |w, f| w.write_premise_table(f),
    },
    Artifact {
        files: &["gapmap.gpkg"],
        start: 5,
        wanted: |w| w.r.plan.gpkg,
        prepare: None,
        write: |w, f| w.write_gpkg(f),
    },
];

fn write_text(files: &Staging, name: &str, text: &str) -> Result<()> {
    let path = files.path(name);
    std::fs::write(&path, text).map_err(|e| write_error(path, e))
}

/// What the writers share: the results, the tables made once for several files, and the map
/// tables, each built by the first writer that needs it.
pub(super) struct Writer<'r> {
    pub(super) r: &'r Results,
    pub(super) maps: bool,
    pub(super) tables: bool,
    /// Resilience and cell-site columns of the settlement table (rural row last).
    extra: Vec<(String, Column<'static>)>,
    pub(super) critical: Option<FeatureTable<'r>>,
    /// One row per risk unit (`--critical-units`).
    pub(super) critical_units: Option<FeatureTable<'r>>,
    critical_sites: Option<CriticalSites>,
    /// The tolerance still to apply to the web maps (0 when the outlines were simplified as
    /// they were made, or are not simplified).
    tolerance_m: f64,
    gaps: OnceLock<FeatureTable<'r>>,
    aid_areas: OnceLock<FeatureTable<'r>>,
    settlement_map: OnceLock<FeatureTable<'r>>,
}

impl<'r> Writer<'r> {
    pub(super) fn new(r: &'r Results) -> Writer<'r> {
        let c = &r.computed;
        let maps = r.plan.wants(Output::Maps);
        let mut extra: Vec<(String, Column<'static>)> = r
            .resilience
            .as_ref()
            .map(|o| o.settlement_columns())
            .unwrap_or_default();
        // Cell sites: what one site's failure cuts off, per site and per settlement.
        let critical_sites = r.cell_sites().map(|(s, p)| {
            radio::critical_sites(
                &p.premises,
                s,
                &r.layers.premises,
                r.layers
                    .mobile
                    .is_some()
                    .then_some(c.mobile_polygons.as_slice()),
                Some(&c.settlement),
            )
        });
        if let Some(cs) = &critical_sites {
            extra.push((
                "premises_single_4g_site".into(),
                radio::single_site_column(cs, &c.settlement, r.layers.settlements.ids.len()),
            ));
        }
        let critical = match (&r.resilience, &r.layers.fibre) {
            (Some(o), Some(f)) => {
                Some(o.critical_table(f, &r.layers.settlements, res::CriticalRows::Corridors))
            }
            _ => None,
        };
        let critical_units = match (&r.resilience, &r.layers.fibre) {
            (Some(o), Some(f)) if r.plan.resilience.critical_units => {
                Some(o.critical_table(f, &r.layers.settlements, res::CriticalRows::Units))
            }
            _ => None,
        };
        let tolerance_m = if maps && r.early_simplify_m.is_none() {
            r.plan.map_simplify_m
        } else {
            0.0
        };
        Writer {
            r,
            maps,
            tables: r.plan.wants(Output::Tables),
            extra,
            critical,
            critical_units,
            critical_sites,
            tolerance_m,
            gaps: OnceLock::new(),
            aid_areas: OnceLock::new(),
            settlement_map: OnceLock::new(),
        }
    }

    pub(super) fn own_crs(&self) -> Result<Crs, IoError> {
        self.r.crs.parse()
    }

    // The map tables below are asked for only by the map and GeoPackage writers, so only
    // when gap outlines were drawn.

    pub(super) fn gaps(&self) -> &FeatureTable<'r> {
        self.gaps.get_or_init(|| {
            gap_table(
                &self.r.layers.premises,
                &self.r.layers.settlements,
                &self.r.computed,
                self.r.layers.fibre.is_some(),
            )
        })
    }

    pub(super) fn aid_areas(&self) -> &FeatureTable<'r> {
        self.aid_areas.get_or_init(|| {
            let c = &self.r.computed;
            match &c.aid_areas {
                Some(a) => crate::policy::aid_area_table(
                    a,
                    &c.outcomes,
                    &c.settlement,
                    &self.r.layers.settlements,
                ),
                None => FeatureTable::default(),
            }
        })
    }

    fn settlement_map(&self) -> &FeatureTable<'r> {
        self.settlement_map.get_or_init(|| {
            let mut t = settlement_map_table(
                &self.r.layers.settlements,
                &self.r.computed,
                &self.r.layers.policy.goals,
                self.r.layers.policy.area_class_rule,
            );
            let n = self.r.layers.settlements.areas.len();
            for (name, col) in &self.extra {
                t.push(name, truncate(col, n));
            }
            t
        })
    }

    /// A web map: the outlines simplified (by [`Writer::tolerance_m`]), in WGS 84.
    fn write_map(
        &self,
        files: &Staging,
        file: &str,
        name: &str,
        table: &FeatureTable<'_>,
        outlines: &[MultiPolygon<f64>],
    ) -> Result<()> {
        let simplified = simplify_all(outlines, self.tolerance_m);
        Ok(write_geojson(
            &files.path(file),
            name,
            &self.own_crs()?,
            &web_copy(table, &simplified),
        )?)
    }

    /// The settlement table (settlements.csv), rural row last.
    pub(super) fn settlement_frame(&self) -> Result<tables::DataFrame> {
        let r = self.r;
        let mut df = tables::settlements_frame(
            &r.layers.settlements.ids,
            &r.layers.settlements.names,
            &r.computed.tallies,
            &r.layers.policy.goals,
            r.layers.policy.area_class_rule,
        )?;
        if !self.extra.is_empty() {
            df = tables::with_columns(df, &self.extra)?;
        }
        Ok(df)
    }

    fn write_settlement_tables(&self, files: &Staging) -> Result<()> {
        let mut df = self.settlement_frame()?;
        tables::write_csv(&mut df, &files.path("settlements.csv"))?;
        tables::write_parquet(&mut df, &files.path("settlements.parquet"), None)?;
        Ok(())
    }

    fn write_critical_sites(&self, files: &Staging) -> Result<()> {
        if let (Some(c), Some((s, _))) = (&self.critical_sites, self.r.cell_sites()) {
            let mut df =
                tables::frame_from_columns(&c.table(s, Some(&self.r.layers.settlements.names)))?;
            tables::write_csv(&mut df, &files.path("critical_sites.csv"))?;
            tables::write_parquet(&mut df, &files.path("critical_sites.parquet"), None)?;
        }
        Ok(())
    }

    /// `premises.parquet`: one row per premise, with the cell-site columns when sites were
    /// modelled. Built and written one row group at a time: the table is the largest output,
    /// and whole it would be held beside the maps being written.
    fn write_premise_table(&self, files: &Staging) -> Result<()> {
        let r = self.r;
        let rows = self.premise_rows();
        let extra = self.premise_extra()?;
        let path = files.path("premises.parquet");
        tables::write_parquet_groups(rows.xy.len(), &path, Some(&r.crs.label), |offset, len| {
            self.premise_frame(&rows, extra.as_ref(), offset..offset + len)
        })?;
        Ok(())
    }

    /// Rows `range` of the premise table.
    pub(super) fn premise_frame(
        &self,
        rows: &tables::PremiseRows<'_>,
        extra: Option<&tables::DataFrame>,
        range: std::ops::Range<usize>,
    ) -> Result<tables::DataFrame, IoError> {
        let (offset, len) = (range.start, range.len());
        let group = tables::premises_frame(rows, range)?;
        match extra {
            Some(more) => tables::hstack(group, &more.slice(offset as i64, len)),
            None => Ok(group),
        }
    }

    /// The columns of the premise table.
    pub(super) fn premise_rows(&self) -> tables::PremiseRows<'r> {
        let r = self.r;
        let c = &r.computed;
        tables::PremiseRows {
            ids: &r.layers.premises.ids,
            xy: &r.layers.premises.xy,
            settlement_ids: &r.layers.settlements.ids,
            settlement: &c.settlement,
            households: &r.layers.premises.households,
            workplaces: &r.layers.premises.workplaces,
            persons: r.layers.premises.persons.as_deref(),
            fibre: c.fibre.as_deref(),
            mobile: &c.mobile,
            gap_kind: &c.gap_kind,
            gap_id: &c.gap_id,
            outcomes: &c.outcomes,
            fibre_redundancy: r
                .resilience
                .as_ref()
                .map(|o| o.result.premise_class.as_slice()),
        }
    }

    /// The cell-site columns of the premise table, when sites were modelled.
    pub(super) fn premise_extra(&self) -> Result<Option<tables::DataFrame>> {
        let r = self.r;
        Ok(match r.cell_sites() {
            Some((s, p)) => {
                let cols: Vec<_> = radio::premise_columns(p, s, false)
                    .into_iter()
                    .filter(|(k, _)| !k.starts_with("predicted_"))
                    .collect();
                Some(tables::frame_from_columns(&cols)?)
            }
            None => None,
        })
    }

    /// `gapmap.gpkg`: the settlement, gap and aid layers at full resolution, in the working
    /// CRS, with their QGIS styles.
    fn write_gpkg(&self, files: &Staging) -> Result<()> {
        Ok(write_gpkg(
            &files.path("gapmap.gpkg"),
            &self.own_crs()?,
            &[
                OutLayer {
                    name: "settlements",
                    geometry_type: MULTI_POLYGON,
                    table: self.settlement_map(),
                    qml: Some(style::settlements_qml(
                        self.r.plan.lang,
                        self.r.layers.known().fibre,
                    )),
                },
                OutLayer {
                    name: "gaps",
                    geometry_type: MULTI_POLYGON,
                    table: self.gaps(),
                    qml: Some(style::gaps_qml(self.r.plan.lang)),
                },
                OutLayer {
                    name: "aid_areas",
                    geometry_type: MULTI_POLYGON,
                    table: self.aid_areas(),
                    qml: Some(style::aid_qml(self.r.plan.lang)),
                },
            ],
        )?)
    }
}

/// Writes every output of `r` that its plan selects into `staging`, each on its own thread;
/// returns the names of the files written, in the order run.json lists them.
pub(super) fn write_outputs(r: &mut Results, staging: &mut Staging) -> Result<Vec<String>> {
    // The settlement index, kept for resilience, is not needed past this point. Freeing it
    // runs beside the first outputs rather than before them.
    let kept = r.kept_settlement_index.take();
    let r: &Results = r;
    let writer = Writer::new(r);
    let wanted: Vec<bool> = ARTIFACTS.iter().map(|a| (a.wanted)(&writer)).collect();
    let mut names = Vec::new();
    for (a, _) in ARTIFACTS.iter().zip(&wanted).filter(|(_, &w)| w) {
        for &name in a.files {
            names.push(name.to_string());
            staging.file(name);
        }
    }
    let mut order: Vec<usize> = (0..ARTIFACTS.len()).filter(|&k| wanted[k]).collect();
    order.sort_by_key(|&k| ARTIFACTS[k].start);
    let files: &Staging = staging;
    std::thread::scope(|scope| -> Result<()> {
        scope.spawn(move || drop(kept));
        let jobs: Vec<_> = order
            .into_iter()
            .map(|k| {
                if let Some(prepare) = ARTIFACTS[k].prepare {
                    prepare(&writer);
                }
                let (writer, files) = (&writer, &files);
                (k, scope.spawn(move || (ARTIFACTS[k].write)(writer, files)))
            })
            .collect();
        for (k, job) in jobs {
            job.join()
                .map_err(|_| panicked(&format!("the writer of {}", ARTIFACTS[k].files[0])))??;
        }
        Ok(())
    })?;
    Ok(names)
}

/// The names of every file an analysis can write besides run.json, for checks and docs.
pub fn output_files() -> impl Iterator<Item = &'static str> {
    ARTIFACTS.iter().flat_map(|a| a.files.iter().copied())
}

/// Makes sure `path` is a directory gapmap may write an analysis into.
pub fn check_out(path: &Path, overwrite: bool) -> Result<()> {
    Ok(gapmap_io::write::staging::check_output_dir(
        path, overwrite,
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_artifact_starts_once() {
        let mut seen: Vec<u8> = ARTIFACTS.iter().map(|a| a.start).collect();
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(seen.len(), ARTIFACTS.len(), "two writers share a start");
        let mut names: Vec<_> = output_files().collect();
        let n = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), n, "a file is registered twice");
    }
}
