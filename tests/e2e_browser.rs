//! One end-to-end run in a real browser: `hazewarn serve` on a local port, driven by
//! `tests/e2e/flow.mjs` (playwright-core over the DevTools protocol, Debian's chromium, headless).
//! Screenshots of every page land in `target/e2e/`.

use std::path::Path;
use std::process::Command;

use crate::common::{add_user, hazewarn, repo, serve, text, trained_on_sample};

/// Skips outside CI when the browser or the driver is missing; fails in CI (`.ci/run` installs both).
fn browser_ready() -> bool {
    let driver = repo().join("tests/e2e/node_modules/playwright-core");
    let ready = Path::new("/usr/bin/chromium").exists() && driver.exists();
    if !ready && std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("CI=true but /usr/bin/chromium or {} is missing (.ci/run installs them)", driver.display());
    }
    if !ready {
        eprintln!("skipping: chromium or playwright-core is missing (run .ci/run, or set CI=true to fail)");
    }
    ready
}

#[test]
fn four_roles_in_a_real_browser() {
    if !browser_ready() {
        return;
    }
    let (_m, _obs, model) = trained_on_sample("2025-12-31");
    let dir = tempfile::tempdir().unwrap();
    let lists = repo().join("data/lists");
    let config = dir.path().join("city.toml");
    std::fs::write(
        &config,
        format!(
            "[city]\nid = \"LH\"\nname = \"漯河市（示例）\"\ndemo_clock_start = \"2026-01-01T16:30:00+08:00\"\n[store]\nurl = \"sqlite://hw.db\"\n[data]\nwork_dir = \"work\"\n\
             observations = [\"{}\"]\nmodel = \"{}\"\nlist = \"{}\"\ninventory = \"{}\"\n\
             [[channels]]\nkind = \"file-drop\"\nname = \"files\"\ndir = \"drop\"\n",
            repo().join("data/sample/observations.csv").display(),
            model.display(),
            lists.join("luohe-illustrative.csv").display(),
            lists.join("inventory-illustrative.csv").display()
        ),
    )
    .unwrap();
    let cfg = config.to_str().unwrap();
    // Today's forecast, waiting for the forecaster.
    let o = hazewarn(&["cycle", "--config", cfg, "--at", "2026-01-01T16:00:00+08:00"]);
    assert!(o.status.success(), "{}", text(&o));
    let list = std::fs::read_to_string(lists.join("luohe-illustrative.csv")).unwrap();
    let mut codes: Vec<&str> = list.lines().skip(1).filter_map(|l| l.split(',').next()).collect();
    codes.dedup();
    let users = [
        ("fc", "forecaster", None),
        ("office", "office", None),
        ("ent-a", "enterprise", Some(codes[0])),
        ("ent-b", "enterprise", Some(codes[1])),
    ];
    for (name, role, code) in users {
        add_user(cfg, name, role, &format!("e2e-token-{name}-0123456789abcdef"), code);
    }
    let (mut server, addr) = serve(cfg);
    let out = repo().join("target/e2e");
    std::fs::create_dir_all(&out).unwrap();
    let run = Command::new("node")
        .current_dir(repo().join("tests/e2e"))
        .args(["flow.mjs", &format!("http://{addr}"), out.to_str().unwrap()])
        .args(["fc", "office", "ent-a", "ent-b"].map(|n| format!("e2e-token-{n}-0123456789abcdef")))
        .output()
        .unwrap();
    server.kill().unwrap();
    server.wait().unwrap();
    assert!(run.status.success(), "{}", text(&run));
    for shot in ["1-forecaster", "2-office", "3-enterprise-acknowledged", "4-other-enterprise"] {
        let png = out.join(format!("{shot}.png"));
        assert!(std::fs::metadata(&png).is_ok_and(|m| m.len() > 10_000), "{} is missing", png.display());
    }
}
