//! The one integration-test binary: the CLI contracts, run as a user would run them.

mod common;

mod cli_aqi;
mod cli_backtest;
mod cli_delivery;
mod cli_hj212;
mod cli_ingest;
mod cli_monitoring;
mod cli_people;
mod cli_response;
mod demo;
mod e2e_browser;
mod fixtures;
mod pages_language;
