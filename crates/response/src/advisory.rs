//! Regional warning advisories (区域预警提示). The provincial office names cities, a level, a
//! window and a deadline; each named city answers by then in one of three ways: it starts or
//! raises its own warning to at least that level, records that it already has one, or files a
//! justification for not following. An advisory is changed, extended and lifted like a warning;
//! an issue or a change asks every city it names for a fresh answer.

use chrono::{DateTime, Duration, FixedOffset};
use serde::{Deserialize, Serialize};

use crate::ResponseError;
use crate::level::WarningLevel;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum AdvisoryState {
    InForce,
    Lifted,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum AdvisoryStepKind {
    Issue,
    /// A new level, window, cities or deadline: the cities answer again.
    Change,
    Extend,
    Lift,
}

/// What the province asks for: the same at an issue and at a change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AdvisoryTerms {
    pub level: WarningLevel,
    pub start: DateTime<FixedOffset>,
    pub end: DateTime<FixedOffset>,
    /// The cities named, by their configured id.
    pub cities: Vec<String>,
    /// Each city answers by then.
    pub deadline: DateTime<FixedOffset>,
}

/// One audited step of an advisory, with the terms in force after it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AdvisoryStep {
    /// 1, 2, …: answers name the step that asked for them.
    pub step: u32,
    pub kind: AdvisoryStepKind,
    pub terms: AdvisoryTerms,
    pub at: DateTime<FixedOffset>,
    pub by: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Advisory {
    pub id: String,
    pub state: AdvisoryState,
    pub steps: Vec<AdvisoryStep>,
}

/// Who takes a step, when and why.
#[derive(Debug, Clone, Copy)]
pub struct AdvisoryActor<'a> {
    pub by: &'a str,
    pub at: DateTime<FixedOffset>,
    pub reason: &'a str,
}

fn refuse(why: impl Into<String>) -> ResponseError {
    ResponseError::Advisory(why.into())
}

impl AdvisoryTerms {
    /// Refuses terms that name no city (or one twice), carry no colour, or would be over, or
    /// past their deadline, before they are published.
    fn check(&self, at: DateTime<FixedOffset>) -> Result<(), ResponseError> {
        if self.level == WarningLevel::None {
            return Err(refuse("`level`: an advisory needs a warning colour (yellow, orange or red)"));
        }
        if self.cities.is_empty() {
            return Err(refuse("`cities`: an advisory must name at least one city"));
        }
        let mut seen = std::collections::BTreeSet::new();
        if let Some(twice) = self.cities.iter().find(|c| !seen.insert(c.as_str())) {
            return Err(refuse(format!("`cities`: `{twice}` is named twice")));
        }
        if self.end <= self.start {
            return Err(refuse(format!("`end`: {} is not after `start` {}", self.end, self.start)));
        }
        if self.end <= at {
            return Err(refuse(format!("`end`: {} is not after the time of this step ({at})", self.end)));
        }
        if self.deadline <= at {
            return Err(refuse(format!("`deadline`: {} is not after the time of this step ({at})", self.deadline)));
        }
        if self.deadline > self.end {
            return Err(refuse(format!("`deadline`: {} is after the advisory's end {}", self.deadline, self.end)));
        }
        Ok(())
    }
}

impl Advisory {
    pub fn issue(id: &str, terms: AdvisoryTerms, who: AdvisoryActor) -> Result<Advisory, ResponseError> {
        terms.check(who.at)?;
        let step = AdvisoryStep {
            step: 1,
            kind: AdvisoryStepKind::Issue,
            terms,
            at: who.at,
            by: who.by.to_owned(),
            reason: who.reason.to_owned(),
        };
        Ok(Advisory { id: id.to_owned(), state: AdvisoryState::InForce, steps: vec![step] })
    }

    /// The latest step: the terms in force.
    pub fn current(&self) -> &AdvisoryStep {
        self.steps.last().expect("an advisory has its issue step")
    }

    /// The latest issue or change: the step the cities owe an answer to.
    pub fn asking(&self) -> &AdvisoryStep {
        self.steps
            .iter()
            .rev()
            .find(|s| matches!(s.kind, AdvisoryStepKind::Issue | AdvisoryStepKind::Change))
            .expect("an advisory has its issue step")
    }

    fn push(&mut self, kind: AdvisoryStepKind, terms: AdvisoryTerms, who: AdvisoryActor) -> Result<(), ResponseError> {
        if self.state == AdvisoryState::Lifted {
            return Err(refuse(format!("advisory {} has been lifted", self.id)));
        }
        if who.at < self.current().at {
            return Err(refuse(format!(
                "a step at {} would come before step {} ({})",
                who.at,
                self.current().step,
                self.current().at
            )));
        }
        let step = AdvisoryStep {
            step: self.current().step + 1,
            kind,
            terms,
            at: who.at,
            by: who.by.to_owned(),
            reason: who.reason.to_owned(),
        };
        self.steps.push(step);
        if kind == AdvisoryStepKind::Lift {
            self.state = AdvisoryState::Lifted;
        }
        Ok(())
    }

    /// New terms; every city named answers again by the new deadline.
    pub fn change(&mut self, terms: AdvisoryTerms, who: AdvisoryActor) -> Result<(), ResponseError> {
        terms.check(who.at)?;
        if terms.start != self.current().terms.start && self.current().terms.start <= who.at {
            return Err(refuse("the start of an advisory already begun cannot move"));
        }
        self.push(AdvisoryStepKind::Change, terms, who)
    }

    /// A later end, the rest unchanged (no new answers are owed).
    pub fn extend(&mut self, end: DateTime<FixedOffset>, who: AdvisoryActor) -> Result<(), ResponseError> {
        let mut terms = self.current().terms.clone();
        if end <= terms.end {
            return Err(refuse(format!("an extension must end after {}; {end} does not", terms.end)));
        }
        terms.end = end;
        self.push(AdvisoryStepKind::Extend, terms, who)
    }

    pub fn lift(&mut self, who: AdvisoryActor) -> Result<(), ResponseError> {
        let terms = self.current().terms.clone();
        self.push(AdvisoryStepKind::Lift, terms, who)
    }

    /// Lifted, or past its end at `now`: no answer is owed any more.
    pub fn is_over(&self, now: DateTime<FixedOffset>) -> bool {
        self.state == AdvisoryState::Lifted || now >= self.current().terms.end
    }

    /// Refuses an answer the advisory does not ask of `city`, or one that does not meet it: a
    /// warning below the advisory's level, or a justification with no text.
    pub fn check_answer(&self, city: &str, answer: &CityAnswer) -> Result<(), ResponseError> {
        if self.state == AdvisoryState::Lifted {
            return Err(refuse(format!("advisory {} has been lifted; it needs no answer", self.id)));
        }
        let asking = self.asking();
        if !asking.terms.cities.iter().any(|c| c == city) {
            return Err(refuse(format!("advisory {} does not name city `{city}`", self.id)));
        }
        match answer {
            CityAnswer::Followed { level, .. } | CityAnswer::InForce { level, .. } if *level < asking.terms.level => {
                Err(refuse(format!(
                    "the warning is {}, below the advisory's {}: it must be at least that level",
                    level.name(),
                    asking.terms.level.name()
                )))
            }
            CityAnswer::Justified { reason } if reason.trim().is_empty() => {
                Err(refuse("a justification for not following must say why"))
            }
            _ => Ok(()),
        }
    }
}

/// A city's answer to the step that asked it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "answer", rename_all = "snake_case")]
pub enum CityAnswer {
    /// The city started or raised its warning for the advisory.
    Followed { warning: String, level: WarningLevel },
    /// The city's warning already in force meets the advisory.
    InForce { warning: String, level: WarningLevel },
    /// The city does not follow, and says why.
    Justified { reason: String },
}

impl CityAnswer {
    pub fn name(&self) -> &'static str {
        match self {
            CityAnswer::Followed { .. } => "followed",
            CityAnswer::InForce { .. } => "in_force",
            CityAnswer::Justified { .. } => "justified",
        }
    }
}

/// Where a city stands with the step that asked it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnswerStatus {
    Awaiting,
    /// Not answered, and the deadline has passed by this much.
    Overdue(Duration),
    /// Answered; `Some` by how much after the deadline.
    Answered {
        late_by: Option<Duration>,
    },
}

/// The status of a city's answer (`answered_at`, if any) at `now` against the deadline.
pub fn answer_status(
    deadline: DateTime<FixedOffset>,
    answered_at: Option<DateTime<FixedOffset>>,
    now: DateTime<FixedOffset>,
) -> AnswerStatus {
    match answered_at {
        Some(at) => AnswerStatus::Answered { late_by: (at > deadline).then(|| at - deadline) },
        None if now > deadline => AnswerStatus::Overdue(now - deadline),
        None => AnswerStatus::Awaiting,
    }
}
