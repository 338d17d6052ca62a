//! The library pipeline on the bundled region: a plan recorded in run.json reads back and runs
//! again to the same results, and `compute` on two halves of the premises, against the same
//! reference layers, gives the same per-premise results and tallies that merge exactly.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test or benchmark fails by panicking"
)]

use gapmap::analyze::{self, compute, read_inputs, Output, RunMeta};
use gapmap::run_info::read_run_info;
use gapmap::AnalysisPlan;
use gapmap_core::summary::Tally;

mod common;
use common::{assert_same_analysis, bundled_plan, repo};

fn read(plan: &AnalysisPlan) -> analyze::Inputs {
    let checked = plan.validate().expect("valid plan");
    read_inputs(plan.clone(), checked, false, RunMeta::start()).expect("inputs read")
}

#[test]
fn a_plan_round_trips_through_run_json_and_reruns_the_same() {
    let tmp = tempfile::tempdir().unwrap();
    let mut plan = bundled_plan();
    plan.outputs = vec![Output::Tables];
    plan.drop_distance_m = 75.0;
    plan.policy.goals = vec!["gigabit2030:fibre:100".into()];
    plan.out = tmp.path().join("first");
    let first = analyze::run(plan.clone()).expect("first run");
    drop(first);

    // The plan in run.json is the plan that ran.
    let run = read_run_info(&tmp.path().join("first")).expect("run.json reads back");
    let recorded = run.plan.clone().expect("run.json records the plan");
    assert_eq!(recorded, plan);
    // ... and serialises to the same text again (serde both ways).
    let text = serde_json::to_string(&recorded).unwrap();
    let again: AnalysisPlan = serde_json::from_str(&text).unwrap();
    assert_eq!(again, recorded);
    assert_eq!(run.parameters.drop_distance_m, 75.0);
    assert_eq!(run.goals().unwrap().last().unwrap().name, "gigabit2030");

    // Rerun from the record: the same tables.
    let mut rerun = recorded;
    rerun.out = tmp.path().join("second");
    analyze::run(rerun).expect("rerun");
    for f in ["settlements.csv", "settlements.parquet"] {
        assert_eq!(
            std::fs::read(tmp.path().join("first").join(f)).unwrap(),
            std::fs::read(tmp.path().join("second").join(f)).unwrap(),
            "{f} differs after a rerun of the recorded plan"
        );
    }
}

#[test]
fn a_partial_plan_takes_the_defaults_and_unknown_keys_are_refused() {
    let plan: AnalysisPlan =
        serde_json::from_str(r#"{"premises": "p.parquet", "drop_distance_m": 20}"#).unwrap();
    assert_eq!(plan.drop_distance_m, 20.0);
    assert_eq!(plan.gap_cluster_m, AnalysisPlan::default().gap_cluster_m);
    assert_eq!(plan.crs, "auto");
    let e = serde_json::from_str::<AnalysisPlan>(r#"{"drop_distance": 20}"#).unwrap_err();
    assert!(e.to_string().contains("drop_distance"), "{e}");
    // Validation names the flag.
    let mut bad = bundled_plan();
    bad.gap_cluster_m = 0.0;
    let e = bad.validate().unwrap_err();
    assert!(e.is_bad_input());
    assert!(e.to_string().starts_with("--gap-cluster-m"), "{e}");
}

#[test]
fn run_json_of_the_wrong_shape_is_an_error_naming_it() {
    let tmp = tempfile::tempdir().unwrap();
    for text in ["{}", "[1,2,3]", "not json", r#"{"tool": "gapmap"}"#] {
        std::fs::write(tmp.path().join("run.json"), text).unwrap();
        let e = read_run_info(tmp.path()).unwrap_err();
        assert!(e.is_bad_input());
        assert!(e.to_string().contains("run.json"), "{e}");
    }
    let e = read_run_info(&tmp.path().join("absent")).unwrap_err();
    assert!(e.to_string().contains("run.json"), "{e}");
}

/// Tallies without the gap-cluster counts: clusters are made per run, and a cluster split
/// between two parts counts in each (joining them is the partitioned run's union-find).
fn premise_counts(t: &Tally) -> Tally {
    Tally {
        gap_clusters: 0,
        unserved_clusters: 0,
        ..*t
    }
}

#[test]
fn compute_on_two_halves_merges_to_compute_on_all() {
    let mut plan = bundled_plan();
    plan.outputs = vec![Output::Tables];
    let whole = compute(read(&plan));
    let n = whole.layers.premises.xy.len();
    assert!(n > 1000);

    // Two halves that interleave in space: every other premise.
    let halves: Vec<_> = (0..2)
        .map(|h| {
            let mut inputs = read(&plan);
            inputs.retain_premises(|i| i % 2 == h).unwrap();
            compute(inputs)
        })
        .collect();

    // Per premise, keyed by position in the input: the same results.
    for (h, part) in halves.iter().enumerate() {
        let c = &part.computed;
        for (k, i) in (h..n).step_by(2).enumerate() {
            let w = &whole.computed;
            assert_eq!(
                part.layers.premises.ids.display(k),
                whole.layers.premises.ids.display(i)
            );
            assert_eq!(
                c.settlement[k], w.settlement[i],
                "settlement of premise {i}"
            );
            assert_eq!(c.outcomes[k], w.outcomes[i], "outcome of premise {i}");
            assert_eq!(c.mobile[k], w.mobile[i]);
            assert_eq!(c.gap_kind[k], w.gap_kind[i]);
            let (fa, fb) = (c.fibre.as_ref().unwrap(), w.fibre.as_ref().unwrap());
            assert_eq!(fa[k], fb[i], "fibre reach of premise {i}");
        }
    }

    // Per area: the halves' tallies add up to the whole's, exactly.
    let mut merged = vec![Tally::default(); whole.computed.tallies.len()];
    for part in &halves {
        for (m, t) in merged.iter_mut().zip(&part.computed.tallies) {
            *m += premise_counts(t);
        }
    }
    let expected: Vec<Tally> = whole.computed.tallies.iter().map(premise_counts).collect();
    assert_eq!(merged, expected);
    assert!(expected
        .iter()
        .any(|t| t.unserved > 0 && t.fibre_passed > 0));
}

#[test]
fn a_held_workload_gives_the_analyses_of_fresh_reads() {
    let tmp = tempfile::tempdir().unwrap();
    let mut cache = analyze::WorkloadCache::new();
    let mut plan = bundled_plan();
    plan.resilience.backbone = Some(repo().join("data/dalarna/backbone.gpkg"));
    for (k, drop) in [30.0, 75.0, 30.0].into_iter().enumerate() {
        plan.drop_distance_m = drop;
        plan.out = tmp.path().join(format!("held-{k}"));
        analyze::run_cached(plan.clone(), &mut cache).expect("run from the cache");
        plan.out = tmp.path().join(format!("fresh-{k}"));
        analyze::run(plan.clone()).expect("fresh run");
        assert_same_analysis(
            &tmp.path().join(format!("held-{k}")),
            &tmp.path().join(format!("fresh-{k}")),
        );
    }
    // One read served three analyses; a plan that reads differently reads again.
    assert_eq!(cache.reads(), 1);
    plan.mobile.clear();
    plan.out = tmp.path().join("no-mobile");
    analyze::run_cached(plan.clone(), &mut cache).expect("another workload");
    assert_eq!(cache.reads(), 2);
    let a = std::fs::read_to_string(tmp.path().join("held-1/settlements.csv")).unwrap();
    let b = std::fs::read_to_string(tmp.path().join("held-0/settlements.csv")).unwrap();
    assert_ne!(
        a, b,
        "the drop distance changed nothing: the test tests nothing"
    );

    // With cell sites, whose predicted cover joins the polygons' cover held.
    plan.mobile = bundled_plan().mobile;
    plan.radio.sites = Some(repo().join("data/dalarna/sites.gpkg"));
    for (k, drop) in [40.0, 90.0].into_iter().enumerate() {
        plan.drop_distance_m = drop;
        plan.out = tmp.path().join(format!("sites-held-{k}"));
        analyze::run_cached(plan.clone(), &mut cache).expect("run from the cache");
    }
    plan.out = tmp.path().join("sites-fresh");
    analyze::run(plan.clone()).expect("fresh run");
    assert_same_analysis(
        &tmp.path().join("sites-held-1"),
        &tmp.path().join("sites-fresh"),
    );
    assert_eq!(cache.reads(), 3);
}
