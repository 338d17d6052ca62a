//! Spatial indexes: exact point-in-area on prepared polygons ([`prepared`]), polygon features
//! by point ([`polygon_index`]), and the hashed grid of boxes both use ([`box_grid`]).

pub mod box_grid;
pub mod polygon_index;
pub mod prepared;
