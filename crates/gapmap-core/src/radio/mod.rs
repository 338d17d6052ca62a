//! Radio propagation: path-loss models, antenna patterns, terrain, and predicted coverage
//! from cell sites.
//!
//! Every model implements [`PathLoss`]: a loss in dB for one [`Link`] (distance, antenna
//! heights, frequency, line of sight), and the range it was published for ([`Validity`]).
//! Formulas are continued outside their range; callers flag such links as extrapolated.
//!
//! | module | model |
//! |---|---|
//! | [`free_space`] | Friis free-space loss |
//! | [`hata`] | Okumura-Hata (urban, suburban, open; 150-1500 MHz) and COST-231 Hata (1500-2000 MHz) |
//! | [`tr38901`] | 3GPP TR 38.901 RMa and UMa, LOS and NLOS, breakpoint distance, LOS probability |
//! | [`antenna`] | 3GPP sector pattern (horizontal, and vertical for tilt) |
//! | [`terrain`] | DEM profiles, line of sight over a curved Earth (k = 4/3), Deygout knife-edge diffraction |
//! | [`predict`] | the link budget, site index with a per-site maximum radius, per-premise best server |
//! | [`grid`] | coverage on a raster grid, turned into polygons |

pub mod antenna;
pub mod free_space;
pub mod grid;
pub mod hata;
pub mod predict;
pub mod terrain;
pub mod tr38901;

/// Speed of light in vacuum, m/s.
pub const SPEED_OF_LIGHT_M_S: f64 = 299_792_458.0;

/// Line-of-sight state of a link, for models that distinguish it (TR 38.901).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Los {
    /// Line of sight.
    Los,
    /// No line of sight.
    Nlos,
    /// Unknown: the model's LOS probability weights the two losses (in dB).
    Probability,
}

/// One radio link, base station to user terminal.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Link {
    /// Horizontal (2D) distance, metres.
    pub d2d_m: f64,
    /// Base station antenna height above ground, metres.
    pub h_bs_m: f64,
    /// User terminal antenna height above ground, metres.
    pub h_ut_m: f64,
    /// Carrier frequency, MHz.
    pub frequency_mhz: f64,
    /// Line of sight, or not, or weighted by its probability.
    pub los: Los,
}

impl Link {
    /// 3D distance between the antennas, metres.
    pub fn d3d_m(&self) -> f64 {
        self.d2d_m.hypot(self.h_bs_m - self.h_ut_m)
    }
}

/// The parameter range a model was published for (closed intervals).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Validity {
    /// Carrier frequencies, MHz (lowest, highest).
    pub frequency_mhz: (f64, f64),
    /// Base-station antenna heights, metres (lowest, highest).
    pub h_bs_m: (f64, f64),
    /// Terminal antenna heights, metres (lowest, highest).
    pub h_ut_m: (f64, f64),
    /// 2D distances, metres (shortest, longest).
    pub d2d_m: (f64, f64),
}

fn within(v: f64, (lo, hi): (f64, f64)) -> bool {
    v >= lo && v <= hi
}

impl Validity {
    /// True when every parameter of the link is inside the range.
    pub fn contains(&self, link: &Link) -> bool {
        within(link.frequency_mhz, self.frequency_mhz)
            && within(link.h_bs_m, self.h_bs_m)
            && within(link.h_ut_m, self.h_ut_m)
            && within(link.d2d_m, self.d2d_m)
    }

    /// The first site parameter (frequency or antenna heights) outside the range, as
    /// `(parameter, value, range)`.
    pub fn site_violation(
        &self,
        frequency_mhz: f64,
        h_bs_m: f64,
        h_ut_m: f64,
    ) -> Option<(&'static str, f64, (f64, f64))> {
        [
            ("frequency_mhz", frequency_mhz, self.frequency_mhz),
            ("height_m", h_bs_m, self.h_bs_m),
            ("ue_height_m", h_ut_m, self.h_ut_m),
        ]
        .into_iter()
        .find(|&(_, v, r)| !within(v, r))
    }
}

/// A path-loss model.
pub trait PathLoss {
    /// Short name, as on the command line.
    fn name(&self) -> &'static str;
    /// The published range.
    fn validity(&self) -> Validity;
    /// Median path loss in dB. Outside [`PathLoss::validity`] the formula is continued; the
    /// 2D distance is clamped to at least 1 m.
    fn loss_db(&self, link: &Link) -> f64;
}

/// The environment a model is applied to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Environment {
    /// Dense urban areas.
    Urban,
    /// Suburban areas.
    Suburban,
    /// Open or rural.
    Open,
}

/// The models, as one type: dispatch without dynamic calls in the per-link loop.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Model {
    /// Free-space path loss.
    FreeSpace(free_space::FreeSpace),
    /// Okumura-Hata (150-1500 MHz).
    Hata(hata::Hata),
    /// COST-231 Hata (1500-2000 MHz).
    Cost231(hata::Cost231),
    /// 3GPP TR 38.901 rural macro.
    RMa(tr38901::RMa),
    /// 3GPP TR 38.901 urban macro.
    UMa(tr38901::UMa),
}

/// Which model to use: one for every site, or by frequency and environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ModelChoice {
    /// By frequency: Hata up to 1500 MHz, COST-231 up to 2000 MHz, TR 38.901 above (RMa for
    /// open areas, UMa otherwise); in open areas TR 38.901 RMa from 500 MHz.
    Auto,
    /// Free-space path loss.
    FreeSpace,
    /// Okumura-Hata.
    Hata,
    /// COST-231 Hata.
    Cost231,
    /// 3GPP TR 38.901 rural macro.
    RMa,
    /// 3GPP TR 38.901 urban macro.
    UMa,
    /// UMa NLOS in the optional simplified form of TR 38.901 Table 7.4.1-1.
    UMaOptional,
}

impl ModelChoice {
    /// The model for a site at `frequency_mhz`, its antenna `height_m` above ground, in `env`:
    /// as [`ModelChoice::resolve`], except that `Auto` never picks Hata or COST-231 for a mast
    /// below their published 30 m (a rooftop site) when TR 38.901 covers it: RMa in open
    /// areas, UMa elsewhere (both from 10 m and 500 MHz).
    pub fn resolve_at(self, frequency_mhz: f64, height_m: f64, env: Environment) -> Model {
        let m = self.resolve(frequency_mhz, env);
        let low = matches!(m, Model::Hata(_) | Model::Cost231(_)) && height_m < 30.0;
        if self != ModelChoice::Auto || !low || frequency_mhz < 500.0 {
            return m;
        }
        match env {
            Environment::Open => Model::RMa(tr38901::RMa::default()),
            _ => Model::UMa(tr38901::UMa { optional: false }),
        }
    }

    /// The model for a site at `frequency_mhz` in `env`.
    pub fn resolve(self, frequency_mhz: f64, env: Environment) -> Model {
        use ModelChoice as C;
        match self {
            C::FreeSpace => Model::FreeSpace(free_space::FreeSpace),
            C::Hata => Model::Hata(hata::Hata { environment: env }),
            C::Cost231 => Model::Cost231(hata::Cost231 {
                metropolitan: env == Environment::Urban,
            }),
            C::RMa => Model::RMa(tr38901::RMa::default()),
            C::UMa => Model::UMa(tr38901::UMa { optional: false }),
            C::UMaOptional => Model::UMa(tr38901::UMa { optional: true }),
            C::Auto => match env {
                Environment::Open if frequency_mhz >= 500.0 => Model::RMa(tr38901::RMa::default()),
                _ if frequency_mhz <= 1500.0 => Model::Hata(hata::Hata { environment: env }),
                _ if frequency_mhz <= 2000.0 => Model::Cost231(hata::Cost231 {
                    metropolitan: env == Environment::Urban,
                }),
                _ => Model::UMa(tr38901::UMa { optional: false }),
            },
        }
    }
}

impl PathLoss for Model {
    fn name(&self) -> &'static str {
        match self {
            Model::FreeSpace(m) => m.name(),
            Model::Hata(m) => m.name(),
            Model::Cost231(m) => m.name(),
            Model::RMa(m) => m.name(),
            Model::UMa(m) => m.name(),
        }
    }
    fn validity(&self) -> Validity {
        match self {
            Model::FreeSpace(m) => m.validity(),
            Model::Hata(m) => m.validity(),
            Model::Cost231(m) => m.validity(),
            Model::RMa(m) => m.validity(),
            Model::UMa(m) => m.validity(),
        }
    }
    #[inline]
    fn loss_db(&self, link: &Link) -> f64 {
        match self {
            Model::FreeSpace(m) => m.loss_db(link),
            Model::Hata(m) => m.loss_db(link),
            Model::Cost231(m) => m.loss_db(link),
            Model::RMa(m) => m.loss_db(link),
            Model::UMa(m) => m.loss_db(link),
        }
    }
}

impl Model {
    /// The loss used for coverage: the model's, but never below free space (no medium beats a
    /// vacuum; Hata's formula dips below it close to the mast in open areas).
    #[inline]
    pub fn loss_at_least_free_space_db(&self, link: &Link) -> f64 {
        self.loss_db(link)
            .max(free_space::loss_db(link.d3d_m(), link.frequency_mhz))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_picks_models_by_frequency_and_environment() {
        let n = |f, e| ModelChoice::Auto.resolve(f, e).name();
        assert_eq!(n(800.0, Environment::Urban), "hata");
        assert_eq!(n(1800.0, Environment::Suburban), "cost231");
        assert_eq!(n(3500.0, Environment::Urban), "uma");
        assert_eq!(n(800.0, Environment::Open), "rma");
        assert_eq!(n(450.0, Environment::Open), "hata");
        // A rooftop mast below Hata's 30 m gets a TR 38.901 model that covers it.
        let at = |f, h, e| ModelChoice::Auto.resolve_at(f, h, e).name();
        assert_eq!(at(800.0, 20.0, Environment::Urban), "uma");
        assert_eq!(at(1800.0, 15.0, Environment::Suburban), "uma");
        assert_eq!(at(800.0, 35.0, Environment::Urban), "hata");
        assert_eq!(at(450.0, 20.0, Environment::Urban), "hata");
        assert_eq!(at(800.0, 20.0, Environment::Open), "rma");
        // A model the user named is kept.
        assert_eq!(
            ModelChoice::Hata
                .resolve_at(800.0, 20.0, Environment::Urban)
                .name(),
            "hata"
        );
        // What auto picks is valid at the site's height.
        for h in [10.0, 12.5, 20.0, 29.9, 30.0, 45.0] {
            for f in [700.0, 800.0, 1800.0, 2600.0, 3500.0] {
                for e in [Environment::Urban, Environment::Suburban, Environment::Open] {
                    let m = ModelChoice::Auto.resolve_at(f, h, e);
                    assert!(
                        m.validity().site_violation(f, h, 1.5).is_none(),
                        "{} at {f} MHz, {h} m",
                        m.name()
                    );
                }
            }
        }
    }

    #[test]
    fn loss_never_below_free_space() {
        let m = ModelChoice::Hata.resolve(900.0, Environment::Open);
        let link = Link {
            d2d_m: 50.0,
            h_bs_m: 30.0,
            h_ut_m: 1.5,
            frequency_mhz: 900.0,
            los: Los::Probability,
        };
        assert!(m.loss_db(&link) < free_space::loss_db(link.d3d_m(), 900.0));
        assert_eq!(
            m.loss_at_least_free_space_db(&link),
            free_space::loss_db(link.d3d_m(), 900.0)
        );
    }
}
