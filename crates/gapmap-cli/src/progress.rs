//! Progress bars and notices on stderr: bars only when stderr is a terminal, notices always
//! (`note: ...`).

use std::io::IsTerminal;
use std::time::Duration;

use gapmap::progress::{Reporter, Task};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// The terminal as the library's reporter.
pub struct Terminal;

struct Bar(ProgressBar);

impl Task for Bar {
    fn advance(&self, n: u64) {
        self.0.inc(n);
    }
    fn finish(&self) {
        self.0.finish_and_clear();
    }
}

impl Reporter for Terminal {
    fn start(&self, label: &str, len: Option<u64>) -> Box<dyn Task> {
        let tty = std::io::stderr().is_terminal();
        let pb = match (len, tty) {
            (_, false) => ProgressBar::hidden(),
            (Some(len), true) => {
                ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr())
            }
            (None, true) => {
                let pb = ProgressBar::new_spinner();
                pb.enable_steady_tick(Duration::from_millis(120));
                pb
            }
        };
        let template = match len {
            Some(_) => "{msg:>12} [{bar:40}] {human_pos}/{human_len} ({elapsed})",
            None => "{spinner} {msg} ({elapsed})",
        };
        if let Ok(style) = ProgressStyle::with_template(template) {
            pb.set_style(style.progress_chars("=> "));
        }
        pb.set_message(label.to_string());
        Box::new(Bar(pb))
    }

    fn notice(&self, text: &str) {
        // Not eprintln!: a closed stderr must not panic.
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "note: {}",
            gapmap_io::read::mask_secrets(text)
        );
    }
}
