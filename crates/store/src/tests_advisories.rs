//! Advisories and answers on both backends: numbering, one answer per city and step, the rows
//! covered by the audit chain.

use chrono::{DateTime, FixedOffset};
use hazewarn_response::{Advisory, AdvisoryActor, AdvisoryTerms, CityAnswer, WarningLevel};

use crate::tests::on_both;
use crate::{StoreError, StoredAnswer};

fn t(s: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(s).unwrap()
}

fn advisory(id: &str) -> Advisory {
    let terms = AdvisoryTerms {
        level: WarningLevel::Orange,
        start: t("2026-12-08T00:00:00+08:00"),
        end: t("2026-12-11T00:00:00+08:00"),
        cities: vec!["luohe".into(), "xuchang".into()],
        deadline: t("2026-12-07T18:00:00+08:00"),
    };
    let who = AdvisoryActor { by: "province", at: t("2026-12-07T09:00:00+08:00"), reason: "区域过程" };
    Advisory::issue(id, terms, who).unwrap()
}

#[tokio::test]
async fn advisories_number_on_answer_once_and_are_audited_with_their_rows() {
    on_both("advisories", |s| async move {
        let mut tx = s.write().await.unwrap();
        let first = tx.next_advisory_id("henan-2026").await.unwrap();
        assert_eq!(first, "henan-2026-001");
        tx.save_advisory(&advisory(&first)).await.unwrap();
        assert_eq!(tx.next_advisory_id("henan-2026").await.unwrap(), "henan-2026-002");
        assert_eq!(tx.next_advisory_id("henan-2027").await.unwrap(), "henan-2027-001");
        tx.commit().await.unwrap();

        let mut a = s.advisory(&first).await.unwrap().unwrap();
        assert_eq!(a, advisory(&first));
        a.extend(
            t("2026-12-12T00:00:00+08:00"),
            AdvisoryActor { by: "province", at: t("2026-12-07T10:00:00+08:00"), reason: "延长" },
        )
        .unwrap();
        let mut tx = s.write().await.unwrap();
        tx.save_advisory(&a).await.unwrap();
        let answer = StoredAnswer {
            advisory_id: first.clone(),
            step: 1,
            city: "luohe".into(),
            answer: CityAnswer::Justified { reason: "本地扩散条件好".into() },
            at: t("2026-12-07T19:00:00+08:00"),
            by: "luohe office".into(),
        };
        tx.save_answer(&answer).await.unwrap();
        let again = tx.save_answer(&answer).await.unwrap_err();
        assert!(matches!(again, StoreError::Conflict(_)), "{again}");
        tx.commit().await.unwrap();

        assert_eq!(s.advisory(&first).await.unwrap().unwrap().current().step, 2);
        let stored = s.answers(&first).await.unwrap();
        assert_eq!(stored, vec![answer]);
        // Read back in Beijing time as written (equality of times ignores the offset).
        assert_eq!(stored[0].at.to_rfc3339(), "2026-12-07T19:00:00+08:00");
        let report = s.verify_audit().await.unwrap();
        assert!(report.ok(), "{report:?}");
        // advisory-issue, advisory-extend, one answer (the refused second left no entry).
        assert_eq!(report.entries, 3);

        // An answer edited behind hazewarn's back is named.
        sqlx::query("UPDATE advisory_answers SET answer = 'followed'").execute(s.pool()).await.unwrap();
        let report = s.verify_audit().await.unwrap();
        assert!(!report.ok());
        assert!(format!("{report:?}").contains("advisory_answers"), "{report:?}");
    })
    .await;
}
