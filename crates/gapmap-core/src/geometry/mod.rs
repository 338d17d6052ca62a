//! Geometry algorithms: concave hulls ([`hull`]), simplification ([`simplify`]), validity
//! proofs ([`validity`]), raster to polygons ([`polygonize`]), inverse Transverse Mercator
//! ([`tmerc`]) and NaN-free arithmetic for the hot loops ([`num`]).

pub mod hull;
pub mod num;
pub mod polygonize;
pub mod simplify;
pub mod tmerc;
pub mod validity;
