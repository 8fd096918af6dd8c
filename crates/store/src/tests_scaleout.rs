//! Scale-out by simulation: cities, each with its own schema in the one PostgreSQL database
//! (one city is one store today), each served by several instances that share it. Instances
//! claim job slots and outbox messages under short leases on the database's clock. At random
//! they die mid-work (the claim is abandoned and its lease runs out) or stall past their lease and
//! then try to record their outcome late.
//!
//! Invariants:
//! - every slot is recorded done exactly once;
//! - every notice is recorded sent exactly once;
//! - a late write is never recorded;
//! - every city finishes within its window.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration as StdDuration, Instant};

use chrono::Duration;

use crate::jobs::SlotClaim;
use crate::tests::t0;
use crate::{DeliveryOutcome, NewMessage, Store, scratch};

const JOBS: [&str; 3] = ["forecast", "evaluate", "verify"];
/// Hourly ticks simulated per city (slots per job).
const TICKS: usize = 4;
const NOTICES: usize = 12;
/// Each instance's chances, per claim, of dying mid-work and of stalling past its lease.
const DIE: f64 = 0.08;
const STALL: f64 = 0.05;
const LEASE_S: i64 = 2;
/// How long a stalled instance sleeps: past its lease.
const STALL_FOR: StdDuration = StdDuration::from_millis(4000);
/// A city's slots and notices must all be settled within this.
const WINDOW: StdDuration = StdDuration::from_secs(120);

/// A small seeded generator (xorshift64*), so a failing run can be repeated.
struct Rng(u64);

impl Rng {
    fn unit(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// What happened in one city, as the instances saw it.
#[derive(Default)]
struct Log {
    /// (job, slot) → outcomes the store accepted.
    finished: HashMap<(String, String), usize>,
    /// notice → sends the store recorded, and sends the receiver saw.
    recorded: HashMap<String, usize>,
    received: HashMap<String, usize>,
    died: usize,
    late_refused: usize,
    late_accepted: usize,
}

fn slots() -> Vec<(String, String)> {
    (0..TICKS)
        .flat_map(|t| JOBS.iter().map(move |j| (j.to_string(), format!("2026-01-05T{:02}:00+08:00", 8 + t))))
        .collect()
}

async fn settled(store: &Store) -> bool {
    for (job, slot) in slots() {
        if store.slot_status(&job, &slot).await.unwrap().as_deref() != Some("done") {
            return false;
        }
    }
    store.outbox_counts().await.unwrap().0 == 0
}

/// One instance of one city: claims whatever is due until the city is settled.
async fn instance(store: Store, name: String, seed: u64, log: Arc<Mutex<Log>>) {
    let mut rng = Rng(seed);
    let lease = Duration::seconds(LEASE_S);
    while !settled(&store).await {
        for (job, slot) in slots() {
            // A slot already done needs no claim (a claim is a committed write).
            if store.slot_status(&job, &slot).await.unwrap().as_deref() == Some("done") {
                continue;
            }
            let SlotClaim::Claimed(held) = store.claim_slot(&job, &slot, &name, t0(), lease).await.unwrap() else {
                continue;
            };
            let r = rng.unit();
            if r < DIE {
                log.lock().unwrap().died += 1;
                continue;
            }
            let stalled = r < DIE + STALL;
            if stalled {
                tokio::time::sleep(STALL_FOR).await;
            }
            let ok = store.finish_slot(&job, &slot, &held, t0(), true, &name).await.unwrap();
            let mut l = log.lock().unwrap();
            if ok {
                *l.finished.entry((job, slot)).or_default() += 1;
            }
            match (stalled, ok) {
                (true, true) => l.late_accepted += 1,
                (true, false) => l.late_refused += 1,
                // A live runner so slowed (a loaded machine) that its lease ran out: fenced the same way.
                (false, false) => l.late_refused += 1,
                (false, true) => {}
            }
        }
        // The outbox's leases run on the instance's clock (a city's, in operation): here the real one.
        for e in store.claim_due(&name, chrono::Utc::now(), lease, 4, None).await.unwrap() {
            let r = rng.unit();
            if r < DIE {
                log.lock().unwrap().died += 1;
                continue;
            }
            // Sent before the outcome is recorded: a stall here is a send whose record comes late.
            *log.lock().unwrap().received.entry(e.id.clone()).or_default() += 1;
            if r < DIE + STALL {
                tokio::time::sleep(STALL_FOR).await;
            }
            let outcome = DeliveryOutcome::Sent { detail: name.clone() };
            let ok =
                store.record_attempt(&e.id, e.lease.as_ref().unwrap(), chrono::Utc::now(), &outcome).await.unwrap();
            if ok {
                *log.lock().unwrap().recorded.entry(e.id.clone()).or_default() += 1;
            }
        }
        tokio::time::sleep(StdDuration::from_millis(50)).await;
    }
}

/// One city with `m` instances; returns its log and how long it took to settle.
async fn city(n: usize, m: usize) -> (Log, StdDuration) {
    let schema = scratch::schema_name(&format!("sim{n}"));
    let url = scratch::create_schema(scratch::POSTGRES_URL, &schema).await.unwrap();
    // Two connections per instance: 18 cities × 2 instances stay under PostgreSQL's default 100.
    let first = Store::connect_with(&url, 2).await.unwrap();
    let mut tx = first.write().await.unwrap();
    for k in 0..NOTICES {
        let id = format!("C{n}-N{k}");
        let m = NewMessage {
            id: format!("{id}@hook"),
            kind: "notice".into(),
            subject: id.clone(),
            channel: "hook".into(),
            target: "https://hook.example/".into(),
            idempotency_key: id,
            payload: "{}".into(),
            route_rank: None,
        };
        assert!(tx.enqueue(&m, t0()).await.unwrap());
    }
    tx.commit().await.unwrap();
    let log = Arc::new(Mutex::new(Log::default()));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for k in 0..m {
        let store = if k == 0 { first.clone() } else { Store::connect_with(&url, 2).await.unwrap() };
        let seed = 0x9E37_79B9_7F4A_7C15 ^ ((n * 16 + k) as u64 + 1);
        tasks.push(tokio::spawn(instance(store, format!("city{n}-instance{k}"), seed, log.clone())));
    }
    tokio::time::timeout(WINDOW, async {
        for t in tasks {
            t.await.unwrap();
        }
    })
    .await
    .unwrap_or_else(|_| panic!("city {n} did not settle within {WINDOW:?}"));
    let took = started.elapsed();
    first.close().await;
    scratch::drop_schema(scratch::POSTGRES_URL, &schema).await.unwrap();
    (Arc::try_unwrap(log).ok().unwrap().into_inner().unwrap(), took)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eighteen_cities_on_two_instances_each_run_every_slot_and_send_every_notice_once() {
    let (cities, instances) = (18, 2);
    let runs: Vec<_> = (0..cities).map(|n| tokio::spawn(city(n, instances))).collect();
    let (mut died, mut refused, mut accepted, mut duplicates, mut longest) = (0, 0, 0, 0, StdDuration::ZERO);
    for (n, run) in runs.into_iter().enumerate() {
        let (log, took) = run.await.unwrap();
        for slot in slots() {
            assert_eq!(log.finished.get(&slot), Some(&1), "city {n}: {slot:?} recorded done once");
        }
        for k in 0..NOTICES {
            let id = format!("C{n}-N{k}@hook");
            assert_eq!(log.recorded.get(&id), Some(&1), "city {n}: {id} recorded sent once");
            duplicates += log.received.get(&id).copied().unwrap_or(0).saturating_sub(1);
        }
        died += log.died;
        refused += log.late_refused;
        accepted += log.late_accepted;
        longest = longest.max(took);
    }
    // The simulation did what it claims: instances died and stalled, and some late writes came
    // after a successor had taken over.
    assert!(died > 0 && refused > 0, "died {died}, late writes refused {refused}");
    eprintln!(
        "{cities} cities × {instances} instances: {died} claims abandoned by dying instances, \
         {refused} late outcomes refused, {accepted} late outcomes accepted (nobody had taken over), \
         {duplicates} extra sends the receiver deduplicates by key (a sender stalled past its lease); \
         slowest city settled in {longest:.1?}"
    );
}
