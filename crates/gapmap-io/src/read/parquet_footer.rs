//! A check of a Parquet file's footer before polars-parquet decodes it.
//!
//! The footer is a Thrift compact-protocol struct (`FileMetaData`). polars-parquet 0.55
//! reserves what a list's header claims (`Vec::with_capacity(n)`) before it reads the list.
//! So a corrupt footer claiming 2^33 schema elements makes it ask for 100 GB. The process then
//! aborts wherever memory is limited (strict overcommit, `ulimit -v`, a container), and no
//! error handling can catch an abort (RELIABILITY.md, findings 4 and 8).
//!
//! This walks the footer's Thrift structure as polars-parquet reads it, field by field, without
//! building anything. polars-parquet reads its known fields by their id (an i16: a longer id
//! keeps its low 16 bits), whatever type their headers declare, so the walk does the same. It refuses:
//! - a known field whose declared type is not the one polars reads (a list declared an
//!   integer: finding 8's footer);
//! - a list longer than the bytes left (every element but a boolean takes at least one);
//! - a set or map (polars-parquet skips neither);
//! - a string longer than the bytes left;
//! - structs nested deeper than any Parquet footer nests;
//! - a footer that ends mid-value.
//!
//! A footer that passes asks polars for at most a few times its own size.

/// Thrift compact-protocol types.
const BOOL_TRUE: u8 = 1;
const BOOL_FALSE: u8 = 2;
const BYTE: u8 = 3;
const I16: u8 = 4;
const I32: u8 = 5;
const I64: u8 = 6;
const DOUBLE: u8 = 7;
const BINARY: u8 = 8;
const LIST: u8 = 9;
const SET: u8 = 10;
const MAP: u8 = 11;
const STRUCT: u8 = 12;

/// Deeper than any Parquet footer nests structs (FileMetaData → RowGroup → ColumnChunk →
/// ColumnMetaData → Statistics is five).
const MAX_DEPTH: usize = 32;

/// The footer (`FileMetaData`) of the Parquet file `file`, checked: `Err` says what is wrong.
/// The file's last 8 bytes are the footer's length and `PAR1`.
pub(crate) fn check_footer(file: &[u8]) -> Result<(), String> {
    let n = file.len();
    if n < 12 || &file[n - 4..] != b"PAR1" {
        return Err("no Parquet footer".into());
    }
    let len = u32::from_le_bytes([file[n - 8], file[n - 7], file[n - 6], file[n - 5]]) as usize;
    if len > n - 8 {
        return Err(format!("a footer of {len} bytes in a file of {n} bytes"));
    }
    let footer = &file[n - 8 - len..n - 8];
    let mut r = Reader {
        bytes: footer,
        at: 0,
    };
    r.check_struct(Kind::File, 0)
}

/// The structs of a Parquet footer that polars-parquet decodes field by field.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    File,
    Schema,
    RowGroup,
    ColumnChunk,
    ColumnMeta,
    Statistics,
    KeyValue,
    Sorting,
    /// `ColumnOrder`, and the empty structs of `LogicalType`: fields skipped by their type.
    Other,
    Logical,
    Decimal,
    Time,
    TimeUnit,
    Int,
}

/// What polars-parquet reads at a field, whatever type the field's header declares.
#[derive(Debug, Clone, Copy)]
enum Expect {
    Varint,
    Binary,
    Bool,
    Byte,
    Struct(Kind),
    List(Elem),
}

/// What a list's elements are, as polars-parquet reads them.
#[derive(Debug, Clone, Copy)]
enum Elem {
    Struct(Kind),
    Varint,
    Binary,
}

/// polars-parquet 0.55's decoder (`handwritten_thrift/file_metadata_thrift.rs`) reads these
/// fields by their id, trusting neither nor checking the declared type; the others it skips
/// by their declared type.
fn expect(kind: Kind, id: i64) -> Option<Expect> {
    use Expect::*;
    Some(match (kind, id) {
        (Kind::File, 1 | 3) => Varint,
        (Kind::File, 2) => List(Elem::Struct(Kind::Schema)),
        (Kind::File, 4) => List(Elem::Struct(Kind::RowGroup)),
        (Kind::File, 5) => List(Elem::Struct(Kind::KeyValue)),
        (Kind::File, 6) => Binary,
        (Kind::File, 7) => List(Elem::Struct(Kind::Other)),
        (Kind::Schema, 1..=3 | 5..=9) => Varint,
        (Kind::Schema, 4) => Binary,
        (Kind::Schema, 10) => Struct(Kind::Logical),
        (Kind::RowGroup, 1) => List(Elem::Struct(Kind::ColumnChunk)),
        (Kind::RowGroup, 2 | 3 | 5..=7) => Varint,
        (Kind::RowGroup, 4) => List(Elem::Struct(Kind::Sorting)),
        (Kind::ColumnChunk, 1) => Binary,
        (Kind::ColumnChunk, 2 | 4..=7) => Varint,
        (Kind::ColumnChunk, 3) => Struct(Kind::ColumnMeta),
        (Kind::ColumnMeta, 1 | 4..=7 | 9..=11 | 14 | 15) => Varint,
        (Kind::ColumnMeta, 2) => List(Elem::Varint),
        (Kind::ColumnMeta, 3) => List(Elem::Binary),
        (Kind::ColumnMeta, 12) => Struct(Kind::Statistics),
        (Kind::Statistics, 1 | 2 | 5 | 6) => Binary,
        (Kind::Statistics, 3 | 4) => Varint,
        (Kind::Statistics, 7 | 8) => Bool,
        (Kind::KeyValue, 1 | 2) => Binary,
        (Kind::Sorting, 1) => Varint,
        (Kind::Sorting, 2 | 3) => Bool,
        (Kind::Logical, 5) => Struct(Kind::Decimal),
        (Kind::Logical, 7 | 8) => Struct(Kind::Time),
        (Kind::Logical, 10) => Struct(Kind::Int),
        (Kind::Logical, 1..=4 | 6 | 11..=15) => Struct(Kind::Other),
        (Kind::Decimal, 1 | 2) => Varint,
        (Kind::Time, 1) => Bool,
        (Kind::Time, 2) => Struct(Kind::TimeUnit),
        (Kind::TimeUnit, 1..=3) => Struct(Kind::Other),
        (Kind::Int, 1) => Byte,
        (Kind::Int, 2) => Bool,
        _ => return None,
    })
}

fn is_varint(t: u8) -> bool {
    matches!(t, I16 | I32 | I64)
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn left(&self) -> usize {
        self.bytes.len() - self.at
    }

    fn byte(&mut self) -> Result<u8, String> {
        let b = *self
            .bytes
            .get(self.at)
            .ok_or_else(|| "the footer ends mid-value".to_string())?;
        self.at += 1;
        Ok(b)
    }

    fn skip(&mut self, k: usize) -> Result<(), String> {
        if k > self.left() {
            return Err(format!(
                "a value of {k} bytes with {} left in the footer",
                self.left()
            ));
        }
        self.at += k;
        Ok(())
    }

    /// An unsigned varint (at most 10 bytes).
    fn varint(&mut self) -> Result<u64, String> {
        let mut v = 0u64;
        for shift in (0..70).step_by(7) {
            let b = self.byte()?;
            v |= u64::from(b & 0x7f) << shift.min(63);
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err("a varint longer than 10 bytes".into())
    }

    /// A count of `what` elements that must fit in the bytes left.
    fn count(&mut self, n: u64, what: &str) -> Result<usize, String> {
        if n > self.left() as u64 {
            return Err(format!(
                "a {what} of {n} elements with {} bytes left in the footer",
                self.left()
            ));
        }
        Ok(n as usize)
    }

    /// A list's header: its element type and length (which must fit in the bytes left).
    fn list_header(&mut self) -> Result<(u8, usize), String> {
        let h = self.byte()?;
        let n = match h >> 4 {
            15 => self.varint()?,
            short => u64::from(short),
        };
        Ok((h & 0x0f, self.count(n, "list")?))
    }

    fn check_struct(&mut self, kind: Kind, depth: usize) -> Result<(), String> {
        if depth > MAX_DEPTH {
            return Err(format!("structs nested more than {MAX_DEPTH} deep"));
        }
        // Field ids are i16, as polars-parquet reads them: a full id keeps its low 16 bits, and
        // a delta past i16::MAX is polars' error too (finding 10: an id beyond an i16 that
        // polars cut to the sorting columns' id).
        let mut id: i16 = 0;
        loop {
            let b = self.byte()?;
            // As polars reads it: a low nibble of 0 is the end of the struct.
            let declared = b & 0x0f;
            if declared == 0 {
                return Ok(());
            }
            id = match b >> 4 {
                0 => {
                    let z = self.varint()?;
                    ((z >> 1) as i64 ^ -((z & 1) as i64)) as i16
                }
                delta => id
                    .checked_add(i16::from(delta))
                    .ok_or_else(|| format!("a field id past {} in a {kind:?} struct", i16::MAX))?,
            };
            let id = i64::from(id);
            match expect(kind, id) {
                Some(e) => self.check_expected(kind, id, declared, e, depth)?,
                None => match declared {
                    BOOL_TRUE | BOOL_FALSE => {}
                    other => self.check_value(other, depth)?,
                },
            }
        }
    }

    /// A field that polars reads as `e`: its declared type must be what `e` is, so that this
    /// walk and polars' read the same bytes.
    fn check_expected(
        &mut self,
        kind: Kind,
        id: i64,
        declared: u8,
        e: Expect,
        depth: usize,
    ) -> Result<(), String> {
        let ok = match e {
            Expect::Varint => is_varint(declared),
            Expect::Binary => declared == BINARY,
            Expect::Bool => matches!(declared, BOOL_TRUE | BOOL_FALSE),
            Expect::Byte => declared == BYTE,
            Expect::Struct(_) => declared == STRUCT,
            Expect::List(_) => declared == LIST,
        };
        if !ok {
            return Err(format!(
                "field {id} of a {kind:?} struct has Thrift type {declared}, not {e:?}"
            ));
        }
        match e {
            Expect::Varint => self.varint().map(|_| ()),
            Expect::Binary => self.check_value(BINARY, depth),
            Expect::Bool => Ok(()),
            Expect::Byte => self.skip(1),
            Expect::Struct(k) => self.check_struct(k, depth + 1),
            Expect::List(elem) => {
                let (t, n) = self.list_header()?;
                for _ in 0..n {
                    match elem {
                        Elem::Struct(k) if t == STRUCT => self.check_struct(k, depth + 1)?,
                        Elem::Varint if is_varint(t) => {
                            self.varint()?;
                        }
                        Elem::Binary if t == BINARY => self.check_value(BINARY, depth)?,
                        _ => {
                            return Err(format!(
                                "field {id} of a {kind:?} struct is a list of Thrift type {t}, not {elem:?}"
                            ))
                        }
                    }
                }
                Ok(())
            }
        }
    }

    /// A value of the declared type `kind`, read as polars skips it (`skip_till_depth`). A
    /// boolean takes no bytes there, as a list's element too, where Thrift gives it one: the
    /// walk must go where polars goes (finding 10: a list of ten booleans that polars skipped
    /// in no bytes, reading a row group's list from what came after). Sets and maps polars
    /// refuses to skip.
    fn check_value(&mut self, kind: u8, depth: usize) -> Result<(), String> {
        match kind {
            BOOL_TRUE | BOOL_FALSE => Ok(()),
            BYTE => self.skip(1),
            I16 | I32 | I64 => self.varint().map(|_| ()),
            DOUBLE => self.skip(8),
            BINARY => {
                let n = self.varint()?;
                let n = self.count(n, "string")?;
                self.skip(n)
            }
            LIST => {
                let (elem, n) = self.list_header()?;
                for _ in 0..n {
                    self.check_value(elem, depth + 1)?;
                }
                Ok(())
            }
            SET | MAP => Err(format!(
                "a Thrift {} where polars-parquet skips none",
                if kind == SET { "set" } else { "map" }
            )),
            STRUCT => self.check_struct(Kind::Other, depth + 1),
            other => Err(format!("an unknown Thrift type {other}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `footer` as the tail of a Parquet file.
    fn file(footer: &[u8]) -> Vec<u8> {
        let mut f = b"PAR1".to_vec();
        f.extend_from_slice(footer);
        f.extend_from_slice(&(footer.len() as u32).to_le_bytes());
        f.extend_from_slice(b"PAR1");
        f
    }

    #[test]
    fn real_footers_pass_and_lists_longer_than_the_footer_do_not() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../data/dalarna/premises.parquet");
        let bytes = std::fs::read(path).unwrap_or_default();
        assert!(bytes.len() > 1000);
        assert_eq!(check_footer(&bytes), Ok(()));
        // Field 1 (i32 version), then field 2: a list of structs claiming 2^33 elements.
        let mut huge = vec![0x15, 0x02, 0x19, 0xfc];
        huge.extend_from_slice(&[0x80, 0x80, 0x80, 0x80, 0x20]);
        huge.push(0x00);
        let e = check_footer(&file(&huge)).unwrap_err();
        assert!(e.contains("8589934592 elements"), "{e}");
        // The same list with its two structs there: it passes.
        let ok = [0x15, 0x02, 0x19, 0x2c, 0x00, 0x00, 0x00];
        assert_eq!(check_footer(&file(&ok)), Ok(()));
        // A string longer than the footer, a footer cut short, nesting without end.
        assert!(check_footer(&file(&[0x18, 0xff, 0x01, 0x41])).is_err());
        assert!(check_footer(&file(&[0x15])).is_err());
        assert!(check_footer(&file(&[0x1c; 200])).is_err());
        assert!(check_footer(b"PAR1").is_err());
    }

    #[test]
    fn the_walk_goes_where_polars_goes() {
        // Finding 10. A list of booleans that polars skips in no bytes: after it, field 4 (by
        // a full id), the row groups, claiming 2^33 of them. Walking the booleans as a byte
        // each would read the row groups' header as something else.
        let mut bools = vec![0xa9, 0x21, 0x09, 0x08, 0xfc];
        bools.extend_from_slice(&[0x80, 0x80, 0x80, 0x80, 0x20, 0x00]);
        let e = check_footer(&file(&bools)).unwrap_err();
        assert!(e.contains("8589934592 elements"), "{e}");
        // A full field id of 65,540 is field 4 to polars (an i16 keeps its low 16 bits): the
        // row groups' list, here declared an integer.
        let e = check_footer(&file(&[0x05, 0x88, 0x80, 0x08, 0x02, 0x00])).unwrap_err();
        assert!(e.contains("field 4 of a File struct"), "{e}");
        // Sets and maps polars does not skip.
        assert!(check_footer(&file(&[0xaa, 0x00, 0x00])).is_err());
    }
}
