//! Okumura-Hata and COST-231 Hata.
//!
//! Hata, M. (1980), "Empirical formula for propagation loss in land mobile radio services",
//! IEEE Trans. Veh. Technol. 29(3); COST Action 231 final report (1999), §4.4.1.
//! Frequencies in MHz, heights in metres, distance in km:
//!
//! - urban: `L = 69.55 + 26.16 log f − 13.82 log hb − a(hm) + (44.9 − 6.55 log hb) log d`,
//!   with the small/medium-city correction `a(hm) = (1.1 log f − 0.7) hm − (1.56 log f − 0.8)`;
//! - suburban: `L_urban − 2 (log(f / 28))² − 5.4`;
//! - open: `L_urban − 4.78 (log f)² + 18.33 log f − 40.94`;
//! - COST-231: `L = 46.3 + 33.9 log f − 13.82 log hb − a(hm) + (44.9 − 6.55 log hb) log d + Cm`,
//!   `Cm` = 0 dB for medium cities and suburban centres, 3 dB for metropolitan centres.

use super::{Environment, Link, PathLoss, Validity};

fn a_hm(log_f: f64, hm: f64) -> f64 {
    (1.1 * log_f - 0.7) * hm - (1.56 * log_f - 0.8)
}

fn distance_km(link: &Link) -> f64 {
    link.d2d_m.max(1.0) / 1000.0
}

/// Okumura-Hata, 150-1500 MHz, 1-20 km, hb 30-200 m, hm 1-10 m.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hata {
    /// Urban, suburban or open land.
    pub environment: Environment,
}

impl Hata {
    /// Urban loss with the small/medium-city correction.
    pub fn urban_db(f_mhz: f64, hb_m: f64, hm_m: f64, d_km: f64) -> f64 {
        let lf = f_mhz.log10();
        let lhb = hb_m.log10();
        69.55 + 26.16 * lf - 13.82 * lhb - a_hm(lf, hm_m) + (44.9 - 6.55 * lhb) * d_km.log10()
    }
}

impl PathLoss for Hata {
    fn name(&self) -> &'static str {
        "hata"
    }
    fn validity(&self) -> Validity {
        Validity {
            frequency_mhz: (150.0, 1500.0),
            h_bs_m: (30.0, 200.0),
            h_ut_m: (1.0, 10.0),
            d2d_m: (1000.0, 20_000.0),
        }
    }
    fn loss_db(&self, link: &Link) -> f64 {
        let f = link.frequency_mhz;
        let urban = Hata::urban_db(f, link.h_bs_m, link.h_ut_m, distance_km(link));
        let lf = f.log10();
        match self.environment {
            Environment::Urban => urban,
            Environment::Suburban => urban - 2.0 * (f / 28.0).log10().powi(2) - 5.4,
            Environment::Open => urban - 4.78 * lf * lf + 18.33 * lf - 40.94,
        }
    }
}

/// COST-231 Hata, 1500-2000 MHz, 1-20 km, hb 30-200 m, hm 1-10 m.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cost231 {
    /// `Cm` = 3 dB (metropolitan centres) instead of 0 dB.
    pub metropolitan: bool,
}

impl PathLoss for Cost231 {
    fn name(&self) -> &'static str {
        "cost231"
    }
    fn validity(&self) -> Validity {
        Validity {
            frequency_mhz: (1500.0, 2000.0),
            h_bs_m: (30.0, 200.0),
            h_ut_m: (1.0, 10.0),
            d2d_m: (1000.0, 20_000.0),
        }
    }
    fn loss_db(&self, link: &Link) -> f64 {
        let lf = link.frequency_mhz.log10();
        let lhb = link.h_bs_m.log10();
        let cm = if self.metropolitan { 3.0 } else { 0.0 };
        46.3 + 33.9 * lf - 13.82 * lhb - a_hm(lf, link.h_ut_m)
            + (44.9 - 6.55 * lhb) * distance_km(link).log10()
            + cm
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::radio::Los;

    fn link(d_km: f64, f: f64) -> Link {
        Link {
            d2d_m: d_km * 1000.0,
            h_bs_m: 30.0,
            h_ut_m: 1.5,
            frequency_mhz: f,
            los: Los::Probability,
        }
    }

    /// Hata (1980) at 900 MHz, hb 30 m, hm 1.5 m; the values follow from the formulas above
    /// (e.g. Rappaport, Wireless Communications, 2nd ed., §4.10.3; Molisch, Wireless
    /// Communications, §7.6.1).
    #[test]
    fn hata_published_values() {
        let cases = [
            (Environment::Urban, 126.4, 161.6),
            (Environment::Suburban, 116.5, 151.7),
            (Environment::Open, 97.9, 133.1),
        ];
        for (env, at1, at10) in cases {
            let m = Hata { environment: env };
            let l1 = m.loss_db(&link(1.0, 900.0));
            let l10 = m.loss_db(&link(10.0, 900.0));
            assert!((l1 - at1).abs() <= 0.1, "{env:?} 1 km: {l1}");
            assert!((l10 - at10).abs() <= 0.1, "{env:?} 10 km: {l10}");
        }
    }

    /// COST 231 final report §4.4.1: 1800 MHz, hb 30 m, hm 1.5 m, 1 km, Cm = 0: 136.2 dB.
    #[test]
    fn cost231_published_value() {
        let l = Cost231 {
            metropolitan: false,
        }
        .loss_db(&link(1.0, 1800.0));
        assert!((l - 136.2).abs() <= 0.1, "{l}");
        let m = Cost231 { metropolitan: true }.loss_db(&link(1.0, 1800.0));
        assert!((m - l - 3.0).abs() < 1e-9);
    }

    #[test]
    fn loss_grows_with_distance() {
        for env in [Environment::Urban, Environment::Suburban, Environment::Open] {
            let m = Hata { environment: env };
            let mut last = f64::NEG_INFINITY;
            for k in 1..200 {
                let l = m.loss_db(&link(k as f64 * 0.1, 800.0));
                assert!(l > last);
                last = l;
            }
        }
    }
}
