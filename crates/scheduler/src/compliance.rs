//! The compliance job: for the warning in force, each line of its plan is judged by the pure
//! core (`hazewarn_compliance`) from what the meters and monitors measured, its verdict stored,
//! and a suspected line opens an alarm that goes to the enterprise along its route, all in one
//! transaction.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, DurationRound, FixedOffset, NaiveDate, Utc};
use hazewarn_compliance::{LineEvidence, LineVerdict, Reading, Series, Treatment, Verdict, baseline, evaluate};
use hazewarn_response::{CurtailmentPlan, EnterprisePlan, LinePlan, Measure, Transition, TransitionKind, Warning};
use serde::Serialize;

use crate::config::{MeterRole, SourceKind};
use crate::{City, SchedulerError, beijing};

/// What one compliance run found.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ComplianceRun {
    pub warning_id: String,
    pub step: u32,
    /// Whole hours of the step evaluated.
    pub hours: i64,
    /// Lines by verdict: complied, suspected, not-required, no-data.
    pub verdicts: BTreeMap<String, usize>,
    /// Alarms this run opened (a line already alarmed for the step opens none).
    pub alarms_opened: Vec<String>,
}

/// Where the pollutant concentrations are (mg/m³) and the flue-gas flow (m³/h): their product
/// summed over pollutants is the emission rate the evidence compares.
const FLOW: &str = "a00000";

fn is_pollutant(code: &str) -> bool {
    code.starts_with("a2") || code.starts_with("a3")
}

/// What the plan requires of a line. A stored plan's measure that does not read is an error,
/// not a line with nothing to verify.
pub fn treatment(e: &EnterprisePlan, l: &LinePlan) -> Result<Treatment, SchedulerError> {
    use hazewarn_response::Treatment as Plan;
    Ok(match e.treatment {
        Plan::SelfDirected => Treatment::SelfDirected,
        Plan::Exempt | Plan::HeatLed => Treatment::None,
        Plan::Measures => {
            let m = Measure::parse(&l.measure).map_err(|why| {
                SchedulerError::Input(format!("plan of {} {}: measure `{}`: {why}", e.credit_code, l.line, l.measure))
            })?;
            match m {
                m if m.stop => Treatment::Stop,
                // Whole percents, rounded down: cut:12.5 is judged as cut:12, never stricter than the plan.
                Measure { cut_percent: Some(n), .. } => Treatment::Cut(n.floor().clamp(1.0, 100.0) as u8),
                m if m.self_directed => Treatment::SelfDirected,
                _ => Treatment::None,
            }
        }
    })
}

/// The hour a step's evaluation runs over: from its start (or its issue, if later) to `now`
/// (or its end, if earlier), whole hours only.
fn window(step: &Transition, now: DateTime<Utc>) -> (DateTime<FixedOffset>, DateTime<FixedOffset>) {
    // In Beijing time whatever offset the step was written in: hours are Beijing clock hours.
    let from = bj(step.start.max(step.at));
    let from =
        from.duration_trunc(Duration::hours(1)).map_or(from, |t| if t < from { t + Duration::hours(1) } else { t });
    let until = beijing(now).min(bj(step.end));
    let until = until.duration_trunc(Duration::hours(1)).unwrap_or(until);
    (from, until.max(from))
}

fn bj(t: DateTime<FixedOffset>) -> DateTime<FixedOffset> {
    beijing(t.to_utc())
}

/// Days of other warnings (Beijing dates): curtailed days are no baseline.
fn warning_days(warnings: &[Warning], except: &str) -> Vec<NaiveDate> {
    let mut days = Vec::new();
    for w in warnings.iter().filter(|w| w.id != except) {
        for t in w.transitions.iter().filter(|t| t.kind != TransitionKind::Draft && t.kind != TransitionKind::Lift) {
            let mut d = bj(t.start).date_naive();
            while d <= bj(t.end).date_naive() {
                days.push(d);
                d += Duration::days(1);
            }
        }
    }
    days
}

impl City {
    /// Imports a power feed (CSV or JSON, by its name): every reading's meter must be a
    /// configured meter fed this way (not one on HJ 212). All or nothing, audited. Returns
    /// (readings, new ones).
    pub async fn import_power(
        &self,
        name: &str,
        bytes: &[u8],
        now: DateTime<Utc>,
    ) -> Result<(usize, usize), SchedulerError> {
        let readings =
            hazewarn_compliance::parse_power(name, bytes).map_err(|e| SchedulerError::Input(e.to_string()))?;
        let fed = |id: &str| self.config.meters.iter().any(|m| m.id == id && m.mn.is_none());
        let mut unknown: Vec<&str> = readings.iter().map(|r| r.meter.as_str()).filter(|m| !fed(m)).collect();
        unknown.dedup();
        if !unknown.is_empty() {
            unknown.sort_unstable();
            unknown.dedup();
            return Err(SchedulerError::Input(format!(
                "{name}: field `meter`: {} not a [[meters]] entry fed by files (nothing was imported)",
                unknown.iter().map(|m| format!("`{m}`")).collect::<Vec<_>>().join(", ")
            )));
        }
        let rows: Vec<hazewarn_store::compliance::PowerReading> = readings
            .iter()
            .map(|r| hazewarn_store::compliance::PowerReading { meter: r.meter.clone(), at: r.at.to_utc(), kw: r.kw })
            .collect();
        let source =
            std::path::Path::new(name).file_name().map_or(name.to_owned(), |f| f.to_string_lossy().into_owned());
        let new = self.store.save_power(&rows, &source, now).await?;
        Ok((rows.len(), new))
    }

    /// Pulls the power sources, then judges every line of the warning in force's current step;
    /// `None` without one. A power source that failed is an error of the job, after the lines
    /// were judged on what the store holds, so the failure is seen and the verdicts still kept.
    pub async fn check_compliance(&self, now: DateTime<Utc>) -> Result<Option<ComplianceRun>, SchedulerError> {
        let failed = self.pull_power(now).await?;
        let run = match self.store.warning_in_force().await? {
            Some(w) => Some(self.judge_step(&w, now).await?),
            None => None,
        };
        if !failed.is_empty() {
            return Err(SchedulerError::Input(format!("power source(s) failed: {}", failed.join("; "))));
        }
        Ok(run)
    }

    /// Fetches each power source and imports it; returns the failures, each naming its source.
    async fn pull_power(&self, now: DateTime<Utc>) -> Result<Vec<String>, SchedulerError> {
        let client = reqwest::Client::new();
        let mut failed = Vec::new();
        for s in self.config.sources.iter().filter(|s| crate::sources::is_power(s.kind)) {
            let name = format!("{}.{}", s.name, if s.kind == SourceKind::PowerJson { "json" } else { "csv" });
            let got = match crate::sources::fetch(&client, s).await {
                Ok(bytes) => self.import_power(&name, &bytes, now).await.map_err(|e| e.to_string()),
                Err(e) => Err(e),
            };
            match got {
                Ok((n, new)) => tracing::info!(source = %s.name, readings = n, new, "power source imported"),
                Err(e) => {
                    tracing::error!(source = %s.name, error = %e, "power source failed");
                    failed.push(e);
                }
            }
        }
        Ok(failed)
    }

    /// Judges every line of `w`'s current step up to `now`: stores each verdict, and opens (and
    /// sends) an alarm for each suspected line that has none for the step, in one transaction.
    pub async fn judge_step(&self, w: &Warning, now: DateTime<Utc>) -> Result<ComplianceRun, SchedulerError> {
        let step = w.current();
        let mut run = ComplianceRun { warning_id: w.id.clone(), step: step.step, ..Default::default() };
        if step.kind == TransitionKind::Lift {
            return Ok(run);
        }
        let plan = self
            .store
            .plan(&w.id, step.step)
            .await?
            .ok_or_else(|| SchedulerError::Conflict(format!("{} step {} has no plan", w.id, step.step)))?;
        let (from, until) = window(step, now);
        run.hours = (until - from).num_hours();
        if run.hours == 0 {
            // The step has not run a whole hour yet: there is nothing to judge.
            return Ok(run);
        }
        let start = bj(w.transitions.iter().find(|t| t.kind != TransitionKind::Draft).map_or(step.start, |t| t.start));
        let mut others = self.store.warnings_in(hazewarn_response::WarningState::Issued).await?;
        others.extend(self.store.warnings_in(hazewarn_response::WarningState::Lifted).await?);
        let excluded = warning_days(&others, &w.id);
        let days = self.tolerances.baseline_days;
        let history_from = start - Duration::days(i64::from(days) + 1);
        let verdicts = self.judge_plan(&plan, (from, until), start, &excluded, history_from).await?;
        self.record(w, &plan, &verdicts, now, &mut run).await?;
        Ok(run)
    }

    async fn judge_plan(
        &self,
        plan: &CurtailmentPlan,
        (from, until): (DateTime<FixedOffset>, DateTime<FixedOffset>),
        start: DateTime<FixedOffset>,
        excluded: &[NaiveDate],
        history_from: DateTime<FixedOffset>,
    ) -> Result<Vec<(String, LineVerdict)>, SchedulerError> {
        let hours = (until - from).num_hours().max(0) as usize;
        let mut out = Vec::new();
        for e in &plan.enterprises {
            for l in &e.lines {
                let series = |readings: Vec<Reading>| {
                    let (before, during): (Vec<Reading>, Vec<Reading>) =
                        readings.into_iter().filter(|r| r.at < until).partition(|r| r.at < start);
                    let during: Vec<Reading> = during.into_iter().filter(|r| r.at >= from).collect();
                    let b = baseline(&before, start, excluded, self.tolerances.baseline_days);
                    Series { during, baseline: b }
                };
                let power = |role| self.line_power(&e.credit_code, &l.line, role, history_from, until);
                let production = power(MeterRole::Production).await?.map(series);
                let abatement = power(MeterRole::Abatement).await?.map(series);
                let emission = self.line_emission(&e.credit_code, &l.line, history_from, until).await?.map(series);
                let treatment = treatment(e, l)?;
                let evidence = LineEvidence { line: l.line.clone(), treatment, hours, production, abatement, emission };
                out.push((e.credit_code.clone(), evaluate(&evidence, &self.tolerances)));
            }
        }
        Ok(out)
    }

    /// The hourly power of a line's meters of one role, summed; `None` when it has none.
    async fn line_power(
        &self,
        credit_code: &str,
        line: &str,
        role: MeterRole,
        from: DateTime<FixedOffset>,
        until: DateTime<FixedOffset>,
    ) -> Result<Option<Vec<Reading>>, SchedulerError> {
        let meters: Vec<_> = self
            .config
            .meters
            .iter()
            .filter(|m| m.credit_code == credit_code && m.line == line && m.role == role)
            .collect();
        if meters.is_empty() {
            return Ok(None);
        }
        // (sum, meters that reported) per hour: an hour counts only when every meter of the role did,
        // so a meter that went quiet never reads as a cut.
        let count = meters.len();
        let mut sum: BTreeMap<DateTime<FixedOffset>, (f64, usize)> = BTreeMap::new();
        for m in meters {
            let raw: Vec<Reading> = match (&m.mn, &m.code) {
                (Some(mn), Some(code)) => self.device_values(mn, from, until).await?.remove(code).unwrap_or_default(),
                _ => self
                    .store
                    .power_of(&m.id, from.to_utc(), until.to_utc())
                    .await?
                    .into_iter()
                    .map(|p| Reading { at: beijing(p.at), value: p.kw })
                    .collect(),
            };
            for r in hazewarn_compliance::hourly_means(&raw) {
                let e = sum.entry(r.at).or_default();
                e.0 += r.value;
                e.1 += 1;
            }
        }
        Ok(Some(
            sum.into_iter().filter(|(_, (_, n))| *n == count).map(|(at, (value, _))| Reading { at, value }).collect(),
        ))
    }

    /// The hourly emission rate (kg/h) of a line's monitors: the sum over pollutants of
    /// concentration × flue-gas flow; `None` when no monitor of the line reports a flow.
    async fn line_emission(
        &self,
        credit_code: &str,
        line: &str,
        from: DateTime<FixedOffset>,
        until: DateTime<FixedOffset>,
    ) -> Result<Option<Vec<Reading>>, SchedulerError> {
        let mut devices: Vec<_> = self
            .config
            .devices
            .iter()
            .filter(|d| d.credit_code == credit_code && d.line == line && d.codes.iter().any(|c| c == FLOW))
            .collect();
        devices.sort_by(|a, b| a.mn.cmp(&b.mn));
        if devices.is_empty() {
            return Ok(None);
        }
        let mut rate: BTreeMap<DateTime<FixedOffset>, f64> = BTreeMap::new();
        for d in devices {
            let expected = d.codes.iter().filter(|c| is_pollutant(c)).count();
            let mut by_code = self.device_values(&d.mn, from, until).await?;
            let hourly = |v: Vec<Reading>| -> HashMap<DateTime<FixedOffset>, f64> {
                hazewarn_compliance::hourly_means(&v).into_iter().map(|r| (r.at, r.value)).collect()
            };
            let flow = hourly(by_code.remove(FLOW).unwrap_or_default());
            let pollutants: Vec<HashMap<_, _>> =
                by_code.into_iter().filter(|(c, _)| is_pollutant(c)).map(|(_, v)| hourly(v)).collect();
            // An hour counts only with the flow and every pollutant the monitor is listed for: a
            // missing analyser never reads as a cut.
            for (at, q) in flow {
                let conc: Vec<f64> = pollutants.iter().filter_map(|p| p.get(&at).copied()).collect();
                if conc.len() == expected && expected > 0 {
                    *rate.entry(at).or_default() += conc.iter().sum::<f64>() * q / 1e6;
                }
            }
        }
        Ok(Some(rate.into_iter().map(|(at, value)| Reading { at, value }).collect()))
    }

    /// A device's values by code: from its hourly data (2061) where it sent any in the window,
    /// else its minute (2051), else its real-time (2011) data; the average where the packet
    /// carries one, else the real-time value. Values flagged normal (`N`) or over the range (`T`:
    /// at least that much) count as sent, stopped (`F`, the source not running) as zero; values
    /// of maintenance, faults and calibration (`M`, `D`, `C`, …) are left out.
    async fn device_values(
        &self,
        mn: &str,
        from: DateTime<FixedOffset>,
        until: DateTime<FixedOffset>,
    ) -> Result<BTreeMap<String, Vec<Reading>>, SchedulerError> {
        let rows = self.store.readings_between(mn, &from.to_rfc3339(), &until.to_rfc3339()).await?;
        let Some(cn) = ["2061", "2051", "2011"].into_iter().find(|cn| rows.iter().any(|r| r.cn == *cn)) else {
            return Ok(BTreeMap::new());
        };
        let field = if cn == "2011" { "Rtd" } else { "Avg" };
        let mut out: BTreeMap<String, Vec<Reading>> = BTreeMap::new();
        for r in rows.iter().filter(|r| r.cn == cn && r.field == field) {
            let (Some(v), Ok(at)) = (r.value, DateTime::parse_from_rfc3339(&r.data_time)) else { continue };
            let value = match r.flag.as_deref() {
                None | Some("N" | "T") => v,
                Some("F") => 0.0,
                Some(_) => continue,
            };
            out.entry(r.code.clone()).or_default().push(Reading { at, value });
        }
        Ok(out)
    }
}

impl City {
    /// The share of its baseline production each measured line of a warning step removed, by
    /// (credit code, line), from the step's stored verdicts.
    pub async fn measured_cuts(
        &self,
        warning_id: &str,
        step: u32,
    ) -> Result<HashMap<(String, String), f64>, SchedulerError> {
        let mut cuts = HashMap::new();
        for c in self.store.checks_of(warning_id, step).await? {
            let v: LineVerdict = serde_json::from_str(&c.body).map_err(|e| {
                SchedulerError::Input(format!(
                    "stored verdict of {} {} ({warning_id}#{step}): {e}",
                    c.credit_code, c.line
                ))
            })?;
            // Only a verdict the evidence covered enough hours for says what was achieved.
            let judged = matches!(v.verdict, Verdict::Complied | Verdict::Suspected { .. });
            if let (Some(r), true) = (v.production_ratio, judged) {
                cuts.insert((c.credit_code, c.line), 1.0 - r);
            }
        }
        Ok(cuts)
    }
}
