//! `hazewarn province`: a province of cities in one deployment (`province.toml`), its regional
//! advisories (区域预警提示) and the cities' answers. Thin wrappers over
//! `hazewarn_scheduler::Province` and `hazewarn_server::serve_province`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Result, anyhow, bail};
use chrono::{DateTime, FixedOffset};
use hazewarn_response::{AdvisoryTerms, WarningLevel};
use hazewarn_scheduler::{AdvisoryChange, AnswerRequest, Province, ProvinceConfig, SystemClock, beijing};
use hazewarn_store::users::{Role, User};

use crate::cycle_cmd::{random_token, runtime};

#[derive(clap::Args)]
pub struct ProvinceArg {
    /// The province's configuration (TOML): its store and its cities' configs.
    #[arg(long)]
    pub config: PathBuf,
}

#[derive(clap::Subcommand)]
pub enum ProvinceCommand {
    /// Serve the province's page on --addr and each city's on its `listen`, every city's jobs beside them.
    #[command(after_help = "Example:\n  hazewarn province serve --config province.toml --addr 127.0.0.1:8090")]
    Serve {
        #[command(flatten)]
        config: ProvinceArg,
        #[arg(long, default_value = "127.0.0.1:8090")]
        addr: String,
        #[arg(long, default_value_t = 50)]
        rate: u32,
        #[arg(long, default_value_t = hazewarn_server::FAILURES_PER_MINUTE)]
        failures_per_minute: u32,
    },
    /// Run every city's jobs on their schedules, and the advisory delivery catch-up, until stopped (no pages).
    #[command(after_help = "Example:\n  hazewarn province run --config province.toml")]
    Run(ProvinceArg),
    /// Add a province user (sees every city, writes advisories); prints the token once.
    UserAdd {
        #[command(flatten)]
        config: ProvinceArg,
        #[arg(long)]
        name: String,
        /// The bearer token (default: 32 random bytes).
        #[arg(long)]
        token: Option<String>,
    },
    /// Issue a regional advisory to the named cities.
    #[command(after_help = "Example:\n  hazewarn province issue --config province.toml --level orange \\\n    \
        --start 2026-12-08T00:00:00+08:00 --end 2026-12-11T00:00:00+08:00 --cities luohe,xuchang \\\n    \
        --deadline 2026-12-07T18:00:00+08:00 --by 省厅值班 --reason 区域重污染过程")]
    Issue {
        #[command(flatten)]
        config: ProvinceArg,
        #[arg(long)]
        level: String,
        #[arg(long)]
        start: DateTime<FixedOffset>,
        #[arg(long)]
        end: DateTime<FixedOffset>,
        /// Comma-separated city ids.
        #[arg(long, value_delimiter = ',')]
        cities: Vec<String>,
        /// Default: `answer_hours` from now.
        #[arg(long)]
        deadline: Option<DateTime<FixedOffset>>,
        #[arg(long)]
        by: String,
        #[arg(long)]
        reason: String,
    },
    /// Extend an advisory in force to a later end.
    Extend {
        #[command(flatten)]
        config: ProvinceArg,
        #[arg(long)]
        advisory: String,
        #[arg(long)]
        end: DateTime<FixedOffset>,
        #[arg(long)]
        by: String,
        #[arg(long)]
        reason: String,
    },
    /// Lift an advisory.
    Lift {
        #[command(flatten)]
        config: ProvinceArg,
        #[arg(long)]
        advisory: String,
        #[arg(long)]
        by: String,
        #[arg(long)]
        reason: String,
    },
    /// A city's answer: follow (start or raise its warning), in-force, or justify --reason.
    Answer {
        #[command(flatten)]
        config: ProvinceArg,
        #[arg(long)]
        city: String,
        #[arg(long)]
        advisory: String,
        #[arg(long)]
        answer: String,
        #[arg(long, default_value = "")]
        reason: String,
        #[arg(long)]
        by: String,
    },
    /// Every advisory with the cities' answers, as JSON.
    Show(ProvinceArg),
    /// Verify the province's audit chain and every city's.
    Audit(ProvinceArg),
}

async fn open(config: &Path) -> Result<Province> {
    let c = ProvinceConfig::load(config)?;
    Ok(Province::open(c, Arc::new(SystemClock)).await?)
}

fn level(s: &str) -> Result<WarningLevel> {
    match s {
        "yellow" => Ok(WarningLevel::Yellow),
        "orange" => Ok(WarningLevel::Orange),
        "red" => Ok(WarningLevel::Red),
        other => bail!("--level: `{other}` is not yellow, orange or red"),
    }
}

pub fn run(cmd: ProvinceCommand) -> Result<()> {
    runtime()?.block_on(async move {
        match cmd {
            ProvinceCommand::Serve { config, addr, rate, failures_per_minute } => {
                let p = open(&config.config).await?;
                println!("serving {} on http://{addr}/ (ctrl-c stops)", p.config.province.name);
                for c in &p.config.cities {
                    println!("  {} on http://{}/", c.id, c.listen.as_deref().unwrap_or("(no listen)"));
                }
                hazewarn_server::serve_province(Arc::new(p), &addr, rate, failures_per_minute).await?;
            }
            ProvinceCommand::Run(config) => {
                let p = Arc::new(open(&config.config).await?);
                let (stop, rx) = tokio::sync::watch::channel(false);
                let mut run = tokio::spawn(hazewarn_scheduler::run_province(p, rx));
                tokio::select! {
                    r = &mut run => r??,
                    _ = tokio::signal::ctrl_c() => {
                        // Every city's jobs stop cleanly before the process ends.
                        let _ = stop.send(true);
                        run.await??;
                    }
                }
            }
            ProvinceCommand::UserAdd { config, name, token } => {
                let p = open(&config.config).await?;
                let token = match token {
                    Some(t) => t,
                    None => random_token(32)?,
                };
                hazewarn_scheduler::city::check_token(&token)?;
                let user = User { name: name.clone(), role: Role::Province, credit_code: None };
                p.store.add_user(&user, &token, "cli", p.now()).await?;
                println!("province user {name} added; bearer token (shown once): {token}");
            }
            ProvinceCommand::Issue { config, level: l, start, end, cities, deadline, by, reason } => {
                let p = open(&config.config).await?;
                let hours = i64::from(p.config.province.answer_hours);
                let deadline = deadline.unwrap_or_else(|| beijing(p.now()) + chrono::Duration::hours(hours));
                let terms = AdvisoryTerms { level: level(&l)?, start, end, cities, deadline };
                let a = p.issue(terms, &by, &reason, p.now()).await?;
                println!("{} issued to {}", a.id, a.current().terms.cities.join(", "));
            }
            ProvinceCommand::Extend { config, advisory, end, by, reason } => {
                let p = open(&config.config).await?;
                let a = p.step(&advisory, AdvisoryChange::Extend(end), &by, &reason, p.now()).await?;
                println!("{} extended to {}", a.id, a.current().terms.end.to_rfc3339());
            }
            ProvinceCommand::Lift { config, advisory, by, reason } => {
                let p = open(&config.config).await?;
                let a = p.step(&advisory, AdvisoryChange::Lift, &by, &reason, p.now()).await?;
                println!("{} lifted", a.id);
            }
            ProvinceCommand::Answer { config, city, advisory, answer, reason, by } => {
                let p = open(&config.config).await?;
                let request = match answer.as_str() {
                    "follow" => AnswerRequest::Follow,
                    "in-force" => AnswerRequest::InForce,
                    "justify" => AnswerRequest::Justify { reason },
                    other => bail!("--answer: `{other}` is not follow, in-force or justify"),
                };
                let a = p.answer(&city, &advisory, request, &by, p.now()).await?;
                println!("{city} answered step {} of {}: {}", a.step, a.advisory_id, a.answer.name());
            }
            ProvinceCommand::Show(config) => {
                let p = open(&config.config).await?;
                let mut out = Vec::new();
                for a in p.store.advisories().await? {
                    let answers = p.store.answers(&a.id).await?;
                    out.push(serde_json::json!({"advisory": a, "answers": answers}));
                }
                println!("{}", serde_json::to_string_pretty(&out)?);
            }
            ProvinceCommand::Audit(config) => {
                let p = open(&config.config).await?;
                let mut broken = Vec::new();
                let stores = std::iter::once((p.config.province.id.clone(), &p.store))
                    .chain(p.cities.iter().map(|c| (c.config.city.id.clone(), &c.store)));
                for (who, store) in stores {
                    let r = store.verify_audit().await?;
                    match (&r.broken, r.altered.is_empty()) {
                        (Some((seq, why)), _) => broken.push(format!("{who}: chain broken at entry {seq}: {why}")),
                        (None, false) => {
                            broken.push(format!("{who}: rows that do not match: {}", r.altered.join(", ")))
                        }
                        (None, true) => {
                            println!("{who}: audit chain intact, {} entries, head {}", r.entries, r.head_hash)
                        }
                    }
                }
                if !broken.is_empty() {
                    return Err(anyhow!("{}", broken.join("\n")));
                }
            }
        }
        Ok(())
    })
}
