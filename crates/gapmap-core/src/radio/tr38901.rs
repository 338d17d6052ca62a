//! 3GPP TR 38.901 (V17.0.0, 2022-03), Table 7.4.1-1 path loss and Table 7.4.2-1 LOS
//! probability, for the rural macro (RMa) and urban macro (UMa) scenarios.
//!
//! Distances in metres, `fc` in GHz. RMa: `dBP = 2π hBS hUT fc / c`; UMa: `d'BP = 4 h'BS h'UT
//! fc / c` with effective heights `h' = h − hE` and `hE = 1 m` (the value for `hUT` below 13 m).
//! NLOS is `max(PL_LOS, PL'_NLOS)`. With [`Los::Probability`] the two losses are weighted (in dB)
//! by the scenario's LOS probability.

use super::{Link, Los, PathLoss, Validity, SPEED_OF_LIGHT_M_S};

fn fc_ghz(link: &Link) -> f64 {
    link.frequency_mhz / 1000.0
}

fn weighted(p_los: f64, los: f64, nlos: f64) -> f64 {
    p_los * los + (1.0 - p_los) * nlos
}

/// Rural macro: `h` the mean building height, `W` the street width (defaults 5 m and 20 m,
/// the values of Table 7.4.1-1).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RMa {
    /// Average building height, metres.
    pub building_height_m: f64,
    /// Average street width, metres.
    pub street_width_m: f64,
}

impl Default for RMa {
    fn default() -> Self {
        RMa {
            building_height_m: 5.0,
            street_width_m: 20.0,
        }
    }
}

impl RMa {
    /// Breakpoint distance, metres.
    pub fn breakpoint_m(link: &Link) -> f64 {
        2.0 * std::f64::consts::PI * link.h_bs_m * link.h_ut_m * link.frequency_mhz * 1e6
            / SPEED_OF_LIGHT_M_S
    }

    fn pl1(&self, d3d: f64, fc: f64) -> f64 {
        let h = self.building_height_m;
        let h172 = h.powf(1.72);
        20.0 * (40.0 * std::f64::consts::PI * d3d * fc / 3.0).log10()
            + (0.03 * h172).min(10.0) * d3d.log10()
            - (0.044 * h172).min(14.77)
            + 0.002 * h.log10() * d3d
    }

    /// LOS loss.
    pub fn los_db(&self, link: &Link) -> f64 {
        let fc = fc_ghz(link);
        let d3d = link.d3d_m();
        let dbp = RMa::breakpoint_m(link);
        if link.d2d_m.max(1.0) <= dbp {
            self.pl1(d3d, fc)
        } else {
            self.pl1(dbp, fc) + 40.0 * (d3d / dbp).log10()
        }
    }

    /// NLOS loss: the larger of the LOS loss and `PL'_NLOS`.
    pub fn nlos_db(&self, link: &Link) -> f64 {
        let (h, w) = (self.building_height_m, self.street_width_m);
        let (hbs, hut) = (link.h_bs_m, link.h_ut_m);
        let pl = 161.04 - 7.1 * w.log10() + 7.5 * h.log10()
            - (24.37 - 3.7 * (h / hbs).powi(2)) * hbs.log10()
            + (43.42 - 3.1 * hbs.log10()) * (link.d3d_m().log10() - 3.0)
            + 20.0 * fc_ghz(link).log10()
            - (3.2 * (11.75 * hut).log10().powi(2) - 4.97);
        pl.max(self.los_db(link))
    }

    /// LOS probability at a 2D distance (Table 7.4.2-1).
    pub fn p_los(d2d_m: f64) -> f64 {
        if d2d_m <= 10.0 {
            1.0
        } else {
            (-(d2d_m - 10.0) / 1000.0).exp()
        }
    }
}

impl PathLoss for RMa {
    fn name(&self) -> &'static str {
        "rma"
    }
    /// The LOS range; NLOS is published to 5 km (see [`RMa::in_range`]).
    fn validity(&self) -> Validity {
        Validity {
            frequency_mhz: (500.0, 30_000.0),
            h_bs_m: (10.0, 150.0),
            h_ut_m: (1.0, 10.0),
            d2d_m: (10.0, 10_000.0),
        }
    }
    fn loss_db(&self, link: &Link) -> f64 {
        match link.los {
            Los::Los => self.los_db(link),
            Los::Nlos => self.nlos_db(link),
            Los::Probability => weighted(
                RMa::p_los(link.d2d_m),
                self.los_db(link),
                self.nlos_db(link),
            ),
        }
    }
}

impl RMa {
    /// In the published range, with NLOS limited to 5 km.
    pub fn in_range(&self, link: &Link) -> bool {
        self.validity().contains(link) && (link.los == Los::Los || link.d2d_m <= 5000.0)
    }
}

/// Urban macro. `optional` selects the optional NLOS form `32.4 + 20 log10(fc) + 30 log10(d3D)`.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct UMa {
    /// The optional (simpler) NLOS formula.
    pub optional: bool,
}

/// Effective environment height for UMa, metres (for user terminals below 13 m).
pub const UMA_H_E_M: f64 = 1.0;

impl UMa {
    /// Breakpoint distance `d'BP`, metres.
    pub fn breakpoint_m(link: &Link) -> f64 {
        4.0 * (link.h_bs_m - UMA_H_E_M) * (link.h_ut_m - UMA_H_E_M) * link.frequency_mhz * 1e6
            / SPEED_OF_LIGHT_M_S
    }

    /// LOS loss.
    pub fn los_db(&self, link: &Link) -> f64 {
        let fc = fc_ghz(link);
        let d3d = link.d3d_m();
        let dbp = UMa::breakpoint_m(link);
        if link.d2d_m.max(1.0) <= dbp {
            28.0 + 22.0 * d3d.log10() + 20.0 * fc.log10()
        } else {
            28.0 + 40.0 * d3d.log10() + 20.0 * fc.log10()
                - 9.0 * (dbp * dbp + (link.h_bs_m - link.h_ut_m).powi(2)).log10()
        }
    }

    /// NLOS loss: the larger of the LOS loss and `PL'_NLOS`, or the optional form.
    pub fn nlos_db(&self, link: &Link) -> f64 {
        let fc = fc_ghz(link);
        let d3d = link.d3d_m();
        if self.optional {
            32.4 + 20.0 * fc.log10() + 30.0 * d3d.log10()
        } else {
            let pl = 13.54 + 39.08 * d3d.log10() + 20.0 * fc.log10() - 0.6 * (link.h_ut_m - 1.5);
            pl.max(self.los_db(link))
        }
    }

    /// LOS probability at a 2D distance (Table 7.4.2-1), for a terminal at `h_ut_m`.
    pub fn p_los(d2d_m: f64, h_ut_m: f64) -> f64 {
        if d2d_m <= 18.0 {
            return 1.0;
        }
        let c = if h_ut_m <= 13.0 {
            0.0
        } else {
            ((h_ut_m - 13.0) / 10.0).powf(1.5)
        };
        (18.0 / d2d_m + (-d2d_m / 63.0).exp() * (1.0 - 18.0 / d2d_m))
            * (1.0 + c * 1.25 * (d2d_m / 100.0).powi(3) * (-d2d_m / 150.0).exp())
    }
}

impl PathLoss for UMa {
    fn name(&self) -> &'static str {
        if self.optional {
            "uma-optional"
        } else {
            "uma"
        }
    }
    /// Table 7.4.1-1 gives UMa for `hBS` = 25 m; gapmap accepts masts of 10-150 m like RMa,
    /// with the breakpoint computed from the actual height.
    fn validity(&self) -> Validity {
        Validity {
            frequency_mhz: (500.0, 100_000.0),
            h_bs_m: (10.0, 150.0),
            h_ut_m: (1.5, 22.5),
            d2d_m: (10.0, 5000.0),
        }
    }
    fn loss_db(&self, link: &Link) -> f64 {
        match link.los {
            Los::Los => self.los_db(link),
            Los::Nlos => self.nlos_db(link),
            Los::Probability => weighted(
                UMa::p_los(link.d2d_m, link.h_ut_m),
                self.los_db(link),
                self.nlos_db(link),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(d2d: f64, f_mhz: f64, hbs: f64, los: Los) -> Link {
        Link {
            d2d_m: d2d,
            h_bs_m: hbs,
            h_ut_m: 1.5,
            frequency_mhz: f_mhz,
            los,
        }
    }

    /// TR 38.901 Table 7.4.1-1, deterministic part: 0.7 GHz, hBS 35 m, hUT 1.5 m, h 5 m,
    /// W 20 m; d3D from d2D and the height difference. Values at 100 m and 5 km, in dB.
    #[test]
    fn published_values_at_700_mhz() {
        let rma = RMa::default();
        let uma = UMa::default();
        type Case<'a> = (&'a dyn Fn(&Link) -> f64, Los, f64, f64, &'a str);
        let cases: [Case; 4] = [
            (&|l| rma.loss_db(l), Los::Los, 70.2, 121.3, "RMa LOS"),
            (&|l| rma.loss_db(l), Los::Nlos, 78.7, 143.4, "RMa NLOS"),
            (&|l| uma.loss_db(l), Los::Los, 69.4, 133.1, "UMa LOS"),
            (&|l| uma.loss_db(l), Los::Nlos, 89.5, 155.0, "UMa NLOS"),
        ];
        for (f, los, at100, at5k, what) in cases {
            let a = f(&link(100.0, 700.0, 35.0, los));
            let b = f(&link(5000.0, 700.0, 35.0, los));
            assert!((a - at100).abs() <= 0.1, "{what} 100 m: {a}");
            assert!((b - at5k).abs() <= 0.1, "{what} 5 km: {b}");
        }
    }

    /// UMa NLOS, optional form, 3.5 GHz, 30 m mast, hUT 1.5 m.
    #[test]
    fn uma_optional_published_values() {
        let m = UMa { optional: true };
        for (d_km, want) in [(1.0, 133.29), (5.0, 154.25), (10.0, 163.28), (20.0, 172.31)] {
            let l = m.loss_db(&link(d_km * 1000.0, 3500.0, 30.0, Los::Nlos));
            assert!((l - want).abs() <= 0.01, "{d_km} km: {l}");
        }
    }

    #[test]
    fn breakpoints() {
        // 2π · 35 · 1.5 · 0.7e9 / c = 770 m; 4 · 34 · 0.5 · 0.7e9 / c = 159 m.
        let l = link(100.0, 700.0, 35.0, Los::Los);
        assert!((RMa::breakpoint_m(&l) - 770.2).abs() < 0.1);
        assert!((UMa::breakpoint_m(&l) - 158.8).abs() < 0.1);
        // Continuous at the breakpoint (UMa exactly; RMa up to the d3D vs dBP offset).
        let rma = |d| RMa::default().los_db(&link(d, 700.0, 35.0, Los::Los));
        let uma = |d| UMa::default().los_db(&link(d, 700.0, 35.0, Los::Los));
        let (b1, b2) = (RMa::breakpoint_m(&l), UMa::breakpoint_m(&l));
        assert!((rma(b1 - 1e-6) - rma(b1 + 1e-6)).abs() < 0.05);
        assert!((uma(b2 - 1e-6) - uma(b2 + 1e-6)).abs() < 0.01);
    }

    #[test]
    fn los_probability_and_weighting() {
        assert_eq!(RMa::p_los(5.0), 1.0);
        assert!((RMa::p_los(1010.0) - (-1f64).exp()).abs() < 1e-12);
        assert_eq!(UMa::p_los(10.0, 1.5), 1.0);
        let p = UMa::p_los(200.0, 1.5);
        assert!((p - (0.09 + (-200f64 / 63.0).exp() * 0.91)).abs() < 1e-12);
        let m = UMa::default();
        let l = link(200.0, 3500.0, 25.0, Los::Probability);
        let (los, nlos) = (m.los_db(&l), m.nlos_db(&l));
        let w = m.loss_db(&l);
        assert!(los < w && w < nlos);
        assert!((w - (p * los + (1.0 - p) * nlos)).abs() < 1e-9);
    }

    #[test]
    fn loss_grows_with_distance() {
        let rma = RMa::default();
        let uma = UMa::default();
        for los in [Los::Los, Los::Nlos, Los::Probability] {
            let (mut a, mut b) = (f64::NEG_INFINITY, f64::NEG_INFINITY);
            for k in 1..2000 {
                let l = link(k as f64 * 10.0, 2600.0, 30.0, los);
                let (x, y) = (rma.loss_db(&l), uma.loss_db(&l));
                assert!(x >= a - 1e-9 && y >= b - 1e-9, "{los:?} at {} m", k * 10);
                (a, b) = (x, y);
            }
        }
    }
}
