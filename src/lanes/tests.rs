//! The lanes engine: order per key, concurrency across keys, retries, put-backs, shutdown.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::*;

/// Records what ran, when, and fails the items it is told to, a number of times.
#[derive(Default)]
struct Recorder {
    log: Mutex<Vec<String>>,
    failures_left: Mutex<HashMap<String, u32>>,
    now_running: AtomicUsize,
    most_running: AtomicUsize,
}

impl Work for Recorder {
    type Item = String;
    const NAME: &'static str = "test";

    async fn run(&self, item: &String) -> anyhow::Result<()> {
        let n = self.now_running.fetch_add(1, Ordering::SeqCst) + 1;
        self.most_running.fetch_max(n, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(10)).await;
        self.now_running.fetch_sub(1, Ordering::SeqCst);
        if let Some(left) = self.failures_left.lock().unwrap().get_mut(item)
            && *left > 0
        {
            *left -= 1;
            self.log.lock().unwrap().push(format!("{item}!"));
            anyhow::bail!("{item} failed");
        }
        self.log.lock().unwrap().push(item.clone());
        Ok(())
    }
}

fn batch(items: &[&str]) -> Keyed<String> {
    items
        .iter()
        .map(|i| (i[..1].to_owned(), (*i).to_owned()))
        .collect()
}

fn limits() -> Limits {
    Limits {
        running: 8,
        queued: 100,
    }
}

#[tokio::test(start_paused = true)]
async fn a_keys_items_run_in_order_and_different_keys_at_once() {
    let work = Arc::new(Recorder::default());
    let (tx, rx) = mpsc::channel(4);
    tx.send(batch(&["a3", "b2"])).await.unwrap();
    drop(tx);
    run(
        work.clone(),
        batch(&["a1", "b1", "a2", "c1"]),
        rx,
        limits(),
        CancellationToken::new(),
    )
    .await;
    let log = work.log.lock().unwrap().clone();
    assert_eq!(log.len(), 6, "{log:?}");
    let pos = |i: &str| log.iter().position(|l| l == i).unwrap();
    assert!(pos("a1") < pos("a2") && pos("a2") < pos("a3"), "{log:?}");
    assert!(pos("b1") < pos("b2"), "{log:?}");
    assert_eq!(
        work.most_running.load(Ordering::SeqCst),
        3,
        "a, b and c at once"
    );
}

#[tokio::test(start_paused = true)]
async fn a_failing_item_is_retried_in_place_and_holds_up_only_its_key() {
    let work = Arc::new(Recorder::default());
    work.failures_left.lock().unwrap().insert("a1".into(), 3);
    let (tx, rx) = mpsc::channel(4);
    drop(tx);
    let started = tokio::time::Instant::now();
    run(
        work.clone(),
        batch(&["a1", "a2", "b1", "b2", "b3"]),
        rx,
        limits(),
        CancellationToken::new(),
    )
    .await;
    let log = work.log.lock().unwrap().clone();
    assert_eq!(
        log.iter()
            .filter(|l| l.starts_with('a'))
            .collect::<Vec<_>>(),
        ["a1!", "a1!", "a1!", "a1", "a2"],
        "{log:?}"
    );
    let pos = |i: &str| log.iter().position(|l| l == i).unwrap();
    assert!(pos("b3") < pos("a1"), "b went on meanwhile: {log:?}");
    // Backoff 200 + 400 + 800 ms between the tries.
    assert!(started.elapsed() >= Duration::from_millis(1400));
}

#[tokio::test(start_paused = true)]
async fn shutdown_drops_a_waiting_retry_and_starts_nothing_new() {
    let work = Arc::new(Recorder::default());
    work.failures_left.lock().unwrap().insert("a1".into(), 100);
    let (tx, rx) = mpsc::channel(4);
    let stop = CancellationToken::new();
    let lanes = tokio::spawn(run(
        work.clone(),
        batch(&["a1", "a2"]),
        rx,
        limits(),
        stop.clone(),
    ));
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.cancel();
    tokio::time::timeout(Duration::from_secs(1), lanes)
        .await
        .expect("the lanes stop at once")
        .unwrap();
    tx.send(batch(&["b1"])).await.unwrap_or_default();
    let log = work.log.lock().unwrap().clone();
    assert!(log.iter().all(|l| l == "a1!"), "{log:?}");
}

#[test]
fn after_a_failed_read_the_cursor_reads_back_what_it_may_have_taken() {
    let cursor = Cursor::new("0");
    assert_eq!(cursor.next_read(), None, "new entries first");
    cursor.passed(Some("5-0"), false);
    cursor.failed();
    assert_eq!(cursor.next_read().as_deref(), Some("5-0"));
    // Pending entries after 5-0 come back, then none: new entries again.
    cursor.passed(Some("7-0"), true);
    assert_eq!(cursor.next_read().as_deref(), Some("7-0"));
    cursor.passed(None, true);
    assert_eq!(cursor.next_read(), None);
    // An empty read of new entries changes nothing.
    cursor.passed(None, false);
    cursor.failed();
    assert_eq!(cursor.next_read().as_deref(), Some("7-0"));
}

#[tokio::test(start_paused = true)]
async fn a_panicking_item_is_retried_and_its_key_waits() {
    struct Panicky(AtomicUsize, Mutex<Vec<String>>);
    impl Work for Panicky {
        type Item = String;
        const NAME: &'static str = "test";
        async fn run(&self, item: &String) -> anyhow::Result<()> {
            if item == "a1" && self.0.fetch_add(1, Ordering::SeqCst) == 0 {
                panic!("boom");
            }
            self.1.lock().unwrap().push(item.clone());
            Ok(())
        }
    }
    let work = Arc::new(Panicky(AtomicUsize::new(0), Mutex::new(Vec::new())));
    let (tx, rx) = mpsc::channel(1);
    drop(tx);
    run(
        work.clone(),
        batch(&["a1", "a2"]),
        rx,
        limits(),
        CancellationToken::new(),
    )
    .await;
    assert_eq!(*work.1.lock().unwrap(), ["a1", "a2"]);
}

/// Ranks items by their number ("a2" is 2) and puts back an item whose predecessor has
/// not run yet, as the forwarder does with a tip's event that arrived before an earlier one.
#[derive(Default)]
struct InTurn(Mutex<Vec<String>>);

impl Work for InTurn {
    type Item = String;
    const NAME: &'static str = "test";

    async fn run(&self, item: &String) -> anyhow::Result<()> {
        let mut log = self.0.lock().unwrap();
        let n: u64 = item[1..].parse().unwrap();
        if n > 1 && !log.contains(&format!("{}{}", &item[..1], n - 1)) {
            return Err(
                anyhow::anyhow!("{item} early").context(Again::Later(Duration::from_millis(50)))
            );
        }
        log.push(item.clone());
        Ok(())
    }

    fn rank(item: &String) -> u64 {
        item[1..].parse().unwrap()
    }
}

#[tokio::test(start_paused = true)]
async fn an_item_put_back_lets_an_earlier_one_that_came_later_go_first() {
    let work = Arc::new(InTurn::default());
    let (tx, rx) = mpsc::channel(4);
    let sender = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(20)).await;
        tx.send(batch(&["a2"])).await.unwrap();
    });
    run(
        work.clone(),
        batch(&["a3", "a1"]),
        rx,
        limits(),
        CancellationToken::new(),
    )
    .await;
    sender.await.unwrap();
    assert_eq!(*work.0.lock().unwrap(), ["a1", "a2", "a3"]);
}

#[tokio::test(start_paused = true)]
async fn an_error_that_names_its_wait_is_retried_after_it() {
    struct Slow(AtomicUsize);
    impl Work for Slow {
        type Item = String;
        const NAME: &'static str = "test";
        async fn run(&self, _: &String) -> anyhow::Result<()> {
            if self.0.fetch_add(1, Ordering::SeqCst) == 0 {
                return Err(anyhow::anyhow!("429").context(Again::After(Duration::from_secs(90))));
            }
            Ok(())
        }
    }
    let (tx, rx) = mpsc::channel(1);
    drop(tx);
    let started = tokio::time::Instant::now();
    let work = Arc::new(Slow(AtomicUsize::new(0)));
    run(
        work.clone(),
        batch(&["a1"]),
        rx,
        limits(),
        CancellationToken::new(),
    )
    .await;
    assert_eq!(work.0.load(Ordering::SeqCst), 2);
    assert!(started.elapsed() >= Duration::from_secs(90));
}

#[tokio::test(start_paused = true)]
async fn no_more_is_taken_from_the_reader_than_the_limit() {
    let work = Arc::new(Recorder::default());
    let (tx, rx) = mpsc::channel(1);
    let stop = CancellationToken::new();
    let limits = Limits {
        running: 1,
        queued: 2,
    };
    // Three batches of two of one key: the lanes hold two items at most, so the sender
    // of the third batch waits until the first two items are done.
    let sent = Arc::new(AtomicUsize::new(0));
    let sender = {
        let sent = sent.clone();
        tokio::spawn(async move {
            for b in [["a1", "a2"], ["a3", "a4"], ["a5", "a6"]] {
                tx.send(batch(&b)).await.unwrap();
                sent.fetch_add(1, Ordering::SeqCst);
            }
        })
    };
    let lanes = tokio::spawn(run(work.clone(), Vec::new(), rx, limits, stop.clone()));
    tokio::time::sleep(Duration::from_millis(5)).await;
    assert!(
        sent.load(Ordering::SeqCst) < 3,
        "the third batch waits in the channel"
    );
    sender.await.unwrap();
    lanes.await.unwrap();
    assert_eq!(
        *work.log.lock().unwrap(),
        ["a1", "a2", "a3", "a4", "a5", "a6"]
    );
}

/// An item that counts how many of its kind are alive, so a test can bound the memory the
/// lanes hold.
struct Tracked {
    name: String,
    live: Arc<AtomicUsize>,
}

impl Tracked {
    fn new(name: String, live: &Arc<AtomicUsize>, peak: &Arc<AtomicUsize>) -> Self {
        let n = live.fetch_add(1, Ordering::SeqCst) + 1;
        peak.fetch_max(n, Ordering::SeqCst);
        Self {
            name,
            live: live.clone(),
        }
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.live.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Work whose items can be fetched again by id (their name), as the intake's inbox entries
/// can, and which logs what ran.
#[derive(Default)]
struct Spilling {
    log: Mutex<Vec<String>>,
    live: Arc<AtomicUsize>,
    peak: Arc<AtomicUsize>,
    largest_fetch: AtomicUsize,
}

impl Work for Spilling {
    type Item = Tracked;
    const NAME: &'static str = "test";

    async fn run(&self, item: &Tracked) -> anyhow::Result<()> {
        tokio::time::sleep(Duration::from_millis(10)).await;
        self.log.lock().unwrap().push(item.name.clone());
        Ok(())
    }

    fn spill_id(item: &Tracked) -> Option<&str> {
        Some(&item.name)
    }

    async fn fetch(&self, ids: &[String]) -> anyhow::Result<Vec<Tracked>> {
        self.largest_fetch.fetch_max(ids.len(), Ordering::SeqCst);
        Ok(ids
            .iter()
            .map(|id| Tracked::new(id.clone(), &self.live, &self.peak))
            .collect())
    }
}

#[tokio::test(start_paused = true)]
async fn a_key_beyond_its_share_is_spilled_in_order_and_others_go_on() {
    let work = Arc::new(Spilling::default());
    let limits = Limits {
        running: 8,
        queued: 2048,
    };
    let (tx, rx) = mpsc::channel(1);
    let sender = {
        let work = work.clone();
        tokio::spawn(async move {
            // 3000 items of one key, in batches of 100, then one of another key.
            for b in 0..30 {
                let batch: Keyed<Tracked> = (0..100)
                    .map(|i| {
                        let name = format!("a{:04}", b * 100 + i);
                        ("a".to_owned(), Tracked::new(name, &work.live, &work.peak))
                    })
                    .collect();
                tx.send(batch).await.unwrap();
            }
            let b1 = Tracked::new("b1".into(), &work.live, &work.peak);
            tx.send(vec![("b".into(), b1)]).await.unwrap();
        })
    };
    run(
        work.clone(),
        Vec::new(),
        rx,
        limits,
        CancellationToken::new(),
    )
    .await;
    sender.await.unwrap();

    let log = work.log.lock().unwrap().clone();
    let a: Vec<&String> = log.iter().filter(|l| l.starts_with('a')).collect();
    let expected: Vec<String> = (0..3000).map(|i| format!("a{i:04}")).collect();
    assert!(
        a.iter().zip(&expected).all(|(x, y)| *x == y) && a.len() == 3000,
        "order kept"
    );
    let b1 = log.iter().position(|l| l == "b1").unwrap();
    assert!(
        b1 < 100,
        "the other key is not held up behind 3000 items: ran {b1}th"
    );
    // Held in memory at most: the key's share (64), one batch in the channel, one being
    // built, one being taken in; far below the 3000 sent, and below `queued`.
    let peak = work.peak.load(Ordering::SeqCst);
    assert!(peak <= 64 + 3 * 100 + 1, "peak of {peak} items in memory");
    assert!(work.largest_fetch.load(Ordering::SeqCst) <= limits.share());
    assert_eq!(work.live.load(Ordering::SeqCst), 0);
}

#[tokio::test(start_paused = true)]
async fn spilled_items_of_a_key_go_after_its_earlier_ones_even_when_fetched_back_empty() {
    /// Fetches nothing back for the ids it is told are gone (finished elsewhere).
    #[derive(Default)]
    struct Gone(Spilling);
    impl Work for Gone {
        type Item = Tracked;
        const NAME: &'static str = "test";
        async fn run(&self, item: &Tracked) -> anyhow::Result<()> {
            self.0.run(item).await
        }
        fn spill_id(item: &Tracked) -> Option<&str> {
            Some(&item.name)
        }
        async fn fetch(&self, ids: &[String]) -> anyhow::Result<Vec<Tracked>> {
            let kept: Vec<String> = ids.iter().filter(|i| !i.ends_with('5')).cloned().collect();
            self.0.fetch(&kept).await
        }
    }
    let work = Arc::new(Gone::default());
    let limits = Limits {
        running: 4,
        queued: 64,
    };
    assert_eq!(limits.share(), 2);
    let (tx, rx) = mpsc::channel(1);
    drop(tx);
    let first: Keyed<Tracked> = (0..20)
        .map(|i| {
            let t = Tracked::new(format!("a{i:02}"), &work.0.live, &work.0.peak);
            ("a".to_owned(), t)
        })
        .collect();
    run(work.clone(), first, rx, limits, CancellationToken::new()).await;
    let log = work.0.log.lock().unwrap().clone();
    let expected: Vec<String> = (0..20)
        .map(|i| format!("a{i:02}"))
        .filter(|n| !n.ends_with('5'))
        .collect();
    assert_eq!(
        log, expected,
        "in order, the gone ones left out, none stuck"
    );
}
