//! `hazewarn demo`: the daily cycle, offline, on the synthetic sample city.

use std::path::{Path, PathBuf};

use std::sync::Arc;

use anyhow::{Context as _, Result, bail};
use chrono::{Duration, NaiveDate, NaiveDateTime};
use hazewarn_aqi::Standards;
use hazewarn_forecast::{Hourly, ModelParams};
use hazewarn_ingest::city::{CityMeanOptions, city_mean};
use hazewarn_ingest::met::{ingest_met, join_met};
use hazewarn_ingest::{IngestOptions, Observations, StationSeries, daily::daily_records, ingest, write_parquet};
use hazewarn_response::WarningLevel;
use hazewarn_scheduler::{City, Config, ManualClock};

/// The sample's stations read with QC, their city series with the weather station joined, both
/// written to `out`.
fn read_sample(sample: &Path, out: &Path) -> Result<StationSeries> {
    use crate::sample_stations as st;
    let dir = sample.join(st::REALTIME_DIR);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .with_context(|| dir.display().to_string())?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    files.sort();
    let codes = st::STATIONS.iter().map(|s| s.code.to_owned()).collect();
    let options = IngestOptions { area: Some(st::AREA.into()), codes: Some(codes), ..Default::default() };
    let (obs, report) = ingest(&files, &options)?;
    std::fs::create_dir_all(out).with_context(|| out.display().to_string())?;
    write_parquet(&obs, &out.join("observations.parquet"))?;
    std::fs::write(out.join("qc_report.json"), serde_json::to_string_pretty(&report)?)?;
    println!(
        "== Quality control of {} ({} monthly files, national real-time layout; synthetic sample city)\n{}",
        dir.display(),
        files.len(),
        report.summary()
    );
    let met_file = sample.join(st::MET_FILE);
    let (met, met_report) = ingest_met(&[&met_file], &options.qc)?;
    println!("== Quality control of {} (weather station)\n{}", met_file.display(), met_report.summary());
    let city = city_mean(
        &obs,
        &CityMeanOptions { name: "LH".into(), stations: Some(st::assessment_codes()), min_share: 0.5 },
    )?;
    println!(
        "== City series: each hour the mean of {} assessment stations' valid values (HJ 663); {} hours \
         with fewer than half reporting; not averaged: {}\n",
        city.stations.len(),
        city.thin_hours,
        city.ignored.join(", ")
    );
    let series = join_met(&city.series, &met);
    write_parquet(&Observations { series: vec![series.clone()] }, &out.join("city.parquet"))?;
    Ok(series)
}

pub fn run(sample: &Path, out: &Path) -> Result<()> {
    let series = &read_sample(sample, out)?;
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

/// The daily cycle for the issue before the last winter's heaviest episode, run the way a city
/// runs it: a config, the store, `hazewarn cycle` (forecast, grading, auto-issue, delivery to a
/// file drop), then every output read back from the store.
fn respond(sample: &Path, out: &Path, series: &StationSeries, daily: &[(NaiveDate, u32, Vec<String>)]) -> Result<()> {
    let lists = sample.join("../lists").canonicalize().context("data/lists")?;
    let last = daily.len().saturating_sub(150);
    let Some(peak) =
        (last..daily.len().saturating_sub(7)).max_by_key(|&k| daily[k..k + 3].iter().map(|d| d.1).sum::<u32>())
    else {
        bail!("the sample is too short for a 7-day forecast");
    };
    let issue_day = daily[peak.saturating_sub(1)].0 - Duration::days(1);
    let issue_time = issue_day.and_hms_opt(16, 0, 0).expect("16:00");

    // The model: trained on the sample up to the issue time, reading the met forecast. The sample
    // has no NWP feed, so its own meteorology stands in as a perfect met forecast (written below).
    let h = Hourly::from_series(series);
    let i0 = h.index(issue_time).context("the issue time is outside the sample")?;
    let t0 = std::time::Instant::now();
    let model = ModelParams::new(true, 16).fit(&h, i0 + 1, Some(&h))?;
    let fitted_in = t0.elapsed().as_secs_f64();
    let model_dir = out.join("model");
    std::fs::create_dir_all(&model_dir)?;
    std::fs::write(model_dir.join("model.json"), model.to_json())?;
    std::fs::write(
        model_dir.join("card.md"),
        model.model_card(
            "demo (synthetic sample)",
            "data/sample/realtime (city mean of 4 stations) + data/sample/met.csv.gz",
        ),
    )?;
    // The next day's issue too: the demo issues it after the compliance check (below).
    write_met_stand_in(series, &[issue_time, issue_time + Duration::days(1)], &out.join("met_forecast.csv"))?;

    for stale in ["hazewarn.db", "hazewarn.db-wal", "hazewarn.db-shm"] {
        let _ = std::fs::remove_file(out.join(stale));
    }
    let _ = std::fs::remove_dir_all(out.join("delivered"));
    let realtime = sample.join(crate::sample_stations::REALTIME_DIR).canonicalize()?;
    let met = sample.join(crate::sample_stations::MET_FILE).canonicalize()?;
    let config = format!(
        "# Written by `hazewarn demo`: the synthetic sample city, run as a city would run it.\n\
         [city]\nid = \"LH\"\nname = \"漯河市（示例，合成数据）\"\n\
         # `serve` runs this city on its own clock, from just after the demo's last step.\n\
         demo_clock_start = \"{clock}\"\n\n[store]\nurl = \"sqlite://hazewarn.db\"\n\n\
         [data]\nwork_dir = \"work\"\n\
         # The national real-time release (every file in the folder) and a weather station beside it.\n\
         observations = [\"{realtime}\"]\narea = \"{area}\"\nmet_observations = [\"{met}\"]\n\
         model = \"model\"\nmet_forecast = \"met_forecast.csv\"\n\
         list = \"{list}\"\ninventory = \"{inventory}\"\n\n\
         [policy]\nauto_approve = true\nauto_issue = true\n\n\
         [[channels]]\nkind = \"file-drop\"\nname = \"files\"\ndir = \"delivered\"\n{stations}",
        realtime = realtime.display(),
        met = met.display(),
        area = crate::sample_stations::AREA,
        stations = crate::sample_stations::stations_toml(),
        list = lists.join(crate::sample_list::LIST_FILE).display(),
        inventory = lists.join(crate::sample_list::INVENTORY_FILE).display(),
        clock = (issue_time + chrono::Duration::minutes(30)).format("%Y-%m-%dT%H:%M:%S+08:00"),
    );
    let list_file = lists.join(crate::sample_list::LIST_FILE);
    let list = hazewarn_scheduler::city::parse_list(
        &list_file.display().to_string(),
        &std::fs::read(&list_file)?,
        &hazewarn_response::GradeRuleTable::builtin(),
    )?;
    let plants = crate::fleet::choose(&list);
    let config = config + &crate::fleet::config_toml(&plants);
    let config_path = out.join("city.toml");
    std::fs::write(&config_path, config)?;

    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    rt.block_on(async {
        let now = hazewarn_scheduler::utc_of_local(issue_time);
        let cfg = Config::load(&config_path)?;
        let clock = ManualClock::new(now);
        let city = Arc::new(City::open(cfg, Arc::new(clock.clone())).await?);
        let report = hazewarn_scheduler::cycle(&city, now).await?;
        println!(
            "\n== Daily cycle at {} (GBDT trained on the sample up to the issue time in {fitted_in:.1} s; \
             the sample's own meteorology stands in for an NWP forecast)",
            report.at
        );
        for j in &report.jobs {
            println!("  {:<9} {:<10} {}", j.job, j.status, j.detail);
        }
        if report.jobs.iter().any(|j| j.status == "failed") {
            bail!("a job of the cycle failed");
        }
        write_outputs(&city, out, series, daily, issue_time).await?;
        if city.store.warning_in_force().await?.is_some() {
            check_fleet(city.clone(), &clock, &plants, out).await?;
            // The next day's forecast, as a city on its schedule would have issued it by now, so
            // that `serve` opens on a forecast of its own day rather than yesterday's.
            let next = hazewarn_scheduler::utc_of_local(issue_time + Duration::days(1));
            if city.now() >= next {
                let o = hazewarn_scheduler::run_job(&city, "forecast", next).await?;
                println!("  {:<9} {:<10} {} (the next day's issue)", o.job, o.status, o.detail);
                if o.status != "done" {
                    bail!("the next day's forecast failed: {}", o.detail);
                }
            }
            // The pages then show the city as it stands a day into its warning, after the
            // compliance check: nothing they show lies ahead of their clock.
            let after = hazewarn_scheduler::beijing(city.now()).format("%Y-%m-%dT%H:%M:%S+08:00").to_string();
            let text = std::fs::read_to_string(&config_path)?;
            let anchored = text
                .lines()
                .map(|l| if l.starts_with("demo_clock_start = ") { format!("demo_clock_start = \"{after}\"") } else { l.to_owned() })
                .collect::<Vec<_>>()
                .join("\n");
            std::fs::write(&config_path, anchored + "\n")?;
        }
        clock.set(now);
        let tokens = demo_users(&city, now).await?;
        println!(
            "\n== Serve the same data (sign in at /login with a token):\n  cargo run --release -- serve --config {}\n{tokens}",
            config_path.display()
        );
        Ok(())
    })
}

/// The sample's own meteorology for the 96 h after each issue, in the met-forecast layout.
fn write_met_stand_in(series: &StationSeries, issues: &[NaiveDateTime], path: &Path) -> Result<()> {
    use hazewarn_ingest::Variable as V;
    let vars = [V::Temp, V::Dewp, V::Rh, V::Pres, V::Wspd, V::Wdir, V::Precip];
    let cols: Vec<Vec<f64>> =
        vars.iter().map(|v| series.usable(*v).unwrap_or_else(|| vec![f64::NAN; series.len()])).collect();
    let mut csv = String::from("issue_time,valid_time,temp,dewp,rh,pres,wspd,wdir,precip\n");
    for issue in issues {
        let Some(i0) = series.times.iter().position(|t| t == issue) else { bail!("no hour {issue} in the sample") };
        for i in i0 + 1..(i0 + 97).min(series.len()) {
            let cells: Vec<String> =
                cols.iter().map(|c| if c[i].is_nan() { String::new() } else { format!("{:.1}", c[i]) }).collect();
            csv += &format!(
                "{},{},{}\n",
                issue.format("%Y-%m-%d %H:%M"),
                series.times[i].format("%Y-%m-%d %H:%M"),
                cells.join(",")
            );
        }
    }
    std::fs::write(path, csv)?;
    Ok(())
}

/// Reads the cycle's results back from the store and writes the demo's files and report.
async fn write_outputs(
    city: &City,
    out: &Path,
    series: &StationSeries,
    daily: &[(NaiveDate, u32, Vec<String>)],
    issue: NaiveDateTime,
) -> Result<()> {
    let at = |t: NaiveDateTime| t.format("%Y-%m-%dT%H:%M:%S+08:00").to_string();
    let run_id = format!("LH-{}", issue.format("%Y%m%dT%H"));
    let run = city.store.forecast_run(&run_id).await?.context("the cycle stored no forecast")?;
    let leads: Vec<hazewarn_forecast::LeadForecast> = serde_json::from_str(&run.hourly)?;
    let days = city.daily_of(&run).await?;
    let mut hourly_csv = String::from("issue_time,valid_time,lead_hours,pm25_p10,pm25_p50,pm25_p90\n");
    for l in &leads {
        hourly_csv += &format!("{},{},{},{:.1},{:.1},{:.1}\n", at(issue), at(l.valid), l.lead, l.p10, l.p50, l.p90);
    }
    std::fs::write(out.join("forecast_hourly.csv"), hourly_csv)?;
    let mut daily_csv = String::from("issue_time,date,lead_day,pm25_p10,pm25_p50,pm25_p90,aqi_p50,trend\n");
    println!("\n== Forecast {run_id}");
    for d in &days {
        daily_csv += &format!(
            "{},{},{},{:.1},{:.1},{:.1},{},{}\n",
            at(issue),
            d.date,
            d.lead_day,
            d.pm25_p10,
            d.pm25_p50,
            d.pm25_p90,
            d.aqi_p50,
            d.trend
        );
        let observed = daily.iter().find(|x| x.0 == d.date).map_or("-".to_owned(), |x| x.1.to_string());
        let trend = if d.trend { "  (trend)" } else { "" };
        println!(
            "  D+{} {}  AQI {:>3} [{:>3}–{:>3}]  observed {observed}{trend}",
            d.lead_day, d.date, d.aqi_p50, d.aqi_p10, d.aqi_p90
        );
    }
    std::fs::write(out.join("forecast_daily.csv"), daily_csv)?;
    let rec = city.store.recommendation(&run_id).await?.context("the cycle graded nothing")?;
    println!("\n== Warning grading ({})", rec.profile);
    println!("  recommended: {:?} {} ({})", rec.action, rec.level, rec.response_level.map_or("-", |r| r.zh()));
    for r in &rec.reasons {
        println!("  - {}", r.zh);
    }
    std::fs::write(out.join("recommendation.json"), serde_json::to_string_pretty(&rec)?)?;
    let Some(warning) = city.store.warning_in_force().await? else {
        println!("  no warning: nothing to plan");
        return Ok(());
    };
    if warning.level() == WarningLevel::None {
        bail!("the demo warning lost its level");
    }
    std::fs::write(out.join("warning.json"), serde_json::to_string_pretty(&warning)?)?;
    let step = warning.current();
    let plan = city.store.plan(&warning.id, step.step).await?.context("the warning has no plan")?;
    println!("\n== Reduction plan (illustrative list)");
    crate::response_cmd::print_plan(&plan);
    std::fs::write(out.join("plan.json"), serde_json::to_string_pretty(&plan)?)?;
    let stored = city.store.notices_of(&warning.id, Some(step.step)).await?;
    let made: Vec<_> = stored.into_iter().map(|n| n.notice).collect();
    crate::response_cmd::write_notices(&made, &out.join("notices"))?;
    let cap = city.alert(&warning)?.to_xml();
    std::fs::write(out.join("cap.xml"), &cap)?;
    let (pending, sent, dead) = city.store.outbox_counts().await?;
    println!(
        "\n== {} curtailment notices in {}, public alert in {}; delivered to {}: {sent} sent, {pending} pending, {dead} dead",
        made.len(),
        out.join("notices").display(),
        out.join("cap.xml").display(),
        out.join("delivered").display()
    );
    let report = crate::demo_report::html(series, issue, &leads, &days, &rec, &warning, &plan, made.len());
    std::fs::write(out.join("report.html"), report)?;
    println!("  report: {}", out.join("report.html").display());
    Ok(())
}

/// The simulated fleet a day into the warning: what was streamed, what the check found, and
/// the first alarm worked to closed.
async fn check_fleet(city: Arc<City>, clock: &ManualClock, plants: &[crate::fleet::Plant], out: &Path) -> Result<()> {
    let r = crate::fleet::simulate(city, clock, plants, out).await?;
    std::fs::write(out.join("fleet.json"), serde_json::to_string_pretty(plants)?)?;
    std::fs::write(out.join("compliance.json"), serde_json::to_string_pretty(&r)?)?;
    println!(
        "\n== Did they curtail? (simulated fleet of {} plants, judged at {})\n  HJ 212 over TCP: {} hourly packets sent, {} answered; power feed: {} readings\n  verdicts: {}",
        plants.len(),
        r.judged_at,
        r.frames_sent,
        r.frames_answered,
        r.power_readings,
        serde_json::to_string(&r.run.verdicts)?
    );
    for a in &r.alarms {
        println!("  alarm {} {} {} [{}]: {}", a.id, a.enterprise, a.line, a.state.as_str(), a.evidence.join("; "));
    }
    Ok(())
}

/// A forecaster, the office and the first enterprise of the list, with fresh tokens.
async fn demo_users(city: &City, now: chrono::DateTime<chrono::Utc>) -> Result<String> {
    use hazewarn_store::users::{Role, User};
    let (_, list) = city.list().await?;
    let code = list.enterprises.first().map(|e| e.credit_code.as_str().to_owned());
    let mut lines = String::new();
    for (name, role, code) in
        [("forecaster", Role::Forecaster, None), ("office", Role::Office, None), ("enterprise", Role::Enterprise, code)]
    {
        let token = crate::cycle_cmd::random_token(16)?;
        city.store.add_user(&User { name: name.into(), role, credit_code: code }, &token, "demo", now).await?;
        lines += &format!("  {name:<11} {token}\n");
    }
    Ok(lines)
}
