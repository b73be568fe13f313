//! Progress bars on stderr (indicatif): the snapshot stream of `snapshot save` and downloads of
//! bucket objects. Drawn only when stderr is a terminal and logs are text, so cron mail and log
//! shippers never see a carriage return; cleared when done, dropped or failed.

use std::io::{IsTerminal, Read};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressFinish, ProgressStyle};

use crate::log::{self, LogFormat};

// Under 80 columns: a longer line wraps, and every redraw then scrolls the terminal.
const BAR: &str =
    "{msg} [{bar:20}] {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec} ETA {eta}";
const SPINNER: &str = "{spinner} {msg} {binary_bytes}, {binary_bytes_per_sec}";

/// Whether a progress bar may be drawn: stderr is a terminal and logs are text.
pub fn on_terminal() -> bool {
    log::format() == LogFormat::Text && std::io::stderr().is_terminal()
}

pub struct Progress {
    bar: Option<ProgressBar>,
}

impl Progress {
    /// The bar of `snapshot save`; draws nothing unless `enabled` (the caller checks the
    /// terminal and the log format). Its length comes with the first [`Progress::update`].
    pub fn new(enabled: bool) -> Progress {
        Progress {
            bar: enabled.then(|| styled(ProgressBar::new(0), BAR, "snapshot")),
        }
    }

    /// A bar for a download of `total` bytes, or a spinner counting bytes when the size is
    /// unknown; nothing unless [`on_terminal`].
    pub fn download(what: &str, total: Option<u64>) -> Progress {
        let bar = on_terminal().then(|| match total {
            Some(n) => styled(ProgressBar::new(n), BAR, what),
            None => styled(ProgressBar::no_length(), SPINNER, what),
        });
        Progress { bar }
    }

    pub fn update(&mut self, done: u64, total: u64) {
        if let Some(bar) = &self.bar {
            if bar.length() != Some(total) {
                bar.set_length(total);
            }
            bar.set_position(done);
        }
    }

    /// Counts the bytes read through `inner`; the bar is cleared when the reader is dropped.
    pub fn wrap_read<R: Read>(mut self, inner: R) -> CountingReader<R> {
        CountingReader {
            inner,
            bar: self.bar.take(),
        }
    }

    /// Clears the bar.
    pub fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}

/// A reader that advances a progress bar (see [`Progress::wrap_read`]).
pub struct CountingReader<R> {
    inner: R,
    bar: Option<ProgressBar>,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(bar) = &self.bar {
            bar.inc(n as u64);
        }
        Ok(n)
    }
}

impl<R> Drop for CountingReader<R> {
    fn drop(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}

fn styled(bar: ProgressBar, template: &str, what: &str) -> ProgressBar {
    let style = ProgressStyle::with_template(template)
        .expect("a valid progress template")
        .progress_chars("=> ");
    bar.set_draw_target(ProgressDrawTarget::stderr_with_hz(5));
    bar.with_style(style)
        .with_message(what.to_string())
        .with_finish(ProgressFinish::AndClear)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_disabled_bar_counts_nothing_and_passes_bytes_through() {
        let mut p = Progress::new(false);
        p.update(5, 10);
        assert!(p.bar.is_none());
        let mut r = Progress::new(false).wrap_read(&b"abcdef"[..]);
        let mut out = Vec::new();
        r.read_to_end(&mut out).unwrap();
        assert_eq!(out, b"abcdef");
    }

    #[test]
    fn an_enabled_bar_follows_updates_and_reads() {
        let mut p = Progress::new(true);
        p.update(3, 10);
        let bar = p.bar.clone().unwrap();
        assert_eq!((bar.position(), bar.length()), (3, Some(10)));
        p.finish();
        assert!(bar.is_finished());

        let counted = Progress {
            bar: Some(styled(ProgressBar::no_length(), SPINNER, "download")),
        };
        let bar = counted.bar.clone().unwrap();
        let mut r = counted.wrap_read(&[0u8; 1000][..]);
        std::io::copy(&mut r, &mut std::io::sink()).unwrap();
        assert_eq!(bar.position(), 1000);
        drop(r);
        assert!(bar.is_finished());
    }
}
