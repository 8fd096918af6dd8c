//! Notices that reach people, run as an operator would: 1,000 enterprises reached by SMS
//! (Tencent Cloud's API on loopback, checking the signature as documented) with e-mail (a real
//! SMTP server on loopback) as the fallback, a dispatcher killed with SIGKILL mid-way and
//! restarted. Every enterprise gets its notice on its first working channel, no channel gets two
//! different notice ids for one step, and the audit chain verifies.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::{Duration, Instant};

use hazewarn_store::OutboxStatus;
use hazewarn_testkit::{smtp::SmtpServer, tencent};

use crate::cli_delivery::{SECRET, dispatch_until_empty, issue_orange, kill_mid_dispatch, rt, write_config};
use crate::common::{hazewarn, text};
use crate::fixtures::{Mischief, Receiver, list_contacts, list_csv};

const N: usize = 1000;

/// Every 10th enterprise's number is refused (so its notice falls back to e-mail); of those,
/// every 5th one's mailbox is refused too (so its route is spent).
fn refused(i: usize) -> (bool, bool) {
    (i % 10 == 3, i % 50 == 3)
}

fn people_channels(sms: &str, smtp_port: u16) -> String {
    format!(
        "[links]\nbase_url = \"https://hw.example.gov.cn\"\nsecret = \"integration-link-secret-0123456789abcdef\"\n{}{}",
        tencent::channel("sms", sms),
        hazewarn_testkit::smtp::channel("mail", smtp_port)
    )
}

#[test]
fn sigkill_mid_dispatch_over_sms_and_email_reaches_each_enterprise_on_its_first_working_channel() {
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("list.csv");
    std::fs::write(&list, list_csv(N)).unwrap();
    let (sms, smtp) = (tencent::TencentSms::default(), SmtpServer::default());
    let (sms_url, smtp_port) = rt().block_on(async { (sms.start().await, smtp.start().await) });
    for i in 0..N {
        let (mobile, email) = list_contacts(i);
        let (no_sms, no_mail) = refused(i);
        if no_sms {
            sms.codes
                .lock()
                .unwrap()
                .insert(format!("+86{mobile}"), "InvalidParameterValue.IncorrectPhoneNumber".into());
        }
        if no_mail {
            smtp.refuse.lock().unwrap().insert(email);
        }
    }
    let quiet = Mischief { fail: 0.0, busy: 0.0, hang: 0.0, slow: 0.0, hang_ms: 0 };
    let hook = Receiver::start(SECRET, quiet, 3);
    let store_url = format!("sqlite://{}", dir.path().join("hw.db").display());
    let extra = people_channels(&sms_url, smtp_port);
    let config = write_config(dir.path(), &store_url, &hook.url, Path::new("unused"), &list, &extra);
    let cfg = config.to_str().unwrap();
    issue_orange(cfg);
    let dispatch = || dispatch_until_empty(cfg);
    let first = dispatch();
    let t0 = Instant::now();
    while sms.accepted.lock().unwrap().len() < 300 {
        assert!(t0.elapsed() < Duration::from_secs(120), "the dispatcher made no progress");
        std::thread::sleep(Duration::from_millis(5));
    }
    let store = kill_mid_dispatch(first, &store_url);
    let second = dispatch().wait_with_output().unwrap();
    assert!(second.status.success(), "{}", text(&second));

    let warning = rt().block_on(store.warning_in_force()).unwrap().expect("the warning is in force");
    let notices = rt().block_on(store.notices_of(&warning.id, None)).unwrap();
    assert_eq!(notices.len(), N);
    // Per channel, per phone or mailbox: the notice ids it received (repeats of one id allowed).
    let mut by_phone: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for body in sms.accepted.lock().unwrap().iter() {
        let phone = body["PhoneNumberSet"][0].as_str().unwrap().trim_start_matches("+86").to_owned();
        by_phone.entry(phone).or_default().insert(body["SessionContext"].as_str().unwrap().to_owned());
    }
    let mut by_mailbox: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for m in smtp.received.lock().unwrap().iter() {
        let parsed = mail_parser::MessageParser::default().parse(&m.data).unwrap();
        by_mailbox.entry(m.to.join(",")).or_default().insert(parsed.message_id().unwrap().replace("@hazewarn", ""));
    }
    let mut counts = [0usize; 3];
    for n in &notices {
        // list_csv numbers its enterprises in the credit code's body from 1,000,000.
        let i = n.notice.credit_code[10..17].parse::<usize>().unwrap() - 1_000_000;
        let (mobile, email) = list_contacts(i);
        let want = BTreeSet::from([n.notice.id.clone()]);
        let (got_sms, got_mail) = (by_phone.get(&mobile), by_mailbox.get(&email));
        let rows = rt().block_on(store.outbox_of(&n.notice.id)).unwrap();
        let status = |ch: &str| rows.iter().find(|r| r.channel == ch).map(|r| r.status);
        match refused(i) {
            (false, _) => {
                assert_eq!(got_sms, Some(&want), "{mobile}");
                assert_eq!((got_mail, status("mail")), (None, Some(OutboxStatus::Standby)), "{email}");
                counts[0] += 1;
            }
            (true, false) => {
                assert_eq!((got_sms, got_mail), (None, Some(&want)), "{email}");
                assert_eq!(status("sms"), Some(OutboxStatus::Dead));
                counts[1] += 1;
            }
            (true, true) => {
                assert_eq!((got_sms, got_mail), (None, None));
                assert_eq!((status("sms"), status("mail")), (Some(OutboxStatus::Dead), Some(OutboxStatus::Dead)));
                counts[2] += 1;
            }
        }
    }
    assert_eq!(counts, [900, 80, 20], "SMS, e-mail after a refused number, neither");
    let o = hazewarn(&["audit", "verify", "--config", cfg]);
    assert!(o.status.success(), "{}", text(&o));
}
