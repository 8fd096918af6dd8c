//! Recording a compliance run: each line's verdict, and an alarm for each suspected line, sent
//! to the enterprise along its route (as a notice is), in the run's one transaction.

use chrono::{DateTime, Utc};
use hazewarn_compliance::{LineVerdict, Verdict};
use hazewarn_response::{CurtailmentPlan, Warning};
use hazewarn_store::compliance::{Alarm, Check};
use sha2::{Digest, Sha256};

use crate::compliance::ComplianceRun;
use crate::respond::{Outgoing, contacts_by_code};
use crate::{City, Recipient, SchedulerError, beijing};

fn verdict_kind(v: &Verdict) -> &'static str {
    match v {
        Verdict::Complied => "complied",
        Verdict::Suspected { .. } => "suspected",
        Verdict::NotRequired => "not-required",
        Verdict::NoData { .. } => "no-data",
    }
}

/// An alarm's id: its warning and step, and a digest of the enterprise and line (a line's name
/// may hold any character).
pub fn alarm_id(warning_id: &str, step: u32, credit_code: &str, line: &str) -> String {
    let h = Sha256::digest(format!("{credit_code}\n{line}").as_bytes());
    let short: String = h.iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!("ALM-{warning_id}-{step}-{short}")
}

impl City {
    pub(crate) async fn record(
        &self,
        w: &Warning,
        plan: &CurtailmentPlan,
        verdicts: &[(String, LineVerdict)],
        now: DateTime<Utc>,
        run: &mut ComplianceRun,
    ) -> Result<(), SchedulerError> {
        let step = w.current();
        let (_, list) = self.list().await?;
        let contacts = contacts_by_code(&list);
        let mut tx = self.store.write().await?;
        for (credit_code, v) in verdicts {
            let kind = verdict_kind(&v.verdict);
            *run.verdicts.entry(kind.to_owned()).or_default() += 1;
            let check = Check {
                warning_id: w.id.clone(),
                step: step.step,
                credit_code: credit_code.clone(),
                line: v.line.clone(),
                checked_at: hazewarn_store::ts(now),
                hours: run.hours,
                verdict: kind.to_owned(),
                body: serde_json::to_string(v).expect("a verdict serialises"),
            };
            tx.save_check(&check).await?;
            let Verdict::Suspected { evidence, confidence } = &v.verdict else { continue };
            let Some(e) = plan.enterprises.iter().find(|e| &e.credit_code == credit_code) else { continue };
            let alarm = Alarm {
                id: alarm_id(&w.id, step.step, credit_code, &v.line),
                warning_id: w.id.clone(),
                step: step.step,
                credit_code: credit_code.clone(),
                enterprise: e.name.clone(),
                line: v.line.clone(),
                evidence: evidence.clone(),
                confidence: *confidence,
                opened_at: hazewarn_store::ts(now),
                ..Default::default()
            };
            if !tx.open_alarm(&alarm, now).await? {
                continue;
            }
            run.alarms_opened.push(alarm.id.clone());
            let c = contacts.get(credit_code.as_str()).map(|c| (*c).clone()).unwrap_or_default();
            let to = Recipient {
                endpoint: e.endpoint.clone(),
                mobiles: c.mobile.into_iter().collect(),
                emails: c.email.into_iter().collect(),
                robot: c.robot,
            };
            let payload = serde_json::json!({
                "id": alarm.id, "warning_id": w.id, "step": step.step, "level": step.level,
                "enterprise": e.name, "credit_code": credit_code, "line": v.line,
                "evidence": evidence, "confidence": confidence, "opened_at": beijing(now).to_rfc3339(),
            })
            .to_string();
            let m = Outgoing { kind: "alarm", key: &alarm.id, subject: &alarm.id, to: &to, payload: &payload };
            self.enqueue_everywhere(&mut tx, m, now).await?;
            if self.enqueue_routed(&mut tx, m, None, now).await? == 0 && !self.route().is_empty() {
                // No channel reaches the enterprise: the office phones it (and records so), and
                // the case waits on that.
                let key = format!("unreachable-{}", alarm.id);
                let detail = serde_json::json!({"unreachable": true, "alarm_id": alarm.id, "enterprise": e.name,
                    "credit_code": credit_code})
                .to_string();
                let m = Outgoing { kind: "office", key: &key, subject: &alarm.id, to: &self.duty, payload: &detail };
                self.enqueue_everywhere(&mut tx, m, now).await?;
            }
        }
        // The verdicts' digest, so the audit holds what this run stored, not only how many.
        let mut h = Sha256::new();
        for (code, v) in verdicts {
            h.update(format!("{code}\n{}\n", serde_json::to_string(v).expect("a verdict serialises")));
        }
        let digest: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
        let summary = format!("{} sha256:{digest}", serde_json::to_string(&run.verdicts).expect("counts serialise"));
        tx.audit(now, "compliance", "compliance-check", &format!("{}#{}", w.id, step.step), &summary).await?;
        tx.commit().await?;
        Ok(())
    }
}
