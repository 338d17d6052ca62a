//! Sector antenna patterns, 3GPP style (TR 36.814 Table A.2.1.1-2; TR 38.901 Table 7.3-1
//! uses the same form):
//!
//! - horizontal: `A_H(φ) = −min(12 (φ / φ3dB)², A_m)`, `A_m` = 20 dB;
//! - vertical (when a tilt is given): `A_V(θ) = −min(12 ((θ − θtilt) / θ3dB)², SLA_v)`,
//!   `θ3dB` = 10°, `SLA_v` = 20 dB, `θ` the depression angle from the mast to the terminal;
//! - combined: `−min(−(A_H + A_V), A_m)`.
//!
//! Returned as positive losses in dB. Azimuths are degrees clockwise from grid north of the
//! working CRS.

use geo::Coord;

/// Front-to-back ratio (`A_m`), dB.
pub const FRONT_TO_BACK_DB: f64 = 20.0;
/// Vertical half-power beamwidth, degrees.
pub const VERTICAL_BEAMWIDTH_DEG: f64 = 10.0;
/// Vertical side-lobe attenuation, dB.
pub const VERTICAL_SIDE_LOBE_DB: f64 = 20.0;

/// A directional antenna. Omni sites have none.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sector {
    /// Boresight, degrees clockwise from grid north; `None` for a horizontally omni antenna.
    pub azimuth_deg: Option<f64>,
    /// Horizontal half-power beamwidth, degrees.
    pub beamwidth_deg: f64,
    /// Downtilt, degrees below the horizon; `None` for no vertical pattern.
    pub tilt_deg: Option<f64>,
}

/// Bearing from `from` to `to`, degrees clockwise from grid north in [0, 360).
pub fn bearing_deg(from: Coord<f64>, to: Coord<f64>) -> f64 {
    let b = (to.x - from.x).atan2(to.y - from.y).to_degrees();
    if b < 0.0 {
        b + 360.0
    } else {
        b
    }
}

/// Smallest angle between two directions, degrees in [0, 180].
pub fn angle_between_deg(a: f64, b: f64) -> f64 {
    let d = (a - b).rem_euclid(360.0);
    if d > 180.0 {
        360.0 - d
    } else {
        d
    }
}

/// Horizontal pattern loss at `off_boresight_deg` from boresight.
#[inline]
pub fn horizontal_loss_db(off_boresight_deg: f64, beamwidth_deg: f64) -> f64 {
    (12.0 * (off_boresight_deg / beamwidth_deg).powi(2)).min(FRONT_TO_BACK_DB)
}

/// Vertical pattern loss at depression angle `depression_deg` for a downtilt `tilt_deg`.
#[inline]
pub fn vertical_loss_db(depression_deg: f64, tilt_deg: f64) -> f64 {
    (12.0 * ((depression_deg - tilt_deg) / VERTICAL_BEAMWIDTH_DEG).powi(2))
        .min(VERTICAL_SIDE_LOBE_DB)
}

impl Sector {
    /// Pattern loss toward a terminal at `bearing_deg`, seen `depression_deg` below the
    /// horizon from the antenna.
    #[inline]
    pub fn loss_db(&self, bearing_deg: f64, depression_deg: f64) -> f64 {
        let h = self.azimuth_deg.map_or(0.0, |az| {
            horizontal_loss_db(angle_between_deg(bearing_deg, az), self.beamwidth_deg)
        });
        let v = self
            .tilt_deg
            .map_or(0.0, |t| vertical_loss_db(depression_deg, t));
        (h + v).min(FRONT_TO_BACK_DB)
    }

    /// True when the pattern has no loss anywhere (an omni antenna without tilt).
    pub fn is_omni(&self) -> bool {
        self.azimuth_deg.is_none() && self.tilt_deg.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::coord;

    #[test]
    fn bearings_are_clockwise_from_north() {
        let o = coord! {x: 0.0, y: 0.0};
        assert!((bearing_deg(o, coord! {x: 0.0, y: 5.0}) - 0.0).abs() < 1e-12);
        assert!((bearing_deg(o, coord! {x: 5.0, y: 0.0}) - 90.0).abs() < 1e-12);
        assert!((bearing_deg(o, coord! {x: 0.0, y: -5.0}) - 180.0).abs() < 1e-12);
        assert!((bearing_deg(o, coord! {x: -5.0, y: 0.0}) - 270.0).abs() < 1e-12);
        assert_eq!(angle_between_deg(350.0, 10.0), 20.0);
        assert_eq!(angle_between_deg(0.0, 180.0), 180.0);
    }

    #[test]
    fn pattern_values() {
        let s = Sector {
            azimuth_deg: Some(90.0),
            beamwidth_deg: 65.0,
            tilt_deg: None,
        };
        assert_eq!(s.loss_db(90.0, 0.0), 0.0);
        // Half the beamwidth off boresight: 12 · 0.25 = 3 dB (the half-power point).
        assert!((s.loss_db(90.0 + 32.5, 0.0) - 3.0).abs() < 1e-12);
        assert_eq!(s.loss_db(270.0, 0.0), FRONT_TO_BACK_DB);
        let tilted = Sector {
            tilt_deg: Some(6.0),
            ..s
        };
        assert_eq!(tilted.loss_db(90.0, 6.0), 0.0);
        assert!((tilted.loss_db(90.0, 11.0) - 3.0).abs() < 1e-12);
        // The combination is capped at the front-to-back ratio.
        assert_eq!(tilted.loss_db(270.0, 40.0), FRONT_TO_BACK_DB);
    }
}
