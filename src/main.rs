//! `hazewarn`: the command line and (later) the server of the heavy-pollution early-warning engine.
//! Library crates hold the logic; this binary parses flags, touches files and maps errors to exit codes.

mod aqi_cmd;
mod backtest;
mod compliance_cmd;
mod cycle_cmd;
mod demo;
mod demo_report;
mod evaluate;
mod fleet;
mod forecast_cmd;
mod hj212_cmd;
mod ingest_cmd;
mod province_cmd;
mod response_cmd;
mod sample;
mod sample_list;
mod sample_stations;
mod user_cmd;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use hazewarn_response::{GuaranteePolicy, RangeBound, TransitionKind, WarningLevel};

#[derive(Parser)]
#[command(name = "hazewarn", version, about = "Heavy-pollution weather early warning and emergency response")]
struct Cli {
    /// More log output (-v info, -vv debug, -vvv trace). RUST_LOG overrides it.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Daily AQI by HJ 633 (2012 before 2026-03-01, 2026 from then on) for a CSV of daily values.
    #[command(after_help = "Example:\n  hazewarn aqi --input daily.csv --output daily_aqi.csv\n\n\
        IN.csv has a `date` column (YYYY-MM-DD) and any of pm25,pm10,so2,no2,co,o3_8h\n\
        (µg/m³, CO in mg/m³). An empty cell means not measured. Other columns are copied through.")]
    Aqi {
        #[arg(long)]
        input: PathBuf,
        #[arg(long)]
        output: PathBuf,
    },
    /// Read observation files into the canonical hourly table, with quality control.
    #[command(
        after_help = "Examples:\n  hazewarn ingest ../shared/data/PRSA_data_2010.1.1-2014.12.31.csv.gz --out out/prsa\n  \
        hazewarn ingest city.csv --format uci-5city --station 'US Post' --out out/city\n\n\
        Writes DIR/observations.parquet, DIR/qc_report.json and DIR/qc_summary.txt."
    )]
    Ingest {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// canonical, parquet, uci-prsa, uci-5city, uci-multisite, cn-realtime or cn-archive
        /// (default: detect from the header).
        #[arg(long)]
        format: Option<hazewarn_ingest::Layout>,
        /// National layouts: read the stations of this city (the real-time release's `area`, e.g. 漯河市).
        #[arg(long)]
        area: Option<String>,
        /// With --city-mean: a weather-station table (canonical layout, met columns only) joined
        /// onto the city series on the hour.
        #[arg(long = "met-obs", value_delimiter = ',', requires = "city_mean")]
        met_obs: Vec<PathBuf>,
        /// Five-city layout: one PM_ site instead of the city mean. PRSA: the station name.
        #[arg(long)]
        station: Option<String>,
        /// Also write the city series (`city.parquet`): each hour the mean of the stations' valid
        /// values (HJ 663), with how many stations contributed (`city_stations.csv`).
        #[arg(long)]
        city_mean: bool,
        /// With --city-mean: the assessment stations (default: every station in the files).
        #[arg(long, value_delimiter = ',', requires = "city_mean")]
        stations: Option<Vec<String>>,
        #[arg(long)]
        out: PathBuf,
    },
    /// Grade a daily AQI forecast into a warning recommendation (issue, upgrade, downgrade, extend, lift).
    #[command(
        after_help = "Example:\n  hazewarn grade --daily forecast.csv --profile national-2024 --current none --json\n\n\
        IN.csv: date,aqi_p50[,aqi_p10,aqi_p90,primary]; the first row is D+1. Profiles: national-2024 (default),\n\
        national-2019, example-local, or a TOML file of your own."
    )]
    Grade {
        #[arg(long)]
        daily: PathBuf,
        #[arg(long, default_value = "national-2024")]
        profile: String,
        #[arg(long, default_value = "none")]
        current: Level,
        /// Last day covered by the warning in force, to tell an extension from a continuation.
        #[arg(long)]
        current_end: Option<chrono::NaiveDate>,
        /// Grade multi-day episodes on p90 (the upper bound of the range) instead of p50.
        #[arg(long, default_value = "p50")]
        bound: Bound,
        #[arg(long)]
        json: bool,
    },
    /// The emergency reduction list: a template to fill in, and validated, versioned imports.
    #[command(subcommand)]
    List(ListCommand),
    /// Apply the reduction list at a level and compare the cuts with the 10/20/30 % targets.
    #[command(
        after_help = "Example:\n  hazewarn plan --list data/lists/luohe-illustrative.csv --level orange \\\n    \
        --inventory data/lists/inventory-illustrative.csv --json > plan.json"
    )]
    Plan {
        /// CSV, XLSX, or an imported version (list-vNNNN.json).
        #[arg(long)]
        list: PathBuf,
        #[arg(long)]
        level: Level,
        /// City total emissions: pollutant,total_kg_d for SO2, NOx, PM and VOCs.
        #[arg(long)]
        inventory: PathBuf,
        #[arg(long, default_value = "national-2024")]
        profile: String,
        /// Grade-rule table (TOML); the shipped one has the verified cement rows.
        #[arg(long)]
        rules: Option<PathBuf>,
        /// How 保障类 enterprises are treated.
        #[arg(long, default_value = "exempt")]
        guarantee: Guarantee,
        #[arg(long)]
        json: bool,
    },
    /// Curtailment notices for every affected enterprise of a plan (JSON, text and HTML).
    #[command(after_help = "Example:\n  hazewarn notices --plan plan.json --out out/notices \\\n    \
        --issued-at 2026-12-01T17:00:00+08:00 --from 2026-12-02T00:00:00+08:00 --until 2026-12-05T00:00:00+08:00")]
    Notices {
        #[arg(long)]
        plan: PathBuf,
        #[arg(long)]
        out: PathBuf,
        #[arg(long)]
        warning_id: Option<String>,
        /// The warning step (1 = issue); notice ids are stable per warning, step and enterprise.
        #[arg(long, default_value_t = 1)]
        step: u32,
        #[arg(long, default_value = "issue")]
        kind: Kind,
        /// When the notices are issued (default: now).
        #[arg(long)]
        issued_at: Option<String>,
        /// When the measures take effect (default: issue + 24 h).
        #[arg(long)]
        from: Option<String>,
        /// When they end (default: from + 72 h).
        #[arg(long)]
        until: Option<String>,
        #[arg(long, default_value_t = 2)]
        ack_hours: u32,
        /// Notices of earlier steps, which the new ones supersede.
        #[arg(long)]
        previous: Option<PathBuf>,
    },
    /// The CAP 1.2 public alert for the latest step of a warning (JSON from the warning workflow).
    #[command(after_help = "Example:\n  hazewarn cap --warning out/demo/warning.json")]
    Cap {
        #[arg(long)]
        warning: PathBuf,
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Train up to a date, issue one forecast a day over a test range, and verify it against the baselines.
    #[command(
        after_help = "Example:\n  hazewarn backtest --obs ../shared/data/PRSA_data_2010.1.1-2014.12.31.csv.gz \\\n    \
        --train-until 2013-12-31 --test-from 2014-01-01 --test-until 2014-12-31 \\\n    \
        --hourly-out h.csv --daily-out d.csv --report r.json\n\n\
        --future-met observed passes the observed meteorology after the issue time in as a perfect NWP\n\
        forecast; the report labels it. --model writes a baseline instead: persistence, climatology, damped."
    )]
    Backtest(backtest::BacktestArgs),
    /// The backtest over a declared list of station-years, as one table against the baselines.
    #[command(after_help = "Example:\n  hazewarn evaluate --data ../shared/data --future-met both\n  \
        hazewarn evaluate --stages=-nowcast,-level-correction --only prsa-2014\n\n\
        The list (default data/evaluate/dev.toml) names each station-year's files in --data and its\n\
        train/test split. Stages to drop go after `=` (`--stages=-name`), so they are not read as options. --out keeps each run's hourly and daily files for hwbench.py score.")]
    Evaluate(evaluate::EvaluateArgs),
    /// Fit a forecaster and save it with its model card.
    #[command(
        after_help = "Example:\n  hazewarn train --obs data/sample/observations.csv --future-met observed --out /tmp/sample-gbdt\n\n\
        A model trained on ../shared/data is refused inside the repository."
    )]
    Train(forecast_cmd::TrainArgs),
    /// Issue one forecast from a saved model: hourly 1..96 h and daily D+1..D+7, as the backtest writes them.
    #[command(
        after_help = "Example:\n  hazewarn forecast --model /tmp/sample-gbdt --obs data/sample/observations.csv \\\n    \
        --met met.csv --issue-time '2026-01-01 16:00' --hourly-out h.csv --daily-out d.csv\n\n\
        MET.csv: issue_time,valid_time and any of temp,dewp,rh,pres,wspd,wdir,precip (an NWP run).\n\
        Observations after the issue time are ignored."
    )]
    Forecast(forecast_cmd::ForecastArgs),
    /// Run the daily cycle offline on the bundled synthetic sample city and write out/demo/.
    #[command(after_help = "Example:\n  cargo run --release -- demo")]
    Demo {
        #[arg(long, default_value = "data/sample")]
        sample: PathBuf,
        #[arg(long, default_value = "out/demo")]
        out: PathBuf,
    },
    /// HJ 212-2017 online-monitoring packets.
    #[command(subcommand)]
    Hj212(Hj212Command),
    /// Regenerate the synthetic sample city (seeded, so the same seed gives the same files).
    #[command(after_help = "Example:\n  hazewarn sample --seed 20241 --out data/sample --lists data/lists")]
    Sample {
        #[arg(long, default_value_t = sample::DEFAULT_SEED)]
        seed: u64,
        #[arg(long, default_value = "data/sample")]
        out: PathBuf,
        /// Where the illustrative reduction list and inventory go.
        #[arg(long, default_value = "data/lists")]
        lists: PathBuf,
    },
    /// Serve the API and the pages, with the scheduler running beside them.
    #[command(after_help = "Example:\n  hazewarn serve --config city.toml --addr 127.0.0.1:8080\n\n\
        Pages: / (public), /forecaster, /office, /enterprise (sign in with a token from `hazewarn user add`).\n\
        API: /api/v1/…; public: /api/v1/public/current, /cap.xml, /feed.atom.")]
    Serve {
        #[command(flatten)]
        config: cycle_cmd::ConfigArg,
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: String,
        /// Requests per second per token and per client address before 429.
        #[arg(long, default_value_t = 50)]
        rate: u32,
        /// Failed sign-ins or unknown tokens per client address per minute before 429.
        #[arg(long, default_value_t = hazewarn_server::FAILURES_PER_MINUTE)]
        failures_per_minute: u32,
    },
    /// Run the city's jobs on their cron schedules (Asia/Shanghai) until stopped.
    #[command(after_help = "Example:\n  hazewarn run --config city.toml")]
    Run(cycle_cmd::ConfigArg),
    /// Run one full cycle (forecast with ingest, evaluate, dispatch, verify) for a given time.
    #[command(after_help = "Example:\n  hazewarn cycle --config city.toml --at 2026-01-05T16:00:00+08:00")]
    Cycle {
        #[command(flatten)]
        config: cycle_cmd::ConfigArg,
        #[arg(long)]
        at: chrono::DateTime<chrono::FixedOffset>,
        #[arg(long)]
        json: bool,
    },
    /// Deliver due notices and alerts from the outbox.
    #[command(after_help = "Example:\n  hazewarn dispatch --config city.toml --until-empty")]
    Dispatch {
        #[command(flatten)]
        config: cycle_cmd::ConfigArg,
        /// Keep going (waiting for retries) until nothing is pending.
        #[arg(long)]
        until_empty: bool,
    },
    /// The emergency office's warning steps; each is audited and queues its notices.
    Warning {
        #[command(flatten)]
        config: cycle_cmd::ConfigArg,
        #[command(subcommand)]
        command: cycle_cmd::WarningCommand,
    },
    /// A forecaster's review of a forecast run: approve, adjust (with a reason) or annotate.
    #[command(
        after_help = "Example:\n  hazewarn review --config city.toml --run LH-20260105T16 --action approve --by zhang"
    )]
    Review {
        #[command(flatten)]
        config: cycle_cmd::ConfigArg,
        #[arg(long)]
        run: String,
        #[arg(long)]
        action: String,
        #[arg(long)]
        by: String,
        #[arg(long, default_value = "")]
        note: String,
        /// For adjust: the adjusted daily rows (JSON, as stored with the run).
        #[arg(long)]
        daily: Option<PathBuf>,
    },
    /// The delivery outbox: status, dead letters, retry.
    Outbox {
        #[command(flatten)]
        config: cycle_cmd::ConfigArg,
        #[command(subcommand)]
        command: cycle_cmd::OutboxCommand,
    },
    /// Check the audit log's hash chain.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Users and their bearer tokens.
    #[command(subcommand)]
    User(UserCommand),
    /// A province of cities in one deployment: serve them, regional advisories and the cities' answers.
    #[command(subcommand)]
    Province(province_cmd::ProvinceCommand),
    /// Electricity-use monitoring (分表计电): import a feed of meter readings.
    #[command(subcommand)]
    Power(PowerCommand),
    /// Did they curtail? Judge each line of the warning in force now (the `compliance` job).
    #[command(subcommand)]
    Compliance(ComplianceCommand),
}

#[derive(Subcommand)]
enum PowerCommand {
    /// Import CSV (meter,time,kw) or JSON ([{meter,time,kw}]) feeds; a feed with a bad row is refused whole.
    #[command(after_help = "Example:\n  hazewarn power import --config city.toml meters-0108.csv")]
    Import {
        #[command(flatten)]
        config: cycle_cmd::ConfigArg,
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

#[derive(Subcommand)]
enum ComplianceCommand {
    /// Judge the warning in force now; verdicts are stored and suspected lines open alarms.
    #[command(after_help = "Example:\n  hazewarn compliance check --config city.toml")]
    Check {
        #[command(flatten)]
        config: cycle_cmd::ConfigArg,
        /// Judge as of this time instead of now.
        #[arg(long)]
        at: Option<chrono::DateTime<chrono::FixedOffset>>,
    },
    /// Every alarm, one JSON object per line, oldest first.
    Alarms(cycle_cmd::ConfigArg),
}

#[derive(Subcommand)]
enum Hj212Command {
    /// Decode packets, one frame per line, into one JSON object each; invalid lines print
    /// `{"line": N, "error": …}` naming the field, and the exit code is 1.
    #[command(after_help = "Example:\n  hazewarn hj212 decode captured.txt\n  nc -l 9000 | hazewarn hj212 decode -")]
    Decode {
        /// A file of frames, or `-` (the default) for standard input.
        input: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Recompute the chain; exit 1 naming the first broken entry.
    Verify(cycle_cmd::ConfigArg),
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add a user (forecaster, office, enterprise bound to a credit code, admin); prints the token once.
    Add {
        #[command(flatten)]
        config: cycle_cmd::ConfigArg,
        #[arg(long)]
        name: String,
        #[arg(long)]
        role: String,
        #[arg(long)]
        credit_code: Option<String>,
        /// Use this token instead of a random one.
        #[arg(long)]
        token: Option<String>,
    },
    /// One enterprise account per credit code on the active list, with its mobile and e-mail
    /// (they sign in with a one-time code); existing accounts get the list's contacts.
    Import {
        #[command(flatten)]
        config: cycle_cmd::ConfigArg,
        /// Take the accounts from the active reduction list (the only source).
        #[arg(long, required = true)]
        list: bool,
    },
    /// Every account with its role, contacts and state.
    List(cycle_cmd::ConfigArg),
    /// Disable an account: its token and sessions stop working at once.
    Disable {
        #[command(flatten)]
        config: cycle_cmd::ConfigArg,
        name: String,
    },
    /// Enable a disabled account.
    Enable {
        #[command(flatten)]
        config: cycle_cmd::ConfigArg,
        name: String,
    },
    /// Give an account a new bearer token (printed once); the old one and its sessions end.
    Rotate {
        #[command(flatten)]
        config: cycle_cmd::ConfigArg,
        name: String,
    },
}

#[derive(Subcommand)]
enum ListCommand {
    /// Write an empty list with the documented columns (.csv or .xlsx by the extension).
    #[command(after_help = "Example:\n  hazewarn list template --out 减排清单模板.xlsx")]
    Template {
        #[arg(long)]
        out: PathBuf,
    },
    /// Validate a CSV or XLSX list and store it as the next version; any error changes nothing.
    #[command(after_help = "Example:\n  hazewarn list import 2026清单.xlsx --dir lists/")]
    Import {
        file: PathBuf,
        #[arg(long, default_value = "lists")]
        dir: PathBuf,
        #[arg(long)]
        rules: Option<PathBuf>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Level {
    None,
    Yellow,
    Orange,
    Red,
}

impl From<Level> for WarningLevel {
    fn from(l: Level) -> WarningLevel {
        match l {
            Level::None => WarningLevel::None,
            Level::Yellow => WarningLevel::Yellow,
            Level::Orange => WarningLevel::Orange,
            Level::Red => WarningLevel::Red,
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum Bound {
    P50,
    P90,
}

#[derive(Clone, Copy, ValueEnum)]
enum Guarantee {
    Exempt,
    HeatLed,
}

#[derive(Clone, Copy, ValueEnum)]
enum Kind {
    Issue,
    Upgrade,
    Downgrade,
    Extend,
    Lift,
}

fn main() -> ExitCode {
    let cli = Cli::parse(); // usage errors exit with 2
    init_logging(cli.verbose);
    let result = match cli.command {
        Command::Aqi { input, output } => aqi_cmd::run(&input, &output),
        Command::Ingest { files, format, station, area, met_obs, city_mean, stations, out } => {
            let options = hazewarn_ingest::IngestOptions {
                layout: format,
                station,
                area,
                codes: stations.clone(),
                ..Default::default()
            };
            ingest_cmd::run(&files, &options, city_mean.then_some(stations), &met_obs, &out)
        }
        Command::Grade { daily, profile, current, current_end, bound, json } => {
            let bound = match bound {
                Bound::P50 => RangeBound::P50,
                Bound::P90 => RangeBound::P90,
            };
            response_cmd::run_grade(&daily, &profile, current.into(), current_end, bound, json)
        }
        Command::List(ListCommand::Template { out }) => response_cmd::run_list_template(&out),
        Command::List(ListCommand::Import { file, dir, rules }) => {
            response_cmd::run_list_import(&file, &dir, rules.as_deref())
        }
        Command::Plan { list, level, inventory, profile, rules, guarantee, json } => {
            let guarantee = match guarantee {
                Guarantee::Exempt => GuaranteePolicy::Exempt,
                Guarantee::HeatLed => GuaranteePolicy::HeatLed,
            };
            response_cmd::run_plan(&list, level.into(), &inventory, &profile, rules.as_deref(), guarantee, json)
                .map(|_| ())
        }
        Command::Notices { plan, out, warning_id, step, kind, issued_at, from, until, ack_hours, previous } => {
            let kind = match kind {
                Kind::Issue => TransitionKind::Issue,
                Kind::Upgrade => TransitionKind::Upgrade,
                Kind::Downgrade => TransitionKind::Downgrade,
                Kind::Extend => TransitionKind::Extend,
                Kind::Lift => TransitionKind::Lift,
            };
            let args = response_cmd::NoticeArgs {
                plan,
                out,
                warning_id,
                step,
                kind,
                issued_at,
                from,
                until,
                ack_hours,
                previous,
            };
            response_cmd::run_notices(&args).map(|_| ())
        }
        Command::Cap { warning, out } => response_cmd::run_cap(&warning, out.as_deref()),
        Command::Backtest(args) => backtest::run(&args),
        Command::Evaluate(args) => evaluate::run(&args),
        Command::Train(args) => forecast_cmd::train(&args),
        Command::Forecast(args) => forecast_cmd::forecast(&args),
        Command::Demo { sample, out } => demo::run(&sample, &out),
        Command::Sample { seed, out, lists } => sample::write(seed, &out, &lists),
        Command::Hj212(Hj212Command::Decode { input }) => match hj212_cmd::decode(input.as_deref()) {
            Ok(true) => Ok(()),
            Ok(false) => return ExitCode::from(1),
            Err(e) => Err(e),
        },
        Command::Run(c) => cycle_cmd::run_scheduler(&c),
        Command::Serve { config, addr, rate, failures_per_minute } => {
            cycle_cmd::serve(&config, &addr, rate, failures_per_minute)
        }
        Command::Cycle { config, at, json } => cycle_cmd::cycle(&config, at, json),
        Command::Dispatch { config, until_empty } => cycle_cmd::dispatch(&config, until_empty),
        Command::Warning { config, command } => cycle_cmd::warning(&config, &command),
        Command::Review { config, run, action, by, note, daily } => {
            cycle_cmd::review(&config, &run, &action, &by, &note, daily.as_deref())
        }
        Command::Outbox { config, command } => cycle_cmd::outbox(&config, &command),
        Command::Audit(AuditCommand::Verify(c)) => cycle_cmd::audit_verify(&c),
        Command::Province(cmd) => province_cmd::run(cmd),
        Command::User(UserCommand::Add { config, name, role, credit_code, token }) => {
            user_cmd::add(&config, &name, &role, credit_code.as_deref(), token.as_deref())
        }
        Command::User(UserCommand::Import { config, .. }) => user_cmd::import(&config),
        Command::User(UserCommand::List(c)) => user_cmd::list(&c),
        Command::Power(PowerCommand::Import { config, files }) => compliance_cmd::import_power(&config, &files),
        Command::Compliance(ComplianceCommand::Check { config, at }) => compliance_cmd::check(&config, at),
        Command::Compliance(ComplianceCommand::Alarms(c)) => compliance_cmd::list_alarms(&c),
        Command::User(UserCommand::Disable { config, name }) => user_cmd::set_disabled(&config, &name, true),
        Command::User(UserCommand::Enable { config, name }) => user_cmd::set_disabled(&config, &name, false),
        Command::User(UserCommand::Rotate { config, name }) => user_cmd::rotate(&config, &name),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}

fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
}
