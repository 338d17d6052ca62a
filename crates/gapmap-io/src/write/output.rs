//! Output files as they are written: their size and SHA-256 are taken on the way (run.json
//! lists them, and the readers of an analysis check them), and the first I/O error is kept, so
//! that a failure deep inside a library's writer is reported as what it was ("No space left on
//! device") rather than in that library's words ("Invalid thrift: transport error").

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{IoError, Result};

/// One output file as run.json records it: its name in the output directory, its size and
/// the SHA-256 of its bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileDigest {
    /// The file's name in the output directory.
    pub name: String,
    /// Its size, in bytes.
    pub bytes: u64,
    /// The SHA-256 of its bytes, in lower-case hex.
    pub sha256: String,
}

/// Digests of files written through [`OutputFile`] and finished, by path, until their
/// staging directory asks for them ([`take_digest`]). Paths are inside a staging directory of
/// their own run, so runs in one process (Python) never share an entry.
static FINISHED: Mutex<BTreeMap<PathBuf, (u64, String)>> = Mutex::new(BTreeMap::new());

/// The digest [`OutputFile::finish`] recorded for `path`, removed from the record.
pub(crate) fn take_digest(path: &Path) -> Option<(u64, String)> {
    FINISHED.lock().ok()?.remove(path)
}

/// Forgets the digests recorded under `dir` (a staging directory given up).
pub(crate) fn forget_digests(dir: &Path) {
    if let Ok(mut m) = FINISHED.lock() {
        m.retain(|p, _| !p.starts_with(dir));
    }
}

/// An output file written front to back: it hashes what it writes and keeps the first error.
/// It cannot seek, so the digest is always that of the whole file.
#[derive(Debug)]
pub struct OutputFile {
    file: File,
    path: PathBuf,
    hasher: Sha256,
    bytes: u64,
    error: Option<String>,
}

impl OutputFile {
    /// Creates (or truncates) `path`.
    pub fn create(path: &Path) -> Result<OutputFile> {
        let file = File::create(path).map_err(|e| IoError::Write {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        Ok(OutputFile {
            file,
            path: path.to_path_buf(),
            hasher: Sha256::new(),
            bytes: 0,
            error: None,
        })
    }

    /// The first I/O error a write or flush met, as an error naming the file: what a caller
    /// reports in place of the error a library made of it.
    pub fn failure(&self) -> Option<IoError> {
        self.error.as_ref().map(|m| IoError::Write {
            path: self.path.clone(),
            message: m.clone(),
        })
    }

    /// The first I/O error a write or flush met, as text.
    pub fn failure_message(&self) -> Option<&str> {
        self.error.as_deref()
    }

    /// The error to report for a writer's failure `message`: the I/O error underneath when
    /// there was one, else `message`.
    pub fn error_for(&self, message: impl std::fmt::Display) -> IoError {
        self.failure().unwrap_or_else(|| IoError::Write {
            path: self.path.clone(),
            message: message.to_string(),
        })
    }

    /// Flushes the file and records its size and digest for the staging directory.
    pub fn finish(mut self) -> Result<()> {
        self.file.flush().map_err(|e| self.error_for(e))?;
        if let Some(e) = self.failure() {
            return Err(e);
        }
        let digest = format!("{:x}", self.hasher.finalize_reset());
        if let Ok(mut m) = FINISHED.lock() {
            m.insert(self.path.clone(), (self.bytes, digest));
        }
        Ok(())
    }

    fn keep(&mut self, e: &io::Error) {
        if self.error.is_none() {
            self.error = Some(e.to_string());
        }
    }
}

impl Write for OutputFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self.file.write(buf) {
            Ok(n) => {
                self.hasher.update(&buf[..n]);
                self.bytes += n as u64;
                Ok(n)
            }
            Err(e) => {
                self.keep(&e);
                Err(e)
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush().inspect_err(|e| self.keep(e))
    }
}

/// The size and SHA-256 of the file at `path`.
pub fn digest_file(path: &Path) -> io::Result<(u64, String)> {
    let never = std::sync::atomic::AtomicBool::new(false);
    digest_file_until(path, &never)?
        .ok_or_else(|| io::Error::new(io::ErrorKind::Interrupted, "hashing stopped"))
}

/// [`digest_file`], stopped (`Ok(None)`) as soon as `stop` is set: it is checked before every
/// MiB read.
pub fn digest_file_until(
    path: &Path,
    stop: &std::sync::atomic::AtomicBool,
) -> io::Result<Option<(u64, String)>> {
    let mut f = File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut bytes = 0u64;
    loop {
        if stop.load(std::sync::atomic::Ordering::Relaxed) {
            return Ok(None);
        }
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
        bytes += n as u64;
    }
    Ok(Some((bytes, format!("{:x}", h.finalize()))))
}

/// Checks the files of `dir` against `digests`; returns what does not match, one line per
/// file (empty when all do). Sizes are compared first; contents are hashed in parallel.
pub fn verify(dir: &Path, digests: &[FileDigest]) -> Vec<String> {
    use rayon::prelude::*;
    digests
        .par_iter()
        .filter_map(|d| {
            let path = dir.join(&d.name);
            match std::fs::metadata(&path) {
                Err(_) => Some(format!("{} is missing", d.name)),
                Ok(m) if m.len() != d.bytes => Some(format!(
                    "{} has {} bytes where run.json records {}",
                    d.name,
                    m.len(),
                    d.bytes
                )),
                Ok(_) => match digest_file(&path) {
                    Ok((_, sha)) if sha == d.sha256 => None,
                    Ok(_) => Some(format!(
                        "{} is not the file run.json records (its SHA-256 differs)",
                        d.name
                    )),
                    Err(e) => Some(format!("{} cannot be read: {e}", d.name)),
                },
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_on_the_way_is_the_digest_of_the_file() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("a.txt");
        let mut f = OutputFile::create(&path).unwrap();
        for k in 0..1000 {
            writeln!(f, "line {k}").unwrap();
        }
        f.finish().unwrap();
        let recorded = take_digest(&path).unwrap();
        assert_eq!(recorded, digest_file(&path).unwrap());
        assert!(take_digest(&path).is_none(), "taken once");
        // sha256("abc"), the FIPS 180-2 example.
        std::fs::write(&path, "abc").unwrap();
        assert_eq!(
            digest_file(&path).unwrap().1,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn verify_names_each_file_that_differs() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("a"), "one").unwrap();
        std::fs::write(tmp.path().join("b"), "two").unwrap();
        let record = |name: &str| {
            let (bytes, sha256) = digest_file(&tmp.path().join(name)).unwrap();
            FileDigest {
                name: name.into(),
                bytes,
                sha256,
            }
        };
        let digests = vec![record("a"), record("b")];
        assert!(verify(tmp.path(), &digests).is_empty());
        std::fs::write(tmp.path().join("a"), "uno").unwrap(); // same size, other bytes
        std::fs::write(tmp.path().join("b"), "three").unwrap();
        let problems = verify(tmp.path(), &digests);
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].contains("a is not the file"), "{problems:?}");
        assert!(problems[1].contains("b has 5 bytes"), "{problems:?}");
        std::fs::remove_file(tmp.path().join("a")).unwrap();
        assert!(verify(tmp.path(), &digests)[0].contains("a is missing"));
    }

    #[test]
    fn a_full_disk_is_reported_as_such() {
        // /dev/full fails every write with ENOSPC, as a full disk does.
        let Ok(mut f) = OutputFile::create(Path::new("/dev/full")) else {
            return; // not on this system
        };
        let e = f.write_all(&[0u8; 100]).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::StorageFull);
        let msg = f.error_for("Invalid thrift: transport error").to_string();
        assert!(msg.contains("/dev/full"), "{msg}");
        assert!(msg.contains("No space left on device"), "{msg}");
    }
}
