//! Compliance monitoring: power readings (分表计电), each line's latest verdict per warning step,
//! and alarms worked as cases (open → notified → explained → verified → closed), every step
//! audited.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::{Result, Store, StoreError, WriteTx, parse_ts, sql, ts};

/// A meter's mean power (kW) over the interval starting `at`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PowerReading {
    pub meter: String,
    pub at: DateTime<Utc>,
    pub kw: f64,
}

/// A line's latest verdict for one warning step: `verdict` is its kind (`complied`,
/// `suspected`, `not-required`, `no-data`), `body` the whole verdict as JSON.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Check {
    pub warning_id: String,
    pub step: u32,
    pub credit_code: String,
    pub line: String,
    pub checked_at: String,
    pub hours: i64,
    pub verdict: String,
    pub body: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum AlarmState {
    #[default]
    Open,
    Notified,
    Explained,
    Verified,
    Closed,
}

impl AlarmState {
    pub fn as_str(self) -> &'static str {
        match self {
            AlarmState::Open => "open",
            AlarmState::Notified => "notified",
            AlarmState::Explained => "explained",
            AlarmState::Verified => "verified",
            AlarmState::Closed => "closed",
        }
    }

    pub fn zh(self) -> &'static str {
        match self {
            AlarmState::Open => "待推送",
            AlarmState::Notified => "已推送",
            AlarmState::Explained => "企业已反馈",
            AlarmState::Verified => "已现场核查",
            AlarmState::Closed => "已办结",
        }
    }

    fn parse(s: &str) -> Result<AlarmState> {
        Ok(match s {
            "open" => AlarmState::Open,
            "notified" => AlarmState::Notified,
            "explained" => AlarmState::Explained,
            "verified" => AlarmState::Verified,
            "closed" => AlarmState::Closed,
            other => return Err(StoreError::Corrupt { what: "alarm state".into(), detail: other.into() }),
        })
    }
}

/// How a case ends after the site check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AlarmOutcome {
    /// The site check found the line curtailed (the evidence misled).
    Complied,
    /// The site check confirmed the line did not curtail as required.
    Violation,
}

impl AlarmOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            AlarmOutcome::Complied => "complied",
            AlarmOutcome::Violation => "violation",
        }
    }

    pub fn parse(s: &str) -> Option<AlarmOutcome> {
        match s {
            "complied" => Some(AlarmOutcome::Complied),
            "violation" => Some(AlarmOutcome::Violation),
            _ => None,
        }
    }
}

/// A case; a new one is `Alarm { id, warning_id, …, ..Default::default() }` (open, no steps yet).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Alarm {
    pub id: String,
    pub warning_id: String,
    pub step: u32,
    pub credit_code: String,
    pub enterprise: String,
    pub line: String,
    pub state: AlarmState,
    /// What the evidence said, one item per kind of evidence that pointed to non-compliance.
    pub evidence: Vec<String>,
    pub confidence: f64,
    pub opened_at: String,
    pub notified_at: Option<String>,
    pub explanation: Option<String>,
    pub explained_at: Option<String>,
    pub site_check: Option<String>,
    pub verified_at: Option<String>,
    pub verified_by: Option<String>,
    pub outcome: Option<String>,
    pub closed_at: Option<String>,
    pub closed_by: Option<String>,
}

const ALARM_COLUMNS: &str = "id, warning_id, step, credit_code, enterprise, line, state, evidence, confidence, \
    opened_at, notified_at, explanation, explained_at, site_check, verified_at, verified_by, outcome, closed_at, closed_by";

fn alarm(r: &sqlx::any::AnyRow) -> Result<Alarm> {
    use sqlx::Row as _;
    let text = |i: usize| r.try_get::<String, _>(i);
    let maybe = |i: usize| r.try_get::<Option<String>, _>(i);
    let id = text(0)?;
    let evidence = serde_json::from_str(&text(7)?)
        .map_err(|e| StoreError::Corrupt { what: format!("alarm {id} evidence"), detail: e.to_string() })?;
    Ok(Alarm {
        state: AlarmState::parse(&text(6)?)?,
        warning_id: text(1)?,
        step: r.try_get::<i64, _>(2)? as u32,
        credit_code: text(3)?,
        enterprise: text(4)?,
        line: text(5)?,
        evidence,
        confidence: r.try_get::<f64, _>(8)?,
        opened_at: text(9)?,
        notified_at: maybe(10)?,
        explanation: maybe(11)?,
        explained_at: maybe(12)?,
        site_check: maybe(13)?,
        verified_at: maybe(14)?,
        verified_by: maybe(15)?,
        outcome: maybe(16)?,
        closed_at: maybe(17)?,
        closed_by: maybe(18)?,
        id,
    })
}

type CheckRow = (String, i64, String, String, String, i64, String, String);

impl WriteTx {
    /// Stores (or replaces) a line's verdict for a warning step.
    pub async fn save_check(&mut self, c: &Check) -> Result<()> {
        sqlx::query(
            "INSERT INTO compliance_checks (warning_id, step, credit_code, line, checked_at, hours, verdict, body) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (warning_id, step, credit_code, line) DO UPDATE \
             SET checked_at = excluded.checked_at, hours = excluded.hours, verdict = excluded.verdict, body = excluded.body",
        )
        .bind(&c.warning_id)
        .bind(i64::from(c.step))
        .bind(&c.credit_code)
        .bind(&c.line)
        .bind(&c.checked_at)
        .bind(c.hours)
        .bind(&c.verdict)
        .bind(&c.body)
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// Opens an alarm unless its line already has one for the step; audited. Returns whether
    /// it was new.
    pub async fn open_alarm(&mut self, a: &Alarm, now: DateTime<Utc>) -> Result<bool> {
        let evidence = serde_json::to_string(&a.evidence).expect("strings serialise");
        let done = sqlx::query(
            "INSERT INTO compliance_alarms (id, warning_id, step, credit_code, enterprise, line, state, evidence, \
             confidence, opened_at) VALUES ($1, $2, $3, $4, $5, $6, 'open', $7, $8, $9) \
             ON CONFLICT (warning_id, step, credit_code, line) DO NOTHING",
        )
        .bind(&a.id)
        .bind(&a.warning_id)
        .bind(i64::from(a.step))
        .bind(&a.credit_code)
        .bind(&a.enterprise)
        .bind(&a.line)
        .bind(&evidence)
        .bind(a.confidence)
        .bind(ts(now))
        .execute(self.conn())
        .await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        let detail = format!("{} {}: {}", a.credit_code, a.line, a.evidence.join("; "));
        self.audit_row(now, "compliance", "alarm-open", crate::audit::AuditedTable::Alarms, &a.id, &detail).await?;
        Ok(true)
    }

    /// The alarm whose message was just delivered is now notified (if it was open); audited.
    pub(crate) async fn mark_alarm_notified(&mut self, id: &str, by: &str, at: DateTime<Utc>) -> Result<()> {
        let done = sqlx::query(
            "UPDATE compliance_alarms SET state = 'notified', notified_at = $2 WHERE id = $1 AND state = 'open'",
        )
        .bind(id)
        .bind(ts(at))
        .execute(self.conn())
        .await?;
        if done.rows_affected() > 0 {
            self.audit_row(at, "dispatcher", "alarm-notified", crate::audit::AuditedTable::Alarms, id, by).await?;
        }
        Ok(())
    }

    /// The alarm as this transaction wrote it, once committed.
    async fn finish_alarm(mut self, id: &str) -> Result<Alarm> {
        let a = self.alarm_for_update(id).await?;
        self.commit().await?;
        Ok(a)
    }

    async fn alarm_for_update(&mut self, id: &str) -> Result<Alarm> {
        let row = sqlx::query(sql(format!("SELECT {ALARM_COLUMNS} FROM compliance_alarms WHERE id = $1")))
            .bind(id)
            .fetch_optional(self.conn())
            .await?;
        row.as_ref().map(alarm).transpose()?.ok_or_else(|| StoreError::NotFound(format!("alarm {id}")))
    }
}

impl Store {
    /// Stores a feed's power readings in one transaction, audited; returns how many were new. A
    /// reading already stored with another value refuses the whole feed: which one is true is
    /// for the operator to say, not for the later file.
    pub async fn save_power(&self, readings: &[PowerReading], source: &str, now: DateTime<Utc>) -> Result<usize> {
        let mut tx = self.write().await?;
        let mut new = 0;
        let mut changed = Vec::new();
        for r in readings {
            let done = sqlx::query(
                "INSERT INTO power_readings (meter, at, kw, source, received_at) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (meter, at) DO NOTHING",
            )
            .bind(&r.meter)
            .bind(ts(r.at))
            .bind(r.kw)
            .bind(source)
            .bind(ts(now))
            .execute(tx.conn())
            .await?;
            if done.rows_affected() == 0 {
                let (kw,): (f64,) = sqlx::query_as("SELECT kw FROM power_readings WHERE meter = $1 AND at = $2")
                    .bind(&r.meter)
                    .bind(ts(r.at))
                    .fetch_one(tx.conn())
                    .await?;
                if kw != r.kw {
                    changed.push(format!("{} {}: stored {kw}, now {}", r.meter, ts(r.at), r.kw));
                }
            }
            new += done.rows_affected() as usize;
        }
        if !changed.is_empty() {
            return Err(StoreError::Conflict(format!(
                "{source}: {} reading(s) differ from the stored ones; nothing was imported: {}",
                changed.len(),
                changed.iter().take(5).cloned().collect::<Vec<_>>().join("; ")
            )));
        }
        tx.audit(now, "power", "power-readings", source, &format!("{} readings, {new} new", readings.len())).await?;
        tx.commit().await?;
        Ok(new)
    }

    /// A meter's readings in `[from, to)`, oldest first.
    pub async fn power_of(&self, meter: &str, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<PowerReading>> {
        let rows: Vec<(String, f64)> =
            sqlx::query_as("SELECT at, kw FROM power_readings WHERE meter = $1 AND at >= $2 AND at < $3 ORDER BY at")
                .bind(meter)
                .bind(ts(from))
                .bind(ts(to))
                .fetch_all(self.pool())
                .await?;
        rows.into_iter().map(|(at, kw)| Ok(PowerReading { meter: meter.to_owned(), at: parse_ts(&at)?, kw })).collect()
    }

    /// How many readings each meter has, and its latest.
    pub async fn power_counts(&self) -> Result<Vec<(String, i64, String)>> {
        Ok(sqlx::query_as("SELECT meter, COUNT(*), MAX(at) FROM power_readings GROUP BY meter ORDER BY meter")
            .fetch_all(self.pool())
            .await?)
    }

    /// The verdicts of a warning step, by enterprise and line.
    pub async fn checks_of(&self, warning_id: &str, step: u32) -> Result<Vec<Check>> {
        let rows: Vec<CheckRow> = sqlx::query_as(
            "SELECT warning_id, step, credit_code, line, checked_at, hours, verdict, body FROM compliance_checks \
             WHERE warning_id = $1 AND step = $2 ORDER BY credit_code, line",
        )
        .bind(warning_id)
        .bind(i64::from(step))
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| Check {
                warning_id: r.0,
                step: r.1 as u32,
                credit_code: r.2,
                line: r.3,
                checked_at: r.4,
                hours: r.5,
                verdict: r.6,
                body: r.7,
            })
            .collect())
    }

    pub async fn alarm(&self, id: &str) -> Result<Option<Alarm>> {
        let row = sqlx::query(sql(format!("SELECT {ALARM_COLUMNS} FROM compliance_alarms WHERE id = $1")))
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(alarm).transpose()
    }

    /// Alarms, oldest first: one enterprise's, or every one.
    pub async fn alarms(&self, credit_code: Option<&str>) -> Result<Vec<Alarm>> {
        let rows = match credit_code {
            Some(c) => {
                sqlx::query(sql(format!(
                    "SELECT {ALARM_COLUMNS} FROM compliance_alarms WHERE credit_code = $1 ORDER BY opened_at, id"
                )))
                .bind(c)
                .fetch_all(self.pool())
                .await?
            }
            None => {
                sqlx::query(sql(format!("SELECT {ALARM_COLUMNS} FROM compliance_alarms ORDER BY opened_at, id")))
                    .fetch_all(self.pool())
                    .await?
            }
        };
        rows.iter().map(alarm).collect()
    }

    /// The office reached the enterprise itself (by phone, on site) where no channel of the route
    /// did: `note` says whom and how. Open → notified; audited as its own kind of step.
    pub async fn notify_alarm_by_phone(&self, id: &str, by: &str, note: &str, now: DateTime<Utc>) -> Result<Alarm> {
        let mut tx = self.write().await?;
        let a = tx.alarm_for_update(id).await?;
        if a.state != AlarmState::Open {
            return Err(StoreError::Conflict(format!(
                "alarm {id} is {}: it has reached the enterprise",
                a.state.as_str()
            )));
        }
        sqlx::query("UPDATE compliance_alarms SET state = 'notified', notified_at = $2 WHERE id = $1")
            .bind(id)
            .bind(ts(now))
            .execute(tx.conn())
            .await?;
        tx.audit_row(now, by, "alarm-notified-by-phone", crate::audit::AuditedTable::Alarms, id, note).await?;
        tx.finish_alarm(id).await
    }

    /// The enterprise's answer (反馈): only its own alarm, once notified (or still open) and
    /// not yet verified. Audited.
    pub async fn explain_alarm(&self, id: &str, credit_code: &str, text: &str, now: DateTime<Utc>) -> Result<Alarm> {
        let mut tx = self.write().await?;
        let a = tx.alarm_for_update(id).await?;
        if a.credit_code != credit_code {
            // The same answer as a missing alarm: an enterprise learns nothing of others'.
            return Err(StoreError::NotFound(format!("alarm {id}")));
        }
        if !matches!(a.state, AlarmState::Open | AlarmState::Notified | AlarmState::Explained) {
            return Err(StoreError::Conflict(format!("alarm {id} is {}: it takes no answer now", a.state.as_str())));
        }
        sqlx::query(
            "UPDATE compliance_alarms SET state = 'explained', explanation = $2, explained_at = $3 WHERE id = $1",
        )
        .bind(id)
        .bind(text)
        .bind(ts(now))
        .execute(tx.conn())
        .await?;
        tx.audit_row(now, credit_code, "alarm-explain", crate::audit::AuditedTable::Alarms, id, text).await?;
        tx.finish_alarm(id).await
    }

    /// The office's site check (现场核查), recorded by `by`. It needs the enterprise's answer,
    /// or the alarm to have reached it. Audited.
    pub async fn verify_alarm(&self, id: &str, by: &str, finding: &str, now: DateTime<Utc>) -> Result<Alarm> {
        let mut tx = self.write().await?;
        let a = tx.alarm_for_update(id).await?;
        if !matches!(a.state, AlarmState::Notified | AlarmState::Explained) {
            return Err(StoreError::Conflict(format!(
                "alarm {id} is {}: a site check follows its notification or the enterprise's answer",
                a.state.as_str()
            )));
        }
        sqlx::query(
            "UPDATE compliance_alarms SET state = 'verified', site_check = $2, verified_at = $3, verified_by = $4 \
             WHERE id = $1",
        )
        .bind(id)
        .bind(finding)
        .bind(ts(now))
        .bind(by)
        .execute(tx.conn())
        .await?;
        tx.audit_row(now, by, "alarm-verify", crate::audit::AuditedTable::Alarms, id, finding).await?;
        tx.finish_alarm(id).await
    }

    /// Closes a verified alarm as complied or a violation (办结). Audited.
    pub async fn close_alarm(
        &self,
        id: &str,
        by: &str,
        outcome: AlarmOutcome,
        note: &str,
        now: DateTime<Utc>,
    ) -> Result<Alarm> {
        let mut tx = self.write().await?;
        let a = tx.alarm_for_update(id).await?;
        if a.state != AlarmState::Verified {
            return Err(StoreError::Conflict(format!(
                "alarm {id} is {}: it closes after the site check",
                a.state.as_str()
            )));
        }
        sqlx::query(
            "UPDATE compliance_alarms SET state = 'closed', outcome = $2, closed_at = $3, closed_by = $4 WHERE id = $1",
        )
        .bind(id)
        .bind(outcome.as_str())
        .bind(ts(now))
        .bind(by)
        .execute(tx.conn())
        .await?;
        let detail = format!("{}: {note}", outcome.as_str());
        tx.audit_row(now, by, "alarm-close", crate::audit::AuditedTable::Alarms, id, &detail).await?;
        tx.finish_alarm(id).await
    }
}
