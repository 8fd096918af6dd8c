//! The jobs of the daily cycle: ingest, forecast, evaluate, dispatch (with acknowledgement
//! reminders and public-alert updates) and verify. Each is idempotent for its slot.

use std::path::PathBuf;

use chrono::{DateTime, Duration, FixedOffset, NaiveDateTime, Timelike, Utc};
use hazewarn_forecast::{
    Derived, FittedModel, Forecast, Hourly, LeadForecast, MetForecastHour, NOWCAST_DAYS, Series, VerifiedIssuer,
    parse_met_forecast_csv, pm25_daily_aqi,
};
use hazewarn_ingest::city::{CityMeanOptions, city_mean};
use hazewarn_ingest::met::{ingest_met, join_met};
use hazewarn_ingest::{IngestOptions, Observations, StationSeries, ingest, write_parquet};
use hazewarn_response::{CurrentWarning, DailyForecast, RangeBound, grade};
use hazewarn_store::forecasts::ForecastRun;
use hazewarn_store::response::OverdueMark;
use hazewarn_store::ts;
use serde::{Deserialize, Serialize};

use crate::city::City;
use crate::config::SourceKind;
use crate::config::StationRole;
use crate::respond::{Outgoing, Step};
use crate::{SchedulerError, beijing, sources};

/// How one input fared in a cycle; stored with the forecast run.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InputStatus {
    pub name: String,
    pub ok: bool,
    pub detail: String,
    /// The detail in Chinese (runs stored before it was written have none).
    #[serde(default)]
    pub detail_zh: String,
}

impl InputStatus {
    fn new(name: &str, ok: bool, detail: String, detail_zh: String) -> InputStatus {
        InputStatus { name: name.to_owned(), ok, detail, detail_zh }
    }
}

/// One station's QC for the forecaster's page, stored with the ingest batch (as JSON).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StationQc {
    pub station: String,
    pub start: NaiveDateTime,
    pub end: NaiveDateTime,
    pub hours: usize,
    pub source_rows: usize,
    pub duplicate_hours: usize,
    pub gaps: usize,
    pub columns: Vec<hazewarn_ingest::FlagCounts>,
}

impl StationQc {
    pub fn of(report: &hazewarn_ingest::QcReport) -> Vec<StationQc> {
        report
            .stations
            .iter()
            .map(|s| StationQc {
                station: s.station.clone(),
                start: s.start,
                end: s.end,
                hours: s.hours,
                source_rows: s.source_rows,
                duplicate_hours: s.duplicates.len(),
                gaps: s.gaps.len(),
                columns: s.columns.clone(),
            })
            .collect()
    }
}

/// What ingest gathered for a cycle.
pub struct Inputs {
    pub series: StationSeries,
    pub met: Option<Vec<MetForecastHour>>,
    pub status: Vec<InputStatus>,
}

/// One day of a stored forecast: what grading and the pages read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DailyRow {
    pub date: chrono::NaiveDate,
    pub lead_day: usize,
    pub pm25_p10: f64,
    pub pm25_p50: f64,
    pub pm25_p90: f64,
    pub aqi_p10: u32,
    pub aqi_p50: u32,
    pub aqi_p90: u32,
    pub trend: bool,
}

/// Why a recommendation may no longer be carried out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stale {
    /// A newer forecast run (this id) has been graded.
    NewerForecast(String),
    /// A warning step was taken at this (Beijing) time, after the grading.
    StepTaken(DateTime<FixedOffset>),
}

impl std::fmt::Display for Stale {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Stale::NewerForecast(id) => write!(f, "a newer forecast ({id}) has been graded"),
            Stale::StepTaken(t) => {
                write!(f, "a warning step was taken at {} after this grading", t.format("%Y-%m-%d %H:%M"))
            }
        }
    }
}

impl Stale {
    /// The reason in Chinese, for the office's page.
    pub fn zh(&self) -> String {
        match self {
            Stale::NewerForecast(id) => format!("已有更新的预报（{id}）完成分级"),
            Stale::StepTaken(t) => format!("本次分级之后，已于 {} 采取了预警措施", t.format("%Y-%m-%d %H:%M")),
        }
    }
}

/// The local (Asia/Shanghai) hour a forecast issued at `now` carries.
pub fn issue_hour(now: DateTime<Utc>) -> NaiveDateTime {
    let local = beijing(now).naive_local();
    local.with_minute(0).and_then(|t| t.with_second(0)).and_then(|t| t.with_nanosecond(0)).expect("valid hour")
}

impl City {
    fn fetched_dir(&self) -> PathBuf {
        self.config.data.work_dir.join("fetched")
    }

    /// What the city forecasts: with configured stations, the mean of the assessment stations
    /// (stations in the data that are not configured are reported and left out); without, the
    /// first station of the observations.
    fn city_series(&self, obs: &Observations, status: &mut Vec<InputStatus>) -> Result<StationSeries, SchedulerError> {
        let configured = &self.config.stations;
        if configured.is_empty() {
            return obs
                .series
                .first()
                .cloned()
                .ok_or_else(|| SchedulerError::Input("no station in the observations".into()));
        }
        let unknown: Vec<&str> = obs
            .series
            .iter()
            .map(|s| s.station.as_str())
            .filter(|s| !configured.iter().any(|c| c.code == *s))
            .collect();
        if !unknown.is_empty() {
            let detail = format!("not configured, not used: {}", unknown.join(", "));
            let zh = format!("未配置，未使用：{}", unknown.join("、"));
            status.push(InputStatus::new("unknown stations", false, detail, zh));
        }
        let assessment = configured.iter().filter(|c| c.role == StationRole::Assessment).map(|c| c.code.clone());
        let present: Vec<String> = assessment.filter(|c| obs.station(c).is_some()).collect();
        let missing = configured.iter().filter(|c| c.role == StationRole::Assessment && obs.station(&c.code).is_none());
        let missing: Vec<&str> = missing.map(|c| c.code.as_str()).collect();
        if present.is_empty() {
            return Err(SchedulerError::Input(format!(
                "no assessment station in the observations (configured: {})",
                missing.join(", ")
            )));
        }
        let options = CityMeanOptions { name: self.config.city.id.clone(), stations: Some(present), min_share: 0.5 };
        let city = city_mean(obs, &options).map_err(|e| SchedulerError::Input(e.to_string()))?;
        let mut detail = format!(
            "mean of {} assessment stations; {} hours with fewer than half reporting",
            city.stations.len(),
            city.thin_hours
        );
        let mut zh = format!("{}个评价点位的均值；{}小时不足半数点位报数", city.stations.len(), city.thin_hours);
        if !missing.is_empty() {
            detail += &format!("; no data from {}", missing.join(", "));
            zh += &format!("；无数据：{}", missing.join("、"));
        }
        status.push(InputStatus::new("city series", missing.is_empty(), detail, zh));
        Ok(city.series)
    }

    /// Pulls the HTTP sources (when `fetch`), then reads every observation file with QC. A failing
    /// source is reported in the status and the cycle goes on with the data it has.
    pub async fn gather(&self, now: DateTime<Utc>, fetch: bool) -> Result<Inputs, SchedulerError> {
        let dir = self.fetched_dir();
        std::fs::create_dir_all(&dir).map_err(|e| SchedulerError::Input(format!("{}: {e}", dir.display())))?;
        let slot = issue_hour(now).format("%Y%m%dT%H").to_string();
        let mut status = Vec::new();
        let client = reqwest::Client::new();
        let mut met: Option<Vec<MetForecastHour>> = None;
        for s in self.config.sources.iter().filter(|s| !sources::is_power(s.kind)) {
            let ext = if s.kind == SourceKind::OpenMeteo { "json" } else { "csv" };
            let path = dir.join(format!("{}-{slot}.{ext}", s.name));
            if fetch && !path.exists() {
                let got = match sources::fetch(&client, s).await {
                    Ok(bytes) if s.kind == SourceKind::ObservationsJson => {
                        sources::json_observations_to_csv(&s.name, &bytes).map(String::into_bytes)
                    }
                    Ok(bytes) if s.kind == SourceKind::OpenMeteo => {
                        sources::parse_open_meteo(&s.name, &bytes).map(|_| bytes)
                    }
                    other => other,
                };
                match got {
                    Ok(bytes) => {
                        // Written whole, then renamed: a half-written file is never read.
                        let tmp = path.with_extension("part");
                        std::fs::write(&tmp, &bytes)
                            .and_then(|()| std::fs::rename(&tmp, &path))
                            .map_err(|e| SchedulerError::Input(format!("{}: {e}", path.display())))?;
                    }
                    Err(e) => {
                        tracing::warn!(source = %s.name, error = %e, "source failed; the cycle goes on without it");
                        status.push(InputStatus::new(&s.name, false, e.clone(), format!("获取失败：{e}")));
                        continue;
                    }
                }
            }
            if s.kind == SourceKind::OpenMeteo {
                // The latest run of the feed fetched so far.
                let latest = std::fs::read_dir(&dir)
                    .map_err(|e| SchedulerError::Input(format!("{}: {e}", dir.display())))?
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| {
                        p.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                            n.starts_with(&format!("{}-", s.name))
                                && n.ends_with(".json")
                                && *n <= *format!("{}-{slot}.json", s.name)
                        })
                    })
                    .max();
                if let Some(p) = latest {
                    let bytes =
                        std::fs::read(&p).map_err(|e| SchedulerError::Input(format!("{}: {e}", p.display())))?;
                    let hours = sources::parse_open_meteo(&s.name, &bytes).map_err(SchedulerError::Input)?;
                    let (en, zh) = (format!("{} forecast hours", hours.len()), format!("{}个预报小时", hours.len()));
                    status.push(InputStatus::new(&s.name, true, en, zh));
                    met = Some(hours);
                }
            } else if path.exists() {
                let file =
                    path.file_name().map_or_else(|| path.display().to_string(), |f| f.to_string_lossy().into_owned());
                status.push(InputStatus::new(&s.name, true, format!("fetched: {file}"), format!("已获取：{file}")));
            }
        }
        let mut files = expand_dirs(&self.config.data.observations)?;
        let fetched_obs = self.config.sources.iter().filter(|s| sources::is_observations(s.kind));
        let mut fetched: Vec<PathBuf> = Vec::new();
        for s in fetched_obs {
            if let Ok(rd) = std::fs::read_dir(&dir) {
                for e in rd.flatten() {
                    let n = e.file_name().to_string_lossy().to_string();
                    if n.starts_with(&format!("{}-", s.name)) && n.ends_with(".csv") {
                        fetched.push(e.path());
                    }
                }
            }
        }
        fetched.sort();
        files.extend(fetched);
        let options = IngestOptions {
            layout: self.config.data.format.as_deref().map(str::parse).transpose().map_err(SchedulerError::Config)?,
            station: self.config.data.station.clone(),
            area: self.config.data.area.clone(),
            codes: (!self.config.stations.is_empty())
                .then(|| self.config.stations.iter().map(|s| s.code.clone()).collect()),
            ..Default::default()
        };
        let (obs, report) = ingest(&files, &options).map_err(|e| SchedulerError::Input(e.to_string()))?;
        let mut series = self.city_series(&obs, &mut status)?;
        let met_files = expand_dirs(&self.config.data.met_observations)?;
        if !met_files.is_empty() {
            let (weather, met_report) =
                ingest_met(&met_files, &options.qc).map_err(|e| SchedulerError::Input(e.to_string()))?;
            series = join_met(&series, &weather);
            let missing = series
                .column(hazewarn_ingest::Variable::Temp)
                .map_or(0, |c| c.flags.iter().filter(|f| f.is_unusable()).count());
            let en = format!(
                "weather station {} joined on the hour ({} files; {missing} hours without temperature)",
                weather.station,
                met_report.files.len()
            );
            let zh = format!(
                "气象站 {} 按整点并入（{}个文件；{missing}小时无气温）",
                weather.station,
                met_report.files.len()
            );
            status.push(InputStatus::new("meteorology", true, en, zh));
        }
        let parquet = self.config.data.work_dir.join("observations.parquet");
        write_parquet(&obs, &parquet).map_err(|e| SchedulerError::Input(e.to_string()))?;
        // What is forecast, for the pages: the city series, or the one station.
        let forecast_series = Observations { series: vec![series.clone()] };
        let city_parquet = self.config.data.work_dir.join("city.parquet");
        write_parquet(&forecast_series, &city_parquet).map_err(|e| SchedulerError::Input(e.to_string()))?;
        let batch = hazewarn_store::forecasts::ObservationBatch {
            id: format!("{}-{slot}", self.config.city.id),
            source: files.iter().map(|f| f.display().to_string()).collect::<Vec<_>>().join("; "),
            location: parquet.display().to_string(),
            rows: series.len() as i64,
            first_time: series.times.first().map(ToString::to_string),
            last_time: series.times.last().map(ToString::to_string),
            qc_summary: serde_json::to_string(&StationQc::of(&report)).expect("serialises"),
        };
        let mut tx = self.store.write().await?;
        tx.record_observations(&batch, now).await?;
        tx.commit().await?;
        let rows: usize = report.files.iter().map(|f| f.rows).sum();
        let (en, zh) = (
            format!("{} file{}, {rows} rows", files.len(), if files.len() == 1 { "" } else { "s" }),
            format!("{}个文件，共{rows}行", files.len()),
        );
        status.push(InputStatus::new("observations", true, en, zh));
        if met.is_none()
            && let Some(p) = &self.config.data.met_forecast
        {
            let bytes = std::fs::read(p).map_err(|e| SchedulerError::Input(format!("{}: {e}", p.display())))?;
            let hours = parse_met_forecast_csv(&p.display().to_string(), &bytes, issue_hour(now))?;
            if !hours.is_empty() {
                let (en, zh) = (format!("{} hours", hours.len()), format!("{}小时", hours.len()));
                status.push(InputStatus::new("met-forecast-file", true, en, zh));
                met = Some(hours);
            }
        }
        Ok(Inputs { series, met, status })
    }

    fn load_model(&self, dir: &std::path::Path) -> Result<FittedModel, SchedulerError> {
        let path = dir.join("model.json");
        let text = std::fs::read_to_string(&path).map_err(|e| {
            SchedulerError::Input(format!(
                "{}: {e} (train one with `hazewarn train … --out {}`)",
                path.display(),
                dir.display()
            ))
        })?;
        Ok(FittedModel::from_json(&text)?)
    }

    /// Issues the forecast for the hour of `now` and stores it; a second call for the same hour
    /// returns the stored run.
    pub async fn forecast(&self, now: DateTime<Utc>) -> Result<ForecastRun, SchedulerError> {
        let issue = issue_hour(now);
        let id = format!("{}-{}", self.config.city.id, issue.format("%Y%m%dT%H"));
        if let Some(run) = self.store.forecast_run(&id).await? {
            return Ok(run);
        }
        let mut inputs = self.gather(now, true).await?;
        let mut model = self.load_model(&self.config.data.model)?;
        if model.params.future_met && inputs.met.is_none() {
            let Some(fallback) = &self.config.data.fallback_model else {
                return Err(SchedulerError::Input(
                    "the model needs a meteorological forecast and no met source answered (configure data.fallback_model)".into(),
                ));
            };
            inputs.status.push(InputStatus::new(
                "nwp",
                false,
                "missing: fell back to the model without future meteorology".into(),
                "缺失：改用不含未来气象的模型".into(),
            ));
            model = self.load_model(fallback)?;
        }
        let mut h = Hourly::from_series(&inputs.series);
        if let Some(p) = &self.config.data.emissions {
            let bytes = std::fs::read(p).map_err(|e| SchedulerError::Input(format!("{}: {e}", p.display())))?;
            h.apply_emissions(&hazewarn_forecast::parse_emissions_csv(&p.display().to_string(), &bytes)?);
        }
        let cut_hours = self.feed_back_curtailments(&mut h).await?;
        if cut_hours > 0 {
            inputs.status.push(InputStatus::new(
                "curtailments",
                true,
                format!("{cut_hours} hours of past and active warnings lower the emission index"),
                format!("以往及当前预警的{cut_hours}小时降低了排放指数"),
            ));
        }
        let i0 = (issue - h.start).num_hours();
        let last_obs = (0..h.len()).rev().find(|&i| !h.pm25[i].is_nan());
        let Some(last) = last_obs.filter(|&l| i0 >= 0 && i0 - (l as i64) <= 6) else {
            return Err(SchedulerError::Input(format!(
                "observations end at {}; a forecast issued {issue} needs PM2.5 within the 6 hours before it",
                last_obs.map_or("-".into(), |l| h.time(l).to_string())
            )));
        };
        if (i0 as usize) > last {
            inputs.status.push(InputStatus::new(
                "observations",
                false,
                format!("late: the last PM2.5 is {}", h.time(last)),
                format!("延迟：最新PM2.5为 {}", h.time(last)),
            ));
        }
        let i0 = i0 as usize;
        let cut = h.cut_at(i0);
        let d = Derived::new(&cut);
        // Recent verification reads the runs issued before, as their models issued them.
        let issued = self.issued_before(issue, &cut, i0).await?;
        let met = match (&inputs.met, model.params.future_met) {
            (Some(hours), true) => {
                let mut met = cut.clone();
                met.lay_met_forecast(hours, i0);
                Some(met)
            }
            _ => None,
        };
        let dm = met.as_ref().map(Derived::new);
        let mut issuer = VerifiedIssuer::new(&model, &d, dm.as_ref()).with_issued(issued);
        let (f, recent) = issuer.issue(i0)?;
        let model_hourly = issuer.model_forecast(i0).map(|m| serde_json::to_string(&m.leads).expect("serialises"));
        let levels = serde_json::to_string(&model.daily_levels(&f)).expect("serialises");
        // The forecaster sees how recent forecasts verified, beside the inputs.
        inputs.status.push(InputStatus::new(
            "recent verification",
            recent.adapted(),
            recent.describe(),
            recent.describe_zh(),
        ));
        let daily: Vec<DailyRow> = model
            .daily_outlook(&f, Series::Model)
            .into_iter()
            .map(|o| {
                let aqi = |x: f64| pm25_daily_aqi(o.date, x).unwrap_or(0);
                DailyRow {
                    date: o.date,
                    lead_day: o.lead_day,
                    pm25_p10: o.p10,
                    pm25_p50: o.p50,
                    pm25_p90: o.p90,
                    aqi_p10: aqi(o.p10),
                    aqi_p50: aqi(o.p50),
                    aqi_p90: aqi(o.p90),
                    trend: o.trend,
                }
            })
            .collect();
        let run = ForecastRun {
            id: id.clone(),
            issue_time: ts(crate::utc_of_local(issue)),
            model: model.params.kind.name().to_owned(),
            created_at: ts(now),
            inputs: serde_json::to_string(&inputs.status).expect("serialises"),
            hourly: serde_json::to_string(&f.leads).expect("serialises"),
            daily: serde_json::to_string(&daily).expect("serialises"),
            status: if self.config.policy.auto_approve { "approved" } else { "issued" }.into(),
            model_hourly,
            levels: Some(levels),
        };
        let mut tx = self.store.write().await?;
        if tx.save_forecast_run(&run).await? {
            tx.audit(now, "scheduler", "forecast-issue", &id, &run.inputs).await?;
        }
        tx.commit().await?;
        Ok(self.store.forecast_run(&id).await?.unwrap_or(run))
    }

    /// The forecasts of the runs issued in the [`NOWCAST_DAYS`] days before `issue` (the longest
    /// that recent verification reads), as their models issued them, by issue index into `h`.
    /// Runs stored before the model's own forecast was kept have none to give.
    async fn issued_before(
        &self,
        issue: NaiveDateTime,
        h: &Hourly,
        i0: usize,
    ) -> Result<Vec<(usize, Forecast)>, SchedulerError> {
        let to = crate::utc_of_local(issue);
        let runs = self.store.forecast_runs_between(to - Duration::days(NOWCAST_DAYS as i64 + 1), to).await?;
        let mut issued = Vec::new();
        for run in runs {
            let Some(text) = &run.model_hourly else { continue };
            let corrupt =
                |detail: String| SchedulerError::Input(format!("stored run {}: model_hourly: {detail}", run.id));
            let at = beijing(hazewarn_store::parse_ts(&run.issue_time)?).naive_local();
            let leads: Vec<LeadForecast> = serde_json::from_str(text).map_err(|e| corrupt(e.to_string()))?;
            let j = (at - h.start).num_hours();
            if (0..i0 as i64).contains(&j) {
                issued.push((j as usize, Forecast::from_leads(at, leads)));
            }
        }
        Ok(issued)
    }

    /// Lowers the emission index over every warning step's hours by its plan's mean reduction
    /// ratio (the curtailments the response side recorded), with each line whose production was
    /// measured at the cut it achieved instead of the planned one. Returns the hours changed.
    async fn feed_back_curtailments(&self, h: &mut Hourly) -> Result<usize, SchedulerError> {
        let mut warnings = self.store.warnings_in(hazewarn_response::WarningState::Issued).await?;
        warnings.extend(self.store.warnings_in(hazewarn_response::WarningState::Lifted).await?);
        let mut hours = 0;
        for w in &warnings {
            let steps: Vec<_> =
                w.transitions.iter().filter(|t| t.kind != hazewarn_response::TransitionKind::Draft).collect();
            for (k, step) in steps.iter().enumerate() {
                let Some(plan) = self.store.plan(&w.id, step.step).await? else { continue };
                if plan.totals.is_empty() {
                    continue;
                }
                let measured = self.measured_cuts(&w.id, step.step).await?;
                let totals = if measured.is_empty() { plan.totals.clone() } else { plan.achieved(&measured).totals };
                let share = totals.iter().map(|t| t.ratio).sum::<f64>() / totals.len() as f64;
                // In force from the step's start (or its issue, if later) until the next step or its end.
                let from = step.start.max(step.at).naive_local();
                let until = steps.get(k + 1).map_or(step.end, |next| next.at.min(step.end)).naive_local();
                hours += h.apply_curtailment(from, until, share);
            }
        }
        Ok(hours)
    }

    /// Grades the latest approved forecast (or the latest one, with auto-approval). The
    /// recommendation is stored and sent to the office; with auto-issue it is also carried out.
    pub async fn evaluate(&self, now: DateTime<Utc>) -> Result<Option<(String, Option<Step>)>, SchedulerError> {
        let Some(run) = self.store.latest_forecast_run(now, !self.config.policy.auto_approve).await? else {
            return Ok(None);
        };
        if self.store.recommendation(&run.id).await?.is_some() {
            return Ok(Some((run.id, None))); // graded before: nothing new
        }
        let daily = self.daily_of(&run).await?;
        let forecast: Vec<DailyForecast> = daily
            .iter()
            .map(|d| DailyForecast {
                date: d.date,
                aqi_p50: d.aqi_p50,
                aqi_p10: Some(d.aqi_p10),
                aqi_p90: Some(d.aqi_p90),
                primary: vec!["PM2.5".into()],
            })
            .collect();
        let in_force = self.store.warning_in_force().await?;
        let current = in_force.as_ref().map_or(CurrentWarning::default(), |w| CurrentWarning {
            level: w.level(),
            end: Some((w.current().end - Duration::seconds(1)).date_naive()),
        });
        let rec = grade(&self.profile, &forecast, current, RangeBound::P50)?;
        let step = Step::recommended(&rec);
        // Auto-issue carries the step out before the grading is stored: if it fails, the run is
        // graded again next time instead of being marked done with nothing issued.
        if let (Some(step), true) = (step, self.config.policy.auto_issue) {
            let reason: Vec<&str> = rec.reasons.iter().map(|r| r.zh.as_str()).collect();
            self.apply(step, "scheduler (auto-issue)", &reason.join("；"), &run.id, now).await?;
        }
        let mut tx = self.store.write().await?;
        tx.save_recommendation(&run.id, now, &rec).await?;
        let detail = serde_json::to_string(&rec).expect("serialises");
        tx.audit(now, "scheduler", "recommendation", &run.id, &detail).await?;
        if step.is_some() && !self.config.policy.auto_issue {
            let key = format!("office-recommendation-{}", run.id);
            let m = Outgoing { kind: "office", key: &key, subject: &run.id, to: &self.duty, payload: &detail };
            self.enqueue_everywhere(&mut tx, m, now).await?;
        }
        tx.commit().await?;
        Ok(Some((run.id, step)))
    }

    /// The office approves a run's recommendation: the recommended step is carried out.
    pub async fn approve_recommendation(
        &self,
        run_id: &str,
        by: &str,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<hazewarn_response::Warning, SchedulerError> {
        let rec = self
            .store
            .recommendation(run_id)
            .await?
            .ok_or_else(|| SchedulerError::Conflict(format!("forecast run {run_id} has not been graded")))?;
        let step = Step::recommended(&rec)
            .ok_or_else(|| SchedulerError::Conflict(format!("the grading of {run_id} recommends no action")))?;
        if let Some(why) = self.recommendation_stale(run_id).await? {
            return Err(SchedulerError::Conflict(format!("the recommendation of {run_id} is stale: {why}")));
        }
        self.apply(step, by, reason, run_id, now).await
    }

    /// Why a run's recommendation may no longer be carried out: a newer forecast has been
    /// issued, or a warning step was taken after the run was graded (the grading assumed the
    /// warning as it was). `None` while it still stands.
    pub async fn recommendation_stale(&self, run_id: &str) -> Result<Option<Stale>, SchedulerError> {
        // Only a newer graded run overtakes this one: a newer run still awaiting the forecaster's
        // approval has recommended nothing yet.
        if let Some(latest) = self.store.latest_graded_run().await?
            && latest != run_id
        {
            return Ok(Some(Stale::NewerForecast(latest)));
        }
        let graded = self.store.recommendation_at(run_id).await?;
        let stepped = self.store.last_warning_step_at().await?;
        Ok(match (graded, stepped) {
            (Some(g), Some(s)) if s >= g => Some(Stale::StepTaken(crate::beijing(s))),
            _ => None,
        })
    }

    /// The daily rows of a run, with a forecaster's adjustment applied when there is one.
    pub async fn daily_of(&self, run: &ForecastRun) -> Result<Vec<DailyRow>, SchedulerError> {
        let adjusted = self.store.reviews(&run.id).await?.into_iter().rev().find_map(|r| r.adjusted_daily);
        let text = adjusted.as_deref().unwrap_or(&run.daily);
        serde_json::from_str(text).map_err(|e| SchedulerError::Input(format!("daily forecast of {}: {e}", run.id)))
    }

    /// Reminds enterprises whose acknowledgement deadline passed, escalates to the office once
    /// the grace period passed too, and re-publishes the public alert at the configured cadence.
    pub async fn follow_up(&self, now: DateTime<Utc>) -> Result<(usize, usize), SchedulerError> {
        let p = &self.config.policy;
        if p.lift_on_expiry
            && let Some(w) = self.store.warning_in_force().await?
            && w.current().end.with_timezone(&Utc) <= now
        {
            // A warning whose window has passed is over: lift it, with its notices and the
            // public cancel, rather than leave it "in force" on every page.
            let reason = "预警时段已结束，自动解除 (the warning's window has ended)";
            // A lift that fails is logged and retried at the next follow-up; reminders,
            // escalations and delivery go on.
            if let Err(e) = self.apply(Step::Expire, "scheduler", reason, "expiry", now).await {
                tracing::error!(warning = %w.id, error = %e, "could not lift an expired warning");
            }
        }
        let mut reminded = 0;
        let overdue = self.store.overdue(now, OverdueMark::Reminded).await?;
        let list = if overdue.is_empty() { None } else { Some(self.list().await?.1) };
        let contacts = list.as_ref().map(crate::respond::contacts_by_code).unwrap_or_default();
        for n in overdue {
            let mut tx = self.store.write().await?;
            if tx.mark_overdue(&n.notice.id, OverdueMark::Reminded, now).await? {
                let key = format!("reminder-{}", n.notice.id);
                let payload = serde_json::json!({"reminder": true, "notice": n.notice}).to_string();
                let to = crate::respond::recipient(&n.notice, &contacts);
                self.enqueue_notice(&mut tx, &key, &n.notice, &payload, &to, now).await?;
                reminded += 1;
            }
            tx.commit().await?;
        }
        let mut escalated = 0;
        let grace = Duration::hours(i64::from(p.escalate_after_hours));
        for n in self.store.overdue(now - grace, OverdueMark::Escalated).await? {
            let mut tx = self.store.write().await?;
            if tx.mark_overdue(&n.notice.id, OverdueMark::Escalated, now).await? {
                let key = format!("escalation-{}", n.notice.id);
                let payload = serde_json::json!({"escalation": true, "notice_id": n.notice.id,
                    "enterprise": n.notice.enterprise, "credit_code": n.notice.credit_code,
                    "ack_deadline": n.notice.ack_deadline})
                .to_string();
                let m =
                    Outgoing { kind: "office", key: &key, subject: &n.notice.id, to: &self.duty, payload: &payload };
                self.enqueue_everywhere(&mut tx, m, now).await?;
                escalated += 1;
            }
            tx.commit().await?;
        }
        if let Some(w) = self.store.warning_in_force().await? {
            let hours = match w.level() {
                hazewarn_response::WarningLevel::Yellow => p.update_hours_yellow,
                hazewarn_response::WarningLevel::Orange => p.update_hours_orange,
                _ => p.update_hours_red,
            };
            let since = now - w.current().at.with_timezone(&Utc);
            let k = since.num_hours() / i64::from(hours.max(1));
            if k >= 1 {
                let step = w.current().step;
                let key = format!("alert-{}-{step}-update-{k}", w.id);
                let payload = serde_json::json!({"warning_id": w.id, "step": step, "update": k,
                    "level": w.level(), "cap_xml": self.alert(&w)?.to_xml()})
                .to_string();
                let mut tx = self.store.write().await?;
                let m = Outgoing { kind: "alert", key: &key, subject: &w.id, to: &self.duty, payload: &payload };
                self.enqueue_everywhere(&mut tx, m, now).await?;
                tx.commit().await?;
            }
        }
        Ok((reminded, escalated))
    }

    /// Scores past runs' leads that now have observations. Returns how many leads were scored.
    pub async fn verify(&self, now: DateTime<Utc>) -> Result<usize, SchedulerError> {
        let inputs = self.gather(now, false).await?;
        let h = Hourly::from_series(&inputs.series);
        let runs = self.store.forecast_runs_between(now - Duration::days(10), now).await?;
        let mut scores = Vec::new();
        for run in runs {
            let leads: Vec<hazewarn_forecast::LeadForecast> = serde_json::from_str(&run.hourly)
                .map_err(|e| SchedulerError::Input(format!("hourly forecast of {}: {e}", run.id)))?;
            for l in leads.into_iter().filter(|l| l.valid <= issue_hour(now)) {
                let Some(obs) = h.index(l.valid).map(|i| h.pm25[i]).filter(|x| !x.is_nan()) else { continue };
                scores.push(hazewarn_store::forecasts::Score {
                    run_id: run.id.clone(),
                    lead_hours: l.lead as i64,
                    valid_time: ts(crate::utc_of_local(l.valid)),
                    observed: obs,
                    p10: l.p10,
                    p50: l.p50,
                    p90: l.p90,
                });
            }
        }
        let mut tx = self.store.write().await?;
        let n = tx.save_scores(&scores, now).await?;
        tx.commit().await?;
        Ok(n)
    }
}

/// The files named, with each directory replaced by the files in it in name order (hidden files
/// and temporary `.part` files left out).
fn expand_dirs(paths: &[PathBuf]) -> Result<Vec<PathBuf>, SchedulerError> {
    let mut out = Vec::new();
    for p in paths {
        if !p.is_dir() {
            out.push(p.clone());
            continue;
        }
        let io = |e: std::io::Error| SchedulerError::Input(format!("{}: {e}", p.display()));
        let mut inside = Vec::new();
        for entry in std::fs::read_dir(p).map_err(io)? {
            let f = entry.map_err(io)?.path();
            let name = f.file_name().and_then(|n| n.to_str()).unwrap_or("");
            // Hidden files and the `.part` of a download in progress are not data yet.
            if name.starts_with('.') || name.ends_with(".part") {
                continue;
            }
            if !f.is_file() {
                return Err(SchedulerError::Input(format!(
                    "{}: not a file (data directories are not searched)",
                    f.display()
                )));
            }
            inside.push(f);
        }
        if inside.is_empty() {
            return Err(SchedulerError::Input(format!("{}: the directory holds no files", p.display())));
        }
        inside.sort();
        out.extend(inside);
    }
    Ok(out)
}
