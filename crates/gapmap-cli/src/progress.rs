//! Progress bars on stderr, only when stderr is a terminal.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A progress bar that the core kernels can advance.
pub struct Bar(ProgressBar);

impl Bar {
    /// A bar over `len` items, labelled `msg`; hidden when stderr is not a terminal.
    pub fn new(len: u64, msg: &'static str) -> Bar {
        let pb = if std::io::stderr().is_terminal() {
            ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr())
        } else {
            ProgressBar::hidden()
        };
        pb.set_style(
            ProgressStyle::with_template(
                "{msg:>12} [{bar:40}] {human_pos}/{human_len} ({elapsed})",
            )
            .expect("static template")
            .progress_chars("=> "),
        );
        pb.set_message(msg);
        Bar(pb)
    }

    /// A spinner for work of unknown length.
    pub fn spinner(msg: String) -> Bar {
        let pb = if std::io::stderr().is_terminal() {
            let pb = ProgressBar::new_spinner();
            pb.enable_steady_tick(Duration::from_millis(120));
            pb
        } else {
            ProgressBar::hidden()
        };
        pb.set_style(
            ProgressStyle::with_template("{spinner} {msg} ({elapsed})").expect("static template"),
        );
        pb.set_message(msg);
        Bar(pb)
    }

    pub fn finish(self) {
        self.0.finish_and_clear();
    }
}

impl gapmap_core::par::Progress for Bar {
    fn advance(&self, n: u64) {
        self.0.inc(n);
    }
}
