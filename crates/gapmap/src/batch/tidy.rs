//! The tidy table of a batch: one row per scenario, columns as first seen.

use std::borrow::Cow;

use gapmap_io::write::features::Column;

/// One cell of the tidy table.
#[derive(Debug, Clone)]
pub(crate) enum Cell {
    Null,
    Int(i64),
    Float(f64),
    Text(String),
}

/// A table built row by row; columns appear as first seen, earlier rows are null there.
#[derive(Default)]
pub(crate) struct Tidy {
    names: Vec<String>,
    cols: Vec<Vec<Cell>>,
    pub(crate) rows: usize,
}

impl Tidy {
    pub(crate) fn set(&mut self, name: &str, v: Cell) {
        let k = match self.names.iter().position(|n| n == name) {
            Some(k) => k,
            None => {
                self.names.push(name.to_string());
                self.cols.push(vec![Cell::Null; self.rows]);
                self.names.len() - 1
            }
        };
        self.cols[k].push(v);
    }
    pub(crate) fn end_row(&mut self) {
        self.rows += 1;
        for c in &mut self.cols {
            c.resize(self.rows, Cell::Null);
        }
    }
    /// Typed columns: integers where every value is one (nullable), reals where all are
    /// numbers, text otherwise.
    pub(crate) fn columns(self) -> Vec<(String, Column<'static>)> {
        self.names
            .into_iter()
            .zip(self.cols)
            .map(|(name, cells)| {
                let all =
                    |f: fn(&Cell) -> bool| cells.iter().all(|c| matches!(c, Cell::Null) || f(c));
                let col = if all(|c| matches!(c, Cell::Int(_))) {
                    Column::IntOpt(
                        cells
                            .iter()
                            .map(|c| if let Cell::Int(i) = c { Some(*i) } else { None })
                            .collect(),
                    )
                } else if all(|c| matches!(c, Cell::Int(_) | Cell::Float(_))) {
                    Column::Float(
                        cells
                            .iter()
                            .map(|c| match c {
                                Cell::Int(i) => Some(*i as f64),
                                Cell::Float(f) => Some(*f),
                                _ => None,
                            })
                            .collect(),
                    )
                } else {
                    Column::Text(
                        cells
                            .iter()
                            .map(|c| match c {
                                Cell::Null => None,
                                Cell::Int(i) => Some(Cow::Owned(i.to_string())),
                                Cell::Float(f) => Some(Cow::Owned(f.to_string())),
                                Cell::Text(t) => Some(Cow::Owned(t.clone())),
                            })
                            .collect(),
                    )
                };
                (name, col)
            })
            .collect()
    }
}
