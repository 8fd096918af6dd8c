//! CAP 1.2 public alerts (OASIS Common Alerting Protocol), with the mapping of domain.md §5.3.
//! Invalid alerts cannot be built: enumerations are types and `CapAlert::new` checks the rest.

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

use crate::ResponseError;
use crate::level::WarningLevel;
use crate::lifecycle::{Transition, TransitionKind, Warning};
use crate::notice::html_escape as xml_escape;

macro_rules! cap_enum {
    ($name:ident { $($v:ident),* $(,)? }) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
        pub enum $name { $($v),* }
        impl $name {
            pub fn as_str(self) -> &'static str {
                match self { $($name::$v => stringify!($v)),* }
            }
        }
    };
}

cap_enum!(Status { Actual, Exercise, System, Test, Draft });
cap_enum!(MsgType { Alert, Update, Cancel, Ack, Error });
cap_enum!(Scope { Public, Restricted, Private });
cap_enum!(Category { Geo, Met, Safety, Security, Rescue, Fire, Health, Env, Transport, Infra, CBRNE, Other });
cap_enum!(Urgency { Immediate, Expected, Future, Past, Unknown });
cap_enum!(Severity { Extreme, Severe, Moderate, Minor, Unknown });
cap_enum!(Certainty { Observed, Likely, Possible, Unlikely, Unknown });
cap_enum!(ResponseType { Shelter, Evacuate, Prepare, Execute, Avoid, Monitor, Assess, AllClear, None });

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CapArea {
    pub area_desc: String,
    /// (valueName, value), e.g. ("GB/T 2260", "411100").
    pub geocodes: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CapInfo {
    pub language: String,
    pub categories: Vec<Category>,
    pub event: String,
    pub response_types: Vec<ResponseType>,
    pub urgency: Urgency,
    pub severity: Severity,
    pub certainty: Certainty,
    pub effective: Option<DateTime<FixedOffset>>,
    pub onset: Option<DateTime<FixedOffset>>,
    pub expires: Option<DateTime<FixedOffset>>,
    pub sender_name: String,
    pub headline: String,
    pub description: String,
    pub instruction: String,
    pub parameters: Vec<(String, String)>,
    pub areas: Vec<CapArea>,
}

/// A reference to an earlier message: `sender,identifier,sent`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CapReference {
    pub sender: String,
    pub identifier: String,
    pub sent: DateTime<FixedOffset>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CapAlert {
    identifier: String,
    sender: String,
    sent: DateTime<FixedOffset>,
    status: Status,
    msg_type: MsgType,
    scope: Scope,
    restriction: Option<String>,
    references: Vec<CapReference>,
    info: Vec<CapInfo>,
}

impl CapAlert {
    /// Checks what the CAP 1.2 schema and its conformance rules require.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        identifier: String,
        sender: String,
        sent: DateTime<FixedOffset>,
        status: Status,
        msg_type: MsgType,
        scope: Scope,
        restriction: Option<String>,
        references: Vec<CapReference>,
        info: Vec<CapInfo>,
    ) -> Result<CapAlert, ResponseError> {
        let bad = |m: &str| Err(ResponseError::Cap(m.to_owned()));
        let forbidden = |s: &str| s.is_empty() || s.contains([' ', ',', '<', '&']);
        if forbidden(&identifier) || forbidden(&sender) {
            return bad("identifier and sender must be non-empty, without spaces, commas, < or &");
        }
        if scope == Scope::Restricted && restriction.as_deref().is_none_or(str::is_empty) {
            return bad("scope Restricted needs a restriction");
        }
        if matches!(msg_type, MsgType::Update | MsgType::Cancel | MsgType::Ack | MsgType::Error)
            && references.is_empty()
        {
            return bad("Update, Cancel, Ack and Error messages must reference earlier messages");
        }
        if info.is_empty() {
            return bad("at least one info block is required");
        }
        for i in &info {
            if i.categories.is_empty() || i.event.trim().is_empty() {
                return bad("each info needs a category and an event");
            }
            for t in [i.effective, i.onset, i.expires].into_iter().flatten() {
                if t < sent {
                    return bad("effective, onset and expires must not be before sent");
                }
            }
            if let (Some(o), Some(e)) = (i.onset.or(i.effective), i.expires)
                && e < o
            {
                return bad("expires must not be before onset");
            }
            if i.areas.iter().any(|a| a.area_desc.trim().is_empty()) {
                return bad("every area needs an areaDesc");
            }
        }
        Ok(CapAlert { identifier, sender, sent, status, msg_type, scope, restriction, references, info })
    }

    pub fn identifier(&self) -> &str {
        &self.identifier
    }

    pub fn sent(&self) -> DateTime<FixedOffset> {
        self.sent
    }

    pub fn msg_type(&self) -> MsgType {
        self.msg_type
    }

    pub fn reference(&self) -> CapReference {
        CapReference { sender: self.sender.clone(), identifier: self.identifier.clone(), sent: self.sent }
    }

    pub fn to_xml(&self) -> String {
        let t = |d: &DateTime<FixedOffset>| d.format("%Y-%m-%dT%H:%M:%S%:z").to_string();
        let e = xml_escape;
        let mut s = String::from(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<alert xmlns=\"urn:oasis:names:tc:emergency:cap:1.2\">\n",
        );
        s += &format!(
            "  <identifier>{}</identifier>\n  <sender>{}</sender>\n  <sent>{}</sent>\n",
            e(&self.identifier),
            e(&self.sender),
            t(&self.sent)
        );
        s += &format!(
            "  <status>{}</status>\n  <msgType>{}</msgType>\n  <scope>{}</scope>\n",
            self.status.as_str(),
            self.msg_type.as_str(),
            self.scope.as_str()
        );
        if let Some(r) = &self.restriction {
            s += &format!("  <restriction>{}</restriction>\n", e(r));
        }
        if !self.references.is_empty() {
            let refs: Vec<String> =
                self.references.iter().map(|r| format!("{},{},{}", r.sender, r.identifier, t(&r.sent))).collect();
            s += &format!("  <references>{}</references>\n", e(&refs.join(" ")));
        }
        for i in &self.info {
            s += &format!("  <info>\n    <language>{}</language>\n", e(&i.language));
            for c in &i.categories {
                s += &format!("    <category>{}</category>\n", c.as_str());
            }
            s += &format!("    <event>{}</event>\n", e(&i.event));
            for r in &i.response_types {
                s += &format!("    <responseType>{}</responseType>\n", r.as_str());
            }
            s += &format!(
                "    <urgency>{}</urgency>\n    <severity>{}</severity>\n    <certainty>{}</certainty>\n",
                i.urgency.as_str(),
                i.severity.as_str(),
                i.certainty.as_str()
            );
            for (name, v) in [("effective", i.effective), ("onset", i.onset), ("expires", i.expires)] {
                if let Some(v) = v {
                    s += &format!("    <{name}>{}</{name}>\n", t(&v));
                }
            }
            for (name, v) in [
                ("senderName", &i.sender_name),
                ("headline", &i.headline),
                ("description", &i.description),
                ("instruction", &i.instruction),
            ] {
                if !v.is_empty() {
                    s += &format!("    <{name}>{}</{name}>\n", e(v));
                }
            }
            for (k, v) in &i.parameters {
                s += &format!(
                    "    <parameter>\n      <valueName>{}</valueName>\n      <value>{}</value>\n    </parameter>\n",
                    e(k),
                    e(v)
                );
            }
            for a in &i.areas {
                s += &format!("    <area>\n      <areaDesc>{}</areaDesc>\n", e(&a.area_desc));
                for (k, v) in &a.geocodes {
                    s += &format!(
                        "      <geocode>\n        <valueName>{}</valueName>\n        <value>{}</value>\n      </geocode>\n",
                        e(k),
                        e(v)
                    );
                }
                s += "    </area>\n";
            }
            s += "  </info>\n";
        }
        s += "</alert>\n";
        s
    }
}

/// Who sends a city's alerts. The sector code is [U] (GB/T 4657 code of the issuing department).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CapConfig {
    /// 6-digit GB/T 2260 administrative code, e.g. 411100 for Luohe.
    pub admin_code: String,
    pub sector_code: String,
    pub sender: String,
    pub sender_name: String,
    pub area_desc: String,
    /// What the public is told per level (from the grading profile, not the `[cap]` table): the
    /// alert's `<instruction>` at that level.
    #[serde(skip)]
    pub public_measures: Vec<crate::profile::PublicMeasures>,
}

impl CapConfig {
    pub fn luohe() -> CapConfig {
        CapConfig {
            admin_code: "411100".into(),
            sector_code: "000".into(),
            sender: "hazewarn@411100.cn".into(),
            sender_name: "漯河市重污染天气应急指挥部办公室".into(),
            area_desc: "河南省漯河市".into(),
            public_measures: Vec::new(),
        }
    }

    /// GB/T 35965.1 identifier: admin code + sector + 000 + 00 _ entry time _ sequence (31 chars).
    pub fn identifier(&self, sent: DateTime<FixedOffset>, sequence: u8) -> Result<String, ResponseError> {
        let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
        if !digits(&self.admin_code, 6) || !digits(&self.sector_code, 3) || sequence > 9 {
            return Err(ResponseError::Cap("admin code must be 6 digits, sector code 3, sequence 0–9".into()));
        }
        Ok(format!("{}{}00000_{}_{}", self.admin_code, self.sector_code, sent.format("%Y%m%d%H%M%S"), sequence))
    }
}

fn severity(level: WarningLevel) -> Severity {
    match level {
        WarningLevel::Red => Severity::Extreme,
        WarningLevel::Orange => Severity::Severe,
        _ => Severity::Moderate,
    }
}

/// The public alert for one step of a warning, referencing the alerts of its earlier steps.
/// `earlier` holds the alerts already sent for this warning, oldest first.
pub fn warning_alert(
    warning: &Warning,
    step: &Transition,
    config: &CapConfig,
    earlier: &[CapAlert],
    sequence: u8,
) -> Result<CapAlert, ResponseError> {
    let sent = step.at;
    let (msg_type, urgency, certainty, responses) = match step.kind {
        TransitionKind::Draft => return Err(ResponseError::Cap("a draft is not published".into())),
        TransitionKind::Issue => (MsgType::Alert, Urgency::Future, Certainty::Likely, None),
        TransitionKind::Upgrade | TransitionKind::Downgrade | TransitionKind::Extend => {
            (MsgType::Update, Urgency::Future, Certainty::Likely, None)
        }
        TransitionKind::Lift => {
            (MsgType::Cancel, Urgency::Past, Certainty::Observed, Some(vec![ResponseType::AllClear]))
        }
    };
    // Under way already: the alert is immediate, and what is happening is observed.
    let (urgency, certainty) = if step.kind != TransitionKind::Lift && step.start <= sent {
        (Urgency::Immediate, Certainty::Observed)
    } else if step.kind != TransitionKind::Lift && step.start - sent <= chrono::Duration::hours(1) {
        (Urgency::Expected, certainty)
    } else {
        (urgency, certainty)
    };
    let responses = responses.unwrap_or_else(|| match step.level {
        WarningLevel::Red => vec![ResponseType::Avoid, ResponseType::Execute],
        WarningLevel::Orange => vec![ResponseType::Prepare, ResponseType::Avoid],
        _ => vec![ResponseType::Prepare, ResponseType::Monitor],
    });
    let response = step.level.response_level().map_or("", |r| r.zh());
    let (event, headline) = if step.kind == TransitionKind::Lift {
        ("重污染天气预警解除".to_owned(), format!("{}解除重污染天气{}预警", config.area_desc, step.level.zh()))
    } else {
        (
            format!("重污染天气{}预警", step.level.zh()),
            format!("{}发布重污染天气{}预警，启动{}应急响应", config.area_desc, step.level.zh(), response),
        )
    };
    let onset = step.start.max(sent);
    let info = CapInfo {
        language: "zh-CN".into(),
        categories: if step.kind == TransitionKind::Lift {
            vec![Category::Env]
        } else {
            vec![Category::Env, Category::Health]
        },
        event,
        response_types: responses,
        urgency,
        severity: if step.kind == TransitionKind::Lift { Severity::Minor } else { severity(step.level) },
        certainty,
        effective: Some(sent),
        onset: (step.kind != TransitionKind::Lift).then_some(onset),
        expires: Some(step.end.max(sent)),
        sender_name: config.sender_name.clone(),
        headline,
        description: step.reason.clone(),
        instruction: match config.public_measures.iter().find(|m| m.level == step.level) {
            _ if step.kind == TransitionKind::Lift => "各项应急减排措施终止。".into(),
            Some(m) => m.instruction(false),
            None => "儿童、老年人和心脏病、呼吸系统疾病患者减少户外活动；相关企业按应急减排清单落实减排措施。".into(),
        },
        parameters: vec![
            ("warning_id".into(), warning.id.clone()),
            ("response_level".into(), response.into()),
            ("forecast_id".into(), step.forecast_id.clone()),
        ],
        areas: vec![CapArea {
            area_desc: config.area_desc.clone(),
            geocodes: vec![("GB/T 2260".into(), config.admin_code.clone())],
        }],
    };
    let references =
        if msg_type == MsgType::Alert { Vec::new() } else { earlier.iter().map(CapAlert::reference).collect() };
    CapAlert::new(
        config.identifier(sent, sequence)?,
        config.sender.clone(),
        sent,
        Status::Actual,
        msg_type,
        Scope::Public,
        None,
        references,
        vec![info],
    )
}
