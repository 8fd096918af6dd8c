//! Curtailment notices: one per affected enterprise per warning step, rendered as JSON, text and HTML.

use chrono::{DateTime, Duration, FixedOffset};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::level::WarningLevel;
use crate::lifecycle::TransitionKind;
use crate::plan::{CurtailmentPlan, Treatment};

/// The warning step a batch of notices belongs to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NoticeContext {
    pub warning_id: String,
    pub step: u32,
    pub kind: TransitionKind,
    pub level: WarningLevel,
    pub issued_at: DateTime<FixedOffset>,
    pub effective_from: DateTime<FixedOffset>,
    pub effective_until: DateTime<FixedOffset>,
    /// Hours after issue by which the enterprise must acknowledge.
    pub ack_hours: u32,
    pub issuer: String,
    pub basis: String,
    pub office_contact: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NoticeLine {
    pub line: String,
    pub measure: String,
    pub zh: String,
    pub en: String,
}

/// A curtailment notice (停限产通知) to one enterprise.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CurtailmentNotice {
    /// Stable for the warning, step and enterprise: receivers use it to drop repeats.
    pub id: String,
    /// SHA-256 of the notice's content (every field but this one).
    pub content_hash: String,
    pub warning_id: String,
    pub step: u32,
    pub kind: TransitionKind,
    pub credit_code: String,
    pub enterprise: String,
    pub level: WarningLevel,
    pub issued_at: DateTime<FixedOffset>,
    pub effective_from: DateTime<FixedOffset>,
    pub effective_until: DateTime<FixedOffset>,
    pub ack_deadline: DateTime<FixedOffset>,
    pub lines: Vec<NoticeLine>,
    pub transport_zh: String,
    pub basis: String,
    pub issuer: String,
    pub contact: String,
    pub endpoint: String,
    /// The earlier notice this one replaces, on an upgrade, downgrade, extension or lift.
    pub supersedes: Option<String>,
}

impl CurtailmentNotice {
    fn hash(&self) -> String {
        let mut copy = self.clone();
        copy.content_hash.clear();
        let bytes = serde_json::to_vec(&copy).expect("notice serialises");
        Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
    }

    /// True when the stored hash matches the content.
    pub fn verify(&self) -> bool {
        self.content_hash == self.hash()
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("notice serialises")
    }

    fn title(&self) -> String {
        match self.kind {
            TransitionKind::Lift => "重污染天气预警解除通知".to_owned(),
            _ => format!(
                "重污染天气{}预警（{}应急响应）减排措施通知",
                self.level.zh(),
                self.level.response_level().map_or("", |r| r.zh())
            ),
        }
    }

    pub fn to_text(&self) -> String {
        let mut s = format!(
            "{}\n编号：{}\n致：{}（统一社会信用代码 {}）\n\n",
            self.title(),
            self.id,
            self.enterprise,
            self.credit_code
        );
        if self.kind == TransitionKind::Lift {
            s += &format!(
                "自 {} 起解除预警，各项应急减排措施同时终止。\n",
                self.effective_until.format("%Y-%m-%d %H:%M")
            );
        } else {
            s += &format!(
                "执行时间：{} 至 {}（北京时间）\n\n减排措施：\n",
                self.effective_from.format("%Y-%m-%d %H:%M"),
                self.effective_until.format("%Y-%m-%d %H:%M")
            );
            for l in &self.lines {
                s += &format!("  - {}：{}\n", l.line, l.zh);
            }
            s += &format!("\n运输管控：{}\n", self.transport_zh);
        }
        if let Some(p) = &self.supersedes {
            s += &format!("本通知替代此前通知 {p}。\n");
        }
        s += &format!(
            "\n依据：{}\n请于 {} 前确认收到。\n联系方式：{}\n{}\n内容校验：sha256 {}\n",
            self.basis,
            self.ack_deadline.format("%Y-%m-%d %H:%M"),
            self.contact,
            self.issuer,
            self.content_hash
        );
        s
    }

    pub fn to_html(&self) -> String {
        let e = html_escape;
        let mut rows = String::new();
        for l in &self.lines {
            rows +=
                &format!("<tr><td>{}</td><td>{}</td><td lang=\"en\">{}</td></tr>\n", e(&l.line), e(&l.zh), e(&l.en));
        }
        format!(
            "<!doctype html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>{title}</title>\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <link rel=\"icon\" href=\"data:,\">\
             <style>body{{font-family:sans-serif;margin:12px}}td,th{{word-break:keep-all;padding:4px}}\
             table{{display:block;overflow-x:auto;max-width:100%}}\
             small{{overflow-wrap:anywhere}}</style></head><body>\n\
             <h1>{title}</h1>\n<p>编号 {id}<br>致 {ent}（{code}）</p>\n\
             <p>执行时间 {from} 至 {until}（北京时间）</p>\n\
             <table border=\"1\"><tr><th>生产线</th><th>措施</th><th>Measure</th></tr>\n{rows}</table>\n\
             <p>运输管控：{transport}</p>\n<p>依据：{basis}</p>\n<p>请于 {deadline} 前确认收到。联系方式：{contact}</p>\n\
             <p>{issuer}</p>\n<p><small>sha256 {hash}</small></p>\n</body></html>\n",
            title = e(&self.title()),
            id = e(&self.id),
            ent = e(&self.enterprise),
            code = e(&self.credit_code),
            from = self.effective_from.format("%Y-%m-%d %H:%M"),
            until = self.effective_until.format("%Y-%m-%d %H:%M"),
            transport = e(&self.transport_zh),
            basis = e(&self.basis),
            deadline = self.ack_deadline.format("%Y-%m-%d %H:%M"),
            contact = e(&self.contact),
            issuer = e(&self.issuer),
            hash = self.content_hash,
        )
    }
}

pub fn html_escape(s: &str) -> String {
    hazewarn_text::xml_escape(s)
}

/// One notice per affected enterprise of the plan (all but exempt 保障类). `previous` are the
/// notices of the warning's earlier steps; each new notice supersedes that enterprise's latest one,
/// and a lift notifies every enterprise that had one.
pub fn notices(plan: &CurtailmentPlan, ctx: &NoticeContext, previous: &[CurtailmentNotice]) -> Vec<CurtailmentNotice> {
    let latest = |code: &str| {
        previous
            .iter()
            .filter(|n| n.credit_code == code && n.warning_id == ctx.warning_id)
            .max_by_key(|n| n.step)
            .map(|n| n.id.clone())
    };
    let mut out = Vec::new();
    for e in &plan.enterprises {
        let prior = latest(&e.credit_code);
        let affected = match ctx.kind {
            TransitionKind::Lift => prior.is_some(),
            _ => e.treatment != Treatment::Exempt,
        };
        if !affected {
            continue;
        }
        let lift = ctx.kind == TransitionKind::Lift;
        let lines = if lift {
            Vec::new()
        } else {
            e.lines
                .iter()
                .map(|l| NoticeLine {
                    line: l.line.clone(),
                    measure: l.measure.clone(),
                    zh: l.measure_zh.clone(),
                    en: l.measure_en.clone(),
                })
                .collect()
        };
        let trucks = e.lines.iter().any(|l| l.measure.contains("trucks:guo5"));
        let transport_zh = if lift {
            "解除".to_owned()
        } else if trucks {
            "预警期间停止使用国四及以下排放标准重型载货车辆（含燃气）进行运输，国五及以上或新能源车辆除外".to_owned()
        } else {
            "按本企业应急减排措施执行".to_owned()
        };
        let mut n = CurtailmentNotice {
            id: format!("{}-{}-{}", ctx.warning_id, ctx.step, e.credit_code),
            content_hash: String::new(),
            warning_id: ctx.warning_id.clone(),
            step: ctx.step,
            kind: ctx.kind,
            credit_code: e.credit_code.clone(),
            enterprise: e.name.clone(),
            level: ctx.level,
            issued_at: ctx.issued_at,
            effective_from: ctx.effective_from,
            effective_until: ctx.effective_until,
            ack_deadline: ctx.issued_at + Duration::hours(i64::from(ctx.ack_hours)),
            lines,
            transport_zh,
            basis: ctx.basis.clone(),
            issuer: ctx.issuer.clone(),
            contact: ctx.office_contact.clone(),
            endpoint: e.endpoint.clone(),
            supersedes: prior,
        };
        n.content_hash = n.hash();
        out.push(n);
    }
    out
}
