//! The errors of the pipeline, and the one way every numeric option is checked.
//!
//! [`Error::is_bad_input`] decides the exit code the CLI gives (2 for the user's input or
//! usage, 1 for anything else) and whether Python raises `InputError` or `Error`.

use std::path::PathBuf;

/// Everything that can stop a run.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An option out of range, a missing input or a combination that does not work. The
    /// message names the flag as the user typed it.
    #[error("{0}")]
    Usage(String),
    /// Reading an input or writing an output.
    #[error(transparent)]
    Io(#[from] gapmap_io::IoError),
    /// An analysis refused its input.
    #[error(transparent)]
    Core(#[from] gapmap_core::CoreError),
    /// A file that gapmap wrote earlier (an analysis directory, its run.json) is not what
    /// gapmap writes.
    #[error("{path}: {message}")]
    Analysis {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// A failure of the machine or of gapmap itself (a worker thread that could not start or
    /// panicked).
    #[error("{0}")]
    Internal(String),
}

impl Error {
    /// A usage error with this message.
    pub fn usage(message: impl Into<String>) -> Error {
        Error::Usage(message.into())
    }

    /// True when the error is the user's input or usage (exit code 2), false for failures of
    /// the machine or of gapmap itself (exit code 1).
    pub fn is_bad_input(&self) -> bool {
        match self {
            Error::Usage(_) | Error::Core(_) | Error::Analysis { .. } => true,
            Error::Io(e) => e.is_bad_input(),
            Error::Internal(_) => false,
        }
    }
}

/// Short alias.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Checks a numeric option: finite and at least `min` (`inclusive`) or above it. `flag` is
/// the name the user typed (`--drop-distance-m`).
pub fn check_number(flag: &str, v: f64, min: f64, inclusive: bool) -> Result<()> {
    let ok = v.is_finite() && if inclusive { v >= min } else { v > min };
    if ok {
        Ok(())
    } else {
        Err(Error::Usage(format!(
            "{flag} must be a finite number {} {min}, got {v}",
            if inclusive { ">=" } else { ">" }
        )))
    }
}

/// Checks a numeric option against a closed range; `what` says what the number is
/// ("metres", "dB").
pub fn check_range(flag: &str, v: f64, min: f64, max: f64, what: &str) -> Result<()> {
    if v.is_finite() && (min..=max).contains(&v) {
        Ok(())
    } else {
        Err(Error::Usage(format!(
            "{flag} must be between {min} and {max} {what}, got {v}"
        )))
    }
}

/// Checks that a numeric option is at most `max` (`unit`: "metres"); `check_number` has
/// checked that it is finite and above its least value.
pub fn check_at_most(flag: &str, v: f64, max: f64, unit: &str) -> Result<()> {
    if v <= max {
        Ok(())
    } else {
        Err(Error::Usage(format!(
            "{flag} must be at most {max} {unit}, got {v}"
        )))
    }
}

/// The most worker threads `--threads` may ask for: 4 per core of this machine.
pub fn max_threads() -> usize {
    4 * std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Checks `--threads`: at least 1 and at most [`max_threads`] when given.
pub fn check_threads(threads: Option<usize>) -> Result<()> {
    match threads {
        Some(0) => Err(Error::usage("--threads must be at least 1")),
        Some(n) if n > max_threads() => Err(Error::Usage(format!(
            "--threads must be at most {} (4 per core here), got {n}",
            max_threads()
        ))),
        _ => Ok(()),
    }
}

/// The error of a worker thread that panicked.
pub(crate) fn panicked(what: &str) -> Error {
    Error::Internal(format!("{what} panicked"))
}

/// A write failure of `path`.
pub(crate) fn write_error(path: impl Into<PathBuf>, e: impl std::fmt::Display) -> Error {
    Error::Io(gapmap_io::IoError::Write {
        path: path.into(),
        message: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_checked_with_the_flag_named() {
        assert!(check_number("--x-m", 0.0, 0.0, true).is_ok());
        let e = check_number("--x-m", 0.0, 0.0, false).unwrap_err();
        assert_eq!(e.to_string(), "--x-m must be a finite number > 0, got 0");
        assert!(e.is_bad_input());
        assert!(check_number("--x-m", f64::NAN, 0.0, true).is_err());
        assert!(check_number("--x-m", f64::INFINITY, 0.0, true).is_err());
        assert!(check_range("--g", 10.0, 1.0, 10.0, "metres").is_ok());
        assert_eq!(
            check_range("--g", 0.5, 1.0, 10.0, "metres")
                .unwrap_err()
                .to_string(),
            "--g must be between 1 and 10 metres, got 0.5"
        );
        assert!(check_threads(Some(0)).is_err());
        assert!(check_threads(None).is_ok());
        assert!(check_threads(Some(1)).is_ok());
        let e = check_threads(Some(100_000)).unwrap_err();
        assert!(e.is_bad_input() && e.to_string().starts_with("--threads must be at most"));
        assert!(check_at_most("--m", 10.0, 10.0, "metres").is_ok());
        assert_eq!(
            check_at_most("--m", 1e12, 10.0, "metres")
                .unwrap_err()
                .to_string(),
            "--m must be at most 10 metres, got 1000000000000"
        );
        assert!(!panicked("the reader").is_bad_input());
    }
}
