//! `out/demo/report.html`: the demo's forecast charts, the recommended warning and the plan, as
//! one self-contained page (inline SVG, no scripts or files from elsewhere).

use chrono::NaiveDateTime;
use hazewarn_forecast::LeadForecast;
use hazewarn_ingest::{StationSeries, Variable};
use hazewarn_response::{CurtailmentPlan, Recommendation, Warning};
use hazewarn_scheduler::cycle::DailyRow;
use hazewarn_server::{escape, svg};

#[allow(clippy::too_many_arguments)]
pub fn html(
    series: &StationSeries,
    issue: NaiveDateTime,
    leads: &[LeadForecast],
    days: &[DailyRow],
    rec: &Recommendation,
    warning: &Warning,
    plan: &CurtailmentPlan,
    notices: usize,
) -> String {
    let pm = series.usable(Variable::Pm25).unwrap_or_default();
    let observed: Vec<(i64, f64)> = series
        .times
        .iter()
        .zip(&pm)
        .map(|(t, v)| ((*t - issue).num_hours(), *v))
        .filter(|(h, _)| (-168..=0).contains(h))
        .collect();
    let forecast: Vec<(i64, f64, f64, f64)> = leads.iter().map(|l| (l.lead as i64, l.p10, l.p50, l.p90)).collect();
    // What happened after the issue (the sample has it); shown in the table, never to the model.
    let actual = |d: chrono::NaiveDate| {
        let v: Vec<f64> =
            series.times.iter().zip(&pm).filter(|(t, v)| t.date() == d && !v.is_nan()).map(|(_, v)| *v).collect();
        if v.len() >= 20 { format!("{:.0}", v.iter().sum::<f64>() / v.len() as f64) } else { "-".into() }
    };
    let bars: Vec<(String, u32, String, bool)> = days
        .iter()
        .map(|d| {
            let l = hazewarn_aqi::Standards::builtin().for_date(d.date).level(d.aqi_p50);
            (d.date.format("%m-%d").to_string(), d.aqi_p50, l.rgb.clone(), d.trend)
        })
        .collect();
    let mut b = String::new();
    b += &format!(
        "<p>合成示例城市（SYNTHETIC sample city, not real data）。起报 {issue}；模型 GBDT，样本自身气象代替数值预报。</p>\
         <h2>逐时PM2.5（过去7天实况与未来96小时，p10–p90）</h2>{}\
         <h2>逐日AQI（D+1..D+7；D+4起为趋势）</h2>{}",
        svg::hourly_chart(&observed, &forecast, "PM2.5"),
        svg::daily_bars(&bars, "AQI")
    );
    b += "<table><tr><th>日期</th><th>PM2.5 p10/p50/p90</th><th>AQI</th><th>实况日均PM2.5</th></tr>";
    for d in days {
        b += &format!(
            "<tr><td>{}{}</td><td>{:.0} / {:.0} / {:.0}</td><td>{}</td><td>{}</td></tr>",
            d.date,
            if d.trend { "（趋势）" } else { "" },
            d.pm25_p10,
            d.pm25_p50,
            d.pm25_p90,
            d.aqi_p50,
            actual(d.date)
        );
    }
    b += "</table>";
    b += &format!(
        "<h2>预警建议（{}）</h2><p><b>{:?} {}</b>（{}） {} — {}</p><ul>",
        escape(&rec.profile),
        rec.action,
        rec.level.zh(),
        rec.response_level.map_or("-", |r| r.zh()),
        warning.current().start.format("%Y-%m-%d %H:%M"),
        warning.current().end.format("%Y-%m-%d %H:%M")
    );
    for r in &rec.reasons {
        b += &format!("<li>{}</li>", escape(&r.zh));
    }
    b += &format!(
        "</ul><p>预警 {} 已发布；{notices} 份停限产通知已投递（见 notices/、delivered/），公众预警见 cap.xml。</p>",
        escape(&warning.id)
    );
    b += &format!(
        "<h2>减排方案（{}，示例清单）</h2><table><tr><th>污染物</th><th>减排量 kg/d</th><th>全社会排放 kg/d</th><th>比例</th><th>目标</th><th></th></tr>",
        plan.level.zh()
    );
    for t in &plan.totals {
        b += &format!(
            "<tr><td>{}</td><td>{:.0}</td><td>{:.0}</td><td>{:.1}%</td><td>{:.0}%</td><td>{}</td></tr>",
            escape(&t.pollutant),
            t.reduction_kg_d,
            t.total_kg_d,
            t.ratio * 100.0,
            t.target * 100.0,
            if t.met { "达标" } else { "不足" }
        );
    }
    b += "</table>";
    format!(
        "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>hazewarn demo report</title>\
         <style>body{{font-family:sans-serif;margin:1.5em;max-width:1000px}} table{{border-collapse:collapse}}\
         td,th{{border:1px solid #ccc;padding:3px 6px}} .chart{{width:100%;height:auto}}</style></head>\
         <body><h1>hazewarn 演示报告 / demo report</h1>{b}</body></html>"
    )
}
