//! Warning grading: a 7-day daily AQI forecast plus the warning in force → a recommended action.

use chrono::{DateTime, Duration, FixedOffset, NaiveDate, NaiveDateTime, TimeZone};
use serde::{Deserialize, Serialize};

use crate::ResponseError;
use crate::level::{ResponseLevel, WarningLevel};
use crate::profile::{Clause, GradingProfile};

/// One forecast day: the daily AQI range and its primary pollutants.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DailyForecast {
    pub date: NaiveDate,
    pub aqi_p50: u32,
    pub aqi_p10: Option<u32>,
    pub aqi_p90: Option<u32>,
    /// Primary pollutants as labelled in reports (`PM2.5`, `PM10`, `O3` …); empty when unknown.
    pub primary: Vec<String>,
}

/// Which end of the forecast range multi-day episodes are graded on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RangeBound {
    #[default]
    P50,
    P90,
}

/// The warning in force when grading.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CurrentWarning {
    pub level: WarningLevel,
    /// The last day it covers, when known.
    pub end: Option<NaiveDate>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Action {
    None,
    Issue,
    Upgrade,
    Downgrade,
    Extend,
    Lift,
}

/// Why: the rule cited and the forecast days behind it, in Chinese and English.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Reason {
    pub rule: String,
    pub zh: String,
    pub en: String,
    pub days: Vec<NaiveDate>,
}

/// The grading result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Recommendation {
    pub action: Action,
    pub level: WarningLevel,
    pub response_level: Option<ResponseLevel>,
    /// Earliest start of the warning (the first episode day, 00:00 +08:00).
    pub start: Option<DateTime<FixedOffset>>,
    /// Expected end (the day after the last episode day, 00:00 +08:00).
    pub end: Option<DateTime<FixedOffset>>,
    pub reasons: Vec<Reason>,
    /// An O3- or dust-driven episode: a health advisory, not a coloured warning.
    pub health_advisory: bool,
    /// The sub-yellow band: temporary control measures may be directed.
    pub temporary_control: bool,
    pub profile: String,
}

/// A run of consecutive days above the profile's lowest coloured threshold, graded.
#[derive(Debug, Clone)]
struct Episode {
    first: usize,
    last: usize,
    level: WarningLevel,
    reasons: Vec<Reason>,
    advisory: bool,
}

fn fmt_days(days: &[NaiveDate]) -> String {
    days.iter().map(|d| d.format("%m-%d").to_string()).collect::<Vec<_>>().join(", ")
}

/// Does `clause` hold within `values[first..=last]`? Returns the days of the run that satisfies it.
fn clause_holds(clause: &Clause, values: &[u32], first: usize, last: usize) -> Option<(usize, usize)> {
    let floor = clause.floor();
    let mut i = first;
    while i <= last {
        if values[i] <= floor {
            i += 1;
            continue;
        }
        let mut j = i;
        while j < last && values[j + 1] > floor {
            j += 1;
        }
        let ok = clause.conditions.iter().all(|c| longest_run_above(&values[i..=j], c.above) >= c.days);
        if ok {
            return Some((i, j));
        }
        i = j + 1;
    }
    None
}

fn longest_run_above(values: &[u32], above: u32) -> usize {
    let (mut best, mut run) = (0, 0);
    for v in values {
        run = if *v > above { run + 1 } else { 0 };
        best = best.max(run);
    }
    best
}

/// The highest level whose clauses hold within the window, with the reasons.
fn level_within(
    profile: &GradingProfile,
    values: &[u32],
    dates: &[NaiveDate],
    first: usize,
    last: usize,
    bound: &str,
) -> (WarningLevel, Vec<Reason>) {
    for rule in profile.level.iter().rev() {
        let reasons: Vec<Reason> = rule
            .clause
            .iter()
            .filter_map(|c| {
                let (i, j) = clause_holds(c, values, first, last)?;
                let days = dates[i..=j].to_vec();
                let aqi: Vec<String> = values[i..=j].iter().map(u32::to_string).collect();
                Some(Reason {
                    rule: format!("{} {}", profile.id, c.id),
                    zh: format!(
                        "{}：{}（{}，日AQI {}），达到{}预警条件",
                        c.id,
                        c.zh,
                        fmt_days(&days),
                        aqi.join("/"),
                        rule.level.zh()
                    ),
                    en: format!(
                        "{}: {} ({}; daily AQI {} at {}), meeting the {} conditions",
                        c.id,
                        c.en,
                        fmt_days(&days),
                        aqi.join("/"),
                        bound,
                        rule.level
                    ),
                    days,
                })
            })
            .collect();
        if !reasons.is_empty() {
            return (rule.level, reasons);
        }
    }
    (WarningLevel::None, Vec::new())
}

fn midnight(d: NaiveDate) -> DateTime<FixedOffset> {
    let tz = FixedOffset::east_opt(8 * 3600).expect("+08:00");
    tz.from_local_datetime(&NaiveDateTime::from(d)).single().expect("fixed offset")
}

/// Grade a forecast (D+1 first, consecutive days) against a profile and the warning in force.
pub fn grade(
    profile: &GradingProfile,
    forecast: &[DailyForecast],
    current: CurrentWarning,
    bound: RangeBound,
) -> Result<Recommendation, ResponseError> {
    if forecast.is_empty() {
        return Err(ResponseError::Forecast("the forecast has no days".into()));
    }
    for w in forecast.windows(2) {
        if w[1].date != w[0].date + Duration::days(1) {
            return Err(ResponseError::Forecast(format!(
                "{} does not follow {}: days must be consecutive",
                w[1].date, w[0].date
            )));
        }
    }
    let dates: Vec<NaiveDate> = forecast.iter().map(|d| d.date).collect();
    let p50: Vec<u32> = forecast.iter().map(|d| d.aqi_p50).collect();
    let p90: Vec<u32> = forecast.iter().map(|d| d.aqi_p90.unwrap_or(d.aqi_p50).max(d.aqi_p50)).collect();
    let floor = profile.level.iter().flat_map(|l| &l.clause).map(Clause::floor).min().unwrap_or(0);
    let advisory_day = |i: usize| {
        let p = &forecast[i].primary;
        !p.is_empty() && p.iter().all(|x| profile.advisory_primaries.iter().any(|a| a.eq_ignore_ascii_case(x)))
    };

    // 1. Episodes: runs above the lowest threshold, each graded on p50, and on p90 when long enough.
    let mut episodes = Vec::new();
    let mut i = 0;
    while i < p50.len() {
        if p50[i] <= floor {
            i += 1;
            continue;
        }
        let mut j = i;
        while j + 1 < p50.len() && p50[j + 1] > floor {
            j += 1;
        }
        let (mut level, mut reasons) = level_within(profile, &p50, &dates, i, j, "p50");
        if bound == RangeBound::P90 && j + 1 - i >= profile.upper_bound_min_days {
            let (upper, why) = level_within(profile, &p90, &dates, i, j, "p90");
            if upper > level {
                level = upper;
                reasons = why;
                reasons.push(Reason {
                    rule: format!("{} upper-bound", profile.id),
                    zh: format!(
                        "过程持续{}天（≥{}天），按预测范围上限（p90）定级",
                        j + 1 - i,
                        profile.upper_bound_min_days
                    ),
                    en: format!(
                        "an episode of {} days (≥ {}) is graded on the upper bound of the forecast range (p90)",
                        j + 1 - i,
                        profile.upper_bound_min_days
                    ),
                    days: dates[i..=j].to_vec(),
                });
            }
        }
        let advisory = level > WarningLevel::None && (i..=j).all(advisory_day);
        episodes.push(Episode { first: i, last: j, level, reasons, advisory });
        i = j + 1;
    }

    // 2. Coloured episodes separated by a short gap count as one, at the stricter level.
    let mut coloured: Vec<Episode> = Vec::new();
    let mut advisory = Vec::new();
    for e in episodes {
        if e.advisory {
            advisory.push(e);
            continue;
        }
        if e.level == WarningLevel::None {
            continue;
        }
        match coloured.last_mut() {
            Some(prev) if e.first - prev.last - 1 <= profile.merge_gap_days => {
                let gap = dates[prev.last + 1..e.first].to_vec();
                prev.reasons.push(Reason {
                    rule: format!("{} merge", profile.id),
                    zh: format!(
                        "两次过程间隔{}天（≤{}天），视为一次过程，按较高级别",
                        gap.len(),
                        profile.merge_gap_days
                    ),
                    en: format!(
                        "two episodes {} day(s) apart (≤ {}) count as one, at the stricter level",
                        gap.len(),
                        profile.merge_gap_days
                    ),
                    days: gap,
                });
                prev.level = prev.level.max(e.level);
                prev.last = e.last;
                prev.reasons.extend(e.reasons);
            }
            _ => coloured.push(e),
        }
    }

    // 3. The recommended level is the most severe episode in the horizon; the warning spans them all.
    let level = coloured.iter().map(|e| e.level).max().unwrap_or(WarningLevel::None);
    let mut reasons: Vec<Reason> = coloured.iter().flat_map(|e| e.reasons.clone()).collect();
    let (start, end) = match (coloured.first(), coloured.last()) {
        (Some(a), Some(b)) => (Some(midnight(dates[a.first])), Some(midnight(dates[b.last] + Duration::days(1)))),
        _ => (None, None),
    };
    let health_advisory = !advisory.is_empty();
    for e in &advisory {
        let days = dates[e.first..=e.last].to_vec();
        reasons.push(Reason {
            rule: format!("{} advisory", profile.id),
            zh: format!("{}臭氧或沙尘为首要污染物的过程，发布健康提示，不启动颜色预警", fmt_days(&days)),
            en: format!(
                "{}: an O3- or dust-driven episode gets a health advisory, not a coloured warning",
                fmt_days(&days)
            ),
            days,
        });
    }
    let mut temporary_control = false;
    if level == WarningLevel::None && current.level == WarningLevel::None {
        // O3- and dust-driven days are handled by the advisory, not by control measures.
        let masked: Vec<u32> = (0..p50.len()).map(|k| if advisory_day(k) { 0 } else { p50[k] }).collect();
        for c in &profile.temporary_control.clause {
            if let Some((i, j)) = clause_holds(c, &masked, 0, p50.len() - 1) {
                temporary_control = true;
                let days = dates[i..=j].to_vec();
                reasons.push(Reason {
                    rule: format!("{} {}", profile.id, c.id),
                    zh: format!("{}：{}（{}），可采取临时管控措施", c.id, c.zh, fmt_days(&days)),
                    en: format!("{}: {} ({}); temporary control measures may be taken", c.id, c.en, fmt_days(&days)),
                    days,
                });
                break;
            }
        }
    }

    // 4. The action against the warning in force.
    let lift_days = (profile.lift_after_hours as usize).div_ceil(24).min(p50.len());
    let clean_ahead = (0..lift_days).all(|k| p50[k] <= floor || advisory_day(k))
        && coloured.first().is_none_or(|e| e.first >= lift_days);
    let action = match current.level {
        WarningLevel::None if level > WarningLevel::None => Action::Issue,
        WarningLevel::None => Action::None,
        _ if clean_ahead => {
            reasons.push(Reason {
                rule: format!("{} lift", profile.id),
                zh: format!("预计未来{}小时及以上低于黄色预警条件，解除预警", profile.lift_after_hours),
                en: format!(
                    "the forecast stays below the yellow conditions for ≥ {} h: lift",
                    profile.lift_after_hours
                ),
                days: dates[..lift_days].to_vec(),
            });
            Action::Lift
        }
        cur if level > cur => Action::Upgrade,
        cur if level > WarningLevel::None && level < cur => Action::Downgrade,
        cur if level == cur => match (current.end, coloured.last()) {
            (Some(e), Some(last)) if dates[last.last] > e => Action::Extend,
            _ => Action::None,
        },
        _ => Action::None, // below yellow but not yet clean for long enough: keep the warning
    };
    let level = match action {
        Action::Lift => WarningLevel::None,
        Action::None if level == WarningLevel::None && current.level > WarningLevel::None => {
            reasons.push(Reason {
                rule: format!("{} keep", profile.id),
                zh: format!("尚未预计连续{}小时低于黄色预警条件，维持当前预警", profile.lift_after_hours),
                en: format!(
                    "not yet forecast to stay below the yellow conditions for {} h: keep the warning in force",
                    profile.lift_after_hours
                ),
                days: dates[..lift_days].to_vec(),
            });
            current.level
        }
        _ => level,
    };
    Ok(Recommendation {
        action,
        level,
        response_level: level.response_level(),
        start: if level == WarningLevel::None { None } else { start },
        end: if level == WarningLevel::None { None } else { end },
        reasons,
        health_advisory,
        temporary_control,
        profile: profile.id.clone(),
    })
}

/// How a "daily AQI" is taken from hourly values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum DayWindow {
    /// The natural day's 24 h mean.
    Calendar,
    /// The highest 24 h mean over windows ending within the day: warnings may use any
    /// continuous 24 h window across midnight.
    Rolling24h,
}

/// Daily PM2.5 AQI from consecutive hourly PM2.5 (µg/m³) starting at `start` (local time).
/// Days without a complete 24 h window are skipped at the series' edges only.
pub fn daily_pm25_aqi(start: NaiveDateTime, hourly: &[f64], window: DayWindow) -> Vec<(NaiveDate, u32)> {
    let standards = hazewarn_aqi::Standards::builtin();
    let aqi = |date: NaiveDate, mean: f64| {
        let c = hazewarn_aqi::DailyConcentrations { pm25: Some(mean.max(0.0)), ..Default::default() };
        standards.daily(date, &c).map(|r| r.aqi).unwrap_or(0)
    };
    let mut out: Vec<(NaiveDate, u32)> = Vec::new();
    for end in 23..hourly.len() {
        let t_end = start + Duration::hours(end as i64);
        let mean = hourly[end - 23..=end].iter().sum::<f64>() / 24.0;
        let date = t_end.date();
        let calendar_day = (start + Duration::hours(end as i64 - 23)).date() == date;
        let value = match window {
            DayWindow::Calendar if !calendar_day => continue,
            _ => aqi(date, mean),
        };
        match out.last_mut() {
            Some((d, v)) if *d == date => *v = (*v).max(value),
            _ => out.push((date, value)),
        }
    }
    out
}
