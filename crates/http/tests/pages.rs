//! The pages `/hq` and `/me`: served as HTML with every value escaped, behind the page's own
//! token, and loaded in a real browser (headless Chromium) whose rendered figures must equal
//! the JSON reports; screenshots go to `target/screenshots/` for a person to look at.
//!
//! Without Chromium the browser test is skipped with a notice, unless
//! `MEMBERLEDGER_REQUIRE_BROWSER=1` (CI), where a missing browser fails it.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{command, small_chain, Server};
use memberledger_http::Config;

fn page(s: &Server, path: &str) -> common::Answer {
    s.call("GET", path, None, &[], None)
}

#[test]
fn pages_ask_for_a_token_and_refuse_the_wrong_role() {
    let s = Server::start(Config::default());
    small_chain(&s);
    let form = page(&s, "/hq");
    assert_eq!(form.status, 200);
    assert!(form.content_type.starts_with("text/html"));
    assert!(form.body.contains("name=\"token\""), "{}", form.body);
    assert_eq!(page(&s, "/hq?token=nonsense").status, 401);
    let member = s.token("member:M1").to_owned();
    assert_eq!(page(&s, &format!("/hq?token={member}")).status, 403);
    let hq = s.token("hq").to_owned();
    assert_eq!(page(&s, &format!("/me?token={hq}")).status, 403);
    assert_eq!(
        page(&s, &format!("/hq?token={hq}&as_of=someday")).status,
        400
    );
    let absent = s.token("member:M2").to_owned();
    assert_eq!(
        page(&s, &format!("/me?token={absent}")).status,
        200,
        "M2 is enrolled"
    );
}

#[test]
fn pages_escape_what_the_chain_recorded() {
    let s = Server::start(Config::default());
    small_chain(&s);
    let odd = command(
        9,
        "2026-03-05T10:00:00Z",
        r#""type":"consume","member":"M1","store":"S1","amount":"10.00","service":"<b>x</b>&\"""#,
    );
    let a = s.post("hq", "/v1/commands", &odd);
    if a.status != 200 {
        // The ledger refuses such a service name: nothing to escape.
        return;
    }
    let hq = s.token("hq").to_owned();
    let body = page(&s, &format!("/hq?token={hq}")).body;
    assert!(!body.contains("<b>x</b>"), "unescaped");
    assert!(
        body.contains("&lt;b&gt;x&lt;/b&gt;&amp;"),
        "escaped in the table and the chart"
    );
}

/// The text of the element with `id` in a rendered DOM.
fn figure(dom: &str, id: &str) -> String {
    let start = format!("id=\"{id}\">");
    let at = dom
        .find(&start)
        .unwrap_or_else(|| panic!("no #{id} in the page"));
    let rest = &dom[at + start.len()..];
    rest[..rest.find('<').unwrap()].to_owned()
}

/// Chromium, if installed.
fn chromium() -> Option<PathBuf> {
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find_map(|name| {
            std::env::var_os("PATH").and_then(|paths| {
                std::env::split_paths(&paths)
                    .map(|dir| dir.join(name))
                    .find(|p| p.is_file())
            })
        })
}

/// Runs headless Chromium with `args` then `url`, within a minute; its standard output.
fn headless(browser: &Path, profile: &Path, args: &[String], url: &str) -> String {
    let mut child = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(url)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromium starts");
    // Read while it writes: a DOM larger than the pipe's buffer would otherwise stall it.
    let mut stdout = child.stdout.take().expect("piped");
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = std::io::Read::read_to_string(&mut stdout, &mut text);
        text
    });
    let started = Instant::now();
    loop {
        if child.try_wait().expect("waits").is_some() {
            break;
        }
        if started.elapsed() > Duration::from_secs(90) {
            let _ = child.kill();
            panic!("chromium took over 90 s on {url}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    reader.join().expect("the reader")
}

#[test]
fn pages_render_in_a_browser_with_the_figures_of_the_json_reports() {
    let Some(browser) = chromium() else {
        assert!(
            std::env::var("MEMBERLEDGER_REQUIRE_BROWSER").as_deref() != Ok("1"),
            "MEMBERLEDGER_REQUIRE_BROWSER=1 and no chromium on PATH (apt-get install chromium)"
        );
        println!("NOTICE: chromium is not installed; the browser test of /hq and /me is skipped");
        return;
    };
    let s = Server::start(Config::default());
    small_chain(&s);
    let profile = tempfile::tempdir().unwrap();
    let shots = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let hq = s.token("hq").to_owned();
    let url = s.url(&format!("/hq?token={hq}"));
    let dom = headless(&browser, profile.path(), &["--dump-dom".to_owned()], &url);
    let churn = s.get("hq", "/v1/reports/churn").json();
    let dormant = s.get("hq", "/v1/reports/dormant").json();
    let staff = s.get("hq", "/v1/reports/staff").json();
    let services = s.get("hq", "/v1/reports/services").json();
    assert_eq!(figure(&dom, "churned"), churn["churned"].to_string());
    assert_eq!(figure(&dom, "at-risk"), churn["at_risk"].to_string());
    assert_eq!(
        figure(&dom, "churn-balance"),
        churn["balance"].as_str().unwrap()
    );
    assert_eq!(figure(&dom, "held"), dormant["held"].as_str().unwrap());
    assert_eq!(
        figure(&dom, "dormant"),
        dormant["dormant"].as_str().unwrap()
    );
    assert_eq!(
        figure(&dom, "commission"),
        staff["commission"].as_str().unwrap()
    );
    let top = services["ranking"][0]["service"].as_str().unwrap();
    assert!(
        dom.contains(&format!("<td>{top}</td>")),
        "the top service in the table"
    );
    assert!(dom.matches("<svg").count() >= 4, "the charts are inline");
    assert!(dom.contains("¥ (yuan)"), "the charts' units");
    headless(
        &browser,
        profile.path(),
        &[
            format!("--screenshot={}", shots.join("hq.png").display()),
            "--window-size=1100,3200".to_owned(),
        ],
        &url,
    );
    let m1 = s.token("member:M1").to_owned();
    let url = s.url(&format!("/me?token={m1}"));
    let dom = headless(&browser, profile.path(), &["--dump-dom".to_owned()], &url);
    let view = s.get("member:M1", "/v1/members/M1").json();
    assert_eq!(
        figure(&dom, "principal"),
        view["principal"].as_str().unwrap()
    );
    assert_eq!(figure(&dom, "bonus"), view["bonus"].as_str().unwrap());
    assert_eq!(figure(&dom, "tier"), view["tier"].as_str().unwrap());
    assert!(dom.contains("id=\"statement\""), "the statement");
    headless(
        &browser,
        profile.path(),
        &[
            format!("--screenshot={}", shots.join("me.png").display()),
            "--window-size=1000,1400".to_owned(),
        ],
        &url,
    );
    for shot in ["hq.png", "me.png"] {
        let len = std::fs::metadata(shots.join(shot))
            .map(|m| m.len())
            .unwrap_or(0);
        assert!(len > 1000, "{shot} was written");
    }
}
