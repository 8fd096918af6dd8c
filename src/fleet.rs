//! The demo's simulated fleet (made by this project, synthetic): for some enterprises of the
//! sample list, an online monitor that streams HJ 212 hourly data over TCP and two power meters
//! (production, abatement) whose feed is a CSV. A few plants do not curtail, each in its own way;
//! what each plant was made to do is written beside the demo's output, and the compliance check
//! must flag exactly the ones made not to comply.

use chrono::{DateTime, Duration, FixedOffset, Timelike};
use hazewarn_compliance::Treatment;
use hazewarn_response::{CurtailmentPlan, Grade, ReductionList};
use serde::Serialize;

/// How many plants the fleet monitors.
pub const PLANTS: usize = 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Behaviour {
    /// Does what the notice says.
    Complies,
    /// Keeps producing as before the warning.
    RunsThrough,
    /// Cuts production but switches its abatement equipment off (its emissions rise).
    AbatementOff,
}

#[derive(Debug, Clone, Serialize)]
pub struct Plant {
    pub credit_code: String,
    pub name: String,
    pub line: String,
    pub mn: String,
    pub behaviour: Behaviour,
    /// Production power before the warning (kW).
    pub base_kw: f64,
}

/// The plants: the first line of each C and D enterprise (their measures apply at every level),
/// by credit code; the 2nd runs through the warning and the 5th and 8th switch abatement off.
pub fn choose(list: &ReductionList) -> Vec<Plant> {
    let mut candidates: Vec<_> = list
        .enterprises
        .iter()
        .filter(|e| matches!(e.grade, Grade::C | Grade::D) && e.guarantee.is_none() && e.whitelist.is_none())
        .filter(|e| !e.lines.is_empty())
        .collect();
    candidates.sort_by(|a, b| a.credit_code.as_str().cmp(b.credit_code.as_str()));
    candidates
        .into_iter()
        .take(PLANTS)
        .enumerate()
        .map(|(k, e)| Plant {
            credit_code: e.credit_code.as_str().to_owned(),
            name: e.name.clone(),
            line: e.lines[0].name.clone(),
            mn: format!("LHSIM{:04}", k + 1),
            behaviour: match k {
                1 => Behaviour::RunsThrough,
                4 | 7 => Behaviour::AbatementOff,
                _ => Behaviour::Complies,
            },
            base_kw: 800.0 + 150.0 * k as f64,
        })
        .collect()
}

/// The plants as the city config lists them.
pub fn config_toml(plants: &[Plant]) -> String {
    let mut t =
        String::from("\n# The demo's simulated fleet (synthetic): an online monitor and two power meters per plant.\n");
    for p in plants {
        t += &format!(
            "[[devices]]\nmn = \"{mn}\"\npassword = \"123456\"\ncredit_code = \"{code}\"\nline = \"{line}\"\n\
             outlet = \"DA001\"\ncodes = [\"a34013\", \"a21026\", \"a00000\"]\n\n\
             [[meters]]\nid = \"{mn}-P\"\ncredit_code = \"{code}\"\nline = \"{line}\"\nrole = \"production\"\n\n\
             [[meters]]\nid = \"{mn}-A\"\ncredit_code = \"{code}\"\nline = \"{line}\"\nrole = \"abatement\"\n\n",
            mn = p.mn,
            code = p.credit_code,
            line = p.line,
        );
    }
    t
}

/// A plant's state in one hour: production and abatement power (kW), flue-gas flow (m³/h) and
/// the two concentrations (mg/m³).
struct Hour {
    production: f64,
    abatement: f64,
    flow: f64,
    dust: f64,
    so2: f64,
}

/// Up to ±3 % that is the same for the same plant and hour, so two runs write the same files.
fn wobble(k: usize, t: DateTime<FixedOffset>) -> f64 {
    let x = (t.timestamp() / 3600).wrapping_mul(2_654_435_761).wrapping_add(k as i64 * 97_531) as u64;
    ((x % 601) as f64 / 300.0 - 1.0) * 0.03
}

fn hour(k: usize, p: &Plant, treatment: Treatment, warned: bool, t: DateTime<FixedOffset>) -> Hour {
    let shape = if (8..20).contains(&t.hour()) { 1.0 } else { 0.85 };
    let base = p.base_kw * shape * (1.0 + wobble(k, t));
    // The share of its usual production a complying plant keeps.
    let allowed = match treatment {
        Treatment::Stop => 0.03,
        Treatment::Cut(n) => (1.0 - f64::from(n) / 100.0) * 0.97,
        Treatment::SelfDirected | Treatment::None => 1.0,
    };
    let (share, abatement_on) = match (warned, p.behaviour) {
        (false, _) => (1.0, true),
        (true, Behaviour::Complies) => (allowed, true),
        (true, Behaviour::RunsThrough) => (1.0, true),
        (true, Behaviour::AbatementOff) => (allowed, false),
    };
    let running = share > 0.2;
    let abatement = p.base_kw * 0.25 * if abatement_on && running { 1.0 } else { 0.05 };
    let dirt = if abatement_on { 1.0 } else { 6.0 };
    Hour {
        production: base * share,
        abatement: abatement * (1.0 + wobble(k + 1000, t)),
        flow: 50_000.0 * share * (1.0 + wobble(k + 2000, t)),
        dust: 8.0 * dirt,
        so2: 30.0 * dirt,
    }
}

/// The treatment the plan requires of a plant's line.
fn treatment_of(plan: &CurtailmentPlan, p: &Plant) -> Treatment {
    plan.enterprises
        .iter()
        .find(|e| e.credit_code == p.credit_code)
        .and_then(|e| {
            e.lines.iter().find(|l| l.line == p.line).map(|l| hazewarn_scheduler::compliance::treatment(e, l))
        })
        .and_then(Result::ok)
        .unwrap_or(Treatment::None)
}

/// Every hour of `[from, until)`: the power feed (CSV) and the monitors' HJ 212 frames (hourly
/// data, CN 2061, asking for an answer). Hours from `start` on are under the warning.
pub fn readings(
    plants: &[Plant],
    plan: &CurtailmentPlan,
    start: DateTime<FixedOffset>,
    from: DateTime<FixedOffset>,
    until: DateTime<FixedOffset>,
) -> (String, Vec<String>) {
    let mut csv = String::from("meter,time,kw\n");
    let mut frames = Vec::new();
    for (k, p) in plants.iter().enumerate() {
        let treatment = treatment_of(plan, p);
        let mut t = from;
        while t < until {
            let h = hour(k, p, treatment, t >= start, t);
            let at = t.format("%Y-%m-%d %H:%M");
            csv += &format!("{}-P,{at},{:.1}\n{}-A,{at},{:.1}\n", p.mn, h.production, p.mn, h.abatement);
            let stamp = t.format("%Y%m%d%H%M%S");
            let segment = format!(
                "QN={stamp}{k:03};ST=31;CN=2061;PW=123456;MN={mn};Flag=5;CP=&&DataTime={stamp};\
                 a34013-Avg={:.2},a34013-Flag=N;a21026-Avg={:.2},a21026-Flag=N;a00000-Avg={:.0},a00000-Flag=N&&",
                h.dust,
                h.so2,
                h.flow,
                mn = p.mn,
            );
            frames.push(format!(
                "##{:04}{segment}{:04X}\r\n",
                segment.len(),
                hazewarn_hj212::crc16(segment.as_bytes())
            ));
            t += Duration::hours(1);
        }
    }
    (csv, frames)
}

/// What the simulation did and found, written to `compliance.json`.
#[derive(Debug, Serialize)]
pub struct FleetReport {
    pub judged_at: String,
    pub frames_sent: usize,
    pub frames_answered: usize,
    /// Values the receiver stored from those frames (three codes each).
    pub values_stored: u64,
    pub power_readings: usize,
    pub run: hazewarn_scheduler::compliance::ComplianceRun,
    pub alarms: Vec<hazewarn_store::compliance::Alarm>,
}

/// Streams the fleet's week before the warning and its first day under it (HJ 212 over TCP to
/// the city's receiver on loopback, power as a CSV feed), judges the warning a day in, delivers
/// the alarms (to the office's file drop: the demo city has no SMS or e-mail, so no alarm reaches
/// an enterprise by itself), and works the first one to closed as the office and the enterprise
/// would: the office phones it and records so, it answers, the site check, the closing.
pub async fn simulate(
    city: std::sync::Arc<hazewarn_scheduler::City>,
    clock: &hazewarn_scheduler::ManualClock,
    plants: &[Plant],
    out: &std::path::Path,
) -> anyhow::Result<FleetReport> {
    use anyhow::Context as _;
    use hazewarn_store::compliance::AlarmOutcome;
    let w = city.store.warning_in_force().await?.context("no warning in force to check")?;
    let step = w.current();
    let plan = city.store.plan(&w.id, step.step).await?.context("the warning has no plan")?;
    let start = w
        .transitions
        .iter()
        .find(|t| t.kind != hazewarn_response::TransitionKind::Draft)
        .map_or(step.start, |t| t.start);
    let judged = (start + Duration::hours(24)).min(step.end);
    clock.set(judged.to_utc() + Duration::minutes(5));
    let (csv, frames) = readings(plants, &plan, start, start - Duration::days(8), judged);
    let feed = out.join("power_feed.csv");
    std::fs::write(&feed, &csv)?;
    let (power_readings, _) = city.import_power(&feed.display().to_string(), csv.as_bytes(), city.now()).await?;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let receiver = tokio::spawn(hazewarn_scheduler::monitoring::receive(city.clone(), listener));
    let answered = stream(addr, &frames).await?;
    receiver.abort();

    let run = city.judge_step(&w, city.now()).await?;
    // Delivery only: the notices' reminders and escalations belong to the city's own schedule,
    // not to this look a day ahead.
    city.dispatcher().dispatch_due().await?;
    if let Some(first) = run.alarms_opened.first() {
        let a = city.store.alarm(first).await?.context("the alarm just opened")?;
        let now = city.now();
        city.store.notify_alarm_by_phone(&a.id, "office", "电话通知企业值班人员（模拟）", now).await?;
        city.store.explain_alarm(&a.id, &a.credit_code, "设备检修期间未停运，已整改（模拟企业反馈）", now).await?;
        city.store.verify_alarm(&a.id, "office", "现场核查：生产线在预警期间运行（模拟）", now).await?;
        city.store.close_alarm(&a.id, "office", AlarmOutcome::Violation, "移交执法（模拟）", now).await?;
    }
    Ok(FleetReport {
        judged_at: judged.to_rfc3339(),
        frames_sent: frames.len(),
        frames_answered: answered,
        values_stored: city.monitor_counts.snapshot().values().map(|c| c.stored).sum(),
        power_readings,
        run,
        alarms: city.store.alarms(None).await?,
    })
}

/// Sends each frame and waits for its answer, as a monitor does; returns the answers (9014).
async fn stream(addr: std::net::SocketAddr, frames: &[String]) -> anyhow::Result<usize> {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let socket = tokio::net::TcpStream::connect(addr).await?;
    let (read, mut write) = socket.into_split();
    let mut lines = BufReader::new(read).lines();
    let mut answered = 0;
    for f in frames {
        write.write_all(f.as_bytes()).await?;
        match lines.next_line().await? {
            Some(a) if a.contains("CN=9014") => answered += 1,
            Some(a) => anyhow::bail!("the receiver answered {a}"),
            None => anyhow::bail!("the receiver closed the connection"),
        }
    }
    Ok(answered)
}
