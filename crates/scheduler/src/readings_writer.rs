//! Group commit for the HJ 212 receiver. Every connection hands its packet's readings to one
//! writer task and waits; the writer stores whatever has queued up meanwhile in one transaction
//! (one audit entry naming the packets by digest) and only then lets each connection answer. So
//! an answered packet is stored, as before, but a thousand devices do not cost a thousand commits.

use std::sync::{Arc, OnceLock};

use hazewarn_store::Store;
use hazewarn_store::monitoring::Reading;
use tokio::sync::{mpsc, oneshot};

use crate::SchedulerError;
use crate::clock::Clock;

/// Packets stored in one transaction at most.
const MAX_BATCH: usize = 512;

struct Pending {
    readings: Vec<Reading>,
    done: oneshot::Sender<Result<usize, String>>,
}

/// The writer, started on first use (it needs the runtime the receiver runs on).
pub struct ReadingsWriter {
    store: Store,
    clock: Arc<dyn Clock>,
    queue: OnceLock<mpsc::Sender<Pending>>,
}

impl ReadingsWriter {
    pub fn new(store: Store, clock: Arc<dyn Clock>) -> ReadingsWriter {
        ReadingsWriter { store, clock, queue: OnceLock::new() }
    }

    /// Stores one packet's readings with the others queued beside it; returns how many were new.
    pub async fn save(&self, readings: Vec<Reading>) -> Result<usize, SchedulerError> {
        let queue = self.queue.get_or_init(|| {
            let (tx, rx) = mpsc::channel(4 * MAX_BATCH);
            tokio::spawn(write(self.store.clone(), self.clock.clone(), rx));
            tx
        });
        let (done, answer) = oneshot::channel();
        let stopped = || SchedulerError::Job("the HJ 212 readings writer stopped".into());
        queue.send(Pending { readings, done }).await.map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?.map_err(SchedulerError::Job)
    }
}

async fn write(store: Store, clock: Arc<dyn Clock>, mut queue: mpsc::Receiver<Pending>) {
    while let Some(first) = queue.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(p) => batch.push(p),
                Err(_) => break,
            }
        }
        let packets: Vec<&[Reading]> = batch.iter().map(|p| p.readings.as_slice()).collect();
        match store.save_packets(&packets, clock.now()).await {
            Ok(new) => {
                for (p, n) in batch.into_iter().zip(new) {
                    let _ = p.done.send(Ok(n));
                }
            }
            Err(e) => {
                // Nothing of the batch was stored: every packet's connection hears so and answers none.
                tracing::error!(error = %e, packets = batch.len(), "HJ 212 readings not stored");
                for p in batch {
                    let _ = p.done.send(Err(e.to_string()));
                }
            }
        }
    }
}
