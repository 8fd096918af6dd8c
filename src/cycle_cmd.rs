//! The operational commands over a city configuration: `run`, `cycle`, `dispatch`, `warning`,
//! `review`, `outbox`, `audit` and `user`. Each opens the city's store; the scheduler crate does the work.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context as _, Result, anyhow, bail};
use chrono::{DateTime, FixedOffset, Utc};
use hazewarn_response::WarningLevel;
use hazewarn_scheduler::{City, Clock, Config, ManualClock, OffsetClock, Step, SystemClock};
use hazewarn_store::OutboxStatus;
use hazewarn_store::forecasts::ReviewAction;

#[derive(clap::Args)]
pub struct ConfigArg {
    /// The city's configuration (TOML).
    #[arg(long)]
    pub config: PathBuf,
}

#[derive(clap::Subcommand)]
pub enum WarningCommand {
    /// Carry out the step a forecast run's grading recommends (the office's approval).
    Approve {
        #[arg(long)]
        run: String,
        #[arg(long)]
        by: String,
        #[arg(long)]
        reason: String,
    },
    /// Issue a warning directly, e.g. after a consultation (会商).
    Issue {
        #[arg(long)]
        level: String,
        /// Start and end, RFC 3339 (e.g. 2026-01-05T00:00:00+08:00).
        #[arg(long)]
        start: DateTime<FixedOffset>,
        #[arg(long)]
        end: DateTime<FixedOffset>,
        #[arg(long)]
        by: String,
        #[arg(long)]
        reason: String,
        #[arg(long, default_value = "manual")]
        forecast: String,
    },
    /// Upgrade, downgrade or extend the warning in force to a level and end.
    Change {
        /// upgrade, downgrade or extend.
        #[arg(long)]
        step: String,
        #[arg(long)]
        level: Option<String>,
        #[arg(long)]
        end: DateTime<FixedOffset>,
        #[arg(long)]
        by: String,
        #[arg(long)]
        reason: String,
    },
    /// Lift the warning in force.
    Lift {
        #[arg(long)]
        by: String,
        #[arg(long)]
        reason: String,
    },
    /// The warning in force, as JSON.
    Show,
}

#[derive(clap::Subcommand)]
pub enum OutboxCommand {
    /// Counts of pending, sent and dead messages.
    Status,
    /// Dead letters with their last error.
    Dead,
    /// Put a dead letter back in the queue.
    Retry {
        id: String,
        #[arg(long)]
        by: String,
    },
}

pub(crate) fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread().enable_all().build()?)
}

/// `--at` pins the clock (tests, replays); without it a demonstration city runs on its own
/// clock (`city.demo_clock_start`) and a real city on the machine's.
pub(crate) async fn open(config: &Path, at: Option<DateTime<FixedOffset>>) -> Result<City> {
    let cfg = Config::load(config)?;
    let demo = cfg.city.demo_clock_start.map(|t| t.with_timezone(&Utc));
    let offset = demo.map(|start| OffsetClock::new(start, Utc::now()));
    let clock: Arc<dyn Clock> = match (at, &offset) {
        (Some(t), _) => Arc::new(ManualClock::new(t.with_timezone(&Utc))),
        (None, Some(c)) => Arc::new(c.clone()),
        (None, None) => Arc::new(SystemClock),
    };
    let city = City::open(cfg, clock).await?;
    if let (Some(start), Some(c)) = (demo, &offset) {
        c.anchor(start, city.store.demo_clock_anchor(start, Utc::now()).await?);
    }
    Ok(city)
}

fn level(s: &str) -> Result<WarningLevel> {
    s.parse().map_err(|_| anyhow!("`{s}` is not a warning level (yellow, orange, red)"))
}

pub fn run_scheduler(c: &ConfigArg) -> Result<()> {
    runtime()?.block_on(async {
        let city = open(&c.config, None).await?;
        hazewarn_scheduler::run(Arc::new(city)).await?;
        Ok(())
    })
}

pub fn serve(c: &ConfigArg, addr: &str, rate: u32, failures_per_minute: u32) -> Result<()> {
    runtime()?.block_on(async {
        let city = open(&c.config, None).await?;
        println!("serving {} on http://{addr}/ (ctrl-c stops)", city.config.city.name);
        hazewarn_server::serve(Arc::new(city), addr, rate, failures_per_minute).await?;
        Ok(())
    })
}

pub fn cycle(c: &ConfigArg, at: DateTime<FixedOffset>, json: bool) -> Result<()> {
    runtime()?.block_on(async {
        let city = open(&c.config, Some(at)).await?;
        let report = hazewarn_scheduler::cycle(&city, city.now()).await?;
        if json {
            println!("{}", serde_json::to_string_pretty(&report)?);
        } else {
            println!("cycle at {}", report.at);
            for j in &report.jobs {
                println!("  {:<9} {:<38} {}", j.job, j.status, j.detail);
            }
        }
        if report.jobs.iter().any(|j| j.status == "failed") {
            bail!("a job failed (see above)");
        }
        Ok(())
    })
}

pub fn dispatch(c: &ConfigArg, until_empty: bool) -> Result<()> {
    runtime()?.block_on(async {
        let city = open(&c.config, None).await?;
        let d = city.dispatcher();
        let r = if until_empty { d.drain().await? } else { d.dispatch_due().await? };
        let (pending, sent, dead) = city.store.outbox_counts().await?;
        println!(
            "{} sent, {} retried, {} dead-lettered in this run; outbox: {pending} pending, {sent} sent, {dead} dead",
            r.sent, r.retried, r.dead
        );
        Ok(())
    })
}

pub fn warning(c: &ConfigArg, cmd: &WarningCommand) -> Result<()> {
    runtime()?.block_on(async {
        let city = open(&c.config, None).await?;
        let now = city.now();
        let w = match cmd {
            WarningCommand::Show => {
                match city.store.warning_in_force().await? {
                    Some(w) => println!("{}", serde_json::to_string_pretty(&w)?),
                    None => println!("no warning in force"),
                }
                return Ok(());
            }
            WarningCommand::Approve { run, by, reason } => city.approve_recommendation(run, by, reason, now).await?,
            WarningCommand::Issue { level: l, start, end, by, reason, forecast } => {
                city.apply(Step::Issue { level: level(l)?, start: *start, end: *end }, by, reason, forecast, now)
                    .await?
            }
            WarningCommand::Change { step, level: l, end, by, reason } => {
                let need = || l.as_deref().map(level).ok_or_else(|| anyhow!("--level is required to {step}"));
                let s = match step.as_str() {
                    "upgrade" => Step::Upgrade { level: need()??, end: *end },
                    "downgrade" => Step::Downgrade { level: need()??, end: *end },
                    "extend" => Step::Extend { end: *end },
                    other => bail!("`{other}` is not upgrade, downgrade or extend"),
                };
                city.apply(s, by, reason, "manual", now).await?
            }
            WarningCommand::Lift { by, reason } => city.apply(Step::Lift, by, reason, "manual", now).await?,
        };
        let step = w.current();
        let notices = city.store.notices_of(&w.id, Some(step.step)).await?;
        println!(
            "{} step {} ({:?}, {}): {} notices queued for delivery",
            w.id,
            step.step,
            step.kind,
            step.level.zh(),
            notices.len()
        );
        Ok(())
    })
}

pub fn review(c: &ConfigArg, run: &str, action: &str, by: &str, note: &str, daily: Option<&Path>) -> Result<()> {
    let action = match action {
        "approve" => ReviewAction::Approve,
        "adjust" => ReviewAction::Adjust,
        "annotate" => ReviewAction::Annotate,
        other => bail!("`{other}` is not approve, adjust or annotate"),
    };
    let adjusted = daily.map(|p| std::fs::read_to_string(p).with_context(|| p.display().to_string())).transpose()?;
    runtime()?.block_on(async {
        let city = open(&c.config, None).await?;
        let r = city.store.review(run, action, by, note, adjusted.as_deref(), city.now()).await?;
        println!("{run}: {} by {} at {}", r.action, r.by, r.at);
        Ok(())
    })
}

pub fn outbox(c: &ConfigArg, cmd: &OutboxCommand) -> Result<()> {
    runtime()?.block_on(async {
        let city = open(&c.config, None).await?;
        match cmd {
            OutboxCommand::Status => {
                let (pending, sent, dead) = city.store.outbox_counts().await?;
                println!("{pending} pending, {sent} sent, {dead} dead");
            }
            OutboxCommand::Dead => {
                for e in city.store.outbox_in(OutboxStatus::Dead, 10_000).await? {
                    println!("{}\t{}\t{} attempts\t{}", e.id, e.target, e.attempts, e.last_error.unwrap_or_default());
                }
            }
            OutboxCommand::Retry { id, by } => {
                city.store.retry_dead(id, by, city.now()).await?;
                println!("{id} is queued again");
            }
        }
        Ok(())
    })
}

pub fn audit_verify(c: &ConfigArg) -> Result<()> {
    runtime()?.block_on(async {
        let city = open(&c.config, None).await?;
        let r = city.store.verify_audit().await?;
        if let Some((seq, why)) = &r.broken {
            bail!("audit chain broken at entry {seq}: {why}");
        }
        if !r.altered.is_empty() {
            bail!(
                "audit chain intact, but {} of {} audited rows do not match it:\n  {}",
                r.altered.len(),
                r.rows_checked,
                r.altered.join("\n  ")
            );
        }
        println!(
            "audit chain intact: {} entries, head {}; {} warning, notice and alarm rows match it",
            r.entries, r.head_hash, r.rows_checked
        );
        Ok(())
    })
}

/// `bytes` from the kernel's generator, as hex: a bearer token.
pub fn random_token(bytes: usize) -> Result<String> {
    let mut buf = vec![0u8; bytes];
    std::io::Read::read_exact(&mut std::fs::File::open("/dev/urandom")?, &mut buf)?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}
