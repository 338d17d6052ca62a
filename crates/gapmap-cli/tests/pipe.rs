//! Every subcommand with its stdout closed before it writes (`gapmap ... | head -0`): it
//! finishes its files and exits 0, quietly, with no panic. And with stdout on a full disk
//! (`> /dev/full`): a clear error, exit 1.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test or benchmark fails by panicking"
)]

use std::path::Path;
use std::process::Stdio;

mod common;
use common::{gapmap, ok, repo};

/// Runs gapmap with `args` and its stdout a pipe whose reader has gone; returns its exit code
/// and stderr.
fn closed_stdout(args: &[&str]) -> (Option<i32>, String) {
    let mut child = gapmap()
        .current_dir(repo())
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let o = child.wait_with_output().unwrap();
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn check(args: &[&str], file: &Path) {
    let (code, err) = closed_stdout(args);
    assert_eq!(code, Some(0), "gapmap {args:?} with stdout closed: {err}");
    assert!(!err.contains("panicked"), "gapmap {args:?}: {err}");
    assert!(
        file.exists(),
        "gapmap {args:?} did not finish {}",
        file.display()
    );
}

#[test]
fn a_closed_stdout_ends_quietly_after_the_files_are_complete() {
    let tmp = tempfile::tempdir().unwrap();
    let t = |p: &str| tmp.path().join(p);
    let s = |p: &Path| p.to_str().unwrap().to_string();
    let out = t("analysis");
    check(&["analyze", "--out", &s(&out)], &out.join("run.json"));
    check(
        &["grid", &s(&out), "--h3", "7"],
        &out.join("grid/grid.json"),
    );
    check(
        &["prioritise", &s(&out), "--budget-sek", "1000000"],
        &out.join("priorities/priorities.json"),
    );
    check(&["report", &s(&out)], &out.join("report.html"));
    let pred = t("predict");
    check(&["predict", "--out", &s(&pred)], &pred.join("run.json"));
    let setl = t("settlements");
    check(
        &[
            "settlements",
            "--from-premises",
            "data/dalarna/premises.parquet",
            "--out",
            &s(&setl),
        ],
        &setl.join("run.json"),
    );
    let synth = t("synth");
    check(
        &[
            "synth",
            "--settlements",
            "data/dalarna/settlements.gpkg",
            "--premises",
            "2000",
            "--out",
            &s(&synth),
        ],
        &synth.join("synth.json"),
    );
    let toml = t("sweep.toml");
    std::fs::write(
        &toml,
        format!(
            "[[workload]]\nname = \"w\"\ndir = \"{}\"\n\n[grid]\ndrop_distance_m = [30]\n",
            s(&synth)
        ),
    )
    .unwrap();
    let batch = t("batch");
    check(
        &["batch", &s(&toml), "--out", &s(&batch)],
        &batch.join("batch.csv"),
    );
    // Help and version write to stdout too.
    for args in [&["--help"][..], &["analyze", "--help"], &["--version"]] {
        let (code, err) = closed_stdout(args);
        assert_eq!(code, Some(0), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
}

#[test]
fn a_full_stdout_is_an_error_not_a_panic() {
    if !Path::new("/dev/full").exists() {
        return; // not on this system
    }
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("a");
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let o = gapmap()
        .current_dir(repo())
        .args([
            "analyze",
            "--outputs",
            "tables",
            "--out",
            out.to_str().unwrap(),
        ])
        .stdout(Stdio::from(full))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("standard output") && !err.contains("panicked"),
        "{err}"
    );
    // The files were written before the summary.
    assert!(out.join("settlements.csv").exists());
    // And the same run with a working stdout succeeds.
    let again = tmp.path().join("b");
    ok(&[
        "analyze",
        "--outputs",
        "tables",
        "--out",
        again.to_str().unwrap(),
    ]);
}
