//! The dispatcher against a real SQLite store: a channel that hangs holds up only its own
//! messages, and a lease is renewed while a send is in flight.

use std::sync::Arc;

use chrono::Utc;
use hazewarn_store::{NewMessage, OutboxEntry, OutboxStatus, Store};
use tokio::sync::watch;

use crate::channel::{Channel, FileDrop, SendFuture, SendResult};
use crate::config::Delivery;
use crate::{Dispatcher, SystemClock};

/// A channel whose sends wait until the test opens the gate.
struct Gated {
    gate: watch::Receiver<bool>,
}

impl Channel for Gated {
    fn name(&self) -> &str {
        "hook"
    }
    fn target(&self, _: &str, _: &crate::channel::Recipient) -> Option<String> {
        Some("gated".into())
    }
    fn send<'a>(&'a self, _: &'a OutboxEntry) -> SendFuture<'a> {
        let mut gate = self.gate.clone();
        Box::pin(async move {
            let _ = gate.wait_for(|open| *open).await;
            SendResult::Delivered("opened".into())
        })
    }
}

async fn store_with(dir: &std::path::Path, hook: usize, files: usize) -> Store {
    let store = Store::connect(&format!("sqlite://{}", dir.join("hw.db").display())).await.unwrap();
    let mut tx = store.write().await.unwrap();
    let drop_dir = dir.join("drop").display().to_string();
    // Ids sort the hanging channel's messages first, so they are claimed first.
    let messages = (0..hook).map(|k| (format!("a-hook-{k:03}"), "hook", "gated".to_owned()));
    let messages = messages.chain((0..files).map(|k| (format!("z-files-{k:03}"), "files", drop_dir.clone())));
    for (id, channel, target) in messages {
        let m = NewMessage {
            id: id.clone(),
            kind: "notice".into(),
            subject: id.clone(),
            channel: channel.into(),
            target,
            idempotency_key: id,
            payload: "{}".into(),
            route_rank: None,
        };
        tx.enqueue(&m, Utc::now()).await.unwrap();
    }
    tx.commit().await.unwrap();
    store
}

fn dispatcher(store: &Store, dir: &std::path::Path, gate: watch::Receiver<bool>, delivery: Delivery) -> Dispatcher {
    let files: Arc<dyn Channel> = Arc::new(FileDrop { name: "files".into(), dir: dir.join("drop") });
    let channels = vec![Arc::new(Gated { gate }) as Arc<dyn Channel>, files];
    Dispatcher::new(store.clone(), channels, delivery, Arc::new(SystemClock), "test")
}

async fn sent_on(store: &Store, channel: &str) -> usize {
    let sent = store.outbox_in(OutboxStatus::Sent, 10_000).await.unwrap();
    sent.iter().filter(|e| e.channel == channel).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_channel_that_hangs_does_not_hold_up_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with(dir.path(), 40, 25).await;
    let (open, gate) = watch::channel(false);
    let d = dispatcher(&store, dir.path(), gate, Delivery { concurrency: 32, ..Delivery::default() });
    let run = tokio::spawn(async move { d.dispatch_due().await });
    // Every file-drop message goes out while all 40 webhook sends still hang (the bound only
    // stops a broken build from waiting for ever).
    let waited = tokio::time::timeout(std::time::Duration::from_secs(60), async {
        while sent_on(&store, "files").await < 25 {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    })
    .await;
    assert!(waited.is_ok(), "file drops stuck behind the hung channel: {} of 25 sent", sent_on(&store, "files").await);
    assert_eq!(sent_on(&store, "hook").await, 0, "the hung channel has delivered nothing yet");
    open.send(true).unwrap();
    let report = run.await.unwrap().unwrap();
    assert_eq!((report.sent, report.fenced), (65, 0));
    assert_eq!(store.outbox_counts().await.unwrap(), (0, 65, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lease_is_renewed_while_its_send_is_in_flight() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with(dir.path(), 3, 0).await;
    let (open, gate) = watch::channel(false);
    let d = dispatcher(&store, dir.path(), gate, Delivery { lease_s: 1, ..Delivery::default() });
    let run = tokio::spawn(async move { d.dispatch_due().await });
    // Three times the lease later, nobody else can claim the messages: their holder renewed them.
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    let stolen = store.claim_due("other", Utc::now(), chrono::Duration::seconds(60), 10, None).await.unwrap();
    assert!(stolen.is_empty(), "a held lease expired: {:?}", stolen.iter().map(|e| &e.id).collect::<Vec<_>>());
    open.send(true).unwrap();
    let report = run.await.unwrap().unwrap();
    assert_eq!((report.sent, report.fenced), (3, 0));
}
