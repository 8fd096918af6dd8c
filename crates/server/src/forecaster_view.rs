//! The forecaster's page, its tables: the cycle's inputs and their QC per station, how the
//! forecasts before the run verified by lead, and the review form (approve, adjust D+1..D+3,
//! annotate).

use crate::api::ForecastView;
use crate::escape;
use crate::pages::{Lang, local_time, run_status};

/// Each input of the cycle: name, whether it was usable, what it held.
pub(crate) fn inputs_table(l: &Lang, inputs: &[hazewarn_scheduler::cycle::InputStatus]) -> String {
    let mut b = String::new();
    b += &format!(
        "<h2>{}</h2><table><tr><th>{}</th><th>{}</th><th>{}</th></tr>",
        l.m("pages.inputs-and-qc"),
        l.m("pages.input"),
        l.m("pages.status-2"),
        l.m("pages.detail")
    );
    for i in inputs {
        let detail = if l.en() || i.detail_zh.is_empty() { &i.detail } else { &i.detail_zh };
        b += &format!(
            "<tr><td>{}</td><td>{}</td><td class=\"text\">{}</td></tr>",
            escape(input_name(l, &i.name)),
            if i.ok { "✓" } else { "✗" },
            escape(detail)
        );
    }
    b += "</table>";
    b
}

/// The forecasts issued in the 30 days before the run, verified, by lead band: RMSE and, for
/// hours above 150 µg/m³ (heavy pollution), hits, misses and false alarms. The window is the
/// run's, not the wall clock's: a forecaster reviewing a run sees how the forecasts before it did.
pub(crate) fn verification_table(l: &Lang, scores: &[hazewarn_store::forecasts::Score]) -> String {
    let mut b = String::new();
    b += &format!(
        "<h2>{}</h2><table><tr><th>{}</th><th>n</th><th>RMSE</th><th>{}</th><th>{}</th><th>{}</th></tr>",
        l.m("pages.verification-last-30-days"),
        l.m("pages.leads"),
        l.m("pages.hits"),
        l.m("pages.misses"),
        l.m("pages.false-alarms")
    );
    for (a, z) in [(1, 24), (25, 48), (49, 72), (73, 96)] {
        let sel: Vec<_> = scores.iter().filter(|x| (a..=z).contains(&x.lead_hours)).collect();
        let n = sel.len();
        let rmse = if n == 0 {
            f64::NAN
        } else {
            (sel.iter().map(|x| (x.p50 - x.observed).powi(2)).sum::<f64>() / n as f64).sqrt()
        };
        // An event: hourly PM2.5 above 150 µg/m³ (heavy pollution).
        let (mut hit, mut miss, mut fa) = (0, 0, 0);
        for x in &sel {
            match (x.p50 > 150.0, x.observed > 150.0) {
                (true, true) => hit += 1,
                (false, true) => miss += 1,
                (true, false) => fa += 1,
                _ => {}
            }
        }
        // No verified hour yet is shown as a dash, not as NaN.
        let rmse = if n == 0 { "—".to_owned() } else { format!("{rmse:.1}") };
        b += &format!(
            "<tr><td>{a}–{z} h</td><td>{n}</td><td>{rmse}</td><td>{hit}</td><td>{miss}</td><td>{fa}</td></tr>"
        );
    }
    b += "</table>";
    b
}

/// The daily level product of D+1..D+3: the AQI range, the probability of each AQI level and the
/// level published, with the primary pollutant. A run stored before
/// the product was kept has none, and the section is left out.
pub(crate) fn level_table(l: &Lang, days: &[hazewarn_forecast::DailyLevel]) -> String {
    let Some(first) = days.first() else { return String::new() };
    let levels = hazewarn_aqi::Standards::builtin().for_date(first.date).levels();
    let category = |k: usize| levels.get(k).map_or("", |lv| if l.en() { &lv.category_en } else { &lv.category });
    let mut b = format!(
        "<h2>{}</h2><table id=\"level-product\"><tr><th>{}</th><th>{}</th><th>{}</th>",
        l.m("forecaster.level-product"),
        l.m("forecaster.day"),
        l.m("forecaster.aqi-range"),
        l.m("forecaster.published-level")
    );
    // The level names wrap under their probabilities: six of them in English are wider than a desktop.
    for k in 0..hazewarn_forecast::LEVELS {
        b += &format!("<th class=\"wrap\">{}</th>", escape(category(k)));
    }
    b += &format!("<th class=\"wrap\">{}</th></tr>", l.m("forecaster.primary-pollutant"));
    for d in days {
        b += &format!(
            "<tr><td class=\"time\">D+{} {}</td><td class=\"time\">{}–{} ({})</td><td class=\"published\">{}</td>",
            d.lead_day,
            d.date.format("%m-%d"),
            d.aqi_p10,
            d.aqi_p90,
            d.aqi_p50,
            escape(category(usize::from(d.level.max(1)) - 1))
        );
        for (k, p) in d.probabilities.iter().enumerate() {
            let class = if k + 1 == usize::from(d.level) { "num published" } else { "num" };
            b += &format!("<td class=\"{class}\">{:.0} %</td>", 100.0 * p);
        }
        b += &format!("<td>{}</td></tr>", d.primary.as_deref().unwrap_or("—"));
    }
    b += &format!("</table><p class=\"muted\">{}</p>", l.m("forecaster.level-product-note"));
    b
}

/// The run's reviews so far and the form for the next.
pub(crate) fn review_form(l: &Lang, v: &ForecastView) -> String {
    let mut b = String::new();
    for r in &v.reviews {
        b += &format!(
            "<p class=\"review\">{} · {} · {}: {}</p>",
            escape(&local_time(&r.at)),
            escape(&r.by),
            escape(run_status(l, &r.action)),
            escape(&r.note)
        );
    }
    let d3: Vec<String> = v
        .daily
        .iter()
        .take(3)
        .map(|d| format!("<input name=\"aqi{}\" value=\"{}\" size=\"4\">", d.lead_day, d.aqi_p50))
        .collect();
    b += &format!(
        "<h2>{}</h2><form method=\"post\" action=\"/forecaster/review{q}\"><input type=\"hidden\" name=\"run\" value=\"{run}\">\
         <label>{} <input name=\"note\" id=\"note\" size=\"50\"></label><br>{} {}<br>\
         <button name=\"action\" value=\"approve\" id=\"approve\">{}</button> \
         <button name=\"action\" value=\"adjust\" id=\"adjust\">{}</button> \
         <button name=\"action\" value=\"annotate\" id=\"annotate\">{}</button></form>",
        l.m("pages.review"),
        l.m("pages.note-reason"),
        l.m("pages.adjusted-aqi-d-1-d"),
        d3.join(" "),
        l.m("pages.approve-2"),
        l.m("pages.adjust-2"),
        l.m("pages.annotate-2"),
        q = l.q(),
        run = escape(&v.id)
    );
    b
}

/// An input of the cycle by its name; a source keeps the name the city config gives it.
pub(crate) fn input_name<'a>(l: &Lang, name: &'a str) -> &'a str {
    match name {
        "observations" => l.m("pages.input-observations"),
        "city series" => l.m("pages.input-city-series"),
        "meteorology" => l.m("pages.input-meteorology"),
        "recent verification" => l.m("pages.input-recent-verification"),
        "nwp" => l.m("pages.input-nwp"),
        "curtailments" => l.m("pages.input-curtailments"),
        "met-forecast-file" => l.m("pages.input-met-forecast-file"),
        "unknown stations" => l.m("pages.input-unknown-stations"),
        other => other,
    }
}

/// An observed variable as people write it.
fn variable_name<'a>(l: &Lang, column: &'a str) -> &'a str {
    match column {
        "pm25" => "PM2.5",
        "pm10" => "PM10",
        "so2" => "SO₂",
        "no2" => "NO₂",
        "co" => "CO",
        "o3" => "O₃",
        "temp" => l.m("pages.var-temp"),
        "dewp" => l.m("pages.var-dewp"),
        "rh" => l.m("pages.var-rh"),
        "pres" => l.m("pages.var-pres"),
        "wspd" => l.m("pages.var-wspd"),
        "wdir" => l.m("pages.var-wdir"),
        "precip" => l.m("pages.var-precip"),
        other => other,
    }
}

/// The latest ingest's QC per station, from what the cycle stored with the batch.
pub(crate) fn qc_table(l: &Lang, stored: &str) -> String {
    let Ok(stations) = serde_json::from_str::<Vec<hazewarn_scheduler::cycle::StationQc>>(stored) else {
        // A batch stored before the QC was kept per station.
        return format!("<p class=\"muted\">{}</p>", l.m("pages.qc-not-per-station"));
    };
    let mut b = format!(
        "<table id=\"qc\"><tr><th>{}</th><th>{}</th><th class=\"num\">{}</th><th class=\"num\">{}</th><th class=\"num\">{}</th><th class=\"num\">{}</th><th>{}</th></tr>",
        l.m("pages.qc-station"),
        l.m("pages.qc-period"),
        l.m("pages.qc-hours"),
        l.m("pages.qc-source-rows"),
        l.m("pages.qc-duplicate-hours"),
        l.m("pages.qc-gaps"),
        l.m("pages.qc-flags"),
    );
    for st in &stations {
        let flags: Vec<String> = st
            .columns
            .iter()
            .filter_map(|c| {
                let parts: Vec<String> = [
                    (c.missing, "pages.qc-missing"),
                    (c.gap, "pages.qc-gap"),
                    (c.duplicate, "pages.qc-duplicate"),
                    (c.out_of_range, "pages.qc-out-of-range"),
                    (c.spike, "pages.qc-spike"),
                    (c.flatline, "pages.qc-flatline"),
                ]
                .iter()
                .filter(|(n, _)| *n > 0)
                .map(|(n, key)| format!("{} {n}", l.m(key)))
                .collect();
                (!parts.is_empty()).then(|| {
                    format!(
                        "{}{} {}",
                        variable_name(l, &c.column),
                        l.m("pages.colon"),
                        parts.join(l.m("pages.list-comma"))
                    )
                })
            })
            .collect();
        b += &format!(
            "<tr><td>{}</td><td class=\"time\">{} – {}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"text\">{}</td></tr>",
            escape(&st.station),
            st.start.format("%Y-%m-%d %H:00"),
            st.end.format("%Y-%m-%d %H:00"),
            st.hours,
            st.source_rows,
            st.duplicate_hours,
            st.gaps,
            escape(&flags.join(l.m("pages.list-semicolon"))),
        );
    }
    b + "</table>"
}
