//! Group commit for the HJ 212 receiver. Every connection hands its packet's readings to one
//! writer task and waits; the writer stores whatever has queued up meanwhile in one transaction
//! (one audit entry naming the packets by digest) and only then lets each connection answer. So
//! an answered packet is stored, as before, but a thousand devices do not cost a thousand commits.
//! The same commit adds what the receiver counted since the last one (packets, bad frames,
//! refusals), so the counts outlive a restart; a sender of nothing but garbage is counted by a
//! commit at most `FLUSH` later.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, OnceLock};

use hazewarn_store::Store;
use hazewarn_store::monitoring::{DeviceCounts, Reading};
use tokio::sync::{mpsc, oneshot};

use crate::SchedulerError;
use crate::clock::Clock;

/// Packets stored in one transaction at most.
const MAX_BATCH: usize = 512;
/// How long counts without packets wait for a commit (each is an audit entry: a sender of
/// nothing but garbage must not flood the log).
const FLUSH: std::time::Duration = std::time::Duration::from_secs(60);
/// Senders counted by name; beyond this, unlisted ones share one count.
const MAX_COUNTED: usize = 10_000;

/// What the receiver saw from each sender: `live` as the office page shows it (the store's
/// counts when the city opened, plus everything since), `pending` what no commit holds yet.
#[derive(Debug, Default)]
pub struct ReceiverCounts(Mutex<Counts>);

#[derive(Debug, Default)]
struct Counts {
    live: HashMap<String, DeviceCounts>,
    pending: HashMap<String, DeviceCounts>,
}

impl Counts {
    /// A listed device is always counted by its MN; unlisted senders by address until there are
    /// `MAX_COUNTED` names, then together (a scanner must not crowd out the city's devices).
    fn key(&self, who: &str) -> String {
        let crowded = self.live.len() >= MAX_COUNTED && !self.live.contains_key(who);
        if crowded && who.starts_with("unlisted ") { "(others)".into() } else { who.to_owned() }
    }
}

impl ReceiverCounts {
    /// Counts for `who` what `f` adds; returns the name it is counted under.
    pub(crate) fn add(&self, who: &str, f: impl FnOnce(&mut DeviceCounts)) -> String {
        let mut d = DeviceCounts::default();
        f(&mut d);
        let mut c = self.0.lock().expect("counts lock");
        let key = c.key(who);
        c.live.entry(key.clone()).or_default().add(&d);
        c.pending.entry(key.clone()).or_default().add(&d);
        key
    }

    /// Values stored: the store counts them in the commit that stored them.
    fn stored(&self, key: &str, n: usize) {
        self.0.lock().expect("counts lock").live.entry(key.to_owned()).or_default().stored += n as u64;
    }

    fn take_pending(&self) -> Vec<(String, DeviceCounts)> {
        std::mem::take(&mut self.0.lock().expect("counts lock").pending).into_iter().collect()
    }

    fn restore_pending(&self, counted: Vec<(String, DeviceCounts)>) {
        let mut c = self.0.lock().expect("counts lock");
        for (who, d) in counted {
            c.pending.entry(who).or_default().add(&d);
        }
    }

    /// Starts from what the store kept.
    pub(crate) fn seed(&self, kept: BTreeMap<String, DeviceCounts>) {
        self.0.lock().expect("counts lock").live.extend(kept);
    }

    pub fn snapshot(&self) -> BTreeMap<String, DeviceCounts> {
        self.0.lock().expect("counts lock").live.iter().map(|(k, v)| (k.clone(), *v)).collect()
    }
}

struct Pending {
    who: String,
    readings: Vec<Reading>,
    done: oneshot::Sender<Result<usize, String>>,
}

/// The writer, started on first use (it needs the runtime the receiver runs on).
pub struct ReadingsWriter {
    store: Store,
    clock: Arc<dyn Clock>,
    pub(crate) counts: Arc<ReceiverCounts>,
    queue: OnceLock<mpsc::Sender<Pending>>,
}

impl ReadingsWriter {
    pub fn new(store: Store, clock: Arc<dyn Clock>, counts: Arc<ReceiverCounts>) -> ReadingsWriter {
        ReadingsWriter { store, clock, counts, queue: OnceLock::new() }
    }

    fn queue(&self) -> &mpsc::Sender<Pending> {
        self.queue.get_or_init(|| {
            let (tx, rx) = mpsc::channel(4 * MAX_BATCH);
            tokio::spawn(write(self.store.clone(), self.clock.clone(), self.counts.clone(), rx));
            tx
        })
    }

    /// Starts the writer, so that counts are committed even before a packet is stored.
    pub fn start(&self) {
        self.queue();
    }

    /// Stores one packet's readings with the others queued beside it, counted for `who` (as
    /// [`ReceiverCounts::add`] named it); returns how many were new.
    pub async fn save(&self, who: String, readings: Vec<Reading>) -> Result<usize, SchedulerError> {
        let (done, answer) = oneshot::channel();
        let stopped = || SchedulerError::Job("the HJ 212 readings writer stopped".into());
        self.queue().send(Pending { who, readings, done }).await.map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?.map_err(SchedulerError::Job)
    }
}

async fn write(store: Store, clock: Arc<dyn Clock>, counts: Arc<ReceiverCounts>, mut queue: mpsc::Receiver<Pending>) {
    let mut flush = tokio::time::interval(FLUSH);
    flush.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let mut batch = Vec::new();
        tokio::select! {
            next = queue.recv() => match next {
                Some(first) => batch.push(first),
                None => return,
            },
            _ = flush.tick() => {}
        }
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(p) => batch.push(p),
                Err(_) => break,
            }
        }
        let counted = counts.take_pending();
        if batch.is_empty() && counted.is_empty() {
            continue;
        }
        let packets: Vec<(&str, &[Reading])> = batch.iter().map(|p| (p.who.as_str(), p.readings.as_slice())).collect();
        match store.save_packets(&packets, &counted, clock.now()).await {
            Ok(new) => {
                for (p, n) in batch.into_iter().zip(new) {
                    counts.stored(&p.who, n);
                    let _ = p.done.send(Ok(n));
                }
            }
            Err(e) => {
                // Nothing of the batch was stored. The counts wait for the next commit; each packet
                // is tried on its own, so one the store refuses does not hold back the others.
                tracing::error!(error = %e, packets = batch.len(), "HJ 212 readings not stored as a batch");
                counts.restore_pending(counted);
                for p in batch {
                    let one = [(p.who.as_str(), p.readings.as_slice())];
                    let result = store.save_packets(&one, &[], clock.now()).await;
                    if let Ok(new) = &result {
                        counts.stored(&p.who, new[0]);
                    }
                    let _ = p.done.send(result.map(|n| n[0]).map_err(|e| e.to_string()));
                }
            }
        }
    }
}
