//! The dispatcher: claims due outbox messages under a lease, sends them concurrently, and records
//! every attempt. Failures back off exponentially with jitter (or as the receiver's `Retry-After`
//! says) and become dead letters after the configured number of attempts.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use hazewarn_store::{DeliveryOutcome, Lease, OutboxEntry, Store};
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
    /// Outcomes not recorded because this dispatcher's lease had passed to another.
    pub fenced: usize,
}

impl DispatchReport {
    fn add(&mut self, o: DispatchReport) {
        self.sent += o.sent;
        self.retried += o.retried;
        self.dead += o.dead;
        self.fenced += o.fenced;
    }
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

    /// Sends everything due now, until nothing due is left. Each channel runs its own claim
    /// loop with its own concurrency, so a channel that hangs holds up only its own messages; a
    /// last pass over every channel dead-letters messages for channels no longer configured.
    pub async fn dispatch_due(&self) -> Result<DispatchReport, SchedulerError> {
        let mut loops = tokio::task::JoinSet::new();
        for name in self.channels.keys() {
            let (me, name) = (self.clone(), name.clone());
            loops.spawn(async move { me.dispatch_channel(Some(&name)).await });
        }
        let mut report = DispatchReport::default();
        while let Some(done) = loops.join_next().await {
            report.add(done.map_err(|e| SchedulerError::Job(format!("dispatch loop: {e}")))??);
        }
        report.add(self.dispatch_channel(None).await?);
        Ok(report)
    }

    /// Claims and sends the due messages of one channel (or of any), batch by batch.
    async fn dispatch_channel(&self, channel: Option<&str>) -> Result<DispatchReport, SchedulerError> {
        let mut report = DispatchReport::default();
        let lease = Duration::seconds(self.delivery.lease_s as i64);
        let permits = Arc::new(Semaphore::new(self.delivery.concurrency));
        loop {
            let (now, limit) = (self.clock.now(), i64::from(self.delivery.batch));
            let batch = self.store.claim_due(&self.owner, now, lease, limit, channel).await?;
            if batch.is_empty() {
                return Ok(report);
            }
            let mut tasks = tokio::task::JoinSet::new();
            for m in batch {
                let (me, permits) = (self.clone(), permits.clone());
                tasks.spawn(async move {
                    let _permit = permits.acquire_owned().await.expect("semaphore open");
                    me.deliver(m, lease).await
                });
            }
            while let Some(done) = tasks.join_next().await {
                match done.map_err(|e| SchedulerError::Job(format!("dispatch task: {e}")))?? {
                    None => report.fenced += 1,
                    Some(DeliveryOutcome::Sent { .. }) => report.sent += 1,
                    Some(DeliveryOutcome::Retry { .. }) => report.retried += 1,
                    Some(DeliveryOutcome::Dead { .. }) => report.dead += 1,
                }
            }
        }
    }

    /// Sends one claimed message, renewing its lease every third of the lease while the send is
    /// in flight, and records the outcome under that lease. `None` when the lease was lost (the
    /// send is then abandoned: the message's new holder delivers it).
    async fn deliver(&self, m: OutboxEntry, lease: Duration) -> Result<Option<DeliveryOutcome>, SchedulerError> {
        let Some(held) = m.lease.clone() else {
            return Err(SchedulerError::Job(format!("outbox message {} was claimed without a lease", m.id)));
        };
        let Some(ch) = self.channels.get(&m.channel) else {
            let outcome = DeliveryOutcome::Dead { error: format!("channel `{}` is not configured", m.channel) };
            let recorded = self.store.record_attempt(&m.id, &held, self.clock.now(), &outcome).await?;
            return Ok(recorded.then_some(outcome));
        };
        // The message may have waited for a permit past its lease: renew (or learn it was lost)
        // before sending, so two dispatchers never both send it.
        if !self.renew(&m.id, &held, lease).await {
            return Ok(None);
        }
        let send = ch.send(&m);
        tokio::pin!(send);
        let beat =
            (lease / 3).to_std().unwrap_or(std::time::Duration::from_secs(1)).max(std::time::Duration::from_millis(50));
        let mut renew = tokio::time::interval_at(tokio::time::Instant::now() + beat, beat);
        let result = loop {
            tokio::select! {
                r = &mut send => break r,
                _ = renew.tick() => {
                    if !self.renew(&m.id, &held, lease).await {
                        return Ok(None);
                    }
                }
            }
        };
        let outcome = self.outcome(&m, result, self.clock.now());
        let recorded = self.store.record_attempt(&m.id, &held, self.clock.now(), &outcome).await?;
        Ok(recorded.then_some(outcome))
    }

    /// Extends the lease; false only when it is lost. A failed renewal (the database did not
    /// answer) is logged and the send goes on: the epoch still fences its outcome.
    async fn renew(&self, id: &str, held: &Lease, lease: Duration) -> bool {
        match self.store.renew_lease(id, held, lease).await {
            Ok(true) => true,
            Ok(false) => {
                tracing::warn!(id, "lease lost; its new holder delivers it");
                false
            }
            Err(e) => {
                tracing::error!(id, error = %e, "could not renew a lease; sending on");
                true
            }
        }
    }

    /// Dispatches until no message is pending (sleeping until the next one is due), for
    /// `hazewarn dispatch --until-empty` and the scheduler's dispatch job.
    pub async fn drain(&self) -> Result<DispatchReport, SchedulerError> {
        let mut total = DispatchReport::default();
        loop {
            total.add(self.dispatch_due().await?);
            let Some(next) = self.store.next_due().await? else { return Ok(total) };
            let next = hazewarn_store::parse_ts(&next)?;
            let wait = (next - self.clock.now()).clamp(Duration::milliseconds(20), Duration::seconds(5));
            tokio::time::sleep(wait.to_std().expect("positive")).await;
        }
    }
}
