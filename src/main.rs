//! `hazewarn`: the command line and (later) the server of the heavy-pollution early-warning engine.
//! Library crates hold the logic; this binary parses flags, touches files and maps errors to exit codes.

mod aqi_cmd;
mod demo;
mod ingest_cmd;
mod sample;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

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
        /// canonical, parquet, uci-prsa, uci-5city or uci-multisite (default: detect from the header).
        #[arg(long)]
        format: Option<hazewarn_ingest::Layout>,
        /// Five-city layout: one PM_ site instead of the city mean. PRSA: the station name.
        #[arg(long)]
        station: Option<String>,
        #[arg(long)]
        out: PathBuf,
    },
    /// Run the daily cycle offline on the bundled synthetic sample city and write out/demo/.
    #[command(after_help = "Example:\n  cargo run --release -- demo")]
    Demo {
        #[arg(long, default_value = "data/sample")]
        sample: PathBuf,
        #[arg(long, default_value = "out/demo")]
        out: PathBuf,
    },
    /// Regenerate the synthetic sample city (seeded, so the same seed gives the same files).
    #[command(after_help = "Example:\n  hazewarn sample --seed 20241 --out data/sample")]
    Sample {
        #[arg(long, default_value_t = sample::DEFAULT_SEED)]
        seed: u64,
        #[arg(long, default_value = "data/sample")]
        out: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse(); // usage errors exit with 2
    init_logging(cli.verbose);
    let result = match cli.command {
        Command::Aqi { input, output } => aqi_cmd::run(&input, &output),
        Command::Ingest { files, format, station, out } => ingest_cmd::run(&files, format, station, &out),
        Command::Demo { sample, out } => demo::run(&sample, &out),
        Command::Sample { seed, out } => sample::write(seed, &out),
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
