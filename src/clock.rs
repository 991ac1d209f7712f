//! The app's clock: wall-clock time in ms with an offset that tests move forward, so that SLA
//! timers, draft reminders and retry backoff can be tested over hours without waiting.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

/// Wall-clock time in ms, with an offset that tests move forward instead of waiting.
#[derive(Clone, Debug, Default)]
pub struct Clock {
    offset_ms: Arc<AtomicI64>,
    moved: Arc<tokio::sync::Notify>,
}

impl Clock {
    /// Now, in ms since the Unix epoch.
    pub fn now_ms(&self) -> i64 {
        let wall = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64);
        wall + self.offset_ms.load(Ordering::Relaxed)
    }

    /// Moves this clock (and its clones) forward.
    pub fn advance(&self, by: Duration) {
        self.offset_ms
            .fetch_add(by.as_millis() as i64, Ordering::Relaxed);
        self.moved.notify_waiters();
    }

    /// Sets this clock (and its clones) so that now is `ms` (tests start at a chosen time).
    pub fn jump_to(&self, ms: i64) {
        let wall = self.now_ms() - self.offset_ms.load(Ordering::Relaxed);
        self.offset_ms.store(ms - wall, Ordering::Relaxed);
        self.moved.notify_waiters();
    }

    /// Waits until this clock has moved on by `d`: in real time, or at once when a test
    /// advances it past the end. Backoff waits use it, so a test can skip hours.
    pub async fn sleep(&self, d: Duration) {
        let until = self.now_ms() + d.as_millis() as i64;
        loop {
            let moved = self.moved.notified();
            tokio::pin!(moved);
            moved.as_mut().enable();
            let left = until - self.now_ms();
            if left <= 0 {
                return;
            }
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(left as u64)) => {}
                _ = moved => {}
            }
        }
    }
}
