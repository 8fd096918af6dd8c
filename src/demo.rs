//! `hazewarn demo`: the daily cycle, offline, on the synthetic sample city.

use std::path::Path;

use anyhow::{Context as _, Result, bail};
use chrono::{Duration, FixedOffset, NaiveDate, TimeZone};
use hazewarn_aqi::Standards;
use hazewarn_forecast::{Derived, Hourly, ModelParams};
use hazewarn_ingest::{IngestOptions, StationSeries, daily::daily_records, ingest, write_parquet};
use hazewarn_response::{
    Actor, CurrentWarning, DailyForecast, GradeRuleTable, GradingProfile, GuaranteePolicy, Inventory, NoticeContext,
    RangeBound, TransitionKind, Warning, WarningLevel, grade, notices, plan,
};

pub fn run(sample: &Path, out: &Path) -> Result<()> {
    let obs_file = sample.join(crate::sample::OBSERVATIONS_FILE);
    let (obs, report) = ingest(&[&obs_file], &IngestOptions::default())?;
    std::fs::create_dir_all(out).with_context(|| out.display().to_string())?;
    write_parquet(&obs, &out.join("observations.parquet"))?;
    std::fs::write(out.join("qc_report.json"), serde_json::to_string_pretty(&report)?)?;
    println!("== Quality control of {} (synthetic sample city)\n{}", obs_file.display(), report.summary());

    let series = &obs.series[0];
    let mut csv = String::from("date,pm25,pm10,so2,no2,co,o3_8h,aqi,level,category,primary_pollutants,standard\n");
    let mut counts = [0usize; 6];
    let mut daily_aqi: Vec<(NaiveDate, u32, Vec<String>)> = Vec::new();
    let (mut shown, mut invalid) = (0, 0);
    println!("== Daily AQI (HJ 633 by date); heavy days (AQI > 200) listed");
    for d in daily_records(series) {
        let c = d.concentrations;
        let f = |v: Option<f64>| v.map_or(String::new(), |x| format!("{x:.1}"));
        let Ok(r) = Standards::builtin().daily(d.date, &c) else {
            // Too few valid hours for every pollutant (GB 3095 needs 20): the day is kept, without an AQI.
            invalid += 1;
            csv.push_str(&format!("{},,,,,,,,,数据不足,,\n", d.date));
            continue;
        };
        counts[usize::from(r.level.level) - 1] += 1;
        daily_aqi.push((d.date, r.aqi, r.primary.iter().map(|p| p.label().to_owned()).collect()));
        let primary: Vec<&str> = r.primary.iter().map(|p| p.label()).collect();
        csv.push_str(&format!(
            "{},{},{},{},{},{},{},{},{},{},{},{}\n",
            d.date,
            f(c.pm25),
            f(c.pm10),
            f(c.so2),
            f(c.no2),
            f(c.co),
            f(c.o3_8h),
            r.aqi,
            r.level.level,
            r.level.category,
            primary.join(";"),
            r.standard
        ));
        if r.aqi > 200 && shown < 40 {
            shown += 1;
            println!(
                "  {}  AQI {:>3}  {:<4}  {}  ({})",
                d.date,
                r.aqi,
                r.level.category,
                primary.join(";"),
                r.standard
            );
        }
    }
    std::fs::write(out.join("daily_aqi.csv"), csv)?;
    let labels = ["优", "良", "轻度污染", "中度污染", "重度污染", "严重污染"];
    let summary: Vec<String> = labels.iter().zip(counts).map(|(l, n)| format!("{l} {n}")).collect();
    println!("  days by category: {}; without enough valid hours: {invalid}", summary.join(", "));
    respond(sample, out, series, &daily_aqi)?;
    println!("wrote {}", out.display());
    Ok(())
}

/// Forecast, warning, plan, notices and CAP for the issue before the last winter's heaviest episode.
fn respond(sample: &Path, out: &Path, series: &StationSeries, daily: &[(NaiveDate, u32, Vec<String>)]) -> Result<()> {
    let lists = sample.join("../lists");
    let last = daily.len().saturating_sub(150);
    let Some(peak) =
        (last..daily.len().saturating_sub(7)).max_by_key(|&k| daily[k..k + 3].iter().map(|d| d.1).sum::<u32>())
    else {
        bail!("the sample is too short for a 7-day forecast");
    };
    let first = peak.saturating_sub(1);
    let beijing = FixedOffset::east_opt(8 * 3600).expect("+08:00");
    let issue_day = daily[first].0 - Duration::days(1);
    let issue_time = issue_day.and_hms_opt(16, 0, 0).expect("16:00");
    let at = |h: i64| beijing.from_local_datetime(&issue_time).unwrap() + Duration::hours(h);

    // Forecast: train on everything up to the issue time, then forecast 96 h and D+1..D+7.
    // The sample has no NWP feed, so its own meteorology stands in as a perfect met forecast.
    let h = Hourly::from_series(series);
    let i0 = h.index(issue_time).context("the issue time is outside the sample")?;
    let t0 = std::time::Instant::now();
    let model = ModelParams::new(true, 16).fit(&h, i0 + 1, Some(&h))?;
    let d = Derived::new(&h);
    let f = model.predict(&d, i0, Some(&d))?;
    let fitted_in = t0.elapsed().as_secs_f64();
    let days = crate::backtest::daily_of(&f, "gbdt", &model.clim);
    let mut hourly_csv = String::from("issue_time,valid_time,lead_hours,pm25_p10,pm25_p50,pm25_p90\n");
    for l in &f.leads {
        hourly_csv += &format!(
            "{},{},{},{:.1},{:.1},{:.1}\n",
            at(0).to_rfc3339(),
            l.valid.format("%Y-%m-%dT%H:%M:%S+08:00"),
            l.lead,
            l.p10,
            l.p50,
            l.p90
        );
    }
    std::fs::write(out.join("forecast_hourly.csv"), hourly_csv)?;
    let mut daily_csv = String::from("issue_time,date,lead_day,pm25_p10,pm25_p50,pm25_p90,aqi_p50,trend\n");
    let aqi = |date, pm| hazewarn_forecast::pm25_daily_aqi(date, pm).unwrap_or(0);
    let forecast: Vec<DailyForecast> = days
        .iter()
        .enumerate()
        .map(|(k, (date, p10, p50, p90))| {
            daily_csv += &format!(
                "{},{date},{},{p10:.1},{p50:.1},{p90:.1},{},{}\n",
                at(0).to_rfc3339(),
                k + 1,
                aqi(*date, *p50),
                k >= 3
            );
            DailyForecast {
                date: *date,
                aqi_p50: aqi(*date, *p50),
                aqi_p10: Some(aqi(*date, *p10)),
                aqi_p90: Some(aqi(*date, *p90)),
                primary: vec!["PM2.5".into()],
            }
        })
        .collect();
    std::fs::write(out.join("forecast_daily.csv"), daily_csv)?;
    let profile = GradingProfile::national_2024();
    let rec = grade(&profile, &forecast, CurrentWarning::default(), RangeBound::P50)?;
    println!(
        "\n== Forecast issued {} (GBDT trained on the sample up to the issue time in {fitted_in:.1} s; \
         the sample's own meteorology stands in for an NWP forecast)",
        at(0)
    );
    for (k, fc) in forecast.iter().enumerate() {
        let observed = daily.iter().find(|x| x.0 == fc.date).map_or("-".to_owned(), |x| x.1.to_string());
        let trend = if k >= 3 { "  (trend)" } else { "" };
        println!(
            "  D+{} {}  AQI {:>3} [{:>3}–{:>3}]  observed {observed}{trend}",
            k + 1,
            fc.date,
            fc.aqi_p50,
            fc.aqi_p10.unwrap_or(0),
            fc.aqi_p90.unwrap_or(0)
        );
    }
    println!("\n== Warning grading ({})", profile.id);
    println!("  recommended: {:?} {} ({})", rec.action, rec.level, rec.response_level.map_or("-", |r| r.zh()));
    for r in &rec.reasons {
        println!("  - {}", r.zh);
    }
    std::fs::write(out.join("recommendation.json"), serde_json::to_string_pretty(&rec)?)?;
    let (Some(start), Some(end)) = (rec.start, rec.end) else {
        println!("  no warning: nothing to plan");
        return Ok(());
    };
    let forecast_id = format!("gbdt-{}", at(0).format("%Y%m%dT%H"));
    let who = |h: i64, reason: &'static str| Actor { by: "demo:office", at: at(h), reason, forecast_id: "" };
    let (draft, issue) = (who(0, "依据预测自动生成预警建议"), who(1, "会商后发布"));
    let draft = Actor { forecast_id: &forecast_id, ..draft };
    let issue = Actor { forecast_id: &forecast_id, ..issue };
    let mut warning = Warning::draft(&format!("LH-{}", start.format("%Y%m%d")), rec.level, start, end, &draft)?;
    warning.issue(&issue)?;
    std::fs::write(out.join("warning.json"), serde_json::to_string_pretty(&warning)?)?;

    let rules = GradeRuleTable::builtin();
    let list = crate::response_cmd::load_list(&lists.join(crate::sample_list::LIST_FILE), &rules)?;
    let inventory = Inventory::from_csv(&std::fs::read(lists.join(crate::sample_list::INVENTORY_FILE))?)?;
    let p = plan(&list, &rules, rec.level, &inventory, &profile.targets, GuaranteePolicy::HeatLed)?;
    println!(
        "\n== Reduction plan (illustrative list: {} enterprises, {} lines)",
        list.enterprises.len(),
        list.line_count()
    );
    crate::response_cmd::print_plan(&p);
    std::fs::write(out.join("plan.json"), serde_json::to_string_pretty(&p)?)?;

    let step = warning.current();
    let ctx = NoticeContext {
        warning_id: warning.id.clone(),
        step: step.step,
        kind: TransitionKind::Issue,
        level: step.level,
        issued_at: step.at,
        effective_from: step.start,
        effective_until: step.end,
        ack_hours: 2,
        issuer: hazewarn_response::CapConfig::luohe().sender_name,
        basis: profile.basis.clone(),
        office_contact: "0395-0000000（示例）".into(),
    };
    let made = notices(&p, &ctx, &[]);
    crate::response_cmd::write_notices(&made, &out.join("notices"))?;
    let cap = crate::response_cmd::cap_xml(&warning)?;
    std::fs::write(out.join("cap.xml"), &cap)?;
    println!(
        "\n== {} curtailment notices in {}, public alert in {}",
        made.len(),
        out.join("notices").display(),
        out.join("cap.xml").display()
    );
    if warning.level() == WarningLevel::None {
        bail!("the demo warning lost its level");
    }
    Ok(())
}
