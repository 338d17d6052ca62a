//! `--population` on SCB's real 1 km population grid of Dalarna (2025, 4,004 populated
//! squares, 285,587 persons; `data/dalarna/population_1km.gpkg`): every square's persons land
//! on the premises inside it, exactly, and the persons of squares without premises are
//! reported. The oracle finds a premise's square by integer arithmetic on its coordinates
//! (SCB's `rutid` is the south-west corner), not by the polygon index.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test or benchmark fails by panicking"
)]

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use gapmap::premise_plan::PremisePlan;
use gapmap_io::ReadContext;
use gdal::vector::LayerAccess;

mod common;
use common::repo;

/// SCB's grid: (rutid, persons) of every populated square, read from the bundled file through
/// GDAL without gapmap's reader.
fn grid() -> BTreeMap<String, u32> {
    let ds = gdal::Dataset::open(repo().join("data/dalarna/population_1km.gpkg")).unwrap();
    let mut layer = ds.layer_by_name("befolkning_1km_2025").unwrap();
    let mut out = BTreeMap::new();
    for f in layer.features() {
        let id = f
            .field_as_string(f.field_index("rutid").unwrap())
            .unwrap()
            .unwrap();
        let p = f
            .field_as_integer(f.field_index("befolkning_2025").unwrap())
            .unwrap()
            .unwrap();
        out.insert(id, u32::try_from(p).unwrap());
    }
    out
}

/// The SCB square ids (`rutid`: E of the south-west corner in 6 digits, then N in 7) whose
/// closed square holds (x, y): one, or two to four on an edge or corner.
fn squares_of(x: f64, y: f64) -> Vec<String> {
    let (e, n) = ((x / 1000.0).floor() as i64, (y / 1000.0).floor() as i64);
    let mut out = vec![format!("{:06}{:07}", e * 1000, n * 1000)];
    let on_e = x == (e * 1000) as f64;
    let on_n = y == (n * 1000) as f64;
    for (de, dn, when) in [(-1, 0, on_e), (0, -1, on_n), (-1, -1, on_e && on_n)] {
        if when {
            out.push(format!("{:06}{:07}", (e + de) * 1000, (n + dn) * 1000));
        }
    }
    out.sort();
    out
}

/// The bundled premises without those in every fifth populated square (by id), written as a
/// CSV table: squares with persons but no premise, as real address data has them.
fn premises_csv(dir: &Path, grid: &BTreeMap<String, u32>) -> (PathBuf, usize) {
    let plan = PremisePlan::default();
    let ctx = ReadContext::from_flags("EPSG:3006", None, false).unwrap();
    let (p, none) = plan
        .read(&repo().join("data/dalarna/premises.parquet"), &ctx)
        .unwrap();
    assert!(none.is_none());
    let emptied: Vec<&String> = grid.keys().step_by(5).collect();
    let path = dir.join("premises.csv");
    let mut w = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    writeln!(w, "id,x,y,households,workplaces").unwrap();
    let mut n = 0;
    for i in 0..p.xy.len() {
        let c = p.xy[i];
        if squares_of(c.x, c.y)
            .iter()
            .any(|s| emptied.binary_search(&s).is_ok())
        {
            continue;
        }
        writeln!(
            w,
            "{},{},{},{},{}",
            p.ids.display(i),
            c.x,
            c.y,
            p.households[i],
            p.workplaces[i]
        )
        .unwrap();
        n += 1;
    }
    (path, n)
}

/// Each square's persons summed over its premises (a premise on an edge counts in the first
/// square in file order, which is by id), and the squares with premises.
fn persons_by_square(
    xy: &[gapmap_core::geo::Coord<f64>],
    persons: &[u32],
    grid: &BTreeMap<String, u32>,
) -> (BTreeMap<String, u64>, BTreeMap<String, usize>) {
    let (mut sum, mut count) = (BTreeMap::new(), BTreeMap::new());
    for (c, &p) in xy.iter().zip(persons) {
        let Some(sq) = squares_of(c.x, c.y)
            .into_iter()
            .find(|s| grid.contains_key(s))
        else {
            assert_eq!(p, 0, "a premise outside every square got persons");
            continue;
        };
        *sum.entry(sq.clone()).or_insert(0u64) += u64::from(p);
        *count.entry(sq).or_insert(0usize) += 1;
    }
    (sum, count)
}

fn population_plan(weight_field: Option<&str>) -> PremisePlan {
    PremisePlan {
        population: Some(repo().join("data/dalarna/population_1km.gpkg")),
        population_field: Some("befolkning_2025".into()),
        population_id_field: Some("rutid".into()),
        population_weight_field: weight_field.map(str::to_string),
        ..PremisePlan::default()
    }
}

#[test]
fn every_square_of_scbs_grid_lands_exactly_on_its_premises() {
    let grid = grid();
    assert_eq!(grid.len(), 4004);
    let total: u64 = grid.values().map(|&p| u64::from(p)).sum();
    assert_eq!(total, 285_587, "SCB's published total for Dalarna's grid");
    let dir = tempfile::tempdir().unwrap();
    let (csv, n) = premises_csv(dir.path(), &grid);
    let ctx = ReadContext::from_flags("EPSG:3006", Some("EPSG:3006"), false).unwrap();
    let (p, population) = population_plan(None).read(&csv, &ctx).unwrap();
    assert_eq!(p.xy.len(), n);
    let (summary, info) = population.expect("population spread");
    assert_eq!(info.features, 4004);
    let persons = p.persons.as_ref().expect("persons per premise");
    let (sum, count) = persons_by_square(&p.xy, persons, &grid);

    // Every square with premises: its persons exactly; every other square: reported.
    let mut unplaced = Vec::new();
    for (id, &want) in &grid {
        match sum.get(id) {
            Some(&got) => assert_eq!(got, u64::from(want), "square {id}"),
            None => unplaced.push((want, id.clone())),
        }
    }
    assert!(unplaced.len() > 700, "{} squares emptied", unplaced.len());
    let unplaced_persons: u64 = unplaced.iter().map(|u| u64::from(u.0)).sum();
    assert_eq!(summary.persons, total);
    assert_eq!(summary.unplaced_areas, unplaced.len());
    assert_eq!(summary.unplaced_persons, unplaced_persons);
    assert_eq!(summary.placed_persons + summary.unplaced_persons, total);
    assert_eq!(
        persons.iter().map(|&v| u64::from(v)).sum::<u64>(),
        summary.placed_persons
    );
    // The list names the largest squares left without premises, largest first.
    unplaced.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    assert_eq!(summary.unplaced[0].id, unplaced[0].1);
    assert_eq!(summary.unplaced[0].persons, unplaced[0].0);

    // Equal shares: within a square, persons differ by at most one between premises.
    let mut range: BTreeMap<String, (u32, u32)> = BTreeMap::new();
    for (c, &v) in p.xy.iter().zip(persons) {
        if let Some(sq) = squares_of(c.x, c.y)
            .into_iter()
            .find(|s| grid.contains_key(s))
        {
            let r = range.entry(sq).or_insert((u32::MAX, 0));
            *r = (r.0.min(v), r.1.max(v));
        }
    }
    assert!(range.values().all(|(lo, hi)| hi - lo <= 1));
    assert_eq!(count.len(), grid.len() - unplaced.len());

    // Households from persons: none where nobody lives, else persons / 2.1 and at least 1.
    for (&h, &v) in p.households.iter().zip(persons) {
        assert_eq!(h == 0, v == 0);
        assert_eq!(
            h,
            if v == 0 {
                0
            } else {
                ((f64::from(v) / 2.1).round() as u32).max(1)
            }
        );
    }
    assert_eq!(
        summary.households,
        p.households.iter().map(|&h| u64::from(h)).sum::<u64>()
    );
}

#[test]
fn a_weight_field_shares_persons_by_it_and_zero_weights_get_none() {
    let grid = grid();
    let dir = tempfile::tempdir().unwrap();
    let (csv, _) = premises_csv(dir.path(), &grid);
    let ctx = ReadContext::from_flags("EPSG:3006", Some("EPSG:3006"), false).unwrap();
    // Read the input households first: they are the weights.
    let (plain, _) = PremisePlan::default().read(&csv, &ctx).unwrap();
    let (p, population) = population_plan(Some("households"))
        .read(&csv, &ctx)
        .unwrap();
    let summary = population.unwrap().0;
    assert_eq!(summary.weighted_by, "field households");
    let persons = p.persons.unwrap();
    // Workplaces without households: nobody lives there.
    let workplaces_only = plain.households.iter().filter(|&&h| h == 0).count();
    assert!(workplaces_only > 1000);
    for (&h, &v) in plain.households.iter().zip(&persons) {
        if h == 0 {
            assert_eq!(v, 0);
        }
    }
    // Totals still exact per square; squares whose premises are all workplaces are reported.
    let (sum, _) = persons_by_square(&p.xy, &persons, &grid);
    let mut placed_squares = 0;
    for (id, got) in &sum {
        if *got > 0 || grid[id] == 0 {
            assert_eq!(*got, u64::from(grid[id]), "square {id}");
            placed_squares += 1;
        }
    }
    assert_eq!(placed_squares + summary.unplaced_areas, grid.len());
    assert_eq!(summary.placed_persons + summary.unplaced_persons, 285_587);
}

#[test]
fn bad_population_input_is_refused_with_its_name() {
    let ctx = ReadContext::from_flags("EPSG:3006", None, false).unwrap();
    let premises = repo().join("data/dalarna/premises.parquet");
    // The default count field is absent: the error names it and the flag.
    let plan = PremisePlan {
        population: Some(repo().join("data/dalarna/population_1km.gpkg")),
        ..PremisePlan::default()
    };
    let e = plan.read(&premises, &ctx).unwrap_err().to_string();
    assert!(
        e.contains("population") && e.contains("--population-field"),
        "{e}"
    );
    // Population areas from elsewhere: none of the premises lies in them.
    let norway =
        repo().join("../shared/data/norway-n50-cabins-roads-samples/sample_area_cabins.gpkg");
    if norway.exists() {
        let e = population_plan(None).read(&norway, &ctx).unwrap_err();
        assert!(e.is_bad_input(), "{e}");
        assert!(
            e.to_string().contains("cover none of the 6875 premises"),
            "{e}"
        );
    }
    let shifted = tempfile::tempdir().unwrap();
    let far = shifted.path().join("far.csv");
    std::fs::write(&far, "id,x,y\n1,900000,7600000\n2,900100,7600000\n").unwrap();
    let ctx_assumed = ReadContext::from_flags("EPSG:3006", Some("EPSG:3006"), false).unwrap();
    let e = population_plan(None).read(&far, &ctx_assumed).unwrap_err();
    assert!(
        e.is_bad_input() && e.to_string().contains("cover none of the 2 premises"),
        "{e}"
    );
    // A weight field that does not exist.
    let e = population_plan(Some("floors"))
        .read(&premises, &ctx)
        .unwrap_err()
        .to_string();
    assert!(e.contains("floors"), "{e}");
    // Population flags without --population, and two sources of households.
    let plan = PremisePlan {
        population_field: Some("befolkning_2025".into()),
        ..PremisePlan::default()
    };
    let e = plan.validate().unwrap_err();
    assert!(
        e.is_bad_input() && e.to_string().contains("--population"),
        "{e}"
    );
    let plan = PremisePlan {
        households_field: Some("hh".into()),
        ..population_plan(None)
    };
    assert!(plan.validate().unwrap_err().is_bad_input());
    let plan = PremisePlan {
        persons_per_household: 0.0,
        ..PremisePlan::default()
    };
    assert!(plan
        .validate()
        .unwrap_err()
        .to_string()
        .contains("--persons-per-household"));
}
