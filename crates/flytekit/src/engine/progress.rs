//! Progress of a local run on stderr.
//!
//! On a terminal, one status line is redrawn (at most every 100 ms): nodes done, running, failed.
//! Otherwise a line per finished node. Retries and failures are always printed. Disabled entirely
//! with [`ProgressMode::Off`] (e.g. `run --quiet`).

use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How the engine reports progress.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ProgressMode {
    /// A live status line on a terminal, one line per node otherwise.
    #[default]
    Auto,
    /// One line per started and finished node.
    Lines,
    /// Nothing.
    Off,
}

#[derive(Debug, Default)]
struct Counts {
    total: usize,
    done: usize,
    cached: usize,
    running: usize,
    failed: usize,
    last_draw: Option<Instant>,
    drawn: bool,
}

/// The progress reporter of one engine run.
#[derive(Debug)]
pub(crate) struct Progress {
    mode: ProgressMode,
    tty: bool,
    started: Instant,
    counts: Mutex<Counts>,
}

impl Progress {
    pub(crate) fn new(mode: ProgressMode, total: usize) -> Self {
        let tty = mode == ProgressMode::Auto && std::io::stderr().is_terminal();
        Self {
            mode,
            tty,
            started: Instant::now(),
            counts: Mutex::new(Counts {
                total,
                ..Counts::default()
            }),
        }
    }

    fn counts(&self) -> std::sync::MutexGuard<'_, Counts> {
        self.counts.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn line(&self, c: &mut Counts, text: &str) {
        let mut err = std::io::stderr().lock();
        if self.tty && c.drawn {
            let _ = write!(err, "\r\x1b[2K");
            c.drawn = false;
        }
        let _ = writeln!(err, "{text}");
    }

    fn draw(&self, c: &mut Counts, force: bool) {
        if !self.tty {
            return;
        }
        let now = Instant::now();
        if !force
            && c.last_draw
                .is_some_and(|t| now.duration_since(t) < Duration::from_millis(100))
        {
            return;
        }
        c.last_draw = Some(now);
        c.drawn = true;
        let mut err = std::io::stderr().lock();
        let _ = write!(
            err,
            "\r\x1b[2K[{}/{}] done {} ({} cached), running {}, failed {}",
            c.done + c.failed,
            c.total,
            c.done,
            c.cached,
            c.running,
            c.failed
        );
        let _ = err.flush();
    }

    pub(crate) fn begin(&self, kind: &str, name: &str) {
        if self.mode == ProgressMode::Off {
            return;
        }
        let mut c = self.counts();
        let total = c.total;
        self.line(
            &mut c,
            &format!("running {kind} {name} ({total} task node(s))"),
        );
    }

    pub(crate) fn started(&self, node: &str, entity: &str) {
        if self.mode == ProgressMode::Off {
            return;
        }
        let mut c = self.counts();
        c.running += 1;
        if self.mode == ProgressMode::Lines {
            self.line(&mut c, &format!("  start  {node} ({entity})"));
        }
        self.draw(&mut c, false);
    }

    pub(crate) fn finished(&self, node: &str, entity: &str, cached: bool, elapsed: Duration) {
        if self.mode == ProgressMode::Off {
            return;
        }
        let mut c = self.counts();
        c.running = c.running.saturating_sub(1);
        c.done += 1;
        if cached {
            c.cached += 1;
        }
        if !self.tty {
            let how = if cached { "cached" } else { "done" };
            self.line(
                &mut c,
                &format!("  {how:<6} {node} ({entity}) in {elapsed:.1?}"),
            );
        }
        self.draw(&mut c, false);
    }

    pub(crate) fn retrying(&self, node: &str, entity: &str, attempt: u32, error: &str) {
        if self.mode == ProgressMode::Off {
            return;
        }
        let mut c = self.counts();
        self.line(
            &mut c,
            &format!("  retry  {node} ({entity}) after attempt {attempt} failed: {error}"),
        );
        self.draw(&mut c, true);
    }

    pub(crate) fn failed(&self, node: &str, entity: &str, error: &str) {
        if self.mode == ProgressMode::Off {
            return;
        }
        let mut c = self.counts();
        c.running = c.running.saturating_sub(1);
        c.failed += 1;
        self.line(&mut c, &format!("  FAILED {node} ({entity}): {error}"));
        self.draw(&mut c, true);
    }

    pub(crate) fn end(&self, ok: bool) {
        if self.mode == ProgressMode::Off {
            return;
        }
        let mut c = self.counts();
        let elapsed = self.started.elapsed();
        let text = format!(
            "{} in {elapsed:.1?}: {} node(s) done ({} cached), {} failed",
            if ok { "succeeded" } else { "failed" },
            c.done,
            c.cached,
            c.failed
        );
        self.line(&mut c, &text);
    }
}
