//! Files the pages load, embedded in the binary so that a city's pages work offline and load
//! nothing from elsewhere: the one stylesheet, the pinned ECharts build (Apache-2.0, from its npm
//! package; see `assets/package.json` and `assets/update-echarts`) and the script that draws the
//! charts the pages describe. Names carry the version, so browsers may keep them for a year.

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;

/// The ECharts release embedded: the file name says the version `assets/package.json` pins.
pub const ECHARTS_PATH: &str = "/assets/echarts-6.1.0.min.js";
pub const STYLESHEET_PATH: &str = concat!("/assets/app-", env!("CARGO_PKG_VERSION"), ".css");
pub const CHARTS_PATH: &str = concat!("/assets/charts-", env!("CARGO_PKG_VERSION"), ".js");

const ECHARTS: &str = include_str!("../assets/echarts-6.1.0.min.js");
const STYLESHEET: &str = include_str!("../assets/app.css");
const CHARTS: &str = include_str!("../assets/charts.js");

fn asset(content_type: &'static str, body: &'static str) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, "public, max-age=31536000, immutable")], body)
}

pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route(ECHARTS_PATH, get(|| async { asset("text/javascript; charset=utf-8", ECHARTS) }))
        .route(STYLESHEET_PATH, get(|| async { asset("text/css; charset=utf-8", STYLESHEET) }))
        .route(CHARTS_PATH, get(|| async { asset("text/javascript; charset=utf-8", CHARTS) }))
}

/// The scripts a page with charts ends with: the library, then what draws the page's charts.
pub const CHART_SCRIPTS: [&str; 2] = [ECHARTS_PATH, CHARTS_PATH];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_echarts_is_the_pinned_release() {
        let pin: serde_json::Value = serde_json::from_str(include_str!("../assets/package.json")).unwrap();
        let version = pin["dependencies"]["echarts"].as_str().unwrap();
        assert_eq!(ECHARTS_PATH, format!("/assets/echarts-{version}.min.js"));
        // The build carries the ASF licence header and defines the library's global.
        assert!(ECHARTS.starts_with("\n/*\n* Licensed to the Apache Software Foundation (ASF)"));
        assert!(ECHARTS.contains("echarts"));
        assert!(ECHARTS.len() > 500_000, "the full build, not a stub");
    }
}
