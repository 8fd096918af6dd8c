//! Regional advisories: their steps, the answers they accept and lateness, by hand.

use chrono::{DateTime, Duration, FixedOffset};

use crate::{
    Advisory, AdvisoryActor, AdvisoryState, AdvisoryStepKind, AdvisoryTerms, AnswerStatus, CityAnswer, WarningLevel,
    answer_status,
};

fn t(s: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(s).unwrap()
}

fn terms(level: WarningLevel, cities: &[&str]) -> AdvisoryTerms {
    AdvisoryTerms {
        level,
        start: t("2026-12-08T00:00:00+08:00"),
        end: t("2026-12-11T00:00:00+08:00"),
        cities: cities.iter().map(|c| (*c).to_owned()).collect(),
        deadline: t("2026-12-07T18:00:00+08:00"),
    }
}

fn by(at: &str) -> AdvisoryActor<'static> {
    AdvisoryActor { by: "省厅值班", at: t(at), reason: "区域重污染过程" }
}

fn issued() -> Advisory {
    let terms = terms(WarningLevel::Orange, &["luohe", "xuchang", "zhoukou"]);
    Advisory::issue("henan-2026-001", terms, by("2026-12-07T09:00:00+08:00")).unwrap()
}

#[test]
fn an_issue_refuses_terms_that_cannot_be_answered() {
    let at = by("2026-12-07T09:00:00+08:00");
    let cases: Vec<(AdvisoryTerms, &str)> = vec![
        (terms(WarningLevel::None, &["luohe"]), "`level`: an advisory needs a warning colour"),
        (terms(WarningLevel::Red, &[]), "`cities`: an advisory must name at least one city"),
        (terms(WarningLevel::Red, &["luohe", "luohe"]), "`cities`: `luohe` is named twice"),
        (
            AdvisoryTerms { deadline: t("2026-12-07T08:00:00+08:00"), ..terms(WarningLevel::Red, &["luohe"]) },
            "`deadline`: 2026-12-07 08:00:00 +08:00 is not after",
        ),
        (
            AdvisoryTerms { deadline: t("2026-12-12T00:00:00+08:00"), ..terms(WarningLevel::Red, &["luohe"]) },
            "`deadline`: 2026-12-12 00:00:00 +08:00 is after the advisory's end",
        ),
        (
            AdvisoryTerms { end: t("2026-12-07T12:00:00+08:00"), ..terms(WarningLevel::Red, &["luohe"]) },
            "`end`: 2026-12-07 12:00:00 +08:00 is not after `start`",
        ),
    ];
    for (terms, why) in cases {
        let e = Advisory::issue("a", terms.clone(), at).unwrap_err().to_string();
        assert!(e.contains(why), "{terms:?}: {e}");
    }
}

#[test]
fn steps_number_on_and_only_an_issue_or_change_asks_again() {
    let mut a = issued();
    a.extend(t("2026-12-12T00:00:00+08:00"), by("2026-12-07T12:00:00+08:00")).unwrap();
    assert_eq!(a.current().step, 2);
    assert_eq!(a.asking().step, 1, "an extension asks nothing new");
    let raised =
        AdvisoryTerms { end: t("2026-12-12T00:00:00+08:00"), ..terms(WarningLevel::Red, &["luohe", "xuchang"]) };
    a.change(raised, by("2026-12-07T13:00:00+08:00")).unwrap();
    assert_eq!((a.asking().step, a.asking().kind), (3, AdvisoryStepKind::Change));
    // An extension must extend; a step cannot go back in time.
    assert!(a.extend(t("2026-12-11T00:00:00+08:00"), by("2026-12-07T14:00:00+08:00")).is_err());
    assert!(a.lift(by("2026-12-07T12:59:00+08:00")).is_err());
    a.lift(by("2026-12-07T15:00:00+08:00")).unwrap();
    assert_eq!(a.state, AdvisoryState::Lifted);
    assert!(a.extend(t("2026-12-13T00:00:00+08:00"), by("2026-12-07T16:00:00+08:00")).is_err());
    assert!(a.check_answer("luohe", &CityAnswer::Justified { reason: "x".into() }).is_err());
}

#[test]
fn an_answer_must_meet_the_level_of_the_step_that_asked() {
    let mut a = issued();
    let orange = CityAnswer::Followed { warning: "LH-1".into(), level: WarningLevel::Orange };
    let yellow = CityAnswer::InForce { warning: "LH-1".into(), level: WarningLevel::Yellow };
    assert!(a.check_answer("luohe", &orange).is_ok());
    assert!(a.check_answer("luohe", &yellow).unwrap_err().to_string().contains("below"));
    assert!(a.check_answer("kaifeng", &orange).unwrap_err().to_string().contains("does not name"));
    assert!(a.check_answer("luohe", &CityAnswer::Justified { reason: "  ".into() }).is_err());
    assert!(a.check_answer("luohe", &CityAnswer::Justified { reason: "本地扩散条件好".into() }).is_ok());
    // Raised to red: orange no longer meets it.
    let red = AdvisoryTerms { level: WarningLevel::Red, ..a.current().terms.clone() };
    a.change(red, by("2026-12-07T10:00:00+08:00")).unwrap();
    assert!(a.check_answer("luohe", &orange).is_err());
}

#[test]
fn lateness_is_measured_from_the_deadline() {
    let deadline = t("2026-12-07T18:00:00+08:00");
    let now = t("2026-12-07T20:30:00+08:00");
    assert_eq!(answer_status(deadline, None, t("2026-12-07T17:00:00+08:00")), AnswerStatus::Awaiting);
    assert_eq!(answer_status(deadline, None, now), AnswerStatus::Overdue(Duration::minutes(150)));
    assert_eq!(answer_status(deadline, Some(deadline), now), AnswerStatus::Answered { late_by: None });
    assert_eq!(
        answer_status(deadline, Some(t("2026-12-07T19:15:00+08:00")), now),
        AnswerStatus::Answered { late_by: Some(Duration::minutes(75)) }
    );
}

#[test]
fn an_advisory_is_over_once_lifted_or_past_its_end() {
    let mut a = issued();
    assert!(!a.is_over(t("2026-12-10T23:59:59+08:00")));
    assert!(a.is_over(t("2026-12-11T00:00:00+08:00")), "its end is the first moment it is over");
    a.lift(by("2026-12-07T10:00:00+08:00")).unwrap();
    assert!(a.is_over(t("2026-12-07T10:00:00+08:00")));
}
