//! Charts as ECharts options, written by the server into the page (`data-option`) and drawn in
//! the browser by the embedded library ([`crate::assets`]). Times on the axes are Beijing time,
//! formatted here, so that a browser in another time zone shows the city's hours.

use chrono::NaiveDateTime;
use serde_json::{Value, json};

use crate::escape;

/// 24-hour PM2.5 at the AQI's category edges (HJ 633-2012): 良→轻度, 轻度→中度, 中度→重度, 重度→严重.
pub const PM25_EDGES: [f64; 4] = [75.0, 115.0, 150.0, 250.0];

/// The words a chart shows, in the page's language.
pub struct HourlyLabels<'a> {
    pub observed: &'a str,
    pub p50: &'a str,
    pub band: &'a str,
    pub issued: &'a str,
    /// The four categories each edge starts: 轻度污染, 中度污染, 重度污染, 严重污染.
    pub edges: [&'a str; 4],
    pub title: &'a str,
}

/// One hour of the hourly chart, Beijing time: what was observed, or what was forecast.
#[derive(Debug, Clone, Copy, Default)]
pub struct HourPoint {
    pub at: Option<NaiveDateTime>,
    pub observed: Option<f64>,
    pub p10: Option<f64>,
    pub p50: Option<f64>,
    pub p90: Option<f64>,
}

/// Hourly PM2.5: observed hours before the issue time, then p50 with its p10–p90 band; one
/// point per hour, in order; the issue hour is marked.
pub fn hourly(hours: &[HourPoint], issue: NaiveDateTime, l: &HourlyLabels) -> Value {
    let labels: Vec<String> =
        hours.iter().map(|h| h.at.map(|t| t.format("%m-%d %H:00").to_string()).unwrap_or_default()).collect();
    let v = |x: Option<f64>| x.filter(|x| x.is_finite()).map_or(Value::Null, |x| json!((x * 10.0).round() / 10.0));
    let observed: Vec<Value> = hours.iter().map(|h| v(h.observed)).collect();
    let p10: Vec<Value> = hours.iter().map(|h| v(h.p10)).collect();
    let width: Vec<Value> = hours.iter().map(|h| v(h.p90.zip(h.p10).map(|(hi, lo)| hi - lo))).collect();
    let p50: Vec<Value> = hours.iter().map(|h| v(h.p50)).collect();
    let mut marks: Vec<Value> = PM25_EDGES
        .iter()
        .zip(l.edges)
        .map(|(y, name)| json!({"yAxis": y, "label": {"formatter": format!("{y:.0} {name}"), "position": "insideStartTop"}}))
        .collect();
    marks.push(json!({"xAxis": issue.format("%m-%d %H:00").to_string(), "label": {"formatter": l.issued},
                      "lineStyle": {"color": "#c00", "type": "dashed"}}));
    let quiet = json!({"opacity": 0});
    json!({
        "animation": false,
        "aria": {"enabled": true, "label": {"description": l.title}},
        // On a phone the category names would cover the observed line: the edges keep their values.
        "hw": {"unit": "µg/m³", "lower": 1, "width": 2, "day_ticks": true,
               "narrow_marks": PM25_EDGES.iter().map(|y| format!("{y:.0}")).collect::<Vec<_>>()},
        "grid": {"left": 44, "right": 16, "top": 30, "bottom": 96, "containLabel": true},
        "legend": {"bottom": 34, "data": [l.observed, l.p50, l.band]},
        "tooltip": {"trigger": "axis"},
        "xAxis": {"type": "category", "data": labels, "boundaryGap": false,
                  "axisLabel": {"interval": "auto", "hideOverlap": true}},
        "yAxis": {"type": "value", "name": "PM2.5 µg/m³", "min": 0, "nameTextStyle": {"align": "left"}},
        "dataZoom": [{"type": "inside"}, {"type": "slider", "height": 18, "bottom": 8}],
        "series": [
            {"name": l.observed, "type": "line", "data": observed, "showSymbol": false, "connectNulls": false,
             "itemStyle": {"color": "#222"}, "lineStyle": {"color": "#222", "width": 1.6},
             "markLine": {"symbol": "none", "silent": true, "lineStyle": {"color": "#999", "type": "dotted"}, "data": marks}},
            {"name": "p10", "type": "line", "stack": "band", "data": p10, "showSymbol": false, "lineStyle": quiet},
            {"name": l.band, "type": "line", "stack": "band", "data": width, "showSymbol": false, "lineStyle": quiet,
             "itemStyle": {"color": "#9ecae1"}, "areaStyle": {"color": "#9ecae1", "opacity": 0.6}},
            {"name": l.p50, "type": "line", "data": p50, "showSymbol": false,
             "itemStyle": {"color": "#08519c"}, "lineStyle": {"color": "#08519c", "width": 2}}
        ]
    })
}

/// One day of the daily chart: its label, AQI p10, p50 and p90, the level colour of p50, and
/// whether it is only a trend.
pub struct DailyBar {
    pub label: String,
    pub aqi: (u32, u32, u32),
    pub colour: String,
    pub trend: bool,
}

/// Daily AQI: a bar per day in its level's colour, labelled with its range (p10–p90).
pub fn daily(days: &[DailyBar], title: &str, name: &str) -> Value {
    let data: Vec<Value> = days
        .iter()
        .map(|d| {
            json!({"value": d.aqi.1,
                   "itemStyle": {"color": d.colour, "opacity": if d.trend { 0.45 } else { 1.0 }, "borderColor": "#555"},
                   "label": {"show": true, "position": "top", "fontSize": 11,
                             "formatter": format!("{}\n{}–{}", d.aqi.1, d.aqi.0, d.aqi.2)}})
        })
        .collect();
    json!({
        "animation": false,
        "aria": {"enabled": true, "label": {"description": title}},
        "grid": {"left": 44, "right": 16, "top": 40, "bottom": 32},
        "tooltip": {"trigger": "axis"},
        "xAxis": {"type": "category", "data": days.iter().map(|d| d.label.clone()).collect::<Vec<_>>()},
        "yAxis": {"type": "value", "name": "AQI", "min": 0},
        "series": [{"name": name, "type": "bar", "data": data, "barMaxWidth": 56}]
    })
}

/// PM2.5 at each station and the city mean over the same hours: one line per series on a
/// Beijing-hour axis labelled at midnights. `series` are (name, (hours relative to `issue`,
/// µg/m³)); an hour a series lacks is a gap.
pub fn stations(series: &[(String, Vec<(i64, f64)>)], issue: NaiveDateTime, title: &str) -> Value {
    let first = series.iter().flat_map(|s| s.1.iter().map(|p| p.0)).min().unwrap_or(0);
    let last = series.iter().flat_map(|s| s.1.iter().map(|p| p.0)).max().unwrap_or(0);
    let labels: Vec<String> =
        (first..=last).map(|h| (issue + chrono::Duration::hours(h)).format("%m-%d %H:00").to_string()).collect();
    let lines: Vec<Value> = series
        .iter()
        .enumerate()
        .map(|(k, (name, points))| {
            let at: std::collections::HashMap<i64, f64> = points.iter().copied().collect();
            let data: Vec<Value> = (first..=last)
                .map(|h| at.get(&h).filter(|v| v.is_finite()).map_or(Value::Null, |v| json!((v * 10.0).round() / 10.0)))
                .collect();
            // The city mean (first) stands out; the stations are thinner.
            json!({"name": name, "type": "line", "data": data, "showSymbol": false,
                   "lineStyle": {"width": if k == 0 { 2.5 } else { 1.2 }}})
        })
        .collect();
    json!({
        "animation": false,
        "aria": {"enabled": true, "label": {"description": title}},
        "hw": {"unit": "µg/m³", "day_ticks": true},
        "grid": {"left": 44, "right": 16, "top": 30, "bottom": 64, "containLabel": true},
        "legend": {"bottom": 4, "type": "scroll"},
        "tooltip": {"trigger": "axis"},
        "xAxis": {"type": "category", "data": labels, "boundaryGap": false, "axisLabel": {"hideOverlap": true}},
        "yAxis": {"type": "value", "name": "PM2.5 µg/m³", "min": 0, "nameTextStyle": {"align": "left"}},
        "series": lines
    })
}

/// The element a chart is drawn in; `fallback` (the server-drawn SVG) shows where scripts do not run.
pub fn element(id: &str, title: &str, option: &Value, fallback: &str) -> String {
    format!(
        "<div class=\"echart\" id=\"{id}\" role=\"img\" aria-label=\"{}\" data-option=\"{}\"></div><noscript>{fallback}</noscript>",
        escape(title),
        escape(&option.to_string())
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hourly_chart_marks_the_category_edges_with_their_names_and_short_values_for_a_phone() {
        let issue = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap().and_hms_opt(16, 0, 0).unwrap();
        let l = HourlyLabels {
            observed: "o",
            p50: "m",
            band: "b",
            issued: "i",
            edges: ["轻度污染", "中度污染", "重度污染", "严重污染"],
            title: "t",
        };
        let o = hourly(&[HourPoint { at: Some(issue), observed: Some(80.0), ..Default::default() }], issue, &l);
        let marks = &o["series"][0]["markLine"]["data"];
        assert_eq!(marks[0]["yAxis"], json!(75.0));
        assert_eq!(marks[0]["label"]["formatter"], "75 轻度污染");
        assert_eq!(marks[3]["label"]["formatter"], "250 严重污染");
        // charts.js swaps these in, in order, where the chart is narrower than 500 px.
        assert_eq!(o["hw"]["narrow_marks"], json!(["75", "115", "150", "250"]));
    }

    #[test]
    fn the_station_chart_puts_every_series_on_one_beijing_hour_axis_with_gaps() {
        let issue = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap().and_hms_opt(16, 0, 0).unwrap();
        let series = vec![
            ("city".to_owned(), vec![(-2, 100.0), (-1, 110.0), (0, 120.0)]),
            ("9001A".to_owned(), vec![(-2, 90.0), (0, f64::NAN)]),
        ];
        let o = stations(&series, issue, "t");
        assert_eq!(o["xAxis"]["data"], json!(["01-01 14:00", "01-01 15:00", "01-01 16:00"]));
        assert_eq!(o["series"][0]["data"], json!([100.0, 110.0, 120.0]));
        // An hour a station lacks, or holds no number for, is a gap, not a zero.
        assert_eq!(o["series"][1]["data"], json!([90.0, null, null]));
        assert_eq!(o["series"][1]["name"], "9001A");
    }
}
