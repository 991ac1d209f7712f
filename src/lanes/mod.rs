//! Lanes: work items of one key (a citizen, a tip) run one after the other in arrival order,
//! items of different keys concurrently, with no batch barrier: a slow or failing item holds up
//! only its own key. A failed item is retried in place with backoff (100 ms doubling to 5 s, or
//! the wait its error names with [`Again`]), the rest of its key waiting behind it. The intake
//! (keyed by citizen) and the event consumers, the forwarder among them (keyed by tip), run
//! their stream entries through lanes; what differs between them (the retry policy, the clock
//! a wait runs on, the order within a key) comes in through [`Work`].
//!
//! Items come from a reader task over a bounded channel; the lanes stop taking new ones while
//! `Limits::queued` are waiting or running, so a burst waits in Redis, not in memory.
//!
//! No key holds more than a small share of that capacity ([`Limits::share`]): when the work
//! can fetch its items again by id ([`Work::spill_id`], [`Work::fetch`]), a key's items beyond
//! its share are not held but spilled (only their ids are kept, in order), and fetched again
//! as the key's queue drains. A citizen with thousands of messages in the inbox, or a card
//! pressed a thousand times, then goes at its own pace while everyone else's items keep
//! being read and worked. The ids themselves are bounded too: with `SPILLED_PER_HELD` times
//! `queued` of them remembered, the reader waits. (The intake spills, by inbox stream id; the
//! event consumers, keyed by tip, hold every item.) The bookkeeping is in `board.rs`.
//!
//! On shutdown no new item starts, a retry waiting out its backoff is dropped, and running
//! items finish; whatever was read and not finished (spilled items too) stays pending in
//! Redis and is read again at the next start.

use std::collections::VecDeque;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::{JoinHandle, JoinSet};
use tokio_util::sync::CancellationToken;

use board::Board;

/// What runs in lanes.
pub trait Work: Send + Sync + 'static {
    /// One item (a stream entry).
    type Item: Send + Sync + 'static;

    /// Name in the logs.
    const NAME: &'static str;

    /// Does the item's work; an error retries it after a backoff, or as its [`Again`] says.
    fn run(&self, item: &Self::Item) -> impl Future<Output = anyhow::Result<()>> + Send;

    /// Where an item goes among its key's waiting ones: lower first, equal ranks in arrival
    /// order (the default: all equal). The event consumers rank by the tip's sequence number,
    /// so an event taken over late from a stopped worker still goes before its tip's later
    /// ones.
    fn rank(_item: &Self::Item) -> u64 {
        0
    }

    /// Waits `wait` before `item` runs again (by default on tokio's timer; the event
    /// consumers wait on the app clock, which tests move forward).
    fn sleep(&self, _item: &Self::Item, wait: Duration) -> impl Future<Output = ()> + Send {
        tokio::time::sleep(wait)
    }

    /// The id by which [`Work::fetch`] gets the item again, so that items of a key beyond its
    /// share need not be held in memory; `None` (the default): every item is held.
    fn spill_id(_item: &Self::Item) -> Option<&str> {
        None
    }

    /// Items by the ids [`Work::spill_id`] gave, in the order asked; an item that is gone
    /// (finished elsewhere) is left out. An error fetches them again after a backoff.
    fn fetch(
        &self,
        _ids: &[String],
    ) -> impl Future<Output = anyhow::Result<Vec<Self::Item>>> + Send {
        std::future::ready(Ok(Vec::new()))
    }
}

/// Attached to an error (`error.context(Again::After(wait))`) by work that knows when it is
/// worth running the item again; any other error waits [`backoff`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Again {
    /// Run this item again after the wait; its key's other items wait behind it. A failure.
    After(Duration),
    /// Not this item's turn yet (an earlier item of its key is still out somewhere): it goes
    /// back among its key's items by rank, and the key's first item runs after the wait, so
    /// an earlier item that arrives meanwhile goes first. Not a failure.
    Later(Duration),
}

impl std::fmt::Display for Again {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::After(wait) => write!(f, "retrying in {wait:?}"),
            Self::Later(wait) => write!(f, "not its turn; again in {wait:?}"),
        }
    }
}

/// Work whose items come from a stream: those read before and not finished (at start), then
/// new ones.
pub trait Source: Work {
    /// The items read before and not finished, oldest first.
    fn pending(&self) -> impl Future<Output = anyhow::Result<Keyed<Self::Item>>> + Send;

    /// New items, waiting a while (a second) when there are none.
    fn read_new(&self) -> impl Future<Output = anyhow::Result<Keyed<Self::Item>>> + Send;
}

/// Runs `source` until `shutdown`: its pending items (retrying the read with backoff), then
/// new ones from a reader task, through lanes bounded by `limits`.
pub async fn serve<S: Source>(source: Arc<S>, limits: Limits, shutdown: CancellationToken) {
    let mut failures = 0u32;
    let first = loop {
        match source.pending().await {
            Ok(first) => break first,
            Err(e) => {
                failures += 1;
                let wait = backoff(failures);
                tracing::warn!(
                    lanes = S::NAME,
                    error = format!("{e:#}"),
                    ?wait,
                    "reading pending entries failed; retrying"
                );
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    _ = tokio::time::sleep(wait) => {}
                }
            }
        }
    };
    let (tx, rx) = mpsc::channel(2);
    let reader = {
        let source = source.clone();
        spawn_reader(
            S::NAME,
            move || {
                let source = source.clone();
                async move { source.read_new().await }
            },
            tx,
            shutdown.clone(),
        )
    };
    run(source, first, rx, limits, shutdown).await;
    reader.join().await;
}

/// Bounds of the lanes.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Keys worked on at once.
    pub running: usize,
    /// Items held (waiting and running) before no more are taken from the reader.
    pub queued: usize,
}

/// Ids of spilled items the lanes remember, per item they hold, before they stop reading.
const SPILLED_PER_HELD: usize = 16;

impl Limits {
    /// Most items of one key held in memory (waiting or running) when the work can spill
    /// ([`Work::spill_id`]): 1/32 of `queued`, at least 1.
    pub fn share(&self) -> usize {
        (self.queued / 32).max(1)
    }
}

/// A batch of items, each with its key.
pub type Keyed<T> = Vec<(String, T)>;

/// The wait before retry number `failures` (1, 2, …).
pub fn backoff(failures: u32) -> Duration {
    Duration::from_millis((100u64 << failures.min(6)).min(5000))
}

/// One finished run: the key, the item, its failures so far and the outcome.
type Finished<T> = (String, T, u32, anyhow::Result<()>);

/// Runs one item; a panic is an error like any other (retried in place, its key kept busy),
/// so a panicking entry neither vanishes nor lets its key's later entries overtake it.
async fn run_caught<W: Work>(work: &W, item: &W::Item) -> anyhow::Result<()> {
    use futures_util::FutureExt;
    match std::panic::AssertUnwindSafe(work.run(item))
        .catch_unwind()
        .await
    {
        Ok(result) => result,
        Err(_) => Err(anyhow::anyhow!("the work panicked")),
    }
}

/// Runs `first` (items read before, e.g. pending after a restart) and then what `incoming`
/// brings, until `shutdown` (or until `incoming` closes and everything is done).
pub async fn run<W: Work>(
    work: Arc<W>,
    first: Keyed<W::Item>,
    mut incoming: mpsc::Receiver<Keyed<W::Item>>,
    limits: Limits,
    shutdown: CancellationToken,
) {
    let mut board = Board::new(limits.share());
    let mut running: JoinSet<Finished<W::Item>> = JoinSet::new();
    // Fetches of spilled items, one per key at most.
    let mut fetches: JoinSet<Fetched<W::Item>> = JoinSet::new();
    // Keys whose item was put back ([`Again::Later`]), each until its wait is over; they hold
    // no running slot.
    let mut parked: JoinSet<String> = JoinSet::new();
    let mut closed = false;
    board.add(first, W::rank, W::spill_id);
    loop {
        while !shutdown.is_cancelled() && running.len() < limits.running {
            let Some(key) = board.ready.pop_front() else {
                break;
            };
            let Some((_, item)) = board.queues.get_mut(&key).and_then(VecDeque::pop_front) else {
                continue;
            };
            let w = work.clone();
            let name = key.clone();
            let task = running.spawn(async move {
                let result = run_caught(&*w, &item).await;
                (name, item, 0, result)
            });
            board.busy_keys.insert(key.clone());
            if let Some(ids) = board.take_due_fetch(&key) {
                spawn_fetch(&mut fetches, &work, key.clone(), ids, &shutdown);
            }
            board.busy.insert(task.id(), key);
        }
        if running.is_empty()
            && (shutdown.is_cancelled()
                || (closed
                    && board.ready.is_empty()
                    && parked.is_empty()
                    && fetches.is_empty()
                    && board.spilled_count == 0))
        {
            return;
        }
        tokio::select! {
            biased;
            Some(joined) = running.join_next_with_id() => {
                let (key, item, failures, result) = match joined {
                    Ok((id, finished)) => {
                        board.busy.remove(&id);
                        finished
                    }
                    Err(e) => {
                        // Panics are caught in `run_caught`, so only a task aborted from
                        // outside ends here: its item stays pending in Redis until the next
                        // start, and the rest of its key goes on.
                        tracing::error!(lanes = W::NAME, error = %e, "a work item panicked; left pending");
                        if let Some(key) = board.busy.remove(&e.id()) {
                            board.held -= 1;
                            board.release(key);
                        }
                        continue;
                    }
                };
                match result {
                    Ok(()) => {
                        board.held -= 1;
                        board.release(key);
                    }
                    Err(e) if shutdown.is_cancelled() => {
                        tracing::info!(lanes = W::NAME, error = format!("{e:#}"), "stopping; left pending");
                        board.held -= 1;
                        board.release(key);
                    }
                    Err(e) if let Some(Again::Later(wait)) = e.downcast_ref::<Again>().copied() => {
                        tracing::debug!(lanes = W::NAME, key = %key, ?wait, "not its turn; put back");
                        board.insert(key.clone(), W::rank(&item), item);
                        parked.spawn(async move {
                            tokio::time::sleep(wait).await;
                            key
                        });
                    }
                    Err(e) => {
                        let failures = failures + 1;
                        let wait = match e.downcast_ref::<Again>() {
                            Some(Again::After(wait)) => *wait,
                            _ => backoff(failures),
                        };
                        tracing::warn!(lanes = W::NAME, error = format!("{e:#}"), ?wait, "failed; retrying");
                        let work = work.clone();
                        let stop = shutdown.clone();
                        let name = key.clone();
                        let task = running.spawn(async move {
                            tokio::select! {
                                _ = stop.cancelled() => {
                                    return (name, item, failures, Err(anyhow::anyhow!("shutting down")));
                                }
                                _ = work.sleep(&item, wait) => {}
                            }
                            let result = run_caught(&*work, &item).await;
                            (name, item, failures, result)
                        });
                        board.busy.insert(task.id(), key);
                    }
                }
            }
            Some(fetched) = fetches.join_next(), if !fetches.is_empty() => {
                match fetched {
                    Ok((key, asked, items)) => {
                        board.fetched(key.clone(), asked, items, W::rank);
                        // All of them gone: fetch the next ones.
                        if let Some(ids) = board.take_due_fetch(&key) {
                            spawn_fetch(&mut fetches, &work, key, ids, &shutdown);
                        }
                    }
                    // Panics are caught in `spawn_fetch`: only a task aborted from outside,
                    // as the lanes end, comes here.
                    Err(e) => tracing::error!(lanes = W::NAME, error = %e, "a fetch of spilled items was aborted"),
                }
            }
            Some(key) = parked.join_next(), if !parked.is_empty() => {
                // A timer task does not panic; an aborted one ends only with the lanes.
                if let Ok(key) = key {
                    board.release(key);
                }
            }
            batch = incoming.recv(), if !closed
                && board.held < limits.queued
                && board.spilled_count < limits.queued * SPILLED_PER_HELD
                && !shutdown.is_cancelled() => {
                match batch {
                    Some(batch) => board.add(batch, W::rank, W::spill_id),
                    None => closed = true,
                }
            }
            _ = shutdown.cancelled(), if !shutdown.is_cancelled() => {}
            else => return,
        }
    }
}

/// One fetch of spilled items: the key, how many were asked for, the items still there.
type Fetched<T> = (String, usize, Vec<T>);

/// Fetches spilled items `ids` of `key`, retrying with backoff until it succeeds or the lanes
/// stop (then nothing comes back: the items stay pending in the stream).
fn spawn_fetch<W: Work>(
    fetches: &mut JoinSet<Fetched<W::Item>>,
    work: &Arc<W>,
    key: String,
    ids: Vec<String>,
    shutdown: &CancellationToken,
) {
    let work = work.clone();
    let stop = shutdown.clone();
    fetches.spawn(async move {
        use futures_util::FutureExt;
        let mut failures = 0u32;
        loop {
            let fetched = std::panic::AssertUnwindSafe(work.fetch(&ids))
                .catch_unwind()
                .await;
            match fetched {
                Ok(Ok(items)) => return (key, ids.len(), items),
                // Not retried: it would panic again. The items stay pending in the stream and
                // come back at the next start; the key goes on meanwhile.
                Err(_) => {
                    tracing::error!(
                        lanes = W::NAME,
                        "fetching spilled items panicked; left pending"
                    );
                    return (key, ids.len(), Vec::new());
                }
                Ok(Err(e)) => {
                    failures += 1;
                    let wait = backoff(failures);
                    tracing::warn!(
                        lanes = W::NAME,
                        error = format!("{e:#}"),
                        ?wait,
                        "fetching spilled items failed; retrying"
                    );
                    tokio::select! {
                        _ = stop.cancelled() => return (key, ids.len(), Vec::new()),
                        _ = tokio::time::sleep(wait) => {}
                    }
                }
            }
        }
    });
}

/// Where a stream reader stands: the last entry id it passed on to the lanes, and whether its
/// own pending entries after that id must be read before new ones. A read whose answer was
/// lost (a timeout, a dropped connection) may have been carried out by Redis: its entries are
/// then pending for this consumer, and nothing else would read them before the next start.
/// Every pending entry up to the last id passed on is in the lanes; the ones after it are
/// exactly those, and reading them next keeps stream order.
#[derive(Debug)]
pub struct Cursor(std::sync::Mutex<(String, bool)>);

impl Cursor {
    /// A cursor after `last` (the last entry read at start, or "0").
    pub fn new(last: &str) -> Self {
        Self(std::sync::Mutex::new((last.to_owned(), false)))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, (String, bool)> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `Some(after)` when the next read must be of this consumer's pending entries after
    /// `after`; `None` for new entries.
    pub fn next_read(&self) -> Option<String> {
        let c = self.lock();
        c.1.then(|| c.0.clone())
    }

    /// A read (of pending entries, `pending`) succeeded, passing on entries up to `last`.
    pub fn passed(&self, last: Option<&str>, pending: bool) {
        let mut c = self.lock();
        match last {
            Some(id) => c.0 = id.to_owned(),
            // Nothing more pending: back to new entries.
            None if pending => c.1 = false,
            None => {}
        }
    }

    /// A read failed: what it may have taken is read back first.
    pub fn failed(&self) {
        self.lock().1 = true;
    }
}

/// The reader task; dropping it stops it (a worker that is itself stopped, e.g. aborted,
/// must not leave a reader behind taking entries nobody will work on).
pub struct Reader(JoinHandle<()>);

impl Reader {
    /// Waits for the reader to end.
    pub async fn join(mut self) {
        let _ = (&mut self.0).await;
    }
}

impl Drop for Reader {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Spawns the task that reads batches with `read` (which should block for a while when there
/// is nothing) and passes them on, until `shutdown` or the lanes are gone. A failed read is
/// logged and retried with backoff.
pub fn spawn_reader<T, F, Fut>(
    name: &'static str,
    read: F,
    out: mpsc::Sender<Keyed<T>>,
    shutdown: CancellationToken,
) -> Reader
where
    T: Send + 'static,
    F: Fn() -> Fut + Send + 'static,
    Fut: Future<Output = anyhow::Result<Keyed<T>>> + Send,
{
    Reader(tokio::spawn(async move {
        let mut failures = 0u32;
        loop {
            let batch = tokio::select! {
                _ = shutdown.cancelled() => return,
                batch = read() => batch,
            };
            match batch {
                Ok(batch) => {
                    failures = 0;
                    if !batch.is_empty() && out.send(batch).await.is_err() {
                        return;
                    }
                }
                Err(e) => {
                    failures += 1;
                    let wait = backoff(failures);
                    tracing::warn!(
                        lanes = name,
                        error = format!("{e:#}"),
                        ?wait,
                        "reading failed; retrying"
                    );
                    tokio::select! {
                        _ = shutdown.cancelled() => return,
                        _ = tokio::time::sleep(wait) => {}
                    }
                }
            }
        }
    }))
}

mod board;
#[cfg(test)]
mod tests;
