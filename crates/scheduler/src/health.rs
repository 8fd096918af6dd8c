//! Whether the scheduler is doing its work: when each job last finished, and which are overdue.
//! A job is overdue when its next due time after its last run (or after the scheduler started)
//! is more than `schedule.overdue_after_s` in the past. `serve` answers `/readyz` from this.
//!
//! Times here are the machine's, not the city's [`crate::Clock`]: the cron triggers fire on the
//! machine's clock, whatever clock the jobs read (a demonstration city runs on its own dates).

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use crate::beijing;
use crate::config::{Schedule, parse_cron};

/// The jobs whose progress is watched. `follow-up` runs with `dispatch` on its schedule.
const WATCHED: [&str; 7] = ["ingest", "forecast", "evaluate", "dispatch", "follow-up", "verify", "compliance"];

/// A job's last finish. Its detail (which may hold paths or database errors) is logged by the
/// job, never served: readiness is public.
#[derive(Debug, Clone)]
struct Tick {
    at: DateTime<Utc>,
    ok: bool,
}

/// The scheduler's progress, shared between its jobs and the server.
#[derive(Debug, Default)]
pub struct Health {
    started: Mutex<Option<DateTime<Utc>>>,
    last: Mutex<HashMap<&'static str, Tick>>,
    /// Each job's last successful finish, kept through later failures.
    last_ok: Mutex<HashMap<&'static str, DateTime<Utc>>>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct JobReadiness {
    pub job: String,
    pub last_run: Option<String>,
    pub last_ok: Option<bool>,
    /// When it was next due after its last run (or after the scheduler started).
    pub due: Option<String>,
    pub overdue: bool,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Readiness {
    pub ready: bool,
    pub scheduler_started: Option<String>,
    pub jobs: Vec<JobReadiness>,
}

impl Health {
    pub fn scheduler_started(&self, at: DateTime<Utc>) {
        *self.started.lock().expect("health lock") = Some(at);
    }

    /// Records that `job` finished at `at`.
    pub fn record(&self, job: &str, at: DateTime<Utc>, ok: bool) {
        let Some(job) = WATCHED.iter().find(|j| **j == job) else { return };
        self.last.lock().expect("health lock").insert(job, Tick { at, ok });
        if ok {
            self.last_ok.lock().expect("health lock").insert(job, at);
        }
    }

    /// When `job` last finished successfully, however its later runs went.
    pub fn last_success(&self, job: &str) -> Option<DateTime<Utc>> {
        self.last_ok.lock().expect("health lock").get(job).copied()
    }

    /// Which watched jobs are overdue at `now`; not ready before the scheduler has started.
    pub fn readiness(&self, schedule: &Schedule, now: DateTime<Utc>) -> Readiness {
        let started = *self.started.lock().expect("health lock");
        let last = self.last.lock().expect("health lock").clone();
        let grace = Duration::seconds(i64::try_from(schedule.overdue_after_s).unwrap_or(i64::MAX / 1000));
        let jobs = schedule.jobs();
        let mut out = Vec::new();
        for job in WATCHED {
            let scheduled = if job == "follow-up" { "dispatch" } else { job };
            let tick = last.get(job);
            let since = tick.map(|t| t.at).or(started);
            // The earliest next due time over the job's schedules (forecast and evaluate have several).
            let due = since.and_then(|since| {
                let local = beijing(since).with_timezone(&chrono_tz::Asia::Shanghai);
                jobs.iter()
                    .filter(|j| j.job == scheduled)
                    .filter_map(|j| parse_cron(&j.cron).ok()?.find_next_occurrence(&local, false).ok())
                    .map(|t| t.with_timezone(&Utc))
                    .min()
            });
            out.push(JobReadiness {
                job: job.to_owned(),
                last_run: tick.map(|t| beijing(t.at).to_rfc3339()),
                last_ok: tick.map(|t| t.ok),
                due: due.map(|d| beijing(d).to_rfc3339()),
                overdue: due.is_some_and(|d| now > d + grace),
            });
        }
        Readiness {
            ready: started.is_some() && out.iter().all(|j| !j.overdue),
            scheduler_started: started.map(|t| beijing(t).to_rfc3339()),
            jobs: out,
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn job<'a>(r: &'a Readiness, name: &str) -> &'a JobReadiness {
        r.jobs.iter().find(|j| j.job == name).unwrap()
    }

    #[test]
    fn not_ready_before_the_scheduler_starts() {
        let h = Health::default();
        let r = h.readiness(&Schedule::default(), Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap());
        assert!(!r.ready);
        assert!(r.jobs.iter().all(|j| !j.overdue && j.due.is_none()));
    }

    /// Hand-computed: dispatch every 10 minutes with a minute's grace; forecasts at 06:00 and
    /// 16:00 Beijing time.
    #[test]
    fn a_job_is_overdue_a_grace_period_after_its_next_due_time() {
        let schedule = Schedule { dispatch: "0 */10 * * * *".into(), overdue_after_s: 60, ..Schedule::default() };
        let h = Health::default();
        h.scheduler_started(utc("2026-01-01T05:00:00+08:00"));
        h.record("ingest", utc("2026-01-01T05:05:10+08:00"), true); // next due 06:05
        let r = h.readiness(&schedule, utc("2026-01-01T05:10:59+08:00"));
        assert_eq!(job(&r, "dispatch").due.as_deref(), Some("2026-01-01T05:10:00+08:00"));
        assert!(r.ready, "{r:?}");
        let r = h.readiness(&schedule, utc("2026-01-01T05:11:01+08:00"));
        assert!(job(&r, "dispatch").overdue && job(&r, "follow-up").overdue && !r.ready);
        assert!(!job(&r, "forecast").overdue);
        assert_eq!(job(&r, "forecast").due.as_deref(), Some("2026-01-01T06:00:00+08:00"));

        h.record("dispatch", utc("2026-01-01T05:10:05+08:00"), true);
        h.record("follow-up", utc("2026-01-01T05:10:04+08:00"), true);
        let r = h.readiness(&schedule, utc("2026-01-01T05:21:00+08:00"));
        assert_eq!(job(&r, "dispatch").due.as_deref(), Some("2026-01-01T05:20:00+08:00"));
        assert!(r.ready);
        assert!(!h.readiness(&schedule, utc("2026-01-01T05:21:01+08:00")).ready);

        // The forecast due at 06:00 and not run by 06:01:01 is overdue; once run, the next is 16:00.
        let r = h.readiness(&schedule, utc("2026-01-01T06:01:01+08:00"));
        assert!(job(&r, "forecast").overdue);
        h.record("forecast", utc("2026-01-01T06:00:30+08:00"), false);
        let r = h.readiness(&schedule, utc("2026-01-01T06:01:01+08:00"));
        let f = job(&r, "forecast");
        assert_eq!((f.overdue, f.last_ok, f.due.as_deref()), (false, Some(false), Some("2026-01-01T16:00:00+08:00")));
    }
}
