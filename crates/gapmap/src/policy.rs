//! The policy options of `gapmap analyze`: state-aid classes (target speed, other fixed and
//! planned networks), the national goals and the mobile stand-in for 100 Mbit/s, and the
//! white areas a tender could cover (`aid_areas.geojson`).

use std::collections::HashMap;
use std::path::PathBuf;

use gapmap_core::aid::{planned_counts, AidAreas, AidClass, AidPreset, AreaClassRule};
use gapmap_core::fibre::{reach_all, FibreIndex};
use gapmap_core::geo::Coord;
use gapmap_core::goals::Goal;
use gapmap_core::par::SpatialOrder;
use gapmap_core::summary::{MobileStandIn, Outcome};
use gapmap_io::read::vector::ReadContext;
use gapmap_io::read::{read_fibre, Fibre, FibreOptions, FieldChoice, Settlements};
use gapmap_io::write::features::{Column, FeatureTable};
use gapmap_io::write::style::{Paint, SimpleStyle};
use serde::{Deserialize, Serialize};

use crate::error::{check_at_most, check_number, Error, Result};
use crate::progress::Bar;
use crate::run_info::{GoalRecord, PolicyParameters};

/// Target speed preset of the state-aid classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum PresetArg {
    /// EU Broadband Guidelines 2023: 1 Gbit/s.
    #[serde(rename = "eu-2023")]
    #[cfg_attr(feature = "clap", value(name = "eu-2023"))]
    Eu2023,
    /// EU Broadband Guidelines 2013: NGA, 30 Mbit/s.
    #[serde(rename = "eu-2013-nga")]
    #[cfg_attr(feature = "clap", value(name = "eu-2013-nga"))]
    Eu2013Nga,
}

impl From<PresetArg> for AidPreset {
    fn from(p: PresetArg) -> AidPreset {
        match p {
            PresetArg::Eu2023 => AidPreset::Eu2023,
            PresetArg::Eu2013Nga => AidPreset::Eu2013Nga,
        }
    }
}

/// The national or EU goals an analysis measures, besides any `--goal`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum GoalSetArg {
    /// Sweden's goals for 2025: 98 % with 1 Gbit/s, 99.9 % with 100 Mbit/s, 4G everywhere.
    #[serde(rename = "se2025")]
    #[cfg_attr(feature = "clap", value(name = "se2025"))]
    Se2025,
    /// The EU's Digital Decade for 2030: gigabit for every premise, 5G everywhere people live.
    #[serde(rename = "eu2030")]
    #[cfg_attr(feature = "clap", value(name = "eu2030"))]
    Eu2030,
    /// None (only the `--goal`s given).
    #[serde(rename = "none")]
    None,
}

impl GoalSetArg {
    /// The goals of the set.
    pub fn goals(self) -> Vec<Goal> {
        match self {
            GoalSetArg::Se2025 => Goal::sweden_2025(),
            GoalSetArg::Eu2030 => Goal::eu_2030(),
            GoalSetArg::None => Vec::new(),
        }
    }
}

/// How an area's state-aid class follows from its premises' classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum AreaRuleArg {
    /// The class of more than half of the premises, else `mixed`.
    #[serde(rename = "majority")]
    Majority,
    /// White when any premise is white (areas a tender may cover); else the majority.
    #[serde(rename = "any-white")]
    #[cfg_attr(feature = "clap", value(name = "any-white"))]
    AnyWhite,
}

impl From<AreaRuleArg> for AreaClassRule {
    fn from(r: AreaRuleArg) -> AreaClassRule {
        match r {
            AreaRuleArg::Majority => AreaClassRule::Majority,
            AreaRuleArg::AnyWhite => AreaClassRule::AnyWhite,
        }
    }
}

/// When mobile coverage stands in for 100 Mbit/s.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum StandInArg {
    /// Never.
    #[serde(rename = "none")]
    None,
    /// 5G of any operator.
    #[serde(rename = "5g")]
    #[cfg_attr(feature = "clap", value(name = "5g"))]
    Any5g,
    /// 4G of two or more operators, or 5G.
    #[serde(rename = "4g-2plus-or-5g")]
    #[cfg_attr(feature = "clap", value(name = "4g-2plus-or-5g"))]
    FourG2PlusOr5g,
    /// 4G of any operator.
    #[serde(rename = "4g")]
    #[cfg_attr(feature = "clap", value(name = "4g"))]
    Any4g,
}

impl From<StandInArg> for MobileStandIn {
    fn from(s: StandInArg) -> MobileStandIn {
        match s {
            StandInArg::None => MobileStandIn::None,
            StandInArg::Any5g => MobileStandIn::Any5g,
            StandInArg::FourG2PlusOr5g => MobileStandIn::FourG2PlusOr5g,
            StandInArg::Any4g => MobileStandIn::Any4g,
        }
    }
}

/// State-aid and goal options of `gapmap analyze`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[cfg_attr(feature = "clap", derive(clap::Args))]
pub struct PolicyPlan {
    /// Target speed of the state-aid classes (white: no fixed network at the target speed;
    /// grey: one; black: two or more). Fibre counts as 1 Gbit/s.
    #[cfg_attr(feature = "clap", arg(long, value_enum, default_value = "eu-2023"))]
    pub aid_preset: PresetArg,
    /// Other fixed networks (copper, cable, fixed wireless): lines or points with a network
    /// field and a download speed field; they count for the state-aid class when at least the
    /// target speed, and for the 100 Mbit/s goal when at least 100 Mbit/s. Never fibre passed.
    #[cfg_attr(feature = "clap", arg(long, value_name = "PATH"))]
    pub fixed: Vec<PathBuf>,
    /// Layers read from each other-fixed-network file.
    #[cfg_attr(feature = "clap", arg(long, value_name = "NAME"))]
    pub fixed_layer: Vec<String>,
    /// Download speed field of --fixed, in Mbit/s.
    #[cfg_attr(
        feature = "clap",
        arg(long, value_name = "FIELD", default_value = "speed_mbps")
    )]
    pub fixed_speed_field: String,
    /// Network field of --fixed and --planned [default: the fibre network field]. Networks
    /// with one name are one network across --fibre, --fixed and --planned.
    #[cfg_attr(feature = "clap", arg(long, value_name = "FIELD"))]
    pub other_network_field: Option<String>,
    /// Planned fibre networks (lines or points with a network and a year field): a network
    /// planned within 3 years of --aid-year counts for the state-aid class.
    #[cfg_attr(feature = "clap", arg(long, value_name = "PATH"))]
    pub planned: Vec<PathBuf>,
    /// Layers read from each planned-network file.
    #[cfg_attr(feature = "clap", arg(long, value_name = "NAME"))]
    pub planned_layer: Vec<String>,
    /// Year field of --planned (the year the network is to be ready).
    #[cfg_attr(
        feature = "clap",
        arg(long, value_name = "FIELD", default_value = "year")
    )]
    pub planned_year_field: String,
    /// The year of the assessment: planned networks ready by this year + 3 count
    /// [default: the current year].
    #[cfg_attr(feature = "clap", arg(long, value_name = "YEAR"))]
    pub aid_year: Option<i32>,
    /// Grid cell size of aid_areas.geojson, in metres: the cells (aligned like SCB's grid)
    /// holding white premises, merged where they touch, are the areas a tender could cover.
    #[cfg_attr(feature = "clap", arg(long, value_name = "M", default_value_t = 250.0))]
    pub aid_cell_m: f64,
    /// When mobile coverage counts as at least 100 Mbit/s (the second national goal).
    #[cfg_attr(feature = "clap", arg(long, value_enum, default_value = "5g"))]
    pub mobile_stand_in: StandInArg,
    /// How the state-aid class of an area (settlement, grid cell, region) follows from its
    /// premises: `majority` (the class of more than half of them, else `mixed`) or
    /// `any-white` (white when any premise is white: areas a tender may cover).
    #[cfg_attr(feature = "clap", arg(long, value_enum, default_value = "majority"))]
    pub area_class_rule: AreaRuleArg,
    /// The goals measured besides any --goal: `se2025` (Sweden's 2025 goals), `eu2030` (the
    /// EU's Digital Decade: gigabit for every premise, 5G everywhere) or `none`.
    // Its clap id, and so its Python keyword, is the flag's name (`goals`); the plan key
    // stays `goal_set`.
    #[cfg_attr(
        feature = "clap",
        arg(
            id = "goals",
            long = "goals",
            value_name = "SET",
            value_enum,
            default_value = "se2025"
        )
    )]
    pub goal_set: GoalSetArg,
    /// Another goal, beside those of --goals: NAME:MEASURE:PERCENT[:premises], where
    /// MEASURE is fibre, 100mbps, 4g or 5g and the share is of households + workplaces (or of
    /// premises), e.g. gigabit2030:fibre:100. Repeatable.
    #[cfg_attr(feature = "clap", arg(id = "goal", long = "goal", value_name = "SPEC"))]
    pub goals: Vec<String>,
}

impl Default for PolicyPlan {
    fn default() -> PolicyPlan {
        PolicyPlan {
            aid_preset: PresetArg::Eu2023,
            fixed: Vec::new(),
            fixed_layer: Vec::new(),
            fixed_speed_field: "speed_mbps".into(),
            other_network_field: None,
            planned: Vec::new(),
            planned_layer: Vec::new(),
            planned_year_field: "year".into(),
            aid_year: None,
            aid_cell_m: 250.0,
            mobile_stand_in: StandInArg::Any5g,
            area_class_rule: AreaRuleArg::Majority,
            goal_set: GoalSetArg::Se2025,
            goals: Vec::new(),
        }
    }
}

/// The policy inputs and settings, resolved.
pub struct Policy {
    /// The state-aid target-speed preset.
    pub preset: AidPreset,
    /// The year of the state-aid assessment.
    pub aid_year: i32,
    /// When mobile coverage counts as 100 Mbit/s.
    pub stand_in: MobileStandIn,
    /// The goals measured.
    pub goals: Vec<Goal>,
    /// How an area's state-aid class follows from its premises.
    pub area_class_rule: AreaClassRule,
    /// Grid cell size of the aid areas, in metres.
    pub aid_cell_m: f64,
    /// Other fixed networks, read (with `--fixed`).
    pub fixed: Option<Fibre>,
    /// Planned fibre networks, read (with `--planned`).
    pub planned: Option<Fibre>,
}

impl PolicyPlan {
    /// Checks the flags; returns the goals (the --goals set, then the custom ones).
    pub fn validate(&self) -> Result<Vec<Goal>> {
        check_number("--aid-cell-m", self.aid_cell_m, 1.0, true)?;
        check_at_most("--aid-cell-m", self.aid_cell_m, 100_000.0, "metres")?;
        if let Some(y) = self.aid_year {
            if !(1900..=2200).contains(&y) {
                return Err(Error::Usage(format!(
                    "--aid-year must be a year (1900-2200), got {y}"
                )));
            }
        }
        let mut goals = self.goal_set.goals();
        for spec in &self.goals {
            let g = Goal::parse(spec).map_err(|m| Error::Usage(format!("--goal: {m}")))?;
            if goals.iter().any(|o| o.name == g.name) {
                return Err(Error::Usage(format!(
                    "--goal: the name '{}' is used twice",
                    g.name
                )));
            }
            goals.push(g);
        }
        Ok(goals)
    }

    /// Reads --fixed and --planned.
    pub fn read(
        &self,
        ctx: &ReadContext,
        fibre_network_field: Option<&str>,
        goals: Vec<Goal>,
    ) -> Result<Policy> {
        let network = self.other_network_field.as_deref().or(fibre_network_field);
        // Both are fibre-like layers with one more field: speed for fixed, year for planned.
        let other = |paths: &[PathBuf], layers: &[String], role: &'static str, layer_flag| {
            (!paths.is_empty())
                .then(|| {
                    let base = FibreOptions::fibre(
                        paths.to_vec(),
                        layers.to_vec(),
                        FieldChoice::new(network, "network", "--other-network-field"),
                        None,
                    );
                    let options = if role == "fixed" {
                        FibreOptions {
                            speed_field: Some(FieldChoice::new(
                                Some(&self.fixed_speed_field),
                                "speed_mbps",
                                "--fixed-speed-field",
                            )),
                            ..base
                        }
                    } else {
                        FibreOptions {
                            year_field: Some(FieldChoice::new(
                                Some(&self.planned_year_field),
                                "year",
                                "--planned-year-field",
                            )),
                            ..base
                        }
                    };
                    read_fibre(
                        &FibreOptions {
                            role,
                            layer_flag,
                            ..options
                        },
                        ctx,
                    )
                })
                .transpose()
        };
        let fixed = other(&self.fixed, &self.fixed_layer, "fixed", "--fixed-layer")?;
        let planned = other(
            &self.planned,
            &self.planned_layer,
            "planned",
            "--planned-layer",
        )?;
        Ok(Policy {
            preset: self.aid_preset.into(),
            aid_year: self.aid_year.unwrap_or_else(current_year),
            stand_in: self.mobile_stand_in.into(),
            goals,
            area_class_rule: self.area_class_rule.into(),
            aid_cell_m: self.aid_cell_m,
            fixed,
            planned,
        })
    }
}

/// The current UTC year.
fn current_year() -> i32 {
    crate::run_info::utc_now()[..4].parse().unwrap_or(2026)
}

/// Per premise: the networks at the target speed, and whether another fixed network of at
/// least 100 Mbit/s reaches it. Both `None` without --fixed and --planned (then the fibre
/// layer alone decides).
pub struct Reach {
    /// Per premise: networks at the target speed within the drop distance.
    pub aid_networks: Option<Vec<u32>>,
    /// Per premise: another fixed network of 100 Mbit/s or more reaches it.
    pub fast_fixed: Option<Vec<bool>>,
    /// Features of --planned that count (planned within the horizon).
    pub planned_counted: usize,
}

impl Policy {
    /// Finds, per premise, the networks at the target speed (fibre, fast enough fixed, planned
    /// in time; one name is one network) and the other fixed networks of 100 Mbit/s or more.
    pub fn reach(
        &self,
        fibre: Option<&Fibre>,
        xy: &[Coord<f64>],
        drop_distance_m: f64,
        order: &SpatialOrder,
    ) -> Reach {
        if self.fixed.is_none() && self.planned.is_none() {
            return Reach {
                aid_networks: None,
                fast_fixed: None,
                planned_counted: 0,
            };
        }
        let target = self.preset.target_mbps();
        // One numbering of networks by name across the layers: a layer's interned network id
        // maps to the shared one.
        let mut names: HashMap<String, u32> = HashMap::new();
        let mut shared = |f: &Fibre| -> Vec<u32> {
            f.networks
                .iter()
                .map(|n| {
                    let k = names.len() as u32;
                    *names.entry(n.clone()).or_insert(k)
                })
                .collect()
        };
        let fibre_net = fibre.map(&mut shared);
        let fixed_net = self.fixed.as_ref().map(&mut shared);
        let planned_net = self.planned.as_ref().map(&mut shared);
        let mut members = Vec::new();
        if let (Some(f), Some(net)) = (fibre, &fibre_net) {
            members.extend(f.features.iter().map(|x| (x, net[x.network as usize])));
        }
        if let (Some(f), Some(net)) = (&self.fixed, &fixed_net) {
            members.extend(
                f.features
                    .iter()
                    .zip(&f.speeds_mbps)
                    .filter(|(_, &s)| s >= target)
                    .map(|(x, _)| (x, net[x.network as usize])),
            );
        }
        let mut planned_counted = 0;
        if let (Some(f), Some(net)) = (&self.planned, &planned_net) {
            let before = members.len();
            members.extend(
                f.features
                    .iter()
                    .zip(&f.years)
                    .filter(|(_, &y)| planned_counts(y, self.aid_year))
                    .map(|(x, _)| (x, net[x.network as usize])),
            );
            planned_counted = members.len() - before;
        }
        let bar = Bar::new(xy.len() as u64, "aid networks");
        let index = FibreIndex::with_networks(members);
        let aid_networks: Vec<u32> = reach_all(&index, xy, drop_distance_m, order, &bar)
            .into_iter()
            .map(|r| {
                if r.passed(drop_distance_m) {
                    r.networks
                } else {
                    0
                }
            })
            .collect();
        bar.finish();
        let fast_fixed = self.fixed.as_ref().map(|f| {
            let index = FibreIndex::with_networks(
                f.features
                    .iter()
                    .zip(&f.speeds_mbps)
                    .filter(|(_, &s)| s >= 100.0)
                    .map(|(x, _)| (x, 0)),
            );
            let bar = Bar::new(xy.len() as u64, "fixed networks");
            let r = reach_all(&index, xy, drop_distance_m, order, &bar)
                .into_iter()
                .map(|r| r.passed(drop_distance_m))
                .collect();
            bar.finish();
            r
        });
        Reach {
            aid_networks: Some(aid_networks),
            fast_fixed,
            planned_counted,
        }
    }

    /// What run.json records.
    pub fn parameters(&self, plan: &PolicyPlan) -> PolicyParameters {
        PolicyParameters {
            aid_preset: self.preset.as_str().into(),
            aid_target_mbps: self.preset.target_mbps(),
            aid_year: self.aid_year,
            aid_cell_m: self.aid_cell_m,
            fixed: plan.fixed.iter().map(|p| p.display().to_string()).collect(),
            fixed_speed_field: plan.fixed_speed_field.clone(),
            planned: plan
                .planned
                .iter()
                .map(|p| p.display().to_string())
                .collect(),
            planned_year_field: plan.planned_year_field.clone(),
            mobile_stand_in: self.stand_in.as_str().into(),
            area_class_rule: self.area_class_rule.as_str().into(),
            goals: self.goals.iter().map(GoalRecord::of).collect(),
        }
    }
}

/// Merges white premises into areas a tender could cover (grid cells of `cell_m`).
pub fn aid_areas(xy: &[Coord<f64>], outcomes: &[Outcome], cell_m: f64) -> AidAreas {
    gapmap_core::aid::white_areas(xy, |i| outcomes[i].aid_class() == AidClass::White, cell_m)
}

/// The feature table of `aid_areas.geojson`: one row per white area.
pub fn aid_area_table<'a>(
    areas: &'a AidAreas,
    outcomes: &[Outcome],
    settlement: &[Option<u32>],
    settlements: &Settlements,
) -> FeatureTable<'a> {
    let mut t = FeatureTable::of_areas(&areas.outlines);
    let n = areas.members.len();
    let sum = |f: &dyn Fn(&Outcome) -> u64| -> Vec<i64> {
        areas
            .members
            .iter()
            .map(|m| m.iter().map(|&i| f(&outcomes[i as usize])).sum::<u64>() as i64)
            .collect()
    };
    t.push("aid_area_id", Column::Int((1..=n as i64).collect()));
    t.push("aid_class", Column::Text(vec![Some("white".into()); n]));
    t.push(
        "premises",
        Column::Int(areas.members.iter().map(|m| m.len() as i64).collect()),
    );
    t.push("households", Column::Int(sum(&|o| u64::from(o.households))));
    t.push("workplaces", Column::Int(sum(&|o| u64::from(o.workplaces))));
    t.push(
        "settlements",
        Column::Text(
            areas
                .members
                .iter()
                .map(|m| {
                    let mut ids: Vec<u32> =
                        m.iter().filter_map(|&i| settlement[i as usize]).collect();
                    ids.sort_unstable();
                    ids.dedup();
                    Some(
                        ids.iter()
                            .map(|&s| settlements.ids[s as usize].as_str())
                            .collect::<Vec<_>>()
                            .join(";")
                            .into(),
                    )
                })
                .collect(),
        ),
    );
    t.push(
        "cells",
        Column::Int(areas.cells.iter().map(|&c| c as i64).collect()),
    );
    t.push(
        "area_km2",
        Column::Float(
            areas
                .outlines
                .iter()
                .map(|o| {
                    use gapmap_core::geo::Area;
                    Some(o.unsigned_area() / 1e6)
                })
                .collect(),
        ),
    );
    let (fill, stroke) = gapmap_io::write::style::aid_fill(Some("white"));
    SimpleStyle::<i64> {
        fill: Some(Paint::All(fill)),
        fill_opacity: Some(Paint::All(0.8)),
        stroke: Some(Paint::All(stroke)),
        stroke_width: None,
    }
    .push_to(&mut t, n);
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn current_year_is_plausible() {
        let y = current_year();
        assert!((2024..2200).contains(&y), "{y}");
    }
}
