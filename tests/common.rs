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

/// Adds an account to the city of `cfg` with `token` (and, for an enterprise, its credit code).
pub fn add_user(cfg: &str, name: &str, role: &str, token: &str, credit_code: Option<&str>) {
    let mut args = vec!["user", "add", "--config", cfg, "--name", name, "--role", role, "--token", token];
    if let Some(c) = credit_code {
        args.extend(["--credit-code", c]);
    }
    let o = hazewarn(&args);
    assert!(o.status.success(), "{}", text(&o));
}

/// `hazewarn serve` for the city of `cfg` on a free loopback port, once it accepts connections:
/// (the process, its address). The caller kills it.
pub fn serve(cfg: &str) -> (std::process::Child, String) {
    use std::time::{Duration, Instant};
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let addr = format!("127.0.0.1:{port}");
    let server = Command::new(env!("CARGO_BIN_EXE_hazewarn"))
        .args(["serve", "--config", cfg, "--addr", &addr])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    while std::net::TcpStream::connect(&addr).is_err() {
        assert!(t0.elapsed() < Duration::from_secs(30), "the server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    (server, addr)
}
