//! State-aid classes of the EU Broadband Guidelines.
//!
//! A premise (or area) is `white` where no fixed network reaches the target speed, `grey`
//! where exactly one does and `black` where two or more do. Networks planned within the
//! guidelines' horizon (3 years) count like built ones; which networks count is decided where
//! they are read and indexed, so here a premise is only its number of networks at the target.

/// The target speed of the classification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AidPreset {
    /// Guidelines on State aid for broadband networks, 2023 (2023/C 36/01): gigabit, 1 Gbit/s
    /// download.
    Eu2023,
    /// Guidelines of 2013 (2013/C 25/01): next-generation access, 30 Mbit/s download.
    Eu2013Nga,
}

impl AidPreset {
    /// The preset's name, as parsed.
    pub fn as_str(self) -> &'static str {
        match self {
            AidPreset::Eu2023 => "eu-2023",
            AidPreset::Eu2013Nga => "eu-2013-nga",
        }
    }

    /// Download speed a network must offer to count, in Mbit/s. A fibre network offers 1 Gbit/s.
    pub fn target_mbps(self) -> f64 {
        match self {
            AidPreset::Eu2023 => 1000.0,
            AidPreset::Eu2013Nga => 30.0,
        }
    }
}

/// Years ahead within which a planned network counts as present (point 66 of the 2023
/// guidelines, and the 2013 guidelines' "in the near future").
pub const PLANNING_HORIZON_YEARS: i32 = 3;

/// Whether a network planned for `planned_year` counts in an assessment made in
/// `assessment_year`: planned no later than the horizon (networks due in past years count).
pub fn planned_counts(planned_year: i32, assessment_year: i32) -> bool {
    planned_year <= assessment_year.saturating_add(PLANNING_HORIZON_YEARS)
}

/// A state-aid class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AidClass {
    White,
    Grey,
    Black,
}

impl AidClass {
    /// The class of a premise reached by `networks` distinct networks at the target speed.
    #[inline]
    pub fn of(networks: u32) -> AidClass {
        match networks {
            0 => AidClass::White,
            1 => AidClass::Grey,
            _ => AidClass::Black,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            AidClass::White => "white",
            AidClass::Grey => "grey",
            AidClass::Black => "black",
        }
    }

    /// The class of an area from its premises per class: the class of most premises; a tie
    /// goes to the better-served class (aid in grey and black areas needs more justification,
    /// so the area is not made to look whiter than it is). `None` for an area without premises.
    pub fn of_area(white: u64, grey: u64, black: u64) -> Option<AidClass> {
        if white + grey + black == 0 {
            return None;
        }
        // `max_by_key` keeps the last of equal maxima: list the better served last.
        [
            (white, AidClass::White),
            (grey, AidClass::Grey),
            (black, AidClass::Black),
        ]
        .into_iter()
        .max_by_key(|&(n, _)| n)
        .map(|(_, c)| c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_by_network_count() {
        assert_eq!(AidClass::of(0), AidClass::White);
        assert_eq!(AidClass::of(1), AidClass::Grey);
        assert_eq!(AidClass::of(2), AidClass::Black);
        assert_eq!(AidClass::of(7), AidClass::Black);
    }

    #[test]
    fn area_class_is_the_plurality_with_ties_to_the_better_served() {
        assert_eq!(AidClass::of_area(0, 0, 0), None);
        assert_eq!(AidClass::of_area(5, 1, 1), Some(AidClass::White));
        assert_eq!(AidClass::of_area(1, 5, 1), Some(AidClass::Grey));
        assert_eq!(AidClass::of_area(3, 3, 0), Some(AidClass::Grey));
        assert_eq!(AidClass::of_area(3, 0, 3), Some(AidClass::Black));
        assert_eq!(AidClass::of_area(2, 2, 2), Some(AidClass::Black));
    }

    #[test]
    fn presets_and_horizon() {
        assert_eq!(AidPreset::Eu2023.target_mbps(), 1000.0);
        assert_eq!(AidPreset::Eu2013Nga.target_mbps(), 30.0);
        assert!(planned_counts(2029, 2026));
        assert!(!planned_counts(2030, 2026));
        assert!(planned_counts(2020, 2026));
    }
}
