//! All-or-nothing output: files are written into a hidden staging directory inside the output
//! directory and renamed into place only when every one of them has been written. A failed or
//! interrupted run leaves no partial outputs (and removes an output directory it created).

use std::path::{Path, PathBuf};

use crate::error::{IoError, Result};

/// The name of a staging directory starts so.
const STAGING_PREFIX: &str = ".gapmap-staging-";
/// The file in a staging directory that names the process writing it: `PID START_TICKS`.
const OWNER_FILE: &str = ".owner";

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

    /// Moves every staged file into the output directory; returns their final paths.
    pub fn commit(mut self) -> Result<Vec<PathBuf>> {
        let Some(staging) = self.staging.take() else {
            return Ok(Vec::new()); // `commit` takes the `Staging`: it cannot run twice
        };
        let mut done = Vec::new();
        for name in &self.files {
            let from = staging.path().join(name);
            if !from.exists() {
                continue;
            }
            let to = self.dir.join(name);
            std::fs::rename(&from, &to).map_err(|e| IoError::Write {
                path: to.clone(),
                message: e.to_string(),
            })?;
            done.push(to);
        }
        drop(staging);
        self.created_dir = false;
        Ok(done)
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        // Not committed: remove the staging directory, then the output directory if this run
        // created it and it is empty.
        if let Some(s) = self.staging.take() {
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
}
