//! The lanes' bookkeeping: each key's waiting items, the keys ready to run and those busy,
//! and the items of a key beyond its share, spilled (ids only) until fetched back.

use std::collections::{HashMap, HashSet, VecDeque};

use super::Keyed;

/// The lanes' bookkeeping. A key is in at most one of `ready` (an item waiting, nothing
/// running) and `busy` (an item running or waiting out a retry). A key's items beyond its
/// `share` are in `spilled` (ids, in arrival order) until fetched again (`fetching`).
pub(super) struct Board<T> {
    pub(super) queues: HashMap<String, VecDeque<(u64, T)>>,
    pub(super) ready: VecDeque<String>,
    pub(super) busy: HashMap<tokio::task::Id, String>,
    pub(super) busy_keys: HashSet<String>,
    pub(super) held: usize,
    share: usize,
    spilled: HashMap<String, VecDeque<String>>,
    pub(super) spilled_count: usize,
    fetching: HashSet<String>,
}

impl<T> Board<T> {
    pub(super) fn new(share: usize) -> Self {
        Self {
            queues: HashMap::new(),
            ready: VecDeque::new(),
            busy: HashMap::new(),
            busy_keys: HashSet::new(),
            held: 0,
            share,
            spilled: HashMap::new(),
            spilled_count: 0,
            fetching: HashSet::new(),
        }
    }

    pub(super) fn add(
        &mut self,
        batch: Keyed<T>,
        rank: impl Fn(&T) -> u64,
        spill_id: impl Fn(&T) -> Option<&str>,
    ) {
        for (key, item) in batch {
            if let Some(id) = spill_id(&item)
                && self.must_spill(&key)
            {
                self.spilled
                    .entry(key)
                    .or_default()
                    .push_back(id.to_owned());
                self.spilled_count += 1;
                continue;
            }
            self.held += 1;
            self.insert(key, rank(&item), item);
        }
    }

    /// Items of `key` held: waiting, and the one running.
    pub(super) fn held_of(&self, key: &str) -> usize {
        self.queues.get(key).map_or(0, VecDeque::len) + usize::from(self.busy_keys.contains(key))
    }

    /// Whether a new item of `key` must be spilled: the key holds its share, or earlier items
    /// of it are spilled or being fetched (they go first).
    pub(super) fn must_spill(&self, key: &str) -> bool {
        self.fetching.contains(key)
            || self.spilled.get(key).is_some_and(|s| !s.is_empty())
            || self.held_of(key) >= self.share
    }

    /// The ids of `key`'s spilled items to fetch now, if its queue is running low (and no
    /// fetch of it is out): as many as fill its share again.
    pub(super) fn take_due_fetch(&mut self, key: &str) -> Option<Vec<String>> {
        let waiting = self.queues.get(key).map_or(0, VecDeque::len);
        if self.fetching.contains(key) || 2 * waiting >= self.share {
            return None;
        }
        let n = self.share.saturating_sub(self.held_of(key)).max(1);
        let spilled = self.spilled.get_mut(key)?;
        let spilled_len = spilled.len();
        let ids: Vec<String> = spilled.drain(..n.min(spilled_len)).collect();
        if spilled.is_empty() {
            self.spilled.remove(key);
        }
        if ids.is_empty() {
            return None;
        }
        self.fetching.insert(key.to_owned());
        Some(ids)
    }

    /// A fetch of `asked` spilled items of `key` came back with `items` (those still there).
    pub(super) fn fetched(
        &mut self,
        key: String,
        asked: usize,
        items: Vec<T>,
        rank: impl Fn(&T) -> u64,
    ) {
        self.fetching.remove(&key);
        self.spilled_count -= asked;
        for item in items {
            self.held += 1;
            self.insert(key.clone(), rank(&item), item);
        }
    }

    /// Puts an item among its key's, after those of lower or equal rank.
    pub(super) fn insert(&mut self, key: String, rank: u64, item: T) {
        let queue = self.queues.entry(key.clone()).or_default();
        let at = queue.partition_point(|(r, _)| *r <= rank);
        queue.insert(at, (rank, item));
        // A queue that was empty and whose key is not busy is not in `ready` either.
        if queue.len() == 1 && !self.busy_keys.contains(&key) {
            self.ready.push_back(key);
        }
    }

    /// The key is free again: it goes to the back of `ready` if it has more.
    pub(super) fn release(&mut self, key: String) {
        self.busy_keys.remove(&key);
        match self.queues.get(&key) {
            Some(q) if !q.is_empty() => self.ready.push_back(key),
            _ => {
                self.queues.remove(&key);
            }
        }
    }
}
