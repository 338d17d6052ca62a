//! Output features as a table: typed attribute columns and borrowed geometries.
//!
//! National runs write hundreds of thousands of features; holding each as a cloned geometry and
//! a JSON map doubled the peak memory. A [`FeatureTable`] keeps one typed vector per attribute
//! and refers to geometries the analysis already holds; the writers stream from it.

use std::borrow::Cow;

use gapmap_core::geo::{Geometry, MultiPolygon};
use serde_json::{Map, Value};

/// One attribute column; all columns of a table have one value per feature.
#[derive(Debug, Clone, PartialEq)]
pub enum Column<'a> {
    /// Whole numbers.
    Int(Vec<i64>),
    /// Whole numbers, some missing (null).
    IntOpt(Vec<Option<i64>>),
    /// Real numbers; `None` (and non-finite values) are written as null.
    Float(Vec<Option<f64>>),
    /// Text; `None` is written as null.
    Text(Vec<Option<Cow<'a, str>>>),
}

impl Column<'_> {
    /// The number of values.
    pub fn len(&self) -> usize {
        match self {
            Column::Int(v) => v.len(),
            Column::IntOpt(v) => v.len(),
            Column::Float(v) => v.len(),
            Column::Text(v) => v.len(),
        }
    }
    /// True when there are no values.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A geometry to write: borrowed from the analysis, or owned.
#[derive(Debug, Clone)]
pub enum GeomRef<'a> {
    /// Any borrowed geometry.
    Geometry(&'a Geometry<f64>),
    /// A borrowed multipolygon.
    MultiPolygon(&'a MultiPolygon<f64>),
    /// An owned geometry.
    Owned(Geometry<f64>),
}

impl GeomRef<'_> {
    /// An owned copy (for reprojection).
    pub fn to_geometry(&self) -> Geometry<f64> {
        match self {
            GeomRef::Geometry(g) => (*g).clone(),
            GeomRef::MultiPolygon(m) => Geometry::MultiPolygon((*m).clone()),
            GeomRef::Owned(g) => g.clone(),
        }
    }

    /// Calls `f` on every coordinate, in [`crate::geom::visit_coords`] order.
    pub fn visit(&self, f: &mut impl FnMut(gapmap_core::geo::Coord<f64>)) {
        match self {
            GeomRef::Geometry(g) => crate::geom::visit_coords(g, f),
            GeomRef::Owned(g) => crate::geom::visit_coords(g, f),
            GeomRef::MultiPolygon(m) => m.0.iter().for_each(|p| {
                p.exterior().0.iter().for_each(|&c| f(c));
                p.interiors()
                    .iter()
                    .for_each(|r| r.0.iter().for_each(|&c| f(c)));
            }),
        }
    }

    /// ISO WKB, without copying the geometry.
    pub fn wkb(&self) -> Vec<u8> {
        match self {
            GeomRef::Geometry(g) => crate::geom::to_wkb(g),
            GeomRef::Owned(g) => crate::geom::to_wkb(g),
            GeomRef::MultiPolygon(m) => crate::geom::multi_polygon_wkb(m),
        }
    }
}

/// Features as columns: `columns[k].1` holds attribute `columns[k].0` of every feature, and
/// `geometries[i]` is feature `i`'s geometry.
#[derive(Debug, Clone, Default)]
pub struct FeatureTable<'a> {
    /// Named columns, in order.
    pub columns: Vec<(String, Column<'a>)>,
    /// One geometry per row.
    pub geometries: Vec<GeomRef<'a>>,
}

/// A feature with JSON properties: a convenient way to make small tables (tests, fixtures).
#[derive(Debug, Clone)]
pub struct OutFeature<'a> {
    /// Its properties.
    pub properties: Map<String, Value>,
    /// Its geometry.
    pub geometry: Cow<'a, Geometry<f64>>,
}

impl<'a> FeatureTable<'a> {
    /// Number of features.
    pub fn len(&self) -> usize {
        self.geometries.len()
    }

    /// True when the table has no rows.
    pub fn is_empty(&self) -> bool {
        self.geometries.is_empty()
    }

    /// Adds a column; it must have one value per feature.
    /// A table of `areas`, without columns yet.
    pub fn of_areas(areas: &'a [gapmap_core::geo::MultiPolygon<f64>]) -> FeatureTable<'a> {
        FeatureTable {
            columns: Vec::new(),
            geometries: areas.iter().map(GeomRef::MultiPolygon).collect(),
        }
    }

    /// Appends column `name`.
    pub fn push(&mut self, name: &str, column: Column<'a>) {
        assert_eq!(
            column.len(),
            self.geometries.len(),
            "column {name} has the wrong length"
        );
        self.columns.push((name.to_string(), column));
    }

    /// A table from JSON features: the columns are the first feature's properties; a column is
    /// `Int` if all its values are integers, `Float` if all are numbers, otherwise `Text`.
    pub fn from_json(features: &[OutFeature<'_>]) -> FeatureTable<'static> {
        let keys: Vec<String> = features
            .first()
            .map(|f| f.properties.keys().cloned().collect())
            .unwrap_or_default();
        let mut t = FeatureTable {
            columns: Vec::new(),
            geometries: features
                .iter()
                .map(|f| GeomRef::Owned(f.geometry.as_ref().clone()))
                .collect(),
        };
        for k in keys {
            let vals: Vec<&Value> = features
                .iter()
                .map(|f| f.properties.get(&k).unwrap_or(&Value::Null))
                .collect();
            let non_null = || vals.iter().filter(|v| !v.is_null());
            let col = if non_null().all(|v| v.is_i64() || v.is_u64() || v.is_boolean()) {
                if vals.iter().any(|v| v.is_null()) {
                    Column::IntOpt(
                        vals.iter()
                            .map(|v| v.as_i64().or_else(|| v.as_bool().map(i64::from)))
                            .collect(),
                    )
                } else {
                    Column::Int(
                        vals.iter()
                            .map(|v| {
                                v.as_i64()
                                    .or_else(|| v.as_bool().map(i64::from))
                                    .unwrap_or(i64::MAX)
                            })
                            .collect(),
                    )
                }
            } else if non_null().all(|v| v.is_number()) {
                Column::Float(vals.iter().map(|v| v.as_f64()).collect())
            } else {
                Column::Text(
                    vals.iter()
                        .map(|v| match v {
                            Value::Null => None,
                            Value::String(s) => Some(Cow::Owned(s.clone())),
                            other => Some(Cow::Owned(other.to_string())),
                        })
                        .collect(),
                )
            };
            t.columns.push((k, col));
        }
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gapmap_core::geo::Point;
    use serde_json::json;

    #[test]
    fn from_json_infers_column_types() {
        let f = |p: Value| OutFeature {
            properties: p.as_object().unwrap().clone(),
            geometry: Cow::Owned(Geometry::Point(Point::new(0.0, 0.0))),
        };
        let t = FeatureTable::from_json(&[
            f(json!({"a": 1, "b": 1.5, "c": "x", "d": 2})),
            f(json!({"a": 2, "b": 2, "c": 3, "d": null})),
        ]);
        assert_eq!(t.columns[0].1, Column::Int(vec![1, 2]));
        assert_eq!(t.columns[1].1, Column::Float(vec![Some(1.5), Some(2.0)]));
        assert_eq!(
            t.columns[2].1,
            Column::Text(vec![Some("x".into()), Some("3".into())])
        );
        assert_eq!(t.columns[3].1, Column::IntOpt(vec![Some(2), None]));
        assert_eq!(t.len(), 2);
    }
}
