//! Running jobs: once for a given time (`cycle`), or on the configured cron schedules (`run`).
//! Every job but dispatch claims its slot in the store first, so a slot runs once across
//! instances and a second run of a finished slot changes nothing.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use tokio_cron_scheduler::{Job, JobScheduler};

use crate::city::City;
use crate::config::ScheduledJob;
use crate::cycle::issue_hour;
use crate::{SchedulerError, beijing};
use hazewarn_store::jobs::{SlotClaim, SlotLease};

#[derive(Debug, Clone, Serialize)]
pub struct JobOutcome {
    pub job: String,
    pub slot: String,
    /// `done`, `failed`, `skipped (done before)` or `skipped (another instance holds it)`.
    pub status: String,
    pub detail: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct CycleReport {
    pub at: String,
    pub jobs: Vec<JobOutcome>,
}

const JOB_LEASE_MINUTES: i64 = 30;

/// Runs one job for the slot of `now` (the local hour).
pub async fn run_job(city: &City, job: &str, now: DateTime<Utc>) -> Result<JobOutcome, SchedulerError> {
    let slot = issue_hour(now).format("%Y-%m-%dT%H:00+08:00").to_string();
    let outcome = |status: &str, detail: String| JobOutcome {
        job: job.into(),
        slot: slot.clone(),
        status: status.into(),
        detail,
    };
    if job == "dispatch" {
        // The outbox has its own leases; dispatch may run any number of times.
        let followed = city.follow_up(now).await;
        let follow_detail = match &followed {
            Ok((reminded, escalated)) => format!("{reminded} reminders, {escalated} escalations"),
            Err(e) => e.to_string(),
        };
        city.health.record("follow-up", Utc::now(), followed.is_ok());
        followed?;
        let dispatched = city.dispatcher().dispatch_due().await;
        let detail = match &dispatched {
            Ok(r) => format!("{} sent, {} to retry, {} dead; {follow_detail}", r.sent, r.retried, r.dead),
            Err(e) => e.to_string(),
        };
        city.health.record("dispatch", Utc::now(), dispatched.is_ok());
        dispatched?;
        return Ok(outcome("done", detail));
    }
    let lease = Duration::minutes(JOB_LEASE_MINUTES);
    let claim = city.store.claim_slot(job, &slot, &city.owner, now, lease).await;
    if claim.is_err() {
        city.health.record(job, Utc::now(), false);
    }
    let held = match claim? {
        SlotClaim::Done => return skipped(city, job, outcome("skipped (done before)", String::new())),
        SlotClaim::Busy => return skipped(city, job, outcome("skipped (another instance holds it)", String::new())),
        SlotClaim::Claimed(held) => held,
    };
    let heartbeat = Heartbeat(heartbeat(city, job, &slot, &held, lease));
    let result: Result<String, SchedulerError> = async {
        Ok(match job {
            "ingest" => {
                let inputs = city.gather(now, true).await?;
                let failed: Vec<&str> = inputs.status.iter().filter(|s| !s.ok).map(|s| s.name.as_str()).collect();
                format!(
                    "{} hours; failed sources: {}",
                    inputs.series.len(),
                    if failed.is_empty() { "none".into() } else { failed.join(", ") }
                )
            }
            "forecast" => {
                let run = city.forecast(now).await?;
                format!("run {} ({})", run.id, run.model)
            }
            "evaluate" => match city.evaluate(now).await? {
                None => "no approved forecast to grade".into(),
                Some((run, None)) => format!("{run}: no new action"),
                Some((run, Some(step))) => format!("{run}: {}", serde_json::to_string(&step).expect("serialises")),
            },
            "verify" => format!("{} leads scored", city.verify(now).await?),
            "compliance" => match city.check_compliance(now).await? {
                None => "no warning in force".into(),
                Some(r) => format!(
                    "{} step {}: {} hours, {}; {} alarm(s) opened",
                    r.warning_id,
                    r.step,
                    r.hours,
                    serde_json::to_string(&r.verdicts).expect("counts serialise"),
                    r.alarms_opened.len()
                ),
            },
            other => return Err(SchedulerError::Job(format!("unknown job `{other}`"))),
        })
    }
    .await;
    let (ok, detail) = match &result {
        Ok(d) => (true, d.clone()),
        Err(e) => (false, e.to_string()),
    };
    drop(heartbeat);
    let finished = city.store.finish_slot(job, &slot, &held, city.now(), ok, &detail).await;
    city.health.record(job, Utc::now(), ok && matches!(finished, Ok(true)));
    if !finished? {
        // Fenced: the lease ran out and another instance took the slot; its word stands.
        tracing::error!(job, slot = %slot, epoch = held.epoch, "lease lost before the job finished; its outcome is not recorded");
        return Err(SchedulerError::Job(format!(
            "{job} {slot}: the lease ran out and another instance took the slot over; this run's outcome is not recorded"
        )));
    }
    if ok {
        tracing::info!(job, slot = %slot, detail = %detail, "job finished");
    } else {
        tracing::error!(job, slot = %slot, detail = %detail, "job failed");
    }
    Ok(outcome(if ok { "done" } else { "failed" }, detail))
}

fn skipped(city: &City, job: &str, outcome: JobOutcome) -> Result<JobOutcome, SchedulerError> {
    city.health.record(job, Utc::now(), true);
    Ok(outcome)
}

/// The heartbeat of a running job, stopped when dropped: also when the job panics, so a dead job
/// never keeps its slot's lease alive.
struct Heartbeat(tokio::task::JoinHandle<()>);

impl Drop for Heartbeat {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Keeps a running slot's lease alive, renewing it every third of its term, until aborted. A
/// renewal refused (another instance took the slot) or failing is logged at once; the job's
/// outcome is then refused by its fencing token.
fn heartbeat(city: &City, job: &str, slot: &str, held: &SlotLease, lease: Duration) -> tokio::task::JoinHandle<()> {
    let (store, job, slot, held) = (city.store.clone(), job.to_owned(), slot.to_owned(), held.clone());
    let every = (lease / 3).to_std().unwrap_or(std::time::Duration::from_secs(60));
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(every).await;
            match store.renew_slot(&job, &slot, &held, lease).await {
                Ok(true) => {}
                Ok(false) => {
                    tracing::error!(job, slot, epoch = held.epoch, "lease lost: another instance holds the slot");
                    return;
                }
                Err(e) => tracing::error!(job, slot, error = %e, "lease renewal failed"),
            }
        }
    })
}

/// Runs the whole cycle once for `now`: forecast (with ingest), evaluate, dispatch, verify. A
/// failing job is reported and the cycle goes on.
pub async fn cycle(city: &City, now: DateTime<Utc>) -> Result<CycleReport, SchedulerError> {
    let mut jobs = Vec::new();
    for job in ["forecast", "evaluate", "dispatch", "verify"] {
        let outcome = match run_job(city, job, now).await {
            Ok(o) => o,
            Err(e) => {
                JobOutcome { job: job.into(), slot: String::new(), status: "failed".into(), detail: e.to_string() }
            }
        };
        if job == "forecast" && outcome.status.starts_with("skipped (another") {
            // Grading must see this slot's forecast: wait for the other instance to finish it.
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60 * JOB_LEASE_MINUTES as u64);
            while city.store.slot_status(job, &outcome.slot).await?.as_deref() == Some("running")
                && std::time::Instant::now() < deadline
            {
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
        }
        jobs.push(outcome);
    }
    Ok(CycleReport { at: beijing(now).to_rfc3339(), jobs })
}

/// Registers every job on its cron schedule (Asia/Shanghai) and runs until ctrl-c.
pub async fn run(city: Arc<City>) -> Result<(), SchedulerError> {
    run_until(city, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
}

/// Registers every job on its cron schedule (Asia/Shanghai) and runs until `stop` completes.
/// A job that panics is logged and recorded as failed; the scheduler goes on.
pub async fn run_until(city: Arc<City>, stop: impl Future<Output = ()>) -> Result<(), SchedulerError> {
    let err = |e: tokio_cron_scheduler::JobSchedulerError| SchedulerError::Job(e.to_string());
    let mut sched = JobScheduler::new().await.map_err(err)?;
    for ScheduledJob { job, key, cron } in city.config.schedule.jobs() {
        let c = city.clone();
        let j = Job::new_async_tz(cron.as_str(), chrono_tz::Asia::Shanghai, move |_, _| {
            let c = c.clone();
            Box::pin(async move {
                let task = tokio::spawn({
                    let c = c.clone();
                    async move { run_job(&c, job, c.now()).await }
                });
                match task.await {
                    Ok(Ok(_)) => {}
                    Ok(Err(e)) => tracing::error!(job, error = %e, "job failed"),
                    Err(e) => {
                        tracing::error!(job, error = %e, "job panicked");
                        c.health.record(job, Utc::now(), false);
                    }
                }
            })
        })
        .map_err(|e| SchedulerError::Config(format!("{key}: `{cron}`: {e}")))?;
        sched.add(j).await.map_err(err)?;
    }
    sched.start().await.map_err(err)?;
    city.health.scheduler_started(Utc::now());
    tracing::info!(owner = %city.owner, "scheduler running");
    // An overdue job is an error in the log every minute until it runs again.
    let watch = async {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(60));
        loop {
            every.tick().await;
            for j in city.health.readiness(&city.config.schedule, Utc::now()).jobs.iter().filter(|j| j.overdue) {
                tracing::error!(job = %j.job, due = ?j.due, last_run = ?j.last_run, "job overdue");
            }
        }
    };
    // The HJ 212 receiver runs beside the jobs; if it stops, so does the scheduler, loudly.
    let receiver = async {
        match &city.config.monitoring {
            None => std::future::pending().await,
            Some(m) => {
                let listener = tokio::net::TcpListener::bind(&m.listen)
                    .await
                    .map_err(|e| SchedulerError::Config(format!("monitoring.listen `{}`: {e}", m.listen)))?;
                tracing::info!(addr = %m.listen, "HJ 212 receiver listening");
                crate::monitoring::receive(city.clone(), listener).await
            }
        }
    };
    let result = tokio::select! {
        () = stop => Ok(()),
        () = watch => Ok(()),
        r = receiver => r,
    };
    sched.shutdown().await.map_err(err)?;
    result
}
