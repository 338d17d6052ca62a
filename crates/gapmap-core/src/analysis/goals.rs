//! Progress towards coverage goals, such as Sweden's broadband goals for 2025 ("Sverige
//! helt uppkopplat 2025"): 98 % of households and workplaces with access to 1 Gbit/s, 99.9 %
//! with at least 100 Mbit/s, and good mobile coverage (here: 4G) for every premise.
//!
//! Targets are held in parts per million, so that "how many are still missing" is exact
//! integer arithmetic (99.9 % of 1,000 households is exactly 999).

use crate::summary::Tally;

/// What a goal counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    /// Fibre passed (a fibre network counts as 1 Gbit/s).
    Fibre,
    /// At least 100 Mbit/s: fibre, another fixed network that fast, or the mobile stand-in.
    Mbps100,
    /// 4G of any operator.
    Mobile4g,
    /// 5G of any operator.
    Mobile5g,
}

impl Measure {
    /// The measure named `s` (`fibre`, `100mbps`, `4g`, `5g`).
    pub fn parse(s: &str) -> Option<Measure> {
        match s {
            "fibre" => Some(Measure::Fibre),
            "100mbps" => Some(Measure::Mbps100),
            "4g" => Some(Measure::Mobile4g),
            "5g" => Some(Measure::Mobile5g),
            _ => None,
        }
    }

    /// The measure's name, as `parse` reads it.
    pub fn as_str(self) -> &'static str {
        match self {
            Measure::Fibre => "fibre",
            Measure::Mbps100 => "100mbps",
            Measure::Mobile4g => "4g",
            Measure::Mobile5g => "5g",
        }
    }

    /// (premises, households, workplaces) that have it.
    fn achieved(self, t: &Tally) -> (u64, u64, u64) {
        match self {
            Measure::Fibre => (
                t.fibre_passed,
                t.households_fibre_passed,
                t.workplaces_fibre_passed,
            ),
            Measure::Mbps100 => (t.at_100_mbps, t.households_100_mbps, t.workplaces_100_mbps),
            Measure::Mobile4g => (t.mobile_4g, t.households_mobile_4g, t.workplaces_mobile_4g),
            Measure::Mobile5g => (t.mobile_5g, t.households_mobile_5g, t.workplaces_mobile_5g),
        }
    }
}

/// What a goal's share is a share of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Base {
    /// Households plus workplaces (the Swedish goals' unit).
    People,
    /// Premises.
    Premises,
}

/// One goal: a share of a base that must have a measure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Goal {
    /// Column prefix: `goal_<name>_...`.
    pub name: String,
    /// What the goal measures.
    pub measure: Measure,
    /// What the share is of: households and workplaces, or premises.
    pub base: Base,
    /// Target share in parts per million (98 % = 980,000).
    pub target_ppm: u32,
}

/// How an area stands against one goal.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Status {
    /// Share of the base that has the measure; `None` for an empty base.
    pub share: Option<f64>,
    /// Whether the share reaches the target (an empty base meets every goal).
    pub met: bool,
    /// Premises that still need the measure for the premises to reach the target share.
    pub missing_premises: u64,
    /// Households that still need it for the households to reach the target share.
    pub missing_households: u64,
}

/// The smallest count that reaches `ppm` parts per million of `total`.
pub fn needed(total: u64, ppm: u32) -> u64 {
    let t = u128::from(total) * u128::from(ppm);
    t.div_ceil(1_000_000) as u64
}

/// Parses a percentage such as `98` or `99.9` into parts per million (exact to 0.0001 %).
pub fn ppm_of_percent(pct: f64) -> Option<u32> {
    (pct.is_finite() && (0.0..=100.0).contains(&pct)).then(|| (pct * 10_000.0).round() as u32)
}

impl Goal {
    /// Sweden's goals for 2025 (the broadband strategy of 2016).
    pub fn sweden_2025() -> Vec<Goal> {
        vec![
            Goal {
                name: "se2025_1gbps".into(),
                measure: Measure::Fibre,
                base: Base::People,
                target_ppm: 980_000,
            },
            Goal {
                name: "se2025_100mbps".into(),
                measure: Measure::Mbps100,
                base: Base::People,
                target_ppm: 999_000,
            },
            Goal {
                name: "se2025_4g".into(),
                measure: Measure::Mobile4g,
                base: Base::Premises,
                target_ppm: 1_000_000,
            },
        ]
    }

    /// The EU's Digital Decade targets for 2030 (Decision (EU) 2022/2481): a gigabit network
    /// for every premise (fibre passed; a fibre network counts as gigabit) and 5G in all
    /// populated areas (5G of any operator at every premise).
    pub fn eu_2030() -> Vec<Goal> {
        vec![
            Goal {
                name: "eu2030_gigabit".into(),
                measure: Measure::Fibre,
                base: Base::Premises,
                target_ppm: 1_000_000,
            },
            Goal {
                name: "eu2030_5g".into(),
                measure: Measure::Mobile5g,
                base: Base::Premises,
                target_ppm: 1_000_000,
            },
        ]
    }

    /// Parses `NAME:MEASURE:PERCENT[:premises]`, e.g. `gigabit2030:fibre:100`.
    pub fn parse(spec: &str) -> Result<Goal, String> {
        let parts: Vec<&str> = spec.split(':').collect();
        if !(3..=4).contains(&parts.len()) {
            return Err(format!(
                "'{spec}' is not NAME:MEASURE:PERCENT[:premises] (e.g. gigabit2030:fibre:100)"
            ));
        }
        let name = parts[0];
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(format!(
                "goal name '{name}' must be letters, digits and '_' (it names columns)"
            ));
        }
        let measure = Measure::parse(parts[1]).ok_or_else(|| {
            format!(
                "goal measure '{}' must be fibre, 100mbps, 4g or 5g",
                parts[1]
            )
        })?;
        let pct: f64 = parts[2]
            .trim_end_matches('%')
            .parse()
            .map_err(|_| format!("goal percentage '{}' is not a number", parts[2]))?;
        let target_ppm = ppm_of_percent(pct)
            .ok_or_else(|| format!("goal percentage {pct} must be between 0 and 100"))?;
        let base = match parts.get(3) {
            None => Base::People,
            Some(&"premises") => Base::Premises,
            Some(&"people") => Base::People,
            Some(other) => {
                return Err(format!(
                    "goal base '{other}' must be 'premises' or 'people'"
                ))
            }
        };
        Ok(Goal {
            name: name.to_string(),
            measure,
            base,
            target_ppm,
        })
    }

    /// How the area of tally `t` stands against this goal.
    pub fn status(&self, t: &Tally) -> Status {
        let (p, h, w) = self.measure.achieved(t);
        let (have, total) = match self.base {
            Base::People => (h + w, t.households + t.workplaces),
            Base::Premises => (p, t.premises),
        };
        Status {
            share: (total > 0).then(|| have as f64 / total as f64),
            met: have >= needed(total, self.target_ppm),
            missing_premises: needed(t.premises, self.target_ppm).saturating_sub(p),
            missing_households: needed(t.households, self.target_ppm).saturating_sub(h),
        }
    }

    /// The target as a percentage.
    pub fn target_pct(&self) -> f64 {
        f64::from(self.target_ppm) / 10_000.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn needed_is_exact() {
        assert_eq!(needed(1000, 999_000), 999);
        assert_eq!(needed(1001, 999_000), 1000);
        assert_eq!(needed(100, 980_000), 98);
        assert_eq!(needed(101, 980_000), 99);
        assert_eq!(needed(0, 980_000), 0);
        assert_eq!(needed(7, 1_000_000), 7);
        assert_eq!(ppm_of_percent(99.9), Some(999_000));
        assert_eq!(ppm_of_percent(100.5), None);
    }

    #[test]
    fn status_counts_what_is_missing() {
        let t = Tally {
            premises: 100,
            households: 200,
            workplaces: 50,
            fibre_passed: 90,
            households_fibre_passed: 190,
            workplaces_fibre_passed: 50,
            mobile_4g: 99,
            households_mobile_4g: 199,
            workplaces_mobile_4g: 50,
            ..Tally::default()
        };
        let g = Goal::sweden_2025();
        let fibre = g[0].status(&t);
        // 240 of 250 people: 96 % < 98 %.
        assert_eq!(fibre.share, Some(0.96));
        assert!(!fibre.met);
        assert_eq!(fibre.missing_premises, 8);
        assert_eq!(fibre.missing_households, 6);
        let m4 = g[2].status(&t);
        assert!(!m4.met);
        assert_eq!(m4.missing_premises, 1);
        assert_eq!(m4.missing_households, 1);
        let empty = g[0].status(&Tally::default());
        assert_eq!(empty.share, None);
        assert!(empty.met);
    }

    #[test]
    fn parses_custom_goals() {
        let g = Goal::parse("gigabit2030:fibre:100").unwrap();
        assert_eq!(g.target_ppm, 1_000_000);
        assert_eq!(g.base, Base::People);
        let g = Goal::parse("g5:5g:90%:premises").unwrap();
        assert_eq!(g.measure, Measure::Mobile5g);
        assert_eq!(g.base, Base::Premises);
        assert!(Goal::parse("x:fibre").is_err());
        assert!(Goal::parse("x:cable:90").is_err());
        assert!(Goal::parse("bad name:fibre:90").is_err());
        assert!(Goal::parse("x:fibre:120").is_err());
    }
}
