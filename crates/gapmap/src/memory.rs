//! Peak resident memory per phase, on Linux.
//!
//! The kernel keeps the process's peak (`VmHWM`); a phase that raises it has that as its peak,
//! exactly. A phase that stays below an earlier peak gets the maximum that a sampling thread
//! saw (every 2 ms). The kernel's counter is never reset, so outside tools (`/usr/bin/time`,
//! a parent's `wait4`) still see the true peak of the whole run. Elsewhere the peaks are
//! `None`.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

fn status_kb(key: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(key))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The process's peak resident size so far, in bytes.
pub fn peak_rss_bytes() -> Option<u64> {
    status_kb("VmHWM:").map(|kb| kb * 1024)
}

/// The current resident size, in bytes (`/proc/self/statm`, cheap to read).
pub fn rss_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

/// CPU time the process has used so far, user and system, over all its threads, in seconds
/// (`/proc/self/stat`, in the kernel's 10 ms clock ticks; Linux only).
pub fn cpu_seconds() -> Option<f64> {
    cpu_ticks().map(ticks_to_seconds)
}

/// Clock ticks (`USER_HZ`, 100 a second on every Linux architecture Rust supports) as seconds.
pub fn ticks_to_seconds(ticks: u64) -> f64 {
    ticks as f64 / 100.0
}

/// [`cpu_seconds`] in clock ticks, so that differences are exact.
pub fn cpu_ticks() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name, in parentheses, may contain spaces: count fields after its end.
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut f = rest.split_whitespace();
    // utime and stime are fields 14 and 15 of the line; `rest` starts at field 3.
    let utime: u64 = f.nth(11)?.parse().ok()?;
    let stime: u64 = f.next()?.parse().ok()?;
    Some(utime + stime)
}

/// Tracks the peak resident size of successive phases.
pub struct PhasePeaks {
    sampled: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    sampler: Option<JoinHandle<()>>,
    hwm_at_start: Option<u64>,
}

impl PhasePeaks {
    /// Starts the first phase.
    pub fn start() -> PhasePeaks {
        let sampled = Arc::new(AtomicU64::new(rss_bytes().unwrap_or(0)));
        let stop = Arc::new(AtomicBool::new(false));
        let sampler = rss_bytes().is_some().then(|| {
            let (sampled, stop) = (sampled.clone(), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    if let Some(r) = rss_bytes() {
                        sampled.fetch_max(r, Ordering::Relaxed);
                    }
                    std::thread::sleep(Duration::from_millis(2));
                }
            })
        });
        PhasePeaks {
            sampled,
            stop,
            sampler,
            hwm_at_start: peak_rss_bytes(),
        }
    }

    /// Ends a phase: returns its peak in bytes and starts the next one.
    pub fn lap(&mut self) -> Option<u64> {
        let hwm = peak_rss_bytes()?;
        let now = rss_bytes().unwrap_or(0);
        let sampled = self.sampled.swap(now, Ordering::Relaxed).max(now);
        let peak = match self.hwm_at_start {
            Some(before) if hwm > before => hwm,
            _ => sampled.min(hwm),
        };
        self.hwm_at_start = Some(hwm);
        Some(peak)
    }
}

impl Drop for PhasePeaks {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.sampler.take() {
            let _ = h.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phase_peaks_bound_what_the_phase_used() {
        if rss_bytes().is_none() {
            return; // not Linux
        }
        let mut p = PhasePeaks::start();
        let _ = p.lap();
        let before = rss_bytes().unwrap();
        // A phase that touches 96 MiB: its peak is at least that much above where it began.
        let v = vec![1u8; 96 << 20];
        std::hint::black_box(&v);
        let big = p.lap().unwrap();
        assert!(big >= before + (90 << 20), "{before} -> {big}");
        // Any phase's peak lies between the memory in use at its end and the process peak.
        drop(v);
        let now = rss_bytes().unwrap();
        let quiet = p.lap().unwrap();
        assert!(quiet + (8 << 20) >= now, "{quiet} < {now}");
        assert!(quiet <= peak_rss_bytes().unwrap(), "{quiet}");
    }

    #[test]
    fn cpu_seconds_grow_with_work() {
        let Some(before) = cpu_seconds() else {
            return; // not Linux
        };
        // Spin on this thread until the process has used at least 50 ms more CPU time.
        let t0 = std::time::Instant::now();
        let mut x = 0u64;
        while cpu_seconds().unwrap() < before + 0.05 {
            x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
            assert!(t0.elapsed().as_secs() < 30, "CPU time did not grow");
        }
        assert!(cpu_seconds().unwrap() >= before + 0.05);
    }
}
