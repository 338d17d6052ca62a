//! The Parquet writer: what it writes reads back as the same table, whatever the encoding it
//! chose per column (dictionary from views, polars' choice, plain floats), across row groups.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test or benchmark fails by panicking"
)]
// The closures return `IoError`, which carries its context by value (as the library does).
#![allow(
    clippy::result_large_err,
    reason = "IoError carries its context by value, as the library does"
)]

use gapmap_io::write::tables;
use polars::prelude::*;

fn read(path: &std::path::Path) -> DataFrame {
    ParquetReader::new(std::fs::File::open(path).unwrap())
        .finish()
        .unwrap()
}

#[test]
fn tables_read_back_unchanged() {
    // Over two row groups; text with few values (short and long, some missing), text with a
    // distinct value per row (no dictionary), floats with NaN and nulls, integers, booleans.
    let n = 600_000usize;
    let kinds = [
        "unserved",
        "no_fibre",
        "a value longer than twelve bytes",
        "no_4g",
    ];
    let few: Vec<Option<&str>> = (0..n)
        .map(|i| (i % 11 != 3).then(|| kinds[(i * 7) % kinds.len()]))
        .collect();
    let many: Vec<String> = (0..n).map(|i| format!("premise-{i:08}")).collect();
    let floats: Vec<Option<f64>> = (0..n)
        .map(|i| match i % 97 {
            0 => None,
            1 => Some(f64::NAN),
            _ => Some(i as f64 * 0.37 - 1000.0),
        })
        .collect();
    let ints: Vec<u32> = (0..n).map(|i| (i % 5) as u32).collect();
    // Ids in order (delta-encoded), out of order and with nulls (polars' choice).
    let ids: Vec<i64> = (0..n as i64).map(|i| i * 3 - 7).collect();
    let shuffled: Vec<i64> = (0..n as i64).map(|i| (i * 7919) % n as i64 - 5).collect();
    let sparse: Vec<Option<i64>> = (0..n as i64).map(|i| (i % 9 != 0).then_some(i)).collect();
    let flags: Vec<Option<bool>> = (0..n)
        .map(|i| (i % 13 != 0).then_some(i % 2 == 0))
        .collect();
    let mut df = DataFrame::new(
        n,
        vec![
            Column::new("id".into(), ids),
            Column::new("shuffled".into(), shuffled),
            Column::new("sparse".into(), sparse),
            Column::new("few".into(), few),
            Column::new("many".into(), many),
            Column::new("distance_m".into(), floats),
            Column::new("count".into(), ints),
            Column::new("flag".into(), flags),
        ],
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.parquet");
    tables::write_parquet(&mut df, &path, Some("EPSG:3006")).unwrap();
    let back = read(&path);
    assert_eq!(back.schema(), df.schema());
    assert!(back.equals_missing(&df));
}

#[test]
fn empty_and_small_tables_read_back() {
    let dir = tempfile::tempdir().unwrap();
    for n in [0usize, 1, 5] {
        let mut df = DataFrame::new(
            n,
            vec![
                Column::new(
                    "t".into(),
                    (0..n).map(|i| format!("v{i}")).collect::<Vec<_>>(),
                ),
                Column::new("x".into(), (0..n).map(|i| i as f64).collect::<Vec<_>>()),
            ],
        )
        .unwrap();
        let path = dir.path().join(format!("t{n}.parquet"));
        tables::write_parquet(&mut df, &path, None).unwrap();
        let back = read(&path);
        assert_eq!(back.height(), n);
        assert!(back.equals_missing(&df), "{n} rows");
    }
}

#[test]
fn unwritable_path_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("no such dir").join("t.parquet");
    let mut df = DataFrame::new(1, vec![Column::new("x".into(), vec![1.0f64])]).unwrap();
    let e = tables::write_parquet(&mut df, &path, None).unwrap_err();
    let message = e.to_string();
    assert!(message.contains("no such dir"), "{message}");
    assert!(!path.exists());
}

#[test]
fn groups_built_one_at_a_time_write_the_same_file() {
    // 300,000 rows: two equal row groups (300,000 / 2^17 rounded down, cut as polars cuts
    // them), each built on request.
    let n = 300_000usize;
    let frame = |rows: std::ops::Range<usize>| {
        DataFrame::new(
            rows.len(),
            vec![
                Column::new(
                    "id".into(),
                    rows.clone().map(|i| i as i64).collect::<Vec<_>>(),
                ),
                Column::new(
                    "d".into(),
                    rows.clone()
                        .map(|i| (i % 7 != 0).then_some(i as f64 * 0.1))
                        .collect::<Vec<_>>(),
                ),
                Column::new("c".into(), rows.map(|i| (i % 5) as u32).collect::<Vec<_>>()),
            ],
        )
        .unwrap()
    };
    let dir = tempfile::tempdir().unwrap();
    let (whole, grouped) = (
        dir.path().join("whole.parquet"),
        dir.path().join("grouped.parquet"),
    );
    tables::write_parquet(&mut frame(0..n), &whole, Some("EPSG:3006")).unwrap();
    let mut asked = Vec::new();
    tables::write_parquet_groups(n, &grouped, Some("EPSG:3006"), |offset, len| {
        asked.push((offset, len));
        Ok(frame(offset..offset + len))
    })
    .unwrap();
    assert_eq!(asked, vec![(0, 150_000), (150_000, 150_000)]);
    assert_eq!(
        std::fs::read(&whole).unwrap(),
        std::fs::read(&grouped).unwrap()
    );
    // An empty table asks for its schema once and writes a readable file.
    let empty = dir.path().join("empty.parquet");
    tables::write_parquet_groups(0, &empty, None, |offset, len| {
        Ok(frame(offset..offset + len))
    })
    .unwrap();
    assert_eq!(read(&empty).height(), 0);
    // A group that fails is reported as it is.
    let e = tables::write_parquet_groups(n, &dir.path().join("bad.parquet"), None, |_, _| {
        Err(gapmap_io::IoError::Write {
            path: "premises".into(),
            message: "no such column".into(),
        })
    })
    .unwrap_err();
    assert!(e.to_string().contains("no such column"), "{e}");
}
