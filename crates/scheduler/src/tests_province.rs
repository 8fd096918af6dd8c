//! A province of three cities on SQLite files and on PostgreSQL schemas of one database: an
//! advisory issued, followed by one city, justified by another, left unanswered by the third;
//! then raised and lifted. Deliveries reach each city's outbox once, a crash between a city's
//! copy and its record is caught up, and every chain verifies.

use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, Duration, FixedOffset, TimeZone, Utc};
use hazewarn_response::{AdvisoryTerms, AnswerStatus, CityAnswer, WarningLevel, answer_status};
use hazewarn_store::scratch;

use crate::{AdvisoryChange, AnswerRequest, ManualClock, Province, ProvinceConfig, SchedulerError};

const CITIES: [(&str, &str); 3] = [("luohe", "漯河市"), ("xuchang", "许昌市"), ("zhoukou", "周口市")];

fn repo() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

/// Each city's config in its own directory, its store at `store(id)`; the province config.
fn write_configs(dir: &Path, store: &dyn Fn(&str) -> String) -> ProvinceConfig {
    let mut listed = String::new();
    for (id, name) in CITIES {
        std::fs::create_dir_all(dir.join(id)).unwrap();
        let city = format!(
            r#"
[city]
id = "{id}"
name = "{name}"
[store]
url = "{url}"
[data]
work_dir = "work"
observations = ["{repo}/data/sample/observations.csv"]
model = "model"
list = "{repo}/data/lists/luohe-illustrative.csv"
inventory = "{repo}/data/lists/inventory-illustrative.csv"
[[channels]]
kind = "file-drop"
name = "files"
dir = "drop"
"#,
            url = store(id),
            repo = repo().display()
        );
        std::fs::write(dir.join(id).join("city.toml"), city).unwrap();
        listed.push_str(&format!("[[cities]]\nid = \"{id}\"\nconfig = \"{id}/city.toml\"\n"));
    }
    let text = format!("[province]\nid = \"henan\"\nname = \"河南省\"\nstore = \"{}\"\n{listed}", store("province"));
    ProvinceConfig::parse(&text, dir).unwrap()
}

fn local(s: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(s).unwrap()
}

fn terms(level: WarningLevel, deadline: &str) -> AdvisoryTerms {
    AdvisoryTerms {
        level,
        start: local("2026-12-08T00:00:00+08:00"),
        end: local("2026-12-10T00:00:00+08:00"),
        cities: CITIES.iter().map(|(id, _)| (*id).to_owned()).collect(),
        deadline: local(deadline),
    }
}

async fn messages_with_key(p: &Province, city: &str, key: &str) -> i64 {
    let c = p.city(city).unwrap();
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM outbox WHERE idempotency_key = $1")
        .bind(key)
        .fetch_one(c.store.pool())
        .await
        .unwrap();
    n
}

async fn the_advisory_flow(p: Province, clock: ManualClock) {
    let t0 = Utc.with_ymd_and_hms(2026, 12, 7, 1, 0, 0).unwrap(); // 09:00 +08:00
    clock.set(t0);
    let a = p
        .issue(terms(WarningLevel::Orange, "2026-12-07T18:00:00+08:00"), "省厅值班", "区域重污染过程", t0)
        .await
        .unwrap();
    assert_eq!(a.id, "henan-2026-001");
    for (id, _) in CITIES {
        assert_eq!(messages_with_key(&p, id, "advisory-henan-2026-001-1").await, 1, "{id}");
    }
    assert_eq!(p.deliver_pending(t0).await.unwrap(), 0, "nothing left to deliver");

    // Extended a day before anyone answers: following takes the extended end.
    let a =
        p.step(&a.id, AdvisoryChange::Extend(local("2026-12-11T00:00:00+08:00")), "省厅", "延长", t0).await.unwrap();
    // Luohe follows: its own warning starts at the advisory's level, through City::apply.
    let t1 = t0 + Duration::hours(1);
    let followed = p.answer("luohe", &a.id, AnswerRequest::Follow, "漯河应急办", t1).await.unwrap();
    let CityAnswer::Followed { warning, level } = &followed.answer else { panic!("{followed:?}") };
    assert_eq!(*level, WarningLevel::Orange);
    let luohe = p.city("luohe").unwrap();
    let w = luohe.store.warning_in_force().await.unwrap().unwrap();
    assert_eq!((&w.id, w.level()), (warning, WarningLevel::Orange));
    assert!(w.current().reason.contains(&a.id), "{}", w.current().reason);
    assert_eq!(w.current().end, local("2026-12-11T00:00:00+08:00"), "the extended end");
    assert!(!luohe.store.notices_of(&w.id, None).await.unwrap().is_empty(), "the step sent its notices");
    // A second answer to the same step is refused.
    let again = p.answer("luohe", &a.id, AnswerRequest::Justify { reason: "x".into() }, "漯河应急办", t1).await;
    assert!(again.is_err());

    // Xuchang has no warning to point to, and must say why it does not follow.
    let t2 = t0 + Duration::hours(2);
    assert!(matches!(
        p.answer("xuchang", &a.id, AnswerRequest::InForce, "许昌", t2).await,
        Err(SchedulerError::Conflict(_))
    ));
    assert!(p.answer("xuchang", &a.id, AnswerRequest::Justify { reason: " ".into() }, "许昌", t2).await.is_err());
    p.answer("xuchang", &a.id, AnswerRequest::Justify { reason: "本地扩散条件较好".into() }, "许昌", t2).await.unwrap();
    // Having justified, Xuchang cannot then follow the same step: refused before any warning starts.
    let again = p.answer("xuchang", &a.id, AnswerRequest::Follow, "许昌", t2).await;
    assert!(matches!(again, Err(SchedulerError::Conflict(_))), "{again:?}");
    assert!(p.city("xuchang").unwrap().store.warning_in_force().await.unwrap().is_none());

    // Zhoukou does not answer: at 20:00 it is two hours late.
    let for_zhoukou = p.advisories_for("zhoukou").await.unwrap();
    assert_eq!(for_zhoukou.len(), 1);
    assert!(for_zhoukou[0].1.is_none());
    let deadline = a.asking().terms.deadline;
    assert_eq!(
        answer_status(deadline, None, local("2026-12-07T20:00:00+08:00")),
        AnswerStatus::Overdue(Duration::hours(2))
    );

    // Raised to red: every city answers again; Luohe's orange no longer meets it.
    let t3 = t0 + Duration::hours(3);
    let red = p.step(
        &a.id,
        AdvisoryChange::Change(terms(WarningLevel::Red, "2026-12-07T22:00:00+08:00")),
        "省厅",
        "升级",
        t3,
    );
    let a = red.await.unwrap();
    assert_eq!(a.asking().step, 3);
    assert!(p.answer("luohe", &a.id, AnswerRequest::InForce, "漯河应急办", t3).await.is_err());
    p.answer("luohe", &a.id, AnswerRequest::Follow, "漯河应急办", t3).await.unwrap();
    assert_eq!(luohe.store.warning_in_force().await.unwrap().unwrap().level(), WarningLevel::Red);

    // A crash after Zhoukou's copy was queued but before it was recorded: caught up once.
    let receipts = |city: &'static str| {
        let store = p.city(city).unwrap().store.clone();
        async move {
            let entries = store.audit_tail(1000).await.unwrap();
            entries.iter().filter(|e| e.action == "advisory-received").count()
        }
    };
    assert_eq!(receipts("zhoukou").await, 3, "issue, extension, change");
    sqlx::query("DELETE FROM advisory_deliveries WHERE city = 'zhoukou' AND step = 3")
        .execute(p.store.pool())
        .await
        .unwrap();
    assert_eq!(p.deliver_pending(t3).await.unwrap(), 1);
    assert!(p.store.advisory_deliveries(&a.id).await.unwrap().contains(&(3, "zhoukou".to_owned())));
    assert_eq!(receipts("zhoukou").await, 3, "the catch-up found its rows queued and audited no second receipt");

    let t4 = t0 + Duration::hours(4);
    let lifted = p.step(&a.id, AdvisoryChange::Lift, "省厅", "过程结束", t4).await.unwrap();
    assert!(p.in_force().await.unwrap().is_empty(), "{lifted:?}");
    for (id, _) in CITIES {
        assert_eq!(messages_with_key(&p, id, "advisory-henan-2026-001-4").await, 1, "{id} told of the lift");
        let c = p.city(id).unwrap();
        let report = c.store.verify_audit().await.unwrap();
        assert!(report.ok(), "{id}: {report:?}");
    }
    let report = p.store.verify_audit().await.unwrap();
    assert!(report.ok(), "{report:?}");
    // issue, extension, change, lift, and three answers.
    assert_eq!(report.entries, 7);
    assert_eq!(p.store.answers(&a.id).await.unwrap().len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_advisory_is_followed_justified_and_left_late_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_configs(dir.path(), &|id| format!("sqlite://{id}.db"));
    let clock = ManualClock::new(Utc::now());
    let p = Province::open(config, Arc::new(clock.clone())).await.unwrap();
    the_advisory_flow(p, clock).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_advisory_is_followed_justified_and_left_late_on_postgres_schemas() {
    let dir = tempfile::tempdir().unwrap();
    let mut schemas = Vec::new();
    for id in CITIES.iter().map(|c| c.0).chain(["province"]) {
        let schema = scratch::schema_name(&format!("prov_{id}"));
        scratch::create_schema(scratch::POSTGRES_URL, &schema).await.expect(
            "PostgreSQL at 127.0.0.1:5432 (database test, user postgres) runs on every development and CI machine",
        );
        schemas.push((id, schema));
    }
    let url = |id: &str| {
        let schema = &schemas.iter().find(|s| s.0 == id).unwrap().1;
        scratch::schema_url(scratch::POSTGRES_URL, schema)
    };
    let config = write_configs(dir.path(), &url);
    let clock = ManualClock::new(Utc::now());
    let p = Province::open(config, Arc::new(clock.clone())).await.unwrap();
    the_advisory_flow(p, clock).await;
    for (_, schema) in schemas {
        scratch::drop_schema(scratch::POSTGRES_URL, &schema).await.unwrap();
    }
}

#[test]
fn a_province_config_refuses_a_city_listed_twice_or_none() {
    let base = Path::new("/p");
    let twice = "[province]\nid = \"h\"\nname = \"h\"\nstore = \"sqlite://p.db\"\n\
                 [[cities]]\nid = \"a\"\nconfig = \"a.toml\"\n[[cities]]\nid = \"a\"\nconfig = \"b.toml\"\n";
    assert!(ProvinceConfig::parse(twice, base).unwrap_err().contains("cities[1].id"));
    let none = "cities = []\n[province]\nid = \"h\"\nname = \"h\"\nstore = \"sqlite://p.db\"\n";
    assert!(ProvinceConfig::parse(none, base).unwrap_err().contains("at least one city"));
    let ok = "[province]\nid = \"h\"\nname = \"h\"\nstore = \"sqlite://p.db\"\n[[cities]]\nid = \"a\"\nconfig = \"a/city.toml\"\n";
    let c = ProvinceConfig::parse(ok, base).unwrap();
    assert_eq!(c.province.store, "sqlite:///p/p.db");
    assert_eq!(c.cities[0].config, Path::new("/p/a/city.toml"));
}
