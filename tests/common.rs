use std::path::PathBuf;
use std::process::{Command, Output};

pub fn hazewarn(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hazewarn")).args(args).output().expect("run hazewarn")
}

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `../shared/data`, or `None` outside CI when it is absent. In CI (`CI=true`) its absence fails the test.
pub fn shared_data() -> Option<PathBuf> {
    let dir = repo().join("../shared/data");
    if dir.join("README.md").exists() {
        return Some(dir);
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("CI=true but {} is missing: these tests need the shared UCI data", dir.display());
    }
    eprintln!("skipping: {} is absent (set CI=true to make this a failure)", dir.display());
    None
}

pub fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

/// A model trained on the sample city up to `until`: (its temporary directory, the sample, the model).
pub fn trained_on_sample(until: &str) -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let obs = repo().join("data/sample/observations.csv");
    let model = dir.path().join("m");
    let o = hazewarn(&["train", "--obs", obs.to_str().unwrap(), "--until", until, "--out", model.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    (dir, obs, model)
}
