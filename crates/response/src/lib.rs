/*!
The emergency response: warning grading, the emergency reduction list (应急减排清单),
curtailment plans, curtailment notices and CAP 1.2 public alerts.

Pure domain logic: no IO and no clock. Inputs are values (bytes of an imported list, a
forecast, the time of a step), so every function here is deterministic and testable.

Principal types, in the order the office uses them:

* [`GradingProfile`]: warning rules as versioned TOML (`national-2024`, `national-2019`,
  `example-local`, or a city's own file). [`grade`] turns a 7-day [`DailyForecast`] and the
  [`CurrentWarning`] into a [`Recommendation`]: action, [`WarningLevel`], start, end and
  bilingual reasons citing the clauses.
* [`Warning`]: the lifecycle draft → issued → upgraded/downgraded/extended → lifted, each
  [`Transition`] recording who, when, why and which forecast.
* [`ReductionList`] of [`Enterprise`]s and their [`ProductionLine`]s, imported from CSV or XLSX;
  blank measures come from the [`GradeRuleTable`].
* [`plan`] applies the list at a level → [`CurtailmentPlan`] with totals per pollutant against
  the 10/20/30 % targets and suggestions to close a shortfall.
* [`notices`] → one [`CurtailmentNotice`] per affected enterprise; [`warning_alert`] → a
  [`CapAlert`].
*/

mod achieved;
mod advisory;
mod cap;
mod contact;
mod grade;
mod level;
mod lifecycle;
mod list;
mod list_diff;
mod list_import;
mod measure;
mod notice;
mod plan;
mod profile;
mod rules;

pub use achieved::Achievement;
pub use advisory::{
    Advisory, AdvisoryActor, AdvisoryState, AdvisoryStep, AdvisoryStepKind, AdvisoryTerms, AnswerStatus, CityAnswer,
    answer_status,
};
pub use cap::{
    CapAlert, CapArea, CapConfig, CapInfo, CapReference, Category, Certainty, MsgType, ResponseType, Scope, Severity,
    Status, Urgency, warning_alert,
};
pub use contact::{Contacts, RobotKind, parse_email, parse_mobile, robot_kind};
pub use grade::{
    Action, CurrentWarning, DailyForecast, DayWindow, RangeBound, Reason, Recommendation, daily_pm25_aqi, grade,
};
pub use hazewarn_text::{check_text, utf8_text, xml_char_allowed};
pub use level::{ResponseLevel, WarningLevel};
pub use lifecycle::{Actor, Transition, TransitionKind, Warning, WarningState};
pub use list::{COLUMNS, CreditCode, Emissions, Enterprise, Grade, ListIssue, ProductionLine, ReductionList};
pub use list_diff::{ChangedEnterprise, ListDiff, ListedEnterprise};
pub use measure::Measure;
pub use notice::{CurtailmentNotice, NoticeContext, NoticeLine, html_escape, notices};
pub use plan::{
    CurtailmentPlan, EnterprisePlan, GuaranteePolicy, Inventory, LinePlan, PollutantTotal, Suggestion, Treatment, plan,
};
pub use profile::{Bilingual, Clause, Condition, GradingProfile, PublicMeasures, Targets};
pub use rules::{GradeRule, GradeRuleTable};

/// Everything the response crate can refuse.
#[derive(Debug, thiserror::Error)]
pub enum ResponseError {
    #[error("rules {source_name}: {message}")]
    Profile { source_name: String, message: String },
    #[error("forecast: {0}")]
    Forecast(String),
    #[error("illegal warning transition: {0}")]
    IllegalTransition(String),
    #[error("reduction list: {} problem(s); first: {}", .0.len(), .0.first().map(ToString::to_string).unwrap_or_default())]
    ListImport(Vec<ListIssue>),
    #[error("inventory: {0}")]
    Inventory(String),
    #[error("plan: {0}")]
    Plan(String),
    #[error("CAP: {0}")]
    Cap(String),
    #[error("regional advisory: {0}")]
    Advisory(String),
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_advisory;
#[cfg(test)]
mod tests_fuzz;
#[cfg(test)]
mod tests_import;
#[cfg(test)]
mod tests_list;
