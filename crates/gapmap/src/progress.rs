//! Progress and notices, reported to whoever runs the pipeline.
//!
//! The pipeline makes a [`Bar`] per long phase and calls [`notice`] for what the user should
//! know (a default field that was absent, features repaired). Where they go is the front
//! end's choice: the CLI draws terminal bars and prints `note: ...` lines, the Python package
//! calls a callback. Without a [`Reporter`], bars are silent and notices are only recorded
//! (every notice also goes into run.json).
//!
//! The reporter is one per process ([`set_reporter`]), as a terminal is: the pipeline's
//! functions need not carry it through every call.

use std::sync::{Arc, RwLock};

/// One running task: a bar over a known number of items, or a spinner.
pub trait Task: Send + Sync {
    /// `n` more items are done.
    fn advance(&self, n: u64);
    /// The task is over (the bar is cleared).
    fn finish(&self);
}

/// Where progress and notices go.
pub trait Reporter: Send + Sync {
    /// Starts a task labelled `label`, over `len` items (`None`: a spinner).
    fn start(&self, label: &str, len: Option<u64>) -> Box<dyn Task>;
    /// A notice for the user (also recorded in run.json).
    fn notice(&self, text: &str);
}

static REPORTER: RwLock<Option<Arc<dyn Reporter>>> = RwLock::new(None);

/// Sets the reporter of this process (`None`: silent).
pub fn set_reporter(reporter: Option<Arc<dyn Reporter>>) {
    if let Ok(mut r) = REPORTER.write() {
        *r = reporter;
    }
}

fn reporter() -> Option<Arc<dyn Reporter>> {
    REPORTER.read().ok().and_then(|r| r.clone())
}

/// Tells the user `text` (the CLI prints `note: text` on stderr).
pub fn notice(text: &str) {
    if let Some(r) = reporter() {
        r.notice(text);
    }
}

/// A progress bar that the core kernels advance ([`gapmap_core::par::Progress`]).
pub struct Bar(Option<Box<dyn Task>>);

impl Bar {
    /// A bar over `len` items, labelled `label`.
    pub fn new(len: u64, label: &str) -> Bar {
        Bar(reporter().map(|r| r.start(label, Some(len))))
    }

    /// A spinner for work of unknown length.
    pub fn spinner(label: &str) -> Bar {
        Bar(reporter().map(|r| r.start(label, None)))
    }

    /// Ends the bar.
    pub fn finish(self) {
        if let Some(t) = &self.0 {
            t.finish();
        }
    }
}

impl gapmap_core::par::Progress for Bar {
    fn advance(&self, n: u64) {
        if let Some(t) = &self.0 {
            t.advance(n);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gapmap_core::par::Progress;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::Mutex;

    #[derive(Default)]
    struct Count {
        done: Arc<AtomicU64>,
        notices: Mutex<Vec<String>>,
    }
    struct CountTask(Arc<AtomicU64>);
    impl Task for CountTask {
        fn advance(&self, n: u64) {
            self.0.fetch_add(n, Ordering::Relaxed);
        }
        fn finish(&self) {}
    }
    impl Reporter for Count {
        fn start(&self, _: &str, _: Option<u64>) -> Box<dyn Task> {
            Box::new(CountTask(self.done.clone()))
        }
        fn notice(&self, text: &str) {
            self.notices.lock().unwrap().push(text.into());
        }
    }

    #[test]
    fn bars_and_notices_reach_the_reporter() {
        let r = Arc::new(Count::default());
        set_reporter(Some(r.clone()));
        let b = Bar::new(10, "x");
        b.advance(3);
        b.advance(4);
        b.finish();
        notice("hello");
        set_reporter(None);
        // Silent without a reporter.
        Bar::new(5, "y").advance(5);
        notice("lost");
        assert_eq!(r.done.load(Ordering::Relaxed), 7);
        assert_eq!(*r.notices.lock().unwrap(), vec!["hello".to_string()]);
    }
}
