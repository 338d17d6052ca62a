//! Fibre resilience inside `gapmap analyze`, when `--backbone` is given: the network graph,
//! disjoint paths and redundancy class per settlement, and what each single failure cuts off
//! (`critical_links.*`).

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use gapmap_core::geo::{Coord, Geometry, LineString, MultiLineString};
use gapmap_core::network::{Components, FibreGraph, GraphOptions, LinkPieces, NetworkLine};
use gapmap_core::par::SpatialOrder;
use gapmap_core::polygon_index::PolygonIndex;
use gapmap_core::resilience::{self, Demand, RedundancyClass, Resilience};
use gapmap_core::splice::Splicing;
use gapmap_io::read::{Backbone, Fibre, Premises, Settlements};
use gapmap_io::write::features::{Column, FeatureTable, GeomRef};
use gapmap_io::write::style::{Paint, SimpleStyle};
use gapmap_io::write::tables;
use serde::{Deserialize, Serialize};

use crate::error::{check_at_most, check_number, Error, Result};
use crate::run_info::{ClassCounts, ResilienceParameters, ResilienceSummary};

/// Resilience options of `gapmap analyze`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[cfg_attr(feature = "clap", derive(clap::Args))]
pub struct ResiliencePlan {
    /// Backbone points (where the fibre network reaches the wider internet): turns on the
    /// resilience analysis and critical_links.*; needs --fibre.
    #[cfg_attr(feature = "clap", arg(long, value_name = "PATH"))]
    pub backbone: Option<PathBuf>,
    /// Layer of the backbone file (needed when it has several).
    #[cfg_attr(feature = "clap", arg(long, value_name = "NAME"))]
    pub backbone_layer: Option<String>,
    /// Name field of the backbone points [default: name; else the feature id].
    #[cfg_attr(feature = "clap", arg(long, value_name = "FIELD"))]
    pub backbone_name_field: Option<String>,
    /// Backbone points attach to the nearest fibre vertex within this distance, in metres.
    #[cfg_attr(feature = "clap", arg(long, value_name = "M", default_value_t = 100.0))]
    pub backbone_snap_m: f64,
    /// Fibre vertices closer than this, in metres, are one node of the network graph.
    #[cfg_attr(feature = "clap", arg(long, value_name = "M", default_value_t = 1.0))]
    pub snap_m: f64,
    /// Links within this distance, in metres, of another link for more than half their
    /// length share a risk (one trench); 0 turns this off.
    #[cfg_attr(feature = "clap", arg(long, value_name = "M", default_value_t = 2.0))]
    pub srlg_m: f64,
    /// Shared-risk field of the fibre (e.g. a trench or duct id): features with one value fail
    /// together.
    #[cfg_attr(feature = "clap", arg(long, value_name = "FIELD"))]
    pub fibre_srlg_field: Option<String>,
    /// A settlement is `redundant` when at least this share (0–1) of its fibre premises have
    /// two paths to the backbone that no single failure cuts.
    #[cfg_attr(
        feature = "clap",
        arg(long, value_name = "SHARE", default_value_t = 0.9)
    )]
    pub redundant_share: f64,
    /// Also write critical_units.* (one row per risk unit; critical_links.* has one row per
    /// corridor of units in series).
    #[cfg_attr(feature = "clap", arg(long))]
    pub critical_units: bool,
    /// A bridge joins the corridor of the bridge above it (one row of critical_links.*) when
    /// it cuts at least this share (0–1) of what the corridor's first unit cuts.
    #[cfg_attr(
        feature = "clap",
        arg(long, value_name = "SHARE", default_value_t = 0.9)
    )]
    pub corridor_share: f64,
}

impl Default for ResiliencePlan {
    fn default() -> ResiliencePlan {
        ResiliencePlan {
            backbone: None,
            backbone_layer: None,
            backbone_name_field: None,
            backbone_snap_m: 100.0,
            snap_m: 1.0,
            srlg_m: 2.0,
            fibre_srlg_field: None,
            redundant_share: 0.9,
            critical_units: false,
            corridor_share: 0.9,
        }
    }
}

impl ResiliencePlan {
    /// Checks the options; `has_fibre` when the analysis has a fibre layer.
    pub fn validate(&self, has_fibre: bool) -> Result<()> {
        for (name, v) in [
            ("--backbone-snap-m", self.backbone_snap_m),
            ("--snap-m", self.snap_m),
            ("--srlg-m", self.srlg_m),
        ] {
            check_number(name, v, 0.0, true)?;
            check_at_most(name, v, 100_000.0, "metres")?;
        }
        crate::error::check_range(
            "--corridor-share",
            self.corridor_share,
            0.0,
            1.0,
            "(a share of the premises)",
        )?;
        crate::error::check_range(
            "--redundant-share",
            self.redundant_share,
            0.0,
            1.0,
            "(a share of the premises)",
        )?;
        if self.backbone.is_some() && !has_fibre {
            return Err(Error::usage("--backbone needs a fibre network (--fibre)"));
        }
        if self.backbone.is_none()
            && (self.backbone_layer.is_some() || self.backbone_name_field.is_some())
        {
            return Err(Error::usage(
                "--backbone-layer and --backbone-name-field need --backbone",
            ));
        }
        Ok(())
    }

    /// What run.json records.
    pub fn parameters(&self) -> ResilienceParameters {
        ResilienceParameters {
            backbone_layer: self.backbone_layer.clone(),
            backbone_name_field: self
                .backbone_name_field
                .as_deref()
                .unwrap_or("name")
                .to_string(),
            backbone_snap_m: self.backbone_snap_m,
            snap_m: self.snap_m,
            srlg_m: self.srlg_m,
            fibre_srlg_field: self.fibre_srlg_field.clone(),
            redundant_share: self.redundant_share,
            critical_units: self.critical_units,
            corridor_share: self.corridor_share,
        }
    }
}

/// The rows of a critical-failures table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CriticalRows {
    /// One row per corridor: units in series, cut anywhere with nearly the same effect.
    Corridors,
    /// One row per risk unit.
    Units,
}

/// The resilience analysis and what the outputs need of it.
pub struct Outcome {
    /// The fibre lines of the graph.
    pub lines: Arc<Vec<NetworkLine>>,
    /// The fibre network graph.
    pub graph: Arc<FibreGraph>,
    /// Redundancy classes, paths and critical units.
    pub result: Resilience,
    /// Per premise: the fibre link it hangs on.
    pub premise_link: Vec<Option<u32>>,
    /// Backbone points that attached to no fibre.
    pub unattached: Vec<String>,
    /// What noding the fibre did: T-junctions spliced, crossings left unconnected.
    pub splicing: Splicing,
    /// The connected pieces of the network.
    pub components: Components,
    /// Per settlement: its class by its fibre premises (`--redundant-share`).
    pub settlement_class: Vec<RedundancyClass>,
    /// Per settlement and then the rural row: fibre premises with a single path, with two
    /// paths no single failure cuts, and with no path.
    pub premise_counts: Vec<[i64; 3]>,
}

/// The premises as the analysis sees them: in input order, the kernels' visiting order, and
/// each premise's settlement.
pub struct PremiseView<'a> {
    /// The premises.
    pub premises: &'a Premises,
    /// Their Hilbert order (the kernels').
    pub order: &'a SpatialOrder,
    /// Per premise: its settlement.
    pub settlement: &'a [Option<u32>],
    /// Per premise: its distance to the fibre (the fibre kernel's), when computed.
    pub fibre: Option<&'a [gapmap_core::fibre::FibreReach]>,
}

/// What the fibre and the backbone alone decide, before any premise: the lines spliced at
/// their T-junctions, the graph, its links' pieces indexed for the premises, what noding did
/// and the backbone points that attach to nothing. It does not depend on the drop distance,
/// so a workload held keeps it for the next analysis ([`crate::analyze::WorkloadCache`]).
pub struct Network {
    lines: Arc<Vec<NetworkLine>>,
    graph: Arc<FibreGraph>,
    pieces: LinkPieces,
    splicing: Splicing,
    unattached: Vec<String>,
}

/// The network of `fibre` and `backbone` (see [`Network`]).
pub fn network(fibre: &Fibre, backbone: &Backbone, plan: &ResiliencePlan) -> Network {
    let mut lines = Vec::new();
    for (fi, f) in fibre.features.iter().enumerate() {
        for ls in &f.lines.0 {
            if ls.0.len() >= 2 {
                lines.push(NetworkLine {
                    coords: ls.0.clone(),
                    feature: fi as u32,
                    network: f.network,
                    srlg: f.srlg,
                });
            }
        }
    }
    let ends_spliced = gapmap_core::splice::splice_ends(&mut lines, plan.snap_m);

    let points: Vec<Coord<f64>> = backbone.points.iter().map(|p| p.1).collect();
    // The crossings are only counted: beside the graph, on the other core.
    let (crossings_unconnected, (graph, pieces)) = rayon::join(
        || gapmap_core::splice::crossings_unconnected(&lines, plan.snap_m),
        || {
            FibreGraph::build_with_pieces(
                &lines,
                &points,
                GraphOptions {
                    snap_m: plan.snap_m,
                    srlg_m: plan.srlg_m,
                    backbone_snap_m: plan.backbone_snap_m,
                },
            )
        },
    );
    let unattached: Vec<String> = backbone
        .points
        .iter()
        .zip(&graph.backbone)
        .filter(|(_, j)| j.is_none())
        .map(|(p, _)| p.0.clone())
        .collect();
    Network {
        lines: Arc::new(lines),
        graph: Arc::new(graph),
        pieces,
        splicing: Splicing {
            ends_spliced,
            crossings_unconnected,
        },
        unattached,
    }
}

/// Fibre resilience of the premises in `view` on `network`: what each single failure cuts
/// off, the premises' paths to the backbone and the settlements' classes.
pub fn run(
    network: &Network,
    settlement_index: &PolygonIndex,
    view: PremiseView<'_>,
    drop_distance_m: f64,
    plan: &ResiliencePlan,
) -> Outcome {
    let PremiseView {
        premises,
        order,
        settlement: premise_settlement,
        fibre: reach,
    } = view;
    let (pieces, graph) = (&network.pieces, &*network.graph);
    let premise_link = {
        // Spliced lines lie within --snap-m of the fibre they were made of: a premise
        // farther than the drop distance plus that from all fibre is on no link.
        let limit = drop_distance_m + plan.snap_m.max(0.0) + 1e-6 * (1.0 + drop_distance_m);
        let far = reach.map(|r| move |i: usize| r[i].distance_m > limit);
        resilience::attach_premises(
            pieces,
            &premises.xy,
            drop_distance_m,
            order,
            far.as_ref().map(|f| f as &(dyn Fn(usize) -> bool + Sync)),
            &(),
        )
    };
    let sources =
        resilience::settlement_sources(graph, settlement_index, premise_settlement, &premise_link);
    let demand = Demand {
        settlement_sources: sources,
        premise_link,
        premise_households: premises.households.clone(),
        premise_settlement: premise_settlement.to_vec(),
        corridor_share: plan.corridor_share,
    };
    let result = resilience::analyze(graph, &demand);
    let premise_link = demand.premise_link;
    let components = graph.components();
    let ns = result.settlement_class.len();
    let mut premise_counts = vec![[0i64; 3]; ns + 1];
    for (s, c) in premise_settlement.iter().zip(&result.premise_class) {
        let k = s.map_or(ns, |s| s as usize);
        match c {
            Some(RedundancyClass::Single) => premise_counts[k][0] += 1,
            Some(RedundancyClass::Redundant) => premise_counts[k][1] += 1,
            Some(RedundancyClass::None) => premise_counts[k][2] += 1,
            None => {}
        }
    }
    let settlement_class = premise_counts[..ns]
        .iter()
        .map(|&[single, redundant, none]| {
            RedundancyClass::of_premises(
                single as u64,
                redundant as u64,
                none as u64,
                plan.redundant_share,
            )
        })
        .collect();
    Outcome {
        settlement_class,
        premise_counts,
        lines: Arc::clone(&network.lines),
        graph: Arc::clone(&network.graph),
        result,
        premise_link,
        unattached: network.unattached.clone(),
        splicing: network.splicing,
        components,
    }
}

impl Outcome {
    /// Extra settlement-table columns, one value per settlement plus the rural row: the class
    /// by the settlement's premises and their counts, then the core-junction measure.
    pub fn settlement_columns(&self) -> Vec<(String, Column<'static>)> {
        let r = &self.result;
        let with_rural = |v: Vec<Option<i64>>| {
            let mut v = v;
            v.push(None);
            Column::IntOpt(v)
        };
        let text = |classes: &[RedundancyClass]| {
            let mut v: Vec<Option<Cow<'static, str>>> = classes
                .iter()
                .map(|c| Some(Cow::Borrowed(c.as_str())))
                .collect();
            v.push(None);
            Column::Text(v)
        };
        let count = |k: usize| Column::Int(self.premise_counts.iter().map(|c| c[k]).collect());
        vec![
            (
                "fibre_redundancy_class".into(),
                text(&self.settlement_class),
            ),
            ("premises_single_fibre_path".into(), count(0)),
            ("premises_redundant_fibre_path".into(), count(1)),
            ("premises_no_fibre_path".into(), count(2)),
            (
                "core_paths_to_backbone".into(),
                with_rural(r.settlement_paths.iter().map(|&p| Some(p as i64)).collect()),
            ),
            (
                "core_node_paths_to_backbone".into(),
                with_rural(
                    r.settlement_node_paths
                        .iter()
                        .map(|&p| Some(p as i64))
                        .collect(),
                ),
            ),
            ("core_redundancy_class".into(), text(&r.settlement_class)),
        ]
    }

    /// The ranked failures, one row per corridor ([`CriticalRows::Corridors`], what
    /// `critical_links.*` holds) or per risk unit: columns, and each row's links as one
    /// MultiLineString. A corridor's cuts are those of its first unit (the most) and its last
    /// (`_min`, the least).
    pub fn critical_table<'a>(
        &'a self,
        fibre: &'a Fibre,
        settlements: &'a Settlements,
        rows: CriticalRows,
    ) -> FeatureTable<'a> {
        let g = &self.graph;
        let units = &self.result.critical;
        // Each unit as a row of its own.
        let singles: Vec<u32> = (0..units.len() as u32).collect();
        let rows: Vec<&[u32]> = match rows {
            CriticalRows::Corridors => self
                .result
                .corridors
                .iter()
                .map(|c| c.units.as_slice())
                .collect(),
            CriticalRows::Units => singles.iter().map(std::slice::from_ref).collect(),
        };
        let links_of = |row: &[u32]| -> Vec<u32> {
            row.iter()
                .flat_map(|&u| g.groups[units[u as usize].group as usize].iter().copied())
                .collect()
        };
        let first = |row: &[u32]| &units[row[0] as usize];
        let last = |row: &[u32]| &units[row[row.len() - 1] as usize];
        let mut t = FeatureTable {
            columns: Vec::new(),
            geometries: rows
                .iter()
                .map(|row| {
                    GeomRef::Owned(Geometry::MultiLineString(MultiLineString::new(
                        links_of(row)
                            .iter()
                            .map(|&l| {
                                LineString::new(g.link_coords(&self.lines, l as usize).to_vec())
                            })
                            .collect(),
                    )))
                })
                .collect(),
        };
        let n = rows.len();
        let text = |f: &dyn Fn(&[u32]) -> String| {
            Column::Text(rows.iter().map(|r| Some(Cow::Owned(f(r)))).collect())
        };
        let int = |f: &dyn Fn(&[u32]) -> i64| Column::Int(rows.iter().map(|r| f(r)).collect());
        let kind = |gi: usize| match (
            g.groups[gi].len() > 1,
            g.group_by_value[gi],
            g.group_by_geometry[gi],
        ) {
            (false, _, _) => "link",
            (true, true, true) => "shared_risk_value+parallel",
            (true, true, false) => "shared_risk_value",
            (true, false, _) => "parallel",
        };
        let joined = |mut v: Vec<String>| {
            v.sort();
            v.dedup();
            v.join(";")
        };
        let feature_of = |l: u32| {
            &fibre.features[self.lines[g.links[l as usize].line as usize].feature as usize]
        };
        let names = |u: &resilience::CriticalUnit, of: &[String]| {
            u.settlements_cut
                .iter()
                .map(|&s| of[s as usize].as_str())
                .collect::<Vec<_>>()
                .join(";")
        };
        t.push("rank", Column::Int((1..=n as i64).collect()));
        t.push("units", int(&|r| r.len() as i64));
        t.push(
            "unit_ids",
            text(&|r| {
                r.iter()
                    .map(|&u| (units[u as usize].group + 1).to_string())
                    .collect::<Vec<_>>()
                    .join(";")
            }),
        );
        t.push(
            "kind",
            text(&|r| {
                joined(
                    r.iter()
                        .map(|&u| kind(units[u as usize].group as usize).to_string())
                        .collect(),
                )
            }),
        );
        t.push("links", int(&|r| links_of(r).len() as i64));
        t.push(
            "networks",
            text(&|r| {
                joined(
                    links_of(r)
                        .iter()
                        .map(|&l| fibre.networks[feature_of(l).network as usize].clone())
                        .collect(),
                )
            }),
        );
        t.push(
            "shared_risk_value",
            text(&|r| {
                joined(
                    links_of(r)
                        .iter()
                        .filter_map(|&l| {
                            feature_of(l).srlg.map(|s| fibre.srlgs[s as usize].clone())
                        })
                        .collect(),
                )
            }),
        );
        t.push(
            "length_m",
            Column::Float(
                rows.iter()
                    .map(|r| {
                        let m: f64 = links_of(r)
                            .iter()
                            .map(|&l| g.links[l as usize].length_m)
                            .sum();
                        Some((m * 10.0).round() / 10.0)
                    })
                    .collect(),
            ),
        );
        t.push(
            "settlements_cut",
            int(&|r| first(r).settlements_cut.len() as i64),
        );
        t.push(
            "settlements_affected",
            int(&|r| first(r).settlements_affected as i64),
        );
        t.push(
            "core_settlements_cut",
            int(&|r| first(r).settlements.len() as i64),
        );
        t.push(
            "settlement_ids",
            text(&|r| names(first(r), &settlements.ids)),
        );
        t.push(
            "settlement_names",
            text(&|r| names(first(r), &settlements.names)),
        );
        t.push("premises_cut", int(&|r| first(r).premises as i64));
        t.push("premises_cut_min", int(&|r| last(r).premises as i64));
        t.push("households_cut", int(&|r| first(r).households as i64));
        t.push("households_cut_min", int(&|r| last(r).households as i64));
        // simplestyle: darker and wider with more premises cut (the same classes as the .qml).
        let (stroke, width): (Vec<_>, Vec<_>) = rows
            .iter()
            .map(|r| {
                let (s, w) = gapmap_io::write::style::critical_stroke(first(r).premises);
                (s, i64::from(w))
            })
            .unzip();
        SimpleStyle {
            fill: None,
            fill_opacity: None,
            stroke: Some(Paint::Each(stroke)),
            stroke_width: Some(Paint::Each(width)),
        }
        .push_to(&mut t, n);
        t
    }

    /// The pieces of the network that reach no backbone point, and the premises that hang on
    /// them: `(pieces, premises)`.
    pub fn cut_off(&self) -> (usize, usize) {
        let c = &self.components;
        let pieces = c.reaches_backbone.iter().filter(|r| !**r).count();
        let premises = self
            .premise_link
            .iter()
            .flatten()
            .filter(|&&l| {
                let j = self.graph.links[l as usize].a;
                !c.reaches_backbone[c.of_junction[j as usize] as usize]
            })
            .count();
        (pieces, premises)
    }

    /// What the run log says of the network's shape.
    pub fn notices(&self) -> Vec<String> {
        let mut out = Vec::new();
        let s = &self.splicing;
        if s.ends_spliced > 0 || s.crossings_unconnected > 0 {
            out.push(format!(
                "fibre: {} line ends within --snap-m of another line between its vertices were spliced into it (T-junctions); {} crossings with no common vertex were left unconnected",
                s.ends_spliced, s.crossings_unconnected
            ));
        }
        let (pieces, premises) = self.cut_off();
        if pieces > 0 {
            out.push(format!(
                "fibre: {pieces} of the network's {} connected pieces reach no backbone point; the {premises} premises on them have no path to the backbone (class none)",
                self.components.reaches_backbone.len()
            ));
        }
        out
    }

    /// What run.json records.
    pub fn summary(&self, backbone_path: &Path) -> ResilienceSummary {
        let (pieces_cut_off, premises_cut_off) = self.cut_off();
        let g = &self.graph;
        let r = &self.result;
        let counts = |classes: &[RedundancyClass]| {
            let count = |c: RedundancyClass| classes.iter().filter(|&&x| x == c).count();
            ClassCounts {
                none: count(RedundancyClass::None),
                single: count(RedundancyClass::Single),
                redundant: count(RedundancyClass::Redundant),
            }
        };
        ResilienceSummary {
            backbone: backbone_path.display().to_string(),
            backbone_points: g.backbone.len(),
            backbone_points_unattached: self.unattached.clone(),
            junctions: g.num_junctions(),
            links: g.links.len(),
            risk_units: g.groups.len(),
            risk_units_of_several_links: g.groups.iter().filter(|x| x.len() > 1).count(),
            premises_on_fibre_links: self.premise_link.iter().filter(|l| l.is_some()).count(),
            settlements_by_class: counts(&self.settlement_class),
            core_settlements_by_class: Some(counts(&r.settlement_class)),
            critical_units: r.critical.len(),
            corridors: r.corridors.len(),
            ends_spliced: self.splicing.ends_spliced,
            crossings_unconnected: self.splicing.crossings_unconnected,
            pieces: self.components.reaches_backbone.len(),
            pieces_without_backbone: pieces_cut_off,
            premises_on_pieces_without_backbone: premises_cut_off,
        }
    }
}

/// Writes critical_links.csv and .parquet (the table without geometry).
pub fn write_critical_tables(table: &FeatureTable<'_>, csv: &Path, parquet: &Path) -> Result<()> {
    let cols: Vec<(String, Column<'_>)> = table
        .columns
        .iter()
        .filter(|(k, _)| k != "stroke" && k != "stroke-width")
        .cloned()
        .collect();
    // With no critical unit, the columns are empty: the header only.
    let mut df = tables::frame_from_columns(&cols)?;
    tables::write_csv(&mut df, csv)?;
    tables::write_parquet(&mut df, parquet, None)?;
    Ok(())
}
