//! Scale-out by simulation: cities, each with its own schema in the one PostgreSQL database
//! (a city is one store), each served by several instances that share it. Instances claim job
//! slots and outbox messages under short leases on the database's clock. At random they die
//! mid-work (the claim is abandoned and its lease runs out) or stall past their lease and then
//! try to record their outcome late. [`run`] is shared by the 18 × 2 test and the 339 × 4 bench
//! (`benches/scaleout.rs`); [`Report::check`] holds the invariants:
//! - every slot is recorded done exactly once;
//! - every notice is recorded sent exactly once;
//! - instances did die and stall, and late writes were refused;
//! - every city settles within its window (else [`run`] panics, naming the city).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration as StdDuration, Instant};

use chrono::Duration;

use crate::jobs::SlotClaim;
use crate::{DeliveryOutcome, NewMessage, Store, scratch};

/// The simulated day the slots belong to (the store reads no clock; leases use the database's).
fn t0() -> chrono::DateTime<chrono::Utc> {
    chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 1, 5, 0, 0, 0).unwrap()
}

const JOBS: [&str; 3] = ["forecast", "evaluate", "verify"];
/// Hourly ticks simulated per city (slots per job).
const TICKS: usize = 4;
/// Notices queued per city.
pub const NOTICES: usize = 12;
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
#[derive(Default, Debug)]
pub struct Log {
    /// (job, slot) → outcomes the store accepted.
    pub finished: HashMap<(String, String), usize>,
    /// notice → sends the store recorded, and sends the receiver saw.
    pub recorded: HashMap<String, usize>,
    pub received: HashMap<String, usize>,
    pub died: usize,
    pub late_refused: usize,
    pub late_accepted: usize,
}

/// Every (job, slot) a city runs.
pub fn slots() -> Vec<(String, String)> {
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
        // Due times are the city's clock (here the real one); leases run on the database's.
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

/// How many cities, how many instances each, and how many cities run at once (each instance of
/// a running city holds two connections, so `parallel × instances × 2` must stay under the
/// server's `max_connections`).
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    pub cities: usize,
    pub instances: usize,
    pub parallel: usize,
}

/// One city's run.
#[derive(Debug)]
pub struct CityRun {
    pub city: usize,
    pub log: Log,
    /// From its instances' start until every slot was done and every notice sent.
    pub settled_in: StdDuration,
}

#[derive(Debug)]
pub struct Report {
    pub plan: Plan,
    pub cities: Vec<CityRun>,
    pub wall: StdDuration,
}

/// Runs the plan: every city in its own fresh schema (dropped after).
pub async fn run(plan: Plan) -> Report {
    let started = Instant::now();
    let gate = Arc::new(tokio::sync::Semaphore::new(plan.parallel.max(1)));
    let runs: Vec<_> = (0..plan.cities)
        .map(|n| {
            let gate = gate.clone();
            tokio::spawn(async move {
                let _permit = gate.acquire_owned().await.expect("the gate stays open");
                city(n, plan.instances).await
            })
        })
        .collect();
    let mut cities = Vec::with_capacity(plan.cities);
    for (n, r) in runs.into_iter().enumerate() {
        let (log, settled_in) = r.await.expect("a city's run panicked");
        cities.push(CityRun { city: n, log, settled_in });
    }
    Report { plan, cities, wall: started.elapsed() }
}

impl Report {
    /// The invariants; the first broken one in words.
    pub fn check(&self) -> Result<(), String> {
        for c in &self.cities {
            for slot in slots() {
                let n = c.log.finished.get(&slot).copied().unwrap_or(0);
                if n != 1 {
                    return Err(format!("city {}: {slot:?} recorded done {n} times", c.city));
                }
            }
            for k in 0..NOTICES {
                let id = format!("C{}-N{k}@hook", c.city);
                let n = c.log.recorded.get(&id).copied().unwrap_or(0);
                if n != 1 {
                    return Err(format!("city {}: {id} recorded sent {n} times", c.city));
                }
            }
        }
        let (died, refused) = (self.total(|l| l.died), self.total(|l| l.late_refused));
        if died == 0 || refused == 0 {
            return Err(format!(
                "the simulation did not exercise failures: died {died}, late writes refused {refused}"
            ));
        }
        Ok(())
    }

    pub fn total(&self, f: impl Fn(&Log) -> usize) -> usize {
        self.cities.iter().map(|c| f(&c.log)).sum()
    }

    /// Extra sends the receiver saw (a sender stalled past its lease; deduplicated by key).
    pub fn duplicates(&self) -> usize {
        self.cities.iter().flat_map(|c| c.log.received.values()).map(|n| n.saturating_sub(1)).sum()
    }

    /// The settle times of the cities, sorted.
    pub fn settle_times(&self) -> Vec<StdDuration> {
        let mut t: Vec<StdDuration> = self.cities.iter().map(|c| c.settled_in).collect();
        t.sort();
        t
    }

    /// One line for a person.
    pub fn summary(&self) -> String {
        let t = self.settle_times();
        let at = |q: f64| t.get(((t.len() as f64 - 1.0) * q).round() as usize).copied().unwrap_or_default();
        format!(
            "{} cities × {} instances ({} at once): wall {:.1?}; per city to settle {} slots of {} jobs and {NOTICES} notices: \
             median {:.1?}, p95 {:.1?}, max {:.1?} (per hourly cycle: median {:.2?}); {} claims abandoned by dying instances, \
             {} late outcomes refused, {} late outcomes accepted, {} extra sends deduplicated by key",
            self.plan.cities,
            self.plan.instances,
            self.plan.parallel,
            self.wall,
            TICKS,
            JOBS.len(),
            at(0.5),
            at(0.95),
            at(1.0),
            at(0.5) / TICKS as u32,
            self.total(|l| l.died),
            self.total(|l| l.late_refused),
            self.total(|l| l.late_accepted),
            self.duplicates(),
        )
    }
}
