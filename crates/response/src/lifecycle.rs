//! The warning lifecycle: draft → issued → (upgraded | downgraded | extended)* → lifted.
//! Every transition records who, when, why and the forecast it rests on.

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

use crate::ResponseError;
use crate::level::WarningLevel;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum WarningState {
    Draft,
    Issued,
    Lifted,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum TransitionKind {
    Draft,
    Issue,
    Upgrade,
    Downgrade,
    Extend,
    Lift,
}

/// One audited step of a warning.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Transition {
    /// 0 for the draft, then 1, 2, … : a stable id for the step (notices reference it).
    pub step: u32,
    pub kind: TransitionKind,
    pub at: DateTime<FixedOffset>,
    pub by: String,
    pub reason: String,
    /// The forecast run this step rests on.
    pub forecast_id: String,
    pub level: WarningLevel,
    pub start: DateTime<FixedOffset>,
    pub end: DateTime<FixedOffset>,
}

/// A heavy-pollution warning and its history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Warning {
    pub id: String,
    pub state: WarningState,
    pub transitions: Vec<Transition>,
}

/// Who, when, why and on which forecast: what every transition must carry.
#[derive(Debug, Clone)]
pub struct Actor<'a> {
    pub by: &'a str,
    pub at: DateTime<FixedOffset>,
    pub reason: &'a str,
    pub forecast_id: &'a str,
}

impl Warning {
    /// A new draft at a coloured level, for the office to review.
    pub fn draft(
        id: &str,
        level: WarningLevel,
        start: DateTime<FixedOffset>,
        end: DateTime<FixedOffset>,
        who: &Actor,
    ) -> Result<Warning, ResponseError> {
        if level == WarningLevel::None {
            return Err(ResponseError::IllegalTransition("a warning needs a colour".into()));
        }
        let mut w = Warning { id: id.to_owned(), state: WarningState::Draft, transitions: Vec::new() };
        w.push(TransitionKind::Draft, level, start, end, who)?;
        Ok(w)
    }

    pub fn current(&self) -> &Transition {
        self.transitions.last().expect("a warning always has its draft")
    }

    pub fn level(&self) -> WarningLevel {
        if self.state == WarningState::Lifted { WarningLevel::None } else { self.current().level }
    }

    /// The step before the current one, for `references` chains.
    pub fn previous(&self) -> Option<&Transition> {
        self.transitions.iter().rev().nth(1)
    }

    pub fn issue(&mut self, who: &Actor) -> Result<(), ResponseError> {
        let c = self.current().clone();
        self.push(TransitionKind::Issue, c.level, c.start, c.end, who)
    }

    pub fn upgrade(
        &mut self,
        level: WarningLevel,
        end: DateTime<FixedOffset>,
        who: &Actor,
    ) -> Result<(), ResponseError> {
        let c = self.current().clone();
        self.push(TransitionKind::Upgrade, level, c.start, end, who)
    }

    pub fn downgrade(
        &mut self,
        level: WarningLevel,
        end: DateTime<FixedOffset>,
        who: &Actor,
    ) -> Result<(), ResponseError> {
        let c = self.current().clone();
        self.push(TransitionKind::Downgrade, level, c.start, end, who)
    }

    pub fn extend(&mut self, end: DateTime<FixedOffset>, who: &Actor) -> Result<(), ResponseError> {
        let c = self.current().clone();
        self.push(TransitionKind::Extend, c.level, c.start, end, who)
    }

    pub fn lift(&mut self, who: &Actor) -> Result<(), ResponseError> {
        let c = self.current().clone();
        let end = who.at.max(c.start);
        self.push(TransitionKind::Lift, c.level, c.start, end, who)
    }

    fn push(
        &mut self,
        kind: TransitionKind,
        level: WarningLevel,
        start: DateTime<FixedOffset>,
        end: DateTime<FixedOffset>,
        who: &Actor,
    ) -> Result<(), ResponseError> {
        let illegal = |why: &str| {
            Err(ResponseError::IllegalTransition(format!(
                "{:?} of warning {} while {:?}: {why}",
                kind, self.id, self.state
            )))
        };
        if who.by.trim().is_empty() || who.reason.trim().is_empty() || who.forecast_id.trim().is_empty() {
            return illegal("who, why and the forecast are required");
        }
        if let Some(last) = self.transitions.last()
            && who.at < last.at
        {
            return illegal("a transition cannot predate the one before it");
        }
        if end <= start {
            return illegal("the end must come after the start");
        }
        let current = self.transitions.last().map(|t| (t.level, t.end));
        let next_state = match (self.state, kind, current) {
            (WarningState::Draft, TransitionKind::Draft, None) => WarningState::Draft,
            (WarningState::Draft, TransitionKind::Issue, Some(_)) => WarningState::Issued,
            (WarningState::Issued, TransitionKind::Upgrade, Some((l, _))) if level > l => WarningState::Issued,
            (WarningState::Issued, TransitionKind::Downgrade, Some((l, _)))
                if level < l && level > WarningLevel::None =>
            {
                WarningState::Issued
            }
            (WarningState::Issued, TransitionKind::Extend, Some((_, e))) if end > e => WarningState::Issued,
            (WarningState::Issued, TransitionKind::Lift, Some(_)) => WarningState::Lifted,
            (WarningState::Issued, TransitionKind::Upgrade, _) => return illegal("an upgrade must raise the level"),
            (WarningState::Issued, TransitionKind::Downgrade, _) => {
                return illegal("a downgrade must lower the level and keep a colour (lift instead)");
            }
            (WarningState::Issued, TransitionKind::Extend, _) => {
                return illegal("an extension must move the end later");
            }
            _ => return illegal("not allowed from this state"),
        };
        self.transitions.push(Transition {
            step: self.transitions.len() as u32,
            kind,
            at: who.at,
            by: who.by.to_owned(),
            reason: who.reason.to_owned(),
            forecast_id: who.forecast_id.to_owned(),
            level,
            start,
            end,
        });
        self.state = next_state;
        Ok(())
    }
}
