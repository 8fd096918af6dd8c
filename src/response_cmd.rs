//! Response commands: `grade`, `list`, `plan`, `notices`, `cap`. The logic is in
//! `hazewarn-response`; this file reads and writes files and supplies the clock.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, anyhow, bail};
use chrono::{DateTime, Duration, FixedOffset, NaiveDate, Timelike, Utc};
use hazewarn_response::{
    CapConfig, CurrentWarning, CurtailmentNotice, CurtailmentPlan, DailyForecast, GradeRuleTable, GradingProfile,
    GuaranteePolicy, Inventory, NoticeContext, RangeBound, ReductionList, ResponseError, TransitionKind, Warning,
    WarningLevel, grade, notices, plan, warning_alert,
};

pub fn load_profile(spec: &str) -> Result<GradingProfile> {
    if GradingProfile::shipped_ids().any(|id| id == spec) {
        return Ok(GradingProfile::builtin(spec)?);
    }
    let text =
        std::fs::read_to_string(spec).with_context(|| format!("{spec}: not a shipped profile or a readable file"))?;
    Ok(GradingProfile::from_toml(spec, &text)?)
}

fn load_rules(path: Option<&Path>) -> Result<GradeRuleTable> {
    match path {
        None => Ok(GradeRuleTable::builtin()),
        Some(p) => Ok(GradeRuleTable::from_toml(&p.display().to_string(), &std::fs::read_to_string(p)?)?),
    }
}

/// Normalise a primary-pollutant label: `pm25`, `PM2.5`, `o3_8h`, `O3` …
fn primary_label(s: &str) -> String {
    match s.trim().to_ascii_lowercase().as_str() {
        "pm25" | "pm2.5" => "PM2.5".into(),
        "pm10" => "PM10".into(),
        "o3" | "o3_8h" | "o3_1h" => "O3".into(),
        "so2" => "SO2".into(),
        "no2" => "NO2".into(),
        "co" => "CO".into(),
        other => other.to_uppercase(),
    }
}

pub fn read_daily_forecast(path: &Path) -> Result<Vec<DailyForecast>> {
    let file = path.display();
    let mut reader = csv::Reader::from_path(path).map_err(|e| anyhow!("{file}: {e}"))?;
    let headers = reader.headers()?.clone();
    let col = |n: &str| headers.iter().position(|h| h.trim() == n);
    let date_c = col("date").ok_or_else(|| anyhow!("{file}: required column `date` is missing"))?;
    let p50_c = col("aqi_p50").ok_or_else(|| anyhow!("{file}: required column `aqi_p50` is missing"))?;
    let (p10_c, p90_c, prim_c) = (col("aqi_p10"), col("aqi_p90"), col("primary"));
    let mut out = Vec::new();
    for (k, r) in reader.records().enumerate() {
        let r = r.map_err(|e| anyhow!("{file}: {e}"))?;
        let line = r.position().map_or(k as u64 + 2, |p| p.line());
        let at = |c: &str| format!("{file}: line {line}, column `{c}`");
        let cell = |i: usize| r.get(i).unwrap_or("").trim();
        let date: NaiveDate =
            cell(date_c).parse().map_err(|_| anyhow!("{}: `{}` is not a date", at("date"), cell(date_c)))?;
        let aqi = |i: Option<usize>, name: &str| -> Result<Option<u32>> {
            match i.map(cell).filter(|t| !t.is_empty()) {
                None => Ok(None),
                Some(t) => t
                    .parse::<f64>()
                    .ok()
                    .filter(|v| v.is_finite() && *v >= 0.0)
                    .map(|v| Some(v.round() as u32))
                    .ok_or_else(|| anyhow!("{}: `{t}` is not an AQI", at(name))),
            }
        };
        let p50 = aqi(Some(p50_c), "aqi_p50")?.ok_or_else(|| anyhow!("{}: empty", at("aqi_p50")))?;
        let primary =
            prim_c.map(cell).unwrap_or("").split(';').filter(|s| !s.trim().is_empty()).map(primary_label).collect();
        out.push(DailyForecast {
            date,
            aqi_p50: p50,
            aqi_p10: aqi(p10_c, "aqi_p10")?,
            aqi_p90: aqi(p90_c, "aqi_p90")?,
            primary,
        });
    }
    if out.is_empty() {
        bail!("{file}: no forecast rows");
    }
    Ok(out)
}

pub fn run_grade(
    daily: &Path,
    profile: &str,
    current: WarningLevel,
    current_end: Option<NaiveDate>,
    bound: RangeBound,
    json: bool,
) -> Result<()> {
    let profile = load_profile(profile)?;
    let forecast = read_daily_forecast(daily)?;
    let r = grade(&profile, &forecast, CurrentWarning { level: current, end: current_end }, bound)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&r)?);
    } else {
        let resp = r.response_level.map_or(String::new(), |l| format!(" ({} response)", l.zh()));
        println!("action: {:?}, level: {}{resp} [{}]", r.action, r.level, r.profile);
        if let (Some(s), Some(e)) = (r.start, r.end) {
            println!("from {s} to {e}");
        }
        for reason in &r.reasons {
            println!("  - {}\n    {}", reason.zh, reason.en);
        }
    }
    Ok(())
}

/// A reduction list from CSV, XLSX, or an imported version (JSON).
pub fn load_list(path: &Path, rules: &GradeRuleTable) -> Result<ReductionList> {
    let bytes = std::fs::read(path).with_context(|| path.display().to_string())?;
    let name = path.display().to_string();
    let result = match path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
        Some("xlsx") => ReductionList::from_xlsx(&bytes, rules),
        Some("json") => return serde_json::from_slice(&bytes).with_context(|| name.clone()),
        _ => ReductionList::from_csv(&bytes, rules),
    };
    result.map_err(|e| list_problems(&name, e))
}

fn list_problems(name: &str, e: ResponseError) -> anyhow::Error {
    match e {
        ResponseError::ListImport(issues) => {
            let table: Vec<String> = issues.iter().map(|i| format!("  {i}")).collect();
            anyhow!("{name}: {} problem(s); nothing was imported\n{}", issues.len(), table.join("\n"))
        }
        other => anyhow!("{name}: {other}"),
    }
}

pub fn run_list_template(out: &Path) -> Result<()> {
    if out.extension().is_some_and(|e| e.eq_ignore_ascii_case("xlsx")) {
        let mut wb = rust_xlsxwriter::Workbook::new();
        let ws = wb.add_worksheet().set_name("应急减排清单")?;
        let template = ReductionList::template_csv();
        for (r, line) in template.trim_start_matches('\u{feff}').lines().enumerate() {
            for (c, cell) in line.split(',').enumerate() {
                ws.write_string(r as u32, c as u16, cell)?;
            }
        }
        let notes = wb.add_worksheet().set_name("说明")?;
        for (r, (en, zh, required)) in hazewarn_response::COLUMNS.iter().enumerate() {
            notes.write_string(r as u32, 0, *zh)?;
            notes.write_string(r as u32, 1, *en)?;
            notes.write_string(r as u32, 2, if *required { "必填 required" } else { "可空 optional" })?;
        }
        wb.save(out)?;
    } else {
        std::fs::write(out, ReductionList::template_csv())?;
    }
    println!("wrote {}", out.display());
    Ok(())
}

/// Validate a list and store it as the next version in `dir`; earlier versions stay.
pub fn run_list_import(file: &Path, dir: &Path, rules: Option<&Path>) -> Result<()> {
    let rules = load_rules(rules)?;
    let list = load_list(file, &rules)?;
    std::fs::create_dir_all(dir)?;
    let next = std::fs::read_dir(dir)?
        .filter_map(|e| {
            e.ok()?.file_name().to_str()?.strip_prefix("list-v")?.strip_suffix(".json")?.parse::<u32>().ok()
        })
        .max()
        .unwrap_or(0)
        + 1;
    let path = dir.join(format!("list-v{next:04}.json"));
    let tmp = dir.join(format!(".list-v{next:04}.json.tmp"));
    std::fs::write(&tmp, serde_json::to_string_pretty(&list)?)?;
    std::fs::rename(&tmp, &path)?;
    println!("imported {} enterprises, {} lines as {}", list.enterprises.len(), list.line_count(), path.display());
    Ok(())
}

#[allow(clippy::too_many_arguments)]
pub fn run_plan(
    list: &Path,
    level: WarningLevel,
    inventory: &Path,
    profile: &str,
    rules: Option<&Path>,
    guarantee: GuaranteePolicy,
    json: bool,
) -> Result<CurtailmentPlan> {
    let rules = load_rules(rules)?;
    let list_path = list;
    let list = load_list(list_path, &rules)?;
    let inv = Inventory::from_csv(&std::fs::read(inventory).with_context(|| inventory.display().to_string())?)
        .map_err(|e| anyhow!("{}: {e}", inventory.display()))?;
    list.check_inventory(&inv).map_err(|e| list_problems(&list_path.display().to_string(), e))?;
    let profile = load_profile(profile)?;
    let p = plan(&list, &rules, level, &inv, &profile.targets, guarantee)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&p)?);
    } else {
        print_plan(&p);
    }
    Ok(p)
}

pub fn print_plan(p: &CurtailmentPlan) {
    println!("{} plan: {} enterprises", p.level, p.enterprises.len());
    for t in &p.totals {
        let mark = if t.met { "met" } else { "SHORT" };
        println!(
            "  {:<5} {:>10.1} of {:>10.1} kg/d = {:>5.1} % (target {:>4.1} %) {mark}",
            t.pollutant,
            t.reduction_kg_d,
            t.total_kg_d,
            100.0 * t.ratio,
            100.0 * t.target
        );
    }
    for s in p.suggestions.iter().take(10) {
        println!(
            "  suggest: {} {} ({}) {}: {} → {}",
            s.credit_code,
            s.name,
            s.grade.name(),
            s.line,
            s.current,
            s.proposed
        );
    }
    if !p.unresolved.is_empty() {
        println!("  still short after every suggestion: {}", p.unresolved.join(", "));
    }
}

fn parse_time(s: &str) -> Result<DateTime<FixedOffset>> {
    DateTime::parse_from_rfc3339(s)
        .map_err(|_| anyhow!("`{s}` is not an RFC 3339 time such as 2026-12-01T17:00:00+08:00"))
}

pub struct NoticeArgs {
    pub plan: PathBuf,
    pub out: PathBuf,
    pub warning_id: Option<String>,
    pub step: u32,
    pub kind: TransitionKind,
    pub issued_at: Option<String>,
    pub from: Option<String>,
    pub until: Option<String>,
    pub ack_hours: u32,
    pub previous: Option<PathBuf>,
}

pub fn run_notices(a: &NoticeArgs) -> Result<Vec<CurtailmentNotice>> {
    let p: CurtailmentPlan =
        serde_json::from_slice(&std::fs::read(&a.plan).with_context(|| a.plan.display().to_string())?)
            .with_context(|| format!("{}: not a plan from `hazewarn plan --json`", a.plan.display()))?;
    let beijing = FixedOffset::east_opt(8 * 3600).expect("+08:00");
    let issued_at = match &a.issued_at {
        Some(t) => parse_time(t)?,
        None => Utc::now().with_timezone(&beijing).with_nanosecond(0).expect("valid"),
    };
    let from = match &a.from {
        Some(t) => parse_time(t)?,
        None => issued_at + Duration::hours(24),
    };
    let until = match &a.until {
        Some(t) => parse_time(t)?,
        None => from + Duration::hours(72),
    };
    if until <= from {
        bail!("--until must be after --from");
    }
    let previous: Vec<CurtailmentNotice> = match &a.previous {
        None => Vec::new(),
        Some(dir) => read_notices(dir)?,
    };
    let profile = GradingProfile::national_2024();
    let ctx = NoticeContext {
        warning_id: a.warning_id.clone().unwrap_or_else(|| format!("W{}", from.format("%Y%m%d"))),
        step: a.step,
        kind: a.kind,
        level: p.level,
        issued_at,
        effective_from: from,
        effective_until: until,
        ack_hours: a.ack_hours,
        issuer: CapConfig::luohe().sender_name,
        basis: profile.basis,
        office_contact: "应急指挥部办公室值班电话".into(),
    };
    let made = notices(&p, &ctx, &previous);
    write_notices(&made, &a.out)?;
    println!("wrote {} notices to {}", made.len(), a.out.display());
    Ok(made)
}

pub fn write_notices(made: &[CurtailmentNotice], out: &Path) -> Result<()> {
    std::fs::create_dir_all(out)?;
    for n in made {
        std::fs::write(out.join(format!("{}.json", n.id)), n.to_json())?;
        std::fs::write(out.join(format!("{}.txt", n.id)), n.to_text())?;
        std::fs::write(out.join(format!("{}.html", n.id)), n.to_html())?;
    }
    Ok(())
}

fn read_notices(dir: &Path) -> Result<Vec<CurtailmentNotice>> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).with_context(|| dir.display().to_string())? {
        let path = e?.path();
        if path.extension().is_some_and(|x| x == "json") {
            out.push(serde_json::from_slice(&std::fs::read(&path)?).with_context(|| path.display().to_string())?);
        }
    }
    Ok(out)
}

/// CAP XML for the latest step of a warning; earlier steps' alerts are rebuilt for `references`.
pub fn cap_xml(w: &Warning) -> Result<String> {
    let mut cfg = CapConfig::luohe();
    cfg.public_measures = GradingProfile::national_2024().public_measures;
    let mut sent = Vec::new();
    for (k, step) in w.transitions.iter().skip(1).enumerate() {
        sent.push(warning_alert(w, step, &cfg, &sent, (k % 10) as u8)?);
    }
    let last = sent.last().ok_or_else(|| anyhow!("warning {} is still a draft: nothing to publish", w.id))?;
    Ok(last.to_xml())
}

pub fn run_cap(warning: &Path, out: Option<&Path>) -> Result<()> {
    let w: Warning = serde_json::from_slice(&std::fs::read(warning).with_context(|| warning.display().to_string())?)
        .with_context(|| format!("{}: not a warning JSON", warning.display()))?;
    let xml = cap_xml(&w)?;
    match out {
        Some(p) => std::fs::write(p, xml)?,
        None => print!("{xml}"),
    }
    Ok(())
}
