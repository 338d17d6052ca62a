//! All-or-nothing output: files are written into a hidden staging directory inside the output
//! directory and renamed into place only when every one of them has been written. A failed or
//! interrupted run leaves no partial outputs (and removes an output directory it created).

use std::path::{Path, PathBuf};

use crate::error::{IoError, Result};

/// Checks that `dir` may be written to: absent, empty, or `overwrite`.
pub fn check_output_dir(dir: &Path, overwrite: bool) -> Result<()> {
    if !dir.exists() {
        return Ok(());
    }
    if !dir.is_dir() {
        return Err(IoError::OutputNotDir {
            path: dir.to_path_buf(),
        });
    }
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
            .prefix(".gapmap-staging-")
            .tempdir_in(dir)
            .map_err(werr)?;
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
}
