//! The scale-out simulation (see [`crate::simulate`]) at Henan's size: 18 cities on 2 instances
//! each, all at once. The 339 × 4 run is `cargo bench --bench scaleout`.

use crate::simulate::{Plan, run};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eighteen_cities_on_two_instances_each_run_every_slot_and_send_every_notice_once() {
    let report = run(Plan { cities: 18, instances: 2, parallel: 18 }).await;
    if let Err(e) = report.check() {
        panic!("{e}\n{}", report.summary());
    }
    eprintln!("{}", report.summary());
}
