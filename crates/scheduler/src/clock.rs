//! Time for the edges. Jobs read the clock only through [`Clock`], so tests run a simulated week
//! in seconds with [`ManualClock`].

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};

pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

/// The machine's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that moves only when told.
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<Mutex<DateTime<Utc>>>);

impl ManualClock {
    pub fn new(at: DateTime<Utc>) -> ManualClock {
        ManualClock(Arc::new(Mutex::new(at)))
    }

    pub fn set(&self, at: DateTime<Utc>) {
        *self.0.lock().expect("clock lock") = at;
    }

    pub fn advance(&self, by: Duration) {
        let mut t = self.0.lock().expect("clock lock");
        *t += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().expect("clock lock")
    }
}

/// The machine's clock shifted by an offset: a demonstration city runs on its own dates (the
/// synthetic sample's winter), moving at the wall clock's pace, so browsing it shows its warning
/// in force and its deadlines as a user would meet them. The offset is fixed by when the city was
/// first opened (kept in the store), so every process of the city agrees on the time.
#[derive(Debug, Clone)]
pub struct OffsetClock {
    offset_ms: Arc<std::sync::atomic::AtomicI64>,
}

impl OffsetClock {
    /// A clock that reads `city_start` at the wall-clock time `wall_start`.
    pub fn new(city_start: DateTime<Utc>, wall_start: DateTime<Utc>) -> OffsetClock {
        let clock = OffsetClock { offset_ms: Arc::new(0.into()) };
        clock.anchor(city_start, wall_start);
        clock
    }

    /// Re-anchors the clock (once the store says when the city was first opened).
    pub fn anchor(&self, city_start: DateTime<Utc>, wall_start: DateTime<Utc>) {
        let offset = (city_start - wall_start).num_milliseconds();
        self.offset_ms.store(offset, std::sync::atomic::Ordering::Relaxed);
    }
}

impl Clock for OffsetClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now() + Duration::milliseconds(self.offset_ms.load(std::sync::atomic::Ordering::Relaxed))
    }
}
