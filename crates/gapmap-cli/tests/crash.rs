//! `kill -9` at many instants of `gapmap analyze --overwrite`: every time, gapmap's own reader
//! of an analysis sees one complete set of files, the old run's or the new one's, never a mix.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test or benchmark fails by panicking"
)]

use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant};

mod common;
use common::{gapmap, repo, stderr};

/// The pause after each step of publishing (see `GAPMAP_TEST_PUBLISH_PAUSE_MS`), so that
/// some of the kills land mid-publication.
const PAUSE_MS: u64 = 60;

/// The bundled analysis into `out` with `extra` flags; returns how long it took.
fn analyze(out: &Path, extra: &[&str]) -> Duration {
    let t = Instant::now();
    let o = gapmap()
        .current_dir(repo())
        .env("GAPMAP_TEST_PUBLISH_PAUSE_MS", PAUSE_MS.to_string())
        .args(["analyze", "--out", out.to_str().unwrap()])
        .args(extra)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    t.elapsed()
}

/// The visible files of `dir` (gapmap's hidden staging and journal aside).
fn visible(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.'))
        .collect()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        if e.path().is_dir() {
            copy_dir(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

#[test]
fn kill_9_at_any_instant_leaves_the_old_or_the_new_complete_set() {
    let tmp = tempfile::tempdir().unwrap();
    // The old run: maps and tables. The new one: tables and the premise table, with another
    // drop distance, so that its files differ and some of the old ones must go.
    let old = tmp.path().join("old");
    analyze(&old, &[]);
    let new_flags = [
        "--overwrite",
        "--outputs",
        "tables,premises",
        "--drop-distance-m",
        "80",
    ];
    let reference = tmp.path().join("new");
    let took = analyze(&reference, &new_flags[1..]);
    let old_run = gapmap::run_info::read_complete_analysis(&old).unwrap();
    let new_run = gapmap::run_info::read_complete_analysis(&reference).unwrap();
    assert_ne!(old_run.files, new_run.files);

    let instants = 10;
    let (mut saw_old, mut saw_mid, mut saw_new) = (0, 0, 0);
    for k in 0..instants {
        let out = tmp.path().join(format!("out{k}"));
        copy_dir(&old, &out);
        // Kill instants spread over the whole run, the end of publication included.
        let delay = took.mul_f64(0.3 + 0.8 * k as f64 / instants as f64);
        let mut child = gapmap()
            .current_dir(repo())
            .env("GAPMAP_TEST_PUBLISH_PAUSE_MS", PAUSE_MS.to_string())
            .args(["analyze", "--out", out.to_str().unwrap()])
            .args(new_flags)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(delay);
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let mid = out.join(".gapmap-publish").exists();
        // What gapmap's readers see (they finish a publication the killed run began).
        let seen = gapmap::run_info::read_complete_analysis(&out)
            .unwrap_or_else(|e| panic!("kill at {delay:?}: the reader sees no complete set: {e}"));
        let expected: BTreeSet<String> = seen.outputs.iter().cloned().collect();
        assert_eq!(
            visible(&out),
            expected,
            "kill at {delay:?}: files of two runs"
        );
        if seen.files == old_run.files {
            saw_old += 1;
            assert!(!mid);
        } else if seen.files == new_run.files {
            if mid {
                saw_mid += 1;
            } else {
                saw_new += 1;
            }
        } else {
            panic!("kill at {delay:?}: a set of files neither run wrote");
        }
        // What the killed run left is cleared by the next run into the directory.
        gapmap_io::write::staging::check_output_dir(&out, true).unwrap();
        let hidden: Vec<String> = std::fs::read_dir(&out)
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with('.'))
            .collect();
        assert!(hidden.is_empty(), "kill at {delay:?}: {hidden:?} left");
    }
    eprintln!("old {saw_old}, cut mid-publication {saw_mid}, new {saw_new}");
    assert!(
        saw_old > 0 && saw_mid > 0,
        "the kills missed the window they test: old {saw_old}, mid {saw_mid}, new {saw_new}"
    );
}
