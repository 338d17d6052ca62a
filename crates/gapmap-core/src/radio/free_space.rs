//! Free-space path loss (Friis): `20 log10(4 π d f / c)`.

use super::{Link, PathLoss, Validity, SPEED_OF_LIGHT_M_S};

/// Free-space loss in dB over `distance_m` at `frequency_mhz` (distance clamped to 1 m).
#[inline]
pub fn loss_db(distance_m: f64, frequency_mhz: f64) -> f64 {
    let d = distance_m.max(1.0);
    20.0 * (4.0 * std::f64::consts::PI * d * frequency_mhz * 1e6 / SPEED_OF_LIGHT_M_S).log10()
}

/// The distance in metres at which free-space loss reaches `loss_db` at `frequency_mhz`.
pub fn distance_for_loss_m(loss_db: f64, frequency_mhz: f64) -> f64 {
    10f64.powf(loss_db / 20.0) * SPEED_OF_LIGHT_M_S
        / (4.0 * std::f64::consts::PI * frequency_mhz * 1e6)
}

/// Free space: line of sight and no obstruction of the first Fresnel zone.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct FreeSpace;

impl PathLoss for FreeSpace {
    fn name(&self) -> &'static str {
        "free-space"
    }
    fn validity(&self) -> Validity {
        Validity {
            frequency_mhz: (1.0, 300_000.0),
            h_bs_m: (0.0, 10_000.0),
            h_ut_m: (0.0, 10_000.0),
            d2d_m: (1.0, f64::INFINITY),
        }
    }
    fn loss_db(&self, link: &Link) -> f64 {
        loss_db(link.d3d_m(), link.frequency_mhz)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 1 km at 800 MHz: 32.45 + 20 log10(1 km) + 20 log10(800 MHz) = 90.5 dB
    /// (ITU-R P.525-4, eq. (4): L = 32.4 + 20 log f(MHz) + 20 log d(km)).
    #[test]
    fn one_km_at_800_mhz() {
        assert!((loss_db(1000.0, 800.0) - 90.5).abs() < 0.1);
        // The P.525 constant form, to more decimals.
        let p525 = 32.4478 + 20.0 * 800f64.log10();
        assert!((loss_db(1000.0, 800.0) - p525).abs() < 1e-3);
    }

    #[test]
    fn distance_inverts_loss() {
        for d in [10.0, 1234.5, 80_000.0] {
            let l = loss_db(d, 2600.0);
            assert!((distance_for_loss_m(l, 2600.0) - d).abs() < 1e-6 * d);
        }
    }
}
