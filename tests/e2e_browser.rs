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
    let mut shots: Vec<String> =
        ["1-forecaster", "2-office", "3-enterprise-acknowledged", "4-other-enterprise", "5-office-phone"]
            .map(String::from)
            .to_vec();
    // Every role's pages in both languages at both widths (step 6 of the flow).
    for page in
        ["public", "forecaster", "login", "office", "office-history", "office-audit", "office-print", "enterprise"]
    {
        for lang in ["zh-CN", "en"] {
            shots.extend(["1280", "390"].map(|w| format!("pages/{page}-{lang}-{w}")));
        }
    }
    for shot in shots {
        let png = out.join(format!("{shot}.png"));
        assert!(std::fs::metadata(&png).is_ok_and(|m| m.len() > 10_000), "{} is missing", png.display());
    }
}

/// `n` distinct free loopback addresses: every listener is held until all are chosen.
fn free_addrs(n: usize) -> Vec<String> {
    let held: Vec<std::net::TcpListener> =
        (0..n).map(|_| std::net::TcpListener::bind("127.0.0.1:0").unwrap()).collect();
    held.iter().map(|l| l.local_addr().unwrap().to_string()).collect()
}

/// `hazewarn province serve` for the cities `ids` (each a `{id}/city.toml` under `dir`) on free
/// loopback ports, once every listener accepts: (the process, the province's address, each
/// city's in the order of `ids`). A port another test took between choosing and binding makes
/// the server exit: it is started again on new ports. The caller kills it.
fn serve_province(dir: &Path, ids: &[&str]) -> (std::process::Child, String, Vec<String>) {
    use std::time::{Duration, Instant};
    let config = dir.join("province.toml");
    let cfg = config.to_str().unwrap();
    let write = |cities: &[String]| {
        let mut listed =
            "[province]\nid = \"henan\"\nname = \"河南省（示例）\"\nstore = \"sqlite://province.db\"\n".to_owned();
        for (id, addr) in ids.iter().zip(cities) {
            listed += &format!("[[cities]]\nid = \"{id}\"\nconfig = \"{id}/city.toml\"\nlisten = \"{addr}\"\n");
        }
        std::fs::write(&config, listed).unwrap();
    };
    write(&free_addrs(ids.len()));
    let token = "e2e-token-province-0123456789";
    let o = hazewarn(&["province", "user-add", "--config", cfg, "--name", "省厅值班", "--token", token]);
    assert!(o.status.success(), "{}", text(&o));
    for _attempt in 0..3 {
        let mut addrs = free_addrs(ids.len() + 1);
        let addr = addrs.remove(0);
        write(&addrs);
        let mut server = Command::new(env!("CARGO_BIN_EXE_hazewarn"))
            .args(["province", "serve", "--config", cfg, "--addr", &addr])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let t0 = Instant::now();
        let up = std::iter::once(&addr).chain(&addrs).all(|a| {
            loop {
                if std::net::TcpStream::connect(a).is_ok() {
                    break true;
                }
                if server.try_wait().unwrap().is_some() {
                    break false;
                }
                assert!(t0.elapsed() < Duration::from_secs(30), "the province did not start");
                std::thread::sleep(Duration::from_millis(50));
            }
        });
        // Still running once every port answers: the ports are its own.
        std::thread::sleep(Duration::from_millis(200));
        if up && server.try_wait().unwrap().is_none() {
            return (server, addr, addrs);
        }
        let _ = server.kill();
        let _ = server.wait();
    }
    panic!("the province could not be served on free ports three times");
}

#[test]
fn a_regional_advisory_followed_justified_and_answered_late_in_a_real_browser() {
    if !browser_ready() {
        return;
    }
    let (_m, obs, model) = trained_on_sample("2025-12-31");
    let dir = tempfile::tempdir().unwrap();
    let lists = repo().join("data/lists");
    let ids = ["luohe", "xuchang", "zhoukou"];
    for (k, (id, name)) in ids.iter().zip(["漯河市（示例）", "许昌市（示例）", "周口市（示例）"]).enumerate()
    {
        let city = dir.path().join(id);
        std::fs::create_dir_all(&city).unwrap();
        let config = city.join("city.toml");
        std::fs::write(
            &config,
            format!(
                "[city]\nid = \"{id}\"\nname = \"{name}\"\n[store]\nurl = \"sqlite://hw.db\"\n[data]\nwork_dir = \"work\"\n\
                 observations = [\"{}\"]\nmodel = \"{}\"\nlist = \"{}\"\ninventory = \"{}\"\n\
                 [[channels]]\nkind = \"file-drop\"\nname = \"files\"\ndir = \"drop\"\n",
                obs.display(),
                model.display(),
                lists.join("luohe-illustrative.csv").display(),
                lists.join("inventory-illustrative.csv").display()
            ),
        )
        .unwrap();
        let cfg = config.to_str().unwrap();
        // Two cities have a forecast for the consultation view; the third has none yet.
        if k < 2 {
            let o = hazewarn(&["cycle", "--config", cfg, "--at", "2026-01-01T16:00:00+08:00"]);
            assert!(o.status.success(), "{}", text(&o));
        }
        add_user(cfg, "office", "office", "e2e-token-office-0123456789abcdef", None);
    }
    let (mut server, province, cities) = serve_province(dir.path(), &ids);
    let out = repo().join("target/e2e");
    std::fs::create_dir_all(&out).unwrap();
    let run = Command::new("node")
        .current_dir(repo().join("tests/e2e"))
        .arg("province.mjs")
        .args([format!("http://{province}")].into_iter().chain(cities.iter().map(|c| format!("http://{c}"))))
        .args([out.to_str().unwrap(), "e2e-token-province-0123456789", "e2e-token-office-0123456789abcdef"])
        .output()
        .unwrap();
    server.kill().unwrap();
    server.wait().unwrap();
    assert!(run.status.success(), "{}", text(&run));
    for shot in ["p1-province", "p1-province-390", "p2-luohe-office", "p3-zhoukou-office-390"] {
        let png = out.join(format!("{shot}.png"));
        assert!(std::fs::metadata(&png).is_ok_and(|m| m.len() > 10_000), "{} is missing", png.display());
    }
    // The chains of the province and of every city verify after it all.
    let o = hazewarn(&["province", "audit", "--config", dir.path().join("province.toml").to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(text(&o).matches("audit chain intact").count(), 4, "{}", text(&o));
}
