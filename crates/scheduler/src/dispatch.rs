//! The dispatcher: claims due outbox messages under a lease, sends them concurrently, and records
//! every attempt. Failures back off exponentially with jitter (or as the receiver's `Retry-After`
//! says) and become dead letters after the configured number of attempts.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use hazewarn_store::{DeliveryOutcome, OutboxEntry, Store};
use serde::Serialize;
use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;

use crate::SchedulerError;
use crate::channel::{Channel, SendResult};
use crate::clock::Clock;
use crate::config::Delivery;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct DispatchReport {
    pub sent: usize,
    pub retried: usize,
    pub dead: usize,
}

#[derive(Clone)]
pub struct Dispatcher {
    store: Store,
    channels: HashMap<String, Arc<dyn Channel>>,
    delivery: Delivery,
    clock: Arc<dyn Clock>,
    owner: String,
}

/// A number in [0, 1) fixed by the message and attempt: jitter that spreads retries without a
/// random source, and is the same if the attempt is replayed.
fn unit(id: &str, attempt: i64) -> f64 {
    let h = Sha256::digest(format!("{id}#{attempt}").as_bytes());
    u64::from_be_bytes(h[..8].try_into().expect("8 bytes")) as f64 / (u64::MAX as f64 + 1.0)
}

impl Dispatcher {
    pub fn new(
        store: Store,
        channels: Vec<Arc<dyn Channel>>,
        delivery: Delivery,
        clock: Arc<dyn Clock>,
        owner: &str,
    ) -> Dispatcher {
        let channels = channels.into_iter().map(|c| (c.name().to_owned(), c)).collect();
        Dispatcher { store, channels, delivery, clock, owner: owner.to_owned() }
    }

    /// The wait before attempt `attempts + 1`: exponential from the base, capped, with "equal
    /// jitter" (half fixed, half spread) so a burst of failures does not retry in lockstep.
    pub fn backoff(&self, id: &str, attempts: i64) -> Duration {
        let d = &self.delivery;
        let exp = d.base_backoff_ms.saturating_mul(1u64 << attempts.clamp(0, 30)).min(d.max_backoff_ms);
        let ms = exp as f64 * (0.5 + 0.5 * unit(id, attempts));
        Duration::milliseconds(ms as i64)
    }

    fn outcome(&self, m: &OutboxEntry, result: SendResult, now: DateTime<Utc>) -> DeliveryOutcome {
        match result {
            SendResult::Delivered(detail) => DeliveryOutcome::Sent { detail },
            SendResult::Permanent(error) => DeliveryOutcome::Dead { error },
            SendResult::Transient { error, retry_after } => {
                let attempt = m.attempts + 1;
                if attempt >= i64::from(self.delivery.max_attempts) {
                    DeliveryOutcome::Dead { error: format!("gave up after {attempt} attempts; last: {error}") }
                } else {
                    let wait = match retry_after {
                        Some(w) => Duration::from_std(w).unwrap_or(Duration::zero()),
                        None => self.backoff(&m.id, m.attempts),
                    };
                    DeliveryOutcome::Retry { at: now + wait, error }
                }
            }
        }
    }

    /// Sends everything due now, batch by batch, until nothing due is left.
    pub async fn dispatch_due(&self) -> Result<DispatchReport, SchedulerError> {
        let mut report = DispatchReport::default();
        let lease = Duration::seconds(self.delivery.lease_s as i64);
        let permits = Arc::new(Semaphore::new(self.delivery.concurrency));
        loop {
            let batch =
                self.store.claim_due(&self.owner, self.clock.now(), lease, i64::from(self.delivery.batch)).await?;
            if batch.is_empty() {
                return Ok(report);
            }
            let mut tasks = tokio::task::JoinSet::new();
            for m in batch {
                let me = self.clone();
                let permit = permits.clone().acquire_owned().await.expect("semaphore open");
                tasks.spawn(async move {
                    let _permit = permit;
                    let result = match me.channels.get(&m.channel) {
                        Some(ch) => ch.send(&m).await,
                        None => SendResult::Permanent(format!("channel `{}` is not configured", m.channel)),
                    };
                    let outcome = me.outcome(&m, result, me.clock.now());
                    me.store.record_attempt(&m.id, me.clock.now(), &outcome).await.map(|()| outcome)
                });
            }
            while let Some(done) = tasks.join_next().await {
                match done.map_err(|e| SchedulerError::Job(format!("dispatch task: {e}")))?? {
                    DeliveryOutcome::Sent { .. } => report.sent += 1,
                    DeliveryOutcome::Retry { .. } => report.retried += 1,
                    DeliveryOutcome::Dead { .. } => report.dead += 1,
                }
            }
        }
    }

    /// Dispatches until no message is pending (sleeping until the next one is due), for
    /// `hazewarn dispatch --until-empty` and the scheduler's dispatch job.
    pub async fn drain(&self) -> Result<DispatchReport, SchedulerError> {
        let mut total = DispatchReport::default();
        loop {
            let r = self.dispatch_due().await?;
            total.sent += r.sent;
            total.retried += r.retried;
            total.dead += r.dead;
            let Some(next) = self.store.next_due().await? else { return Ok(total) };
            let next = hazewarn_store::parse_ts(&next)?;
            let wait = (next - self.clock.now()).clamp(Duration::milliseconds(20), Duration::seconds(5));
            tokio::time::sleep(wait.to_std().expect("positive")).await;
        }
    }
}
