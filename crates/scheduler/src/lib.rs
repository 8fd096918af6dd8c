/*!
The city's daily cycle, run unattended: ingest → forecast → evaluate → dispatch → verify.

Principal types:
* [`Config`]: the city's TOML configuration (sources, schedules, policy, channels).
* [`City`]: a city at run time (store, clock, rule tables, channels). Its jobs are
  [`City::forecast`] (which ingests first), [`City::evaluate`], [`City::follow_up`] (reminders,
  escalations and public-alert updates), [`City::verify`], and [`City::apply`], the one way a
  warning step happens: transition, plan, notices, public alert and their outbox rows in one
  transaction.
* [`Dispatcher`]: delivers the outbox through [`Channel`]s (webhook, file drop) at least once,
  with backoff, `Retry-After` and dead letters.
* [`cycle`] runs every job once for a time (`hazewarn cycle`); [`run`] runs them on their cron
  schedules (`hazewarn run`). A job slot runs once across instances (see `hazewarn_store::jobs`).
* [`Clock`]: the only source of time, so a simulated week runs in seconds.
*/

mod alarms;
pub mod channel;
mod channels;
pub mod city;
pub mod clock;
pub mod compliance;
pub mod config;
pub mod cycle;
pub mod dispatch;
pub mod health;
pub mod links;
pub mod lists;
pub mod mail;
mod monitor_config;
pub mod monitoring;
pub mod province;
mod readings_writer;
pub mod respond;
pub mod robots;
mod run;
pub mod sms;
pub mod sources;
mod tc3;

use chrono::{DateTime, FixedOffset, NaiveDateTime, TimeZone, Utc};

pub use channel::{Channel, FileDrop, PersonChannel, Recipient, SendResult, Webhook, signature};
pub use city::City;
pub use clock::{Clock, ManualClock, OffsetClock, SystemClock};
pub use config::Config;
pub use dispatch::{DispatchReport, Dispatcher};
pub use health::{Health, Readiness};
pub use links::AckLinks;
pub use province::{
    AdvisoryChange, AnswerRequest, CityOutlook, Province, ProvinceConfig, run_province, supervise_tasks,
};
pub use respond::Step;
pub use run::{CycleReport, JobOutcome, cycle, run, run_job, run_until};

#[derive(Debug, thiserror::Error)]
pub enum SchedulerError {
    #[error("configuration: {0}")]
    Config(String),
    #[error("input: {0}")]
    Input(String),
    #[error("{0}")]
    Conflict(String),
    #[error("job: {0}")]
    Job(String),
    #[error(transparent)]
    Store(#[from] hazewarn_store::StoreError),
    #[error(transparent)]
    Response(#[from] hazewarn_response::ResponseError),
    #[error(transparent)]
    Forecast(#[from] hazewarn_forecast::ForecastError),
}

/// Beijing time (+08:00, no daylight saving): how every local time in hazewarn is written.
pub fn beijing(t: DateTime<Utc>) -> DateTime<FixedOffset> {
    t.with_timezone(&FixedOffset::east_opt(8 * 3600).expect("+08:00"))
}

/// The UTC instant of a local Beijing time.
pub fn utc_of_local(t: NaiveDateTime) -> DateTime<Utc> {
    FixedOffset::east_opt(8 * 3600).expect("+08:00").from_local_datetime(&t).unwrap().with_timezone(&Utc)
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_compliance;
#[cfg(test)]
mod tests_dispatch;
#[cfg(test)]
mod tests_monitoring;
#[cfg(test)]
mod tests_people;
#[cfg(test)]
mod tests_province;
#[cfg(test)]
mod tests_robots;
