//! All-or-nothing output: files are written into a hidden staging directory inside the output
//! directory and renamed into place only when every one of them has been written. A failed or
//! interrupted run leaves no partial outputs (and removes an output directory it created).
//!
//! Moving several files is not one atomic step, so publishing is journalled: before the first
//! rename, a journal (`.gapmap-publish`, itself written by rename) names the staging directory,
//! every file to move (run.json last) and every file of the earlier run to remove. A run
//! killed while publishing leaves the journal; whatever next opens the directory through
//! gapmap ([`recover`]: a writer, or a reader of the analysis) finishes the publication first.
//! So a crash at any instant leaves the old complete set or, once recovered, the new one.

use std::path::{Path, PathBuf};

use super::output::{digest_file, FileDigest};
use crate::error::{IoError, Result};

/// The name of a staging directory starts so.
const STAGING_PREFIX: &str = ".gapmap-staging-";
/// The file in a staging directory that names the process writing it: `PID START_TICKS`.
const OWNER_FILE: &str = ".owner";
/// The publication journal in an output directory.
const JOURNAL: &str = ".gapmap-publish";
/// Its first line.
const JOURNAL_HEADER: &str = "gapmap-publish 1";

/// This process, as its owner file names it: its id and start time (the start time tells a
/// reused id apart).
fn owner_of(pid: u32) -> Option<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The fields after the command name (which may hold spaces) in parentheses; the start
    // time is field 22, the 20th after it.
    let rest = &stat[stat.rfind(')')? + 2..];
    let start = rest.split_whitespace().nth(19)?;
    Some(format!("{pid} {start}"))
}

/// True when the staging directory `path` belongs to no running gapmap: its owner has ended
/// (killed, or crashed). One without an owner file is stale once a minute old (its owner
/// writes the file right after making it).
fn is_stale(path: &Path) -> bool {
    match std::fs::read_to_string(path.join(OWNER_FILE)) {
        Ok(owner) => {
            let pid = owner.split_whitespace().next().and_then(|p| p.parse().ok());
            match pid {
                Some(pid) => owner_of(pid).as_deref() != Some(owner.trim()),
                None => true,
            }
        }
        Err(_) => std::fs::metadata(path)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age.as_secs() > 60),
    }
}

/// Removes the staging directories in `dir` that their runs left behind (a run killed before
/// it could clean up); returns how many.
pub fn remove_stale_staging(dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(STAGING_PREFIX))
        .filter(|e| is_stale(&e.path()))
        .filter(|e| std::fs::remove_dir_all(e.path()).is_ok())
        .count()
}

/// Checks that `dir` may be written to: absent, empty, or `overwrite`. Staging directories
/// that dead runs left behind are removed first and never count as content.
pub fn check_output_dir(dir: &Path, overwrite: bool) -> Result<()> {
    if !dir.exists() {
        return Ok(());
    }
    if !dir.is_dir() {
        return Err(IoError::OutputNotDir {
            path: dir.to_path_buf(),
        });
    }
    recover(dir)?;
    remove_stale_staging(dir);
    let mut entries = std::fs::read_dir(dir).map_err(|e| IoError::Write {
        path: dir.to_path_buf(),
        message: e.to_string(),
    })?;
    if entries.next().is_some() && !overwrite {
        return Err(IoError::OutputExists {
            path: dir.to_path_buf(),
        });
    }
    Ok(())
}

/// A set of output files being written.
#[derive(Debug)]
pub struct Staging {
    dir: PathBuf,
    staging: Option<tempfile::TempDir>,
    created_dir: bool,
    files: Vec<String>,
}

impl Staging {
    /// Checks the output directory (see [`check_output_dir`]), creates it if needed, and opens a
    /// staging directory in it.
    pub fn begin(dir: &Path, overwrite: bool) -> Result<Staging> {
        check_output_dir(dir, overwrite)?;
        let werr = |e: std::io::Error| IoError::Write {
            path: dir.to_path_buf(),
            message: e.to_string(),
        };
        let created_dir = !dir.exists();
        std::fs::create_dir_all(dir).map_err(werr)?;
        let staging = tempfile::Builder::new()
            .prefix(STAGING_PREFIX)
            .tempdir_in(dir)
            .map_err(werr)?;
        // Whose it is: a later run removes it if this one is killed before it cleans up.
        if let Some(owner) = owner_of(std::process::id()) {
            std::fs::write(staging.path().join(OWNER_FILE), owner).map_err(werr)?;
        }
        Ok(Staging {
            dir: dir.to_path_buf(),
            staging: Some(staging),
            created_dir,
            files: Vec::new(),
        })
    }

    /// The staging path for output file `name`; it is moved to the output directory on commit.
    pub fn file(&mut self, name: &str) -> PathBuf {
        if !self.files.iter().any(|f| f == name) {
            self.files.push(name.to_string());
        }
        self.path(name)
    }

    /// The staging path of `name`, registered by [`Staging::file`] (for writers on other
    /// threads, which share the `Staging`).
    pub fn path(&self, name: &str) -> PathBuf {
        // The staging directory is open until `commit`, which takes the `Staging`.
        self.staging
            .as_ref()
            .map_or_else(|| self.dir.join(name), |s| s.path().join(name))
    }

    /// The final output directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The size and SHA-256 of every staged file but `except`, in the order they were
    /// registered: taken while writing for files written through
    /// [`OutputFile`](super::output::OutputFile), hashed here (in parallel) for the rest.
    pub fn digests(&self, except: &[&str]) -> Result<Vec<FileDigest>> {
        use rayon::prelude::*;
        self.files
            .par_iter()
            .filter(|name| !except.contains(&name.as_str()))
            .filter_map(|name| {
                let path = self.path(name);
                if !path.is_file() {
                    return None; // registered, not written
                }
                let taken = super::output::take_digest(&path).map(Ok);
                let (bytes, sha256) = match taken.unwrap_or_else(|| digest_file(&path)) {
                    Ok(d) => d,
                    Err(e) => {
                        return Some(Err(IoError::Write {
                            path,
                            message: e.to_string(),
                        }))
                    }
                };
                Some(Ok(FileDigest {
                    name: name.clone(),
                    bytes,
                    sha256,
                }))
            })
            .collect()
    }

    /// Moves every staged file into the output directory; returns their final paths.
    pub fn commit(self) -> Result<Vec<PathBuf>> {
        self.commit_replacing(&[])
    }

    /// Moves every staged file into the output directory (run.json, when staged, last), then
    /// removes `stale`: names in the output directory of an earlier run that this one
    /// replaces (files or folders). Journalled, see the module docs. Returns the final paths
    /// of the files moved.
    pub fn commit_replacing(mut self, stale: &[String]) -> Result<Vec<PathBuf>> {
        // Fault injection for the tests: a pause before the check below, so that an interrupt
        // lands at a known point.
        if let Some(pause) = env_pause("GAPMAP_TEST_COMMIT_PAUSE_MS") {
            std::thread::sleep(pause);
        }
        // An interrupted run publishes nothing: the staging directory goes with `self`.
        check_interrupt()?;
        let Some(staging) = self.staging.take() else {
            return Ok(Vec::new()); // `commit` takes the `Staging`: it cannot run twice
        };
        let journal = self.journal(&staging, stale);
        journal.publish(&self.dir, None)?;
        drop(staging);
        self.created_dir = false;
        Ok(journal.moves.iter().map(|n| self.dir.join(n)).collect())
    }

    /// The journal of publishing `staging`.
    fn journal(&self, staging: &tempfile::TempDir, stale: &[String]) -> Journal {
        let mut moves: Vec<String> = self
            .files
            .iter()
            .filter(|n| staging.path().join(n).exists())
            .cloned()
            .collect();
        // run.json last: until it moves, the earlier run's record stands.
        moves.sort_by_key(|n| n == "run.json");
        Journal {
            staging: staging
                .path()
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            moves,
            removes: stale
                .iter()
                .filter(|r| !self.files.contains(r))
                .cloned()
                .collect(),
        }
    }
}

/// What publishing a staging directory does, in order.
#[derive(Debug, Clone, PartialEq)]
struct Journal {
    /// The staging directory's name in the output directory.
    staging: String,
    /// Files to move from it, in order.
    moves: Vec<String>,
    /// Files or folders of the earlier run to remove afterwards.
    removes: Vec<String>,
}

impl Journal {
    fn text(&self) -> String {
        let mut t = format!("{JOURNAL_HEADER}\nstaging {}\n", self.staging);
        for m in &self.moves {
            t += &format!("move {m}\n");
        }
        for r in &self.removes {
            t += &format!("remove {r}\n");
        }
        t
    }

    /// The journal in `text`; `None` when it is not one (then nothing is done with it).
    fn parse(text: &str) -> Option<Journal> {
        let mut lines = text.lines();
        if lines.next()? != JOURNAL_HEADER {
            return None;
        }
        let staging = lines.next()?.strip_prefix("staging ")?.to_string();
        if !staging.starts_with(STAGING_PREFIX) || !plain_name(&staging) {
            return None;
        }
        let (mut moves, mut removes) = (Vec::new(), Vec::new());
        for line in lines {
            match line.split_once(' ') {
                Some(("move", n)) if plain_name(n) => moves.push(n.to_string()),
                Some(("remove", n)) if plain_name(n) => removes.push(n.to_string()),
                _ => return None,
            }
        }
        Some(Journal {
            staging,
            moves,
            removes,
        })
    }

    /// Writes the journal into `dir`, then carries it out. `stop_after` stops after that many
    /// steps, as a crash there would (tests only).
    fn publish(&self, dir: &Path, stop_after: Option<usize>) -> Result<()> {
        let werr = |path: PathBuf| {
            move |e: std::io::Error| IoError::Write {
                path,
                message: e.to_string(),
            }
        };
        let tmp = dir.join(format!("{JOURNAL}.tmp"));
        std::fs::write(&tmp, self.text()).map_err(werr(tmp.clone()))?;
        std::fs::rename(&tmp, dir.join(JOURNAL)).map_err(werr(dir.join(JOURNAL)))?;
        self.apply(dir, stop_after)
    }

    /// Carries out the journal in `dir`; every step may be repeated, so a publication cut
    /// short at any step is finished by applying it again.
    fn apply(&self, dir: &Path, stop_after: Option<usize>) -> Result<()> {
        if stop_after == Some(0) {
            return Ok(());
        }
        let mut done = 0;
        let pause = test_pause();
        let mut step = || {
            done += 1;
            if let Some(p) = pause {
                std::thread::sleep(p);
            }
            stop_after.is_none_or(|k| done < k)
        };
        let staging = dir.join(&self.staging);
        for name in &self.moves {
            let from = staging.join(name);
            if from.exists() {
                let to = dir.join(name);
                std::fs::rename(&from, &to).map_err(|e| IoError::Write {
                    path: to.clone(),
                    message: e.to_string(),
                })?;
                super::output::forget_digests(&from);
            }
            if !step() {
                return Ok(());
            }
        }
        for name in &self.removes {
            let p = dir.join(name);
            let _ = if p.is_dir() {
                std::fs::remove_dir_all(&p)
            } else {
                std::fs::remove_file(&p)
            };
            if !step() {
                return Ok(());
            }
        }
        let _ = std::fs::remove_dir_all(&staging);
        if !step() {
            return Ok(());
        }
        let _ = std::fs::remove_file(dir.join(JOURNAL));
        Ok(())
    }
}

/// A pause after every step of a publication, from `GAPMAP_TEST_PUBLISH_PAUSE_MS`: a fault
/// injection hook that widens the window in which the kill test (crates/gapmap-cli/tests/
/// crash.rs) stops a run mid-publication. Unset, there is none.
fn test_pause() -> Option<std::time::Duration> {
    static PAUSE: std::sync::OnceLock<Option<std::time::Duration>> = std::sync::OnceLock::new();
    *PAUSE.get_or_init(|| env_pause("GAPMAP_TEST_PUBLISH_PAUSE_MS"))
}

/// A pause of the milliseconds the environment variable `var` gives (the fault injection
/// hooks of the kill tests); `None` when it is unset or not a number.
static INTERRUPTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Asks the running command to stop (`true`) before it publishes any output, or clears that
/// request (`false`) before the next. The Python package sets it on Ctrl-C.
pub fn interrupt(stop: bool) {
    INTERRUPTED.store(stop, std::sync::atomic::Ordering::SeqCst);
}

/// `Err(IoError::Interrupted)` when [`interrupt`] asked the command to stop.
pub fn check_interrupt() -> Result<()> {
    match INTERRUPTED.load(std::sync::atomic::Ordering::SeqCst) {
        true => Err(IoError::Interrupted),
        false => Ok(()),
    }
}

pub(crate) fn env_pause(var: &str) -> Option<std::time::Duration> {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .map(std::time::Duration::from_millis)
}

/// True for a single, plain file name (no separators, not `.` or `..`).
fn plain_name(n: &str) -> bool {
    !n.is_empty() && n != "." && n != ".." && !n.contains(['/', '\\', '\0'])
}

/// Finishes a publication into `dir` that a killed run began (its journal is there and its
/// owner is gone). Returns true when there was one to finish. A publication whose run is
/// still alive is left to it.
pub fn recover(dir: &Path) -> Result<bool> {
    // A journal cut short while being written: the publication never began.
    let _ = std::fs::remove_file(dir.join(format!("{JOURNAL}.tmp")));
    let Ok(text) = std::fs::read_to_string(dir.join(JOURNAL)) else {
        return Ok(false);
    };
    let Some(journal) = Journal::parse(&text) else {
        return Ok(false);
    };
    let staging = dir.join(&journal.staging);
    if staging.exists() && !is_stale(&staging) {
        return Ok(false);
    }
    journal.apply(dir, None)?;
    Ok(true)
}

impl Drop for Staging {
    fn drop(&mut self) {
        // Not committed: remove the staging directory, then the output directory if this run
        // created it and it is empty.
        if let Some(s) = self.staging.take() {
            super::output::forget_digests(s.path());
            let _ = s.close();
        }
        if self.created_dir {
            let _ = std::fs::remove_dir(&self.dir);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commit_moves_files_and_drop_cleans_up() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("out");
        let mut s = Staging::begin(&out, false).unwrap();
        std::fs::write(s.file("a.txt"), "a").unwrap();
        s.commit().unwrap();
        assert_eq!(std::fs::read_to_string(out.join("a.txt")).unwrap(), "a");
        assert_eq!(
            std::fs::read_dir(&out).unwrap().count(),
            1,
            "no staging left behind"
        );
        assert!(matches!(
            check_output_dir(&out, false),
            Err(IoError::OutputExists { .. })
        ));
        assert!(check_output_dir(&out, true).is_ok());

        // A failed run: nothing appears and the directory it created is removed.
        let out2 = tmp.path().join("out2");
        let mut s = Staging::begin(&out2, false).unwrap();
        std::fs::write(s.file("b.txt"), "b").unwrap();
        drop(s);
        assert!(!out2.exists());
    }

    #[test]
    fn staging_of_dead_runs_is_removed_and_never_content() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("out");
        std::fs::create_dir(&out).unwrap();
        // A run killed mid-write: its owner (a process id no process has, or one reused by
        // another process started at another time) is gone.
        let dead = out.join(".gapmap-staging-dead");
        std::fs::create_dir(&dead).unwrap();
        std::fs::write(dead.join("premises.parquet"), "half").unwrap();
        std::fs::write(dead.join(OWNER_FILE), "4000000000 1").unwrap();
        let reused = out.join(".gapmap-staging-reused");
        std::fs::create_dir(&reused).unwrap();
        std::fs::write(reused.join(OWNER_FILE), format!("{} 1", std::process::id())).unwrap();
        // A live run's staging stays, and counts as content.
        let live = Staging::begin(&out, true).unwrap();
        assert!(
            check_output_dir(&out, false).is_err(),
            "a live staging is content"
        );
        assert!(!dead.exists() && !reused.exists(), "stale staging removed");
        let live_dir = live.staging.as_ref().unwrap().path().to_path_buf();
        assert!(live_dir.exists());
        drop(live);
        // Nothing left: a plain rerun may write here.
        assert!(check_output_dir(&out, false).is_ok());
    }

    /// The files in `dir` and their contents, gapmap's hidden files aside.
    fn contents(dir: &Path) -> Vec<(String, String)> {
        let mut v: Vec<(String, String)> = std::fs::read_dir(dir)
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| !n.starts_with('.'))
            .map(|n| {
                let p = dir.join(&n);
                let c = if p.is_dir() {
                    "<dir>".into()
                } else {
                    std::fs::read_to_string(&p).unwrap()
                };
                (n, c)
            })
            .collect();
        v.sort();
        v
    }

    #[test]
    fn a_publication_cut_short_at_any_step_is_finished_by_the_next_opener() {
        let old: Vec<(String, String)> = [
            ("a.csv", "old a"),
            ("grid", "<dir>"),
            ("old-only.geojson", "old"),
            ("run.json", "old run"),
        ]
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
        let new: Vec<(String, String)> = [
            ("a.csv", "new a"),
            ("b.csv", "new b"),
            ("run.json", "new run"),
        ]
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
        let stale = vec!["old-only.geojson".to_string(), "grid".to_string()];
        // 3 moves, 2 removals, the staging directory, the journal.
        for k in 0..=7 {
            let tmp = tempfile::tempdir().unwrap();
            let out = tmp.path().join("out");
            std::fs::create_dir(&out).unwrap();
            std::fs::create_dir(out.join("grid")).unwrap();
            std::fs::write(out.join("grid/cells.csv"), "x").unwrap();
            for (n, c) in old.iter().filter(|(_, c)| c != "<dir>") {
                std::fs::write(out.join(n), c).unwrap();
            }
            assert_eq!(contents(&out), old);
            let mut s = Staging::begin(&out, true).unwrap();
            for (n, c) in &new {
                std::fs::write(s.file(n), c).unwrap();
            }
            let staging = s.staging.take().unwrap();
            let journal = s.journal(&staging, &stale);
            assert_eq!(journal.moves.last().map(String::as_str), Some("run.json"));
            assert_eq!(Journal::parse(&journal.text()), Some(journal.clone()));
            journal.publish(&out, Some(k)).unwrap();
            // Killed here: the process is gone, its staging directory and journal stay.
            let staging_dir = staging.keep();
            if staging_dir.exists() {
                std::fs::write(staging_dir.join(OWNER_FILE), "4000000000 1").unwrap();
            }
            std::mem::forget(s);
            let finished = recover(&out).unwrap();
            assert_eq!(finished, k < 7, "k = {k}");
            assert_eq!(contents(&out), new, "after a crash at step {k}");
            assert!(!staging_dir.exists(), "k = {k}");
            assert!(!out.join(JOURNAL).exists(), "k = {k}");
            assert!(
                check_output_dir(&out, false).is_err(),
                "the new set is content"
            );
        }
    }

    #[test]
    fn a_crash_before_the_journal_leaves_the_old_set() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("out");
        std::fs::create_dir(&out).unwrap();
        std::fs::write(out.join("run.json"), "old run").unwrap();
        let mut s = Staging::begin(&out, true).unwrap();
        std::fs::write(s.file("run.json"), "new run").unwrap();
        let staging = s.staging.take().unwrap().keep();
        std::fs::write(staging.join(OWNER_FILE), "4000000000 1").unwrap();
        std::fs::write(out.join(format!("{JOURNAL}.tmp")), "gapmap-publish 1\nstag").unwrap();
        std::mem::forget(s);
        assert!(!recover(&out).unwrap());
        check_output_dir(&out, true).unwrap();
        assert_eq!(contents(&out), vec![("run.json".into(), "old run".into())]);
        assert_eq!(
            std::fs::read_dir(&out).unwrap().count(),
            1,
            "nothing hidden left"
        );
    }

    #[test]
    fn a_journal_of_another_shape_is_not_followed() {
        for text in [
            "",
            "gapmap-publish 1\nstaging ../x\nmove a",
            "gapmap-publish 1\nstaging .gapmap-staging-x\nmove ../../etc/passwd",
            "gapmap-publish 1\nstaging .gapmap-staging-x\nremove /",
            "gapmap-publish 1\nstaging .gapmap-staging-x\nerase a",
        ] {
            assert_eq!(Journal::parse(text), None, "{text:?}");
        }
    }

    #[test]
    fn digests_are_those_of_the_staged_files() {
        let tmp = tempfile::tempdir().unwrap();
        let mut s = Staging::begin(&tmp.path().join("out"), false).unwrap();
        let mut f = super::super::output::OutputFile::create(&s.file("a.txt")).unwrap();
        std::io::Write::write_all(&mut f, b"abc").unwrap();
        f.finish().unwrap();
        std::fs::write(s.file("b.txt"), "abcd").unwrap();
        std::fs::write(s.file("run.json"), "{}").unwrap();
        let _ = s.file("never-written");
        let d = s.digests(&["run.json"]).unwrap();
        let names: Vec<&str> = d.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(names, ["a.txt", "b.txt"]);
        assert_eq!(d[0].bytes, 3);
        assert_eq!(
            d[0].sha256,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!((d[1].bytes, d[1].sha256.len()), (4, 64));
        let out = tmp.path().join("out");
        s.commit().unwrap();
        assert!(super::super::output::verify(&out, &d).is_empty());
    }
}
