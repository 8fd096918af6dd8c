//! Warning steps. One transaction holds the transition, its plan, its notices, the public alert
//! and their outbox rows, so a crash leaves either all of them or none.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, FixedOffset, SecondsFormat, Utc};
use hazewarn_response::check_text;
use hazewarn_response::{
    Action, Actor, CapAlert, Contacts, CurtailmentNotice, CurtailmentPlan, NoticeContext, Recommendation,
    ReductionList, TransitionKind, Warning, WarningLevel, notices, plan, warning_alert,
};
use hazewarn_store::NewMessage;
use serde::{Deserialize, Serialize};

use crate::channel::{Channel, PersonChannel, Recipient};
use crate::city::City;
use crate::{SchedulerError, beijing};

/// What the office (or auto-issue) does to the warning.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "lowercase")]
pub enum Step {
    Issue {
        level: WarningLevel,
        start: DateTime<FixedOffset>,
        end: DateTime<FixedOffset>,
    },
    Upgrade {
        level: WarningLevel,
        end: DateTime<FixedOffset>,
    },
    Downgrade {
        level: WarningLevel,
        end: DateTime<FixedOffset>,
    },
    Extend {
        end: DateTime<FixedOffset>,
    },
    Lift,
    /// Lift the warning in force because its window has ended: checked inside the step's
    /// transaction, so a warning extended meanwhile is left alone.
    Expire,
}

/// The most characters a step's reason or author may have.
pub const MAX_REASON_CHARS: usize = 2000;

impl Step {
    /// The end the step sets and the time its window is measured from (the start, for an issue).
    fn window(&self, at: DateTime<FixedOffset>) -> Option<(DateTime<FixedOffset>, DateTime<FixedOffset>)> {
        match *self {
            Step::Issue { start, end, .. } => Some((start.max(at), end)),
            Step::Upgrade { end, .. } | Step::Downgrade { end, .. } | Step::Extend { end } => Some((at, end)),
            Step::Lift | Step::Expire => None,
        }
    }

    /// The step a grading recommends; `None` when it recommends nothing.
    pub fn recommended(r: &Recommendation) -> Option<Step> {
        let end = r.end;
        Some(match r.action {
            Action::None => return None,
            Action::Issue => Step::Issue { level: r.level, start: r.start?, end: end? },
            Action::Upgrade => Step::Upgrade { level: r.level, end: end? },
            Action::Downgrade => Step::Downgrade { level: r.level, end: end? },
            Action::Extend => Step::Extend { end: end? },
            Action::Lift => Step::Lift,
        })
    }
}

/// The message body of a public alert on the webhook and file channels.
#[derive(Debug, Serialize)]
struct AlertMessage<'a> {
    warning_id: &'a str,
    step: u32,
    kind: TransitionKind,
    level: WarningLevel,
    cap_xml: String,
}

/// Refuses an author or a reason that XML cannot carry or that is too long.
pub(crate) fn check_words(by: &str, reason: &str) -> Result<(), SchedulerError> {
    check_text("reason", reason, MAX_REASON_CHARS).map_err(SchedulerError::Input)?;
    check_text("by", by, 200).map_err(SchedulerError::Input)
}

impl City {
    /// Refuses a step whose text XML cannot carry or is too long, whose window ends before the
    /// step is taken (an alert born expired), or which runs longer than
    /// `policy.max_warning_days` from its start (or from now, for a later step).
    fn check_step(&self, step: &Step, by: &str, reason: &str, at: DateTime<Utc>) -> Result<(), SchedulerError> {
        check_words(by, reason)?;
        let at = beijing(at);
        let Some((from, end)) = step.window(at) else { return Ok(()) };
        if end <= at {
            return Err(SchedulerError::Input(format!(
                "`end` {} is not after the time of this step ({}): the warning would be over before it is published",
                end.to_rfc3339_opts(SecondsFormat::Secs, false),
                at.to_rfc3339_opts(SecondsFormat::Secs, false)
            )));
        }
        let days = self.config.policy.max_warning_days;
        if end > from + chrono::Duration::days(i64::from(days)) {
            return Err(SchedulerError::Input(format!(
                "`end` {} is more than {days} days after {} (policy.max_warning_days)",
                end.to_rfc3339_opts(SecondsFormat::Secs, false),
                from.to_rfc3339_opts(SecondsFormat::Secs, false)
            )));
        }
        Ok(())
    }

    /// Performs a warning step for `by`, citing `reason` and the forecast run it rests on.
    pub async fn apply(
        &self,
        step: Step,
        by: &str,
        reason: &str,
        forecast_id: &str,
        at: DateTime<Utc>,
    ) -> Result<Warning, SchedulerError> {
        self.check_step(&step, by, reason, at)?;
        let (list_version, list) = self.list().await?;
        let mut tx = self.store.write().await?;
        let who = Actor { by, at: beijing(at), reason, forecast_id };
        let in_force = tx.warning_in_force().await?;
        let w = match (step, in_force) {
            (Step::Issue { .. }, Some(w)) => {
                return Err(SchedulerError::Conflict(format!(
                    "warning {} ({}) is in force: upgrade, downgrade, extend or lift it instead",
                    w.id,
                    w.level().name()
                )));
            }
            (Step::Issue { level, start, end }, None) => {
                let base = format!("{}-{}", self.config.city.id, start.format("%Y%m%d"));
                let mut id = base.clone();
                let mut k = 1;
                while tx.warning_exists(&id).await? {
                    k += 1;
                    id = format!("{base}-{k}");
                }
                let mut w = Warning::draft(&id, level, start, end, &who)?;
                w.issue(&who)?;
                w
            }
            (_, None) => return Err(SchedulerError::Conflict("no warning is in force".into())),
            (step, Some(mut w)) => {
                match step {
                    Step::Upgrade { level, end } => w.upgrade(level, end, &who)?,
                    Step::Downgrade { level, end } => w.downgrade(level, end, &who)?,
                    Step::Extend { end } => w.extend(end, &who)?,
                    Step::Lift => w.lift(&who)?,
                    Step::Expire if w.current().end <= who.at => w.lift(&who)?,
                    Step::Expire => {
                        return Err(SchedulerError::Conflict(format!(
                            "warning {} runs until {}",
                            w.id,
                            w.current().end
                        )));
                    }
                    Step::Issue { .. } => unreachable!("handled above"),
                }
                w
            }
        };
        let current = w.current().clone();
        let plan: CurtailmentPlan = if current.kind == TransitionKind::Lift {
            tx.latest_plan(&w.id).await?.ok_or_else(|| SchedulerError::Conflict(format!("{} has no plan", w.id)))?
        } else {
            let p = plan(&list, &self.rules, current.level, &self.inventory, &self.profile.targets, self.guarantee())?;
            tx.save_plan(&w.id, current.step, list_version, &p).await?;
            p
        };
        let previous = tx.notices_of(&w.id).await?;
        let ctx = NoticeContext {
            warning_id: w.id.clone(),
            step: current.step,
            kind: current.kind,
            level: current.level,
            issued_at: current.at,
            effective_from: current.start,
            effective_until: current.end,
            ack_hours: self.config.policy.ack_hours,
            issuer: self.cap.sender_name.clone(),
            basis: self.profile.basis.clone(),
            office_contact: self.config.city.office_contact.clone(),
        };
        let contacts = contacts_by_code(&list);
        for n in notices(&plan, &ctx, &previous) {
            if !tx.insert_notice(&n, at).await? {
                continue;
            }
            let to = recipient(&n, &contacts);
            self.enqueue_notice(&mut tx, &n.id, &n, &n.to_json(), &to, at).await?;
        }
        let alert = self.alert(&w)?;
        let key = format!("alert-{}-{}", w.id, current.step);
        let payload = serde_json::to_string(&AlertMessage {
            warning_id: &w.id,
            step: current.step,
            kind: current.kind,
            level: current.level,
            cap_xml: alert.to_xml(),
        })
        .expect("alert serialises");
        let m = Outgoing { kind: "alert", key: &key, subject: &w.id, to: &self.duty, payload: &payload };
        self.enqueue_everywhere(&mut tx, m, at).await?;
        tx.save_warning(&w).await?;
        tx.commit().await?;
        Ok(w)
    }

    /// The CAP alert of a warning's latest step (earlier steps are its references).
    pub fn alert(&self, w: &Warning) -> Result<CapAlert, SchedulerError> {
        let mut sent: Vec<CapAlert> = Vec::new();
        for (k, step) in w.transitions.iter().filter(|t| t.kind != TransitionKind::Draft).enumerate() {
            let a = warning_alert(w, step, &self.cap, &sent, (k % 10) as u8)?;
            sent.push(a);
        }
        sent.pop().ok_or_else(|| SchedulerError::Conflict(format!("warning {} is still a draft", w.id)))
    }

    /// Queues one message on every channel that takes its kind and reaches its recipient, each
    /// with its own row id and target. A notice goes this way only to the machine channels;
    /// the channels that reach a person take it by its route (`enqueue_notice`).
    pub(crate) async fn enqueue_everywhere(
        &self,
        tx: &mut hazewarn_store::WriteTx,
        m: Outgoing<'_>,
        at: DateTime<Utc>,
    ) -> Result<Queued, SchedulerError> {
        let person_notice = |c: &Arc<dyn Channel>| ENTERPRISE_KINDS.contains(&m.kind) && c.person().is_some();
        let mut q = Queued::default();
        for ch in self.channels.iter().filter(|c| c.accepts(m.kind) && !person_notice(c)) {
            let Some(target) = ch.target(m.kind, m.to) else { continue };
            q.channels += 1;
            q.new += usize::from(tx.enqueue(&m.row(ch.name(), target, None), at).await?);
        }
        Ok(q)
    }

    /// The channels of a notice's route, in order: `routing.notice` if the city configures it,
    /// else every channel that reaches a person, SMS first, then e-mail, then group robots.
    pub fn route(&self) -> Vec<&Arc<dyn Channel>> {
        let named = &self.config.routing.notice;
        if !named.is_empty() {
            return named.iter().filter_map(|n| self.channels.iter().find(|c| c.name() == n)).collect();
        }
        let mut route: Vec<&Arc<dyn Channel>> = self.channels.iter().filter(|c| c.person().is_some()).collect();
        route.sort_by_key(|c| c.person());
        route
    }

    /// Queues a notice (or its reminder, under its own `key`): on every machine channel, and on
    /// the first channel of its route that reaches the enterprise, the rest standing by in
    /// order; SMS and e-mail with the notice's acknowledgement link. A notice that no channel of
    /// the route reaches becomes a message to the office instead of going nowhere.
    pub(crate) async fn enqueue_notice(
        &self,
        tx: &mut hazewarn_store::WriteTx,
        key: &str,
        n: &CurtailmentNotice,
        payload: &str,
        to: &Recipient,
        at: DateTime<Utc>,
    ) -> Result<(), SchedulerError> {
        let m = Outgoing { kind: "notice", key, subject: &n.id, to, payload };
        self.enqueue_everywhere(tx, m, at).await?;
        let routed = self.enqueue_routed(tx, m, Some(n), at).await?;
        if routed == 0 && !self.route().is_empty() && key == n.id {
            let detail = serde_json::json!({"unreachable": true, "notice_id": n.id, "enterprise": n.enterprise,
                "credit_code": n.credit_code, "ack_deadline": n.ack_deadline})
            .to_string();
            let key = format!("unreachable-{}", n.id);
            let m = Outgoing { kind: "office", key: &key, subject: &n.id, to: &self.duty, payload: &detail };
            self.enqueue_everywhere(tx, m, at).await?;
        }
        Ok(())
    }

    /// Queues a message to an enterprise along the route: the first channel that reaches it due
    /// at once, the rest on standby in order; a notice's SMS and e-mail with its acknowledgement
    /// link. Returns how many channels of the route took it.
    pub(crate) async fn enqueue_routed(
        &self,
        tx: &mut hazewarn_store::WriteTx,
        m: Outgoing<'_>,
        notice: Option<&CurtailmentNotice>,
        at: DateTime<Utc>,
    ) -> Result<usize, SchedulerError> {
        let mut rank = 0;
        for ch in &self.route() {
            let Some(target) = ch.target(m.kind, m.to) else { continue };
            if !tx.enqueue(&m.row(ch.name(), target, Some(rank as i64)), at).await? {
                continue;
            }
            if let (Some(links), Some(n), Some(PersonChannel::Sms | PersonChannel::Email)) =
                (&self.links, notice, ch.person())
            {
                tx.insert_ack_link(&links.for_notice(n, ch.name())).await?;
            }
            rank += 1;
        }
        Ok(rank)
    }
}

/// Each enterprise's contacts on the list in use, by credit code: read once per step, not
/// searched for once per notice.
pub(crate) fn contacts_by_code(list: &ReductionList) -> HashMap<&str, &Contacts> {
    list.enterprises.iter().map(|e| (e.credit_code.as_str(), &e.contacts)).collect()
}

/// How a notice reaches its enterprise: its endpoint, and the contacts the list in use gives it.
pub(crate) fn recipient(n: &CurtailmentNotice, contacts: &HashMap<&str, &Contacts>) -> Recipient {
    let c = contacts.get(n.credit_code.as_str()).map(|c| (*c).clone()).unwrap_or_default();
    Recipient {
        endpoint: n.endpoint.clone(),
        mobiles: c.mobile.into_iter().collect(),
        emails: c.email.into_iter().collect(),
        robot: c.robot,
    }
}

/// The kinds of message that go to an enterprise along its route: curtailment notices and
/// compliance alarms.
pub const ENTERPRISE_KINDS: [&str; 2] = ["notice", "alarm"];

/// The outbox row of a message on one channel.
pub fn outbox_id(key: &str, channel: &str) -> String {
    format!("{key}@{channel}")
}

/// A message for the channels: `key` is what receivers deduplicate on; `to` is the enterprise
/// for a notice, the office's duty officers otherwise.
/// What queueing a message did: on how many channels it is queued, and how many of those rows
/// are new (a repeat under the same key inserts none).
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Queued {
    pub channels: usize,
    pub new: usize,
}

#[derive(Clone, Copy)]
pub(crate) struct Outgoing<'a> {
    pub kind: &'a str,
    pub key: &'a str,
    pub subject: &'a str,
    pub to: &'a Recipient,
    pub payload: &'a str,
}

impl Outgoing<'_> {
    fn row(&self, channel: &str, target: String, route_rank: Option<i64>) -> NewMessage {
        NewMessage {
            id: outbox_id(self.key, channel),
            kind: self.kind.to_owned(),
            subject: self.subject.to_owned(),
            channel: channel.to_owned(),
            target,
            idempotency_key: self.key.to_owned(),
            payload: self.payload.to_owned(),
            route_rank,
        }
    }
}
