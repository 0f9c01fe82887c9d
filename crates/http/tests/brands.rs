//! Brands as tenants: one server, two brands (lotus and peony), a real client on loopback. A
//! brand's token never reads or writes another brand's ledger, on any route; one brand's
//! commands never show in another's events, reports or pages; an unknown brand is a 404.

// Test scenarios read top to bottom, one step after another: no line limit here.
#![allow(clippy::too_many_lines)]

mod common;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use common::{clock, command, request, Answer, Running, ROLES};
use memberledger::Ledger;
use memberledger_http::{AppState, Brands, Config, Role, Tokens};

const BRANDS: [&str; 2] = ["lotus", "peony"];

/// A running server hosting the two brands, each with a token per role.
struct Hosted {
    addr: SocketAddr,
    /// Stopped when dropped, before the ledgers go.
    _running: Running,
    ledgers: HashMap<&'static str, Arc<Ledger>>,
    tokens: HashMap<(&'static str, &'static str), String>,
}

impl Hosted {
    fn start() -> Hosted {
        let mut brands = Brands::new();
        let mut ledgers = HashMap::new();
        let mut plain = HashMap::new();
        for brand in BRANDS {
            let ledger = Arc::new(Ledger::in_memory());
            ledger.set_clock(clock());
            let mut tokens = Tokens::new();
            for role in ROLES {
                let token = memberledger_http::new_token().unwrap();
                tokens.insert(&token, Role::parse(role).unwrap());
                plain.insert((brand, role), token);
            }
            let config = Config {
                rate_per_sec: 0,
                ..Config::default()
            };
            let state = AppState::new(ledger.clone(), tokens, config);
            brands.insert(brand, state).unwrap();
            ledgers.insert(brand, ledger);
        }
        let running = Running::spawn(move |listener, stopped| {
            memberledger_http::serve_brands(listener, brands, stopped)
        });
        Hosted {
            addr: running.addr,
            ledgers,
            tokens: plain,
            _running: running,
        }
    }

    /// A request with a bearer token (or none).
    fn call(&self, method: &str, path: &str, token: Option<&str>, body: Option<&str>) -> Answer {
        let auth = token.map(|t| format!("Bearer {t}"));
        let headers: Vec<(&str, &str)> =
            auth.iter().map(|a| ("Authorization", a.as_str())).collect();
        request(self.addr, (method, path), &headers, body)
    }

    fn token(&self, brand: &'static str, role: &'static str) -> &str {
        &self.tokens[&(brand, role)]
    }

    /// A request to `brand`'s path with `as_brand`'s token of `role`; pages get the token as
    /// their `token` parameter.
    fn to_brand(
        &self,
        brand: &str,
        (method, path, body): (&str, &str, Option<&str>),
        as_brand: &'static str,
        role: &'static str,
    ) -> Answer {
        let token = self.token(as_brand, role);
        let full = format!("/brands/{brand}{path}");
        if path.starts_with("/hq") || path.starts_with("/me") {
            let sep = if full.contains('?') { '&' } else { '?' };
            return self.call(method, &format!("{full}{sep}token={token}"), None, body);
        }
        self.call(method, &full, Some(token), body)
    }
}

/// Enrolls M1 at S1 and recharges 1000.00 in a brand, as its hq.
fn chain(h: &Hosted, brand: &'static str, first: u32) {
    let body = format!(
        "[{},{}]",
        command(
            first,
            "2026-03-01T10:00:00Z",
            r#""type":"enroll","member":"M1","store":"S1""#
        ),
        command(
            first + 1,
            "2026-03-01T10:05:00Z",
            r#""type":"recharge","member":"M1","store":"S1","amount":"1000.00""#
        ),
    );
    let a = h.to_brand(brand, ("POST", "/v1/commands", Some(&body)), brand, "hq");
    assert_eq!(a.status, 200, "{}", a.body);
    assert!(
        a.json().as_array().unwrap().iter().all(|r| r["ok"] == true),
        "{}",
        a.body
    );
}

const POLICY: &str = r#"{"effective":"2026-05-01T00:00:00Z","policy":{}}"#;

/// Every route family of a brand: members, events, reports, books, export, feed, notices,
/// policy, metrics, pages, commands.
fn routes() -> Vec<(&'static str, String, Option<String>)> {
    let mut r: Vec<(&'static str, String, Option<String>)> = [
        "/v1/members/M1",
        "/v1/members/M1/statement",
        "/v1/members/M1/events",
        "/v1/reports/trial-balance",
        "/v1/reports/stores",
        "/v1/reports/settlement",
        "/v1/reports/liability",
        "/v1/reports/prepaid?quarter=2026Q1",
        "/v1/reports/churn",
        "/v1/reports/dormant",
        "/v1/reports/turnover",
        "/v1/reports/staff",
        "/v1/reports/services",
        "/v1/reports/members",
        "/v1/reports/campaigns",
        "/v1/verify",
        "/v1/export?format=jsonl",
        "/v1/events",
        "/v1/notices",
        "/v1/policy",
        "/v1/policy/versions",
        "/metrics",
        "/hq",
        "/me",
    ]
    .into_iter()
    .map(|p| ("GET", p.to_owned(), None))
    .collect();
    r.push((
        "POST",
        "/v1/commands".to_owned(),
        Some(command(
            90,
            "2026-03-03T10:00:00Z",
            r#""type":"recharge","member":"M1","store":"S1","amount":"5.00""#,
        )),
    ));
    r.push(("POST", "/v1/policy".to_owned(), Some(POLICY.to_owned())));
    r
}

#[test]
fn a_brands_token_cannot_read_or_write_another_brands_ledger_on_any_route() {
    let h = Hosted::start();
    chain(&h, "lotus", 1);
    chain(&h, "peony", 11);
    let peony_head = h.ledgers["peony"].head().unwrap();
    for role in ROLES {
        for (method, path, body) in routes() {
            let a = h.to_brand("peony", (method, &path, body.as_deref()), "lotus", role);
            assert_eq!(
                (a.status, a.code().as_str()),
                (403, "wrong_brand"),
                "{method} {path} with lotus's {role} token: {}",
                a.body
            );
        }
    }
    assert_eq!(
        h.ledgers["peony"].head().unwrap(),
        peony_head,
        "nothing was written to peony by lotus's tokens"
    );
    // Peony's own tokens still work there: the refusals were the brand's, not the route's.
    let own = h.to_brand("peony", ("GET", "/v1/members/M1", None), "peony", "hq");
    assert_eq!(own.status, 200, "{}", own.body);
    let page = h.to_brand("peony", ("GET", "/hq", None), "peony", "hq");
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body.contains("action=\"hq\""),
        "the page's form stays under the brand"
    );
}

#[test]
fn one_brands_commands_never_appear_in_another_brands_events_reports_or_pages() {
    let h = Hosted::start();
    chain(&h, "peony", 11);
    let reads: Vec<String> = routes()
        .into_iter()
        .filter(|(m, p, _)| *m == "GET" && p != "/metrics")
        .map(|(_, p, _)| p)
        .collect();
    let before: Vec<Answer> = reads
        .iter()
        .map(|p| h.to_brand("peony", ("GET", p, None), "peony", "hq"))
        .collect();
    chain(&h, "lotus", 1);
    let more = command(
        3,
        "2026-03-02T11:00:00Z",
        r#""type":"consume","member":"M1","store":"S2","amount":"230.00","service":"按摩""#,
    );
    let a = h.to_brand(
        "lotus",
        ("POST", "/v1/commands", Some(&more)),
        "lotus",
        "hq",
    );
    assert_eq!(a.json()["ok"], true, "{}", a.body);
    for (path, was) in reads.iter().zip(&before) {
        let now = h.to_brand("peony", ("GET", path, None), "peony", "hq");
        assert_eq!(now.status, was.status, "{path}");
        assert_eq!(
            now.body, was.body,
            "peony's {path} changed after lotus's commands"
        );
    }
    // Lotus's own reads show them.
    let feed = h.to_brand("lotus", ("GET", "/v1/events", None), "lotus", "hq");
    assert!(feed.body.contains("按摩"), "{}", feed.body);
    let peony_feed = h.to_brand("peony", ("GET", "/v1/events", None), "peony", "hq");
    assert!(!peony_feed.body.contains("按摩"), "{}", peony_feed.body);
    let st = h.to_brand(
        "peony",
        ("GET", "/v1/members/M1/statement", None),
        "peony",
        "hq",
    );
    assert!(!st.body.contains("230.00"), "{}", st.body);
}

#[test]
fn an_unknown_brand_is_a_404_brand_not_found_whoever_asks() {
    let h = Hosted::start();
    for token in [None, Some(h.token("lotus", "hq"))] {
        for path in [
            "/brands/tulip/v1/members/M1",
            "/brands/tulip/v1/commands",
            "/brands/tulip/hq",
            "/brands/",
        ] {
            let a = h.call("GET", path, token, None);
            assert_eq!(
                (a.status, a.code().as_str()),
                (404, "brand_not_found"),
                "{path}: {}",
                a.body
            );
        }
    }
    let post = h.call(
        "POST",
        "/brands/tulip/v1/commands",
        Some(h.token("lotus", "hq")),
        Some("{}"),
    );
    assert_eq!(post.code(), "brand_not_found");
}

#[test]
fn a_brands_server_asks_for_a_brand_on_the_single_ledger_paths_and_keeps_the_probes() {
    let h = Hosted::start();
    for path in [
        "/v1/members/M1",
        "/v1/events",
        "/v1/reports/liability",
        "/hq",
        "/metrics",
    ] {
        let a = h.call("GET", path, Some(h.token("lotus", "hq")), None);
        assert_eq!(
            (a.status, a.code().as_str()),
            (404, "brand_required"),
            "{path}: {}",
            a.body
        );
        assert!(a.json()["message"]
            .as_str()
            .unwrap()
            .contains("/brands/{brand}"));
    }
    assert_eq!(h.call("GET", "/nowhere", None, None).code(), "not_found");
    assert_eq!(h.call("GET", "/healthz", None, None).status, 200);
    let ready = h.call("GET", "/readyz", None, None);
    assert_eq!(
        (ready.status, ready.json()["status"].as_str()),
        (200, Some("ok"))
    );
    let doc = h.call("GET", "/v1/openapi.json", None, None);
    assert_eq!(doc.body, memberledger_http::openapi_json());
    assert!(doc.json()["paths"]["/brands/{brand}/v1/commands"].is_object());
}

#[test]
fn a_token_unknown_to_every_brand_is_401_and_a_brand_without_a_token_is_401() {
    let h = Hosted::start();
    let a = h.call("GET", "/brands/lotus/v1/events", Some("mlt_nobody"), None);
    assert_eq!((a.status, a.code().as_str()), (401, "unauthorized"));
    let b = h.call("GET", "/brands/lotus/v1/events", None, None);
    assert_eq!((b.status, b.code().as_str()), (401, "unauthorized"));
    // Roles keep their rules inside a brand: a store token may not publish a policy.
    let c = h.to_brand(
        "lotus",
        ("POST", "/v1/policy", Some(POLICY)),
        "lotus",
        "store:S1",
    );
    assert_eq!(
        (c.status, c.code().as_str()),
        (403, "forbidden"),
        "{}",
        c.body
    );
}

#[test]
fn brands_refuse_a_malformed_or_repeated_name() {
    let state = || {
        AppState::new(
            Arc::new(Ledger::in_memory()),
            Tokens::new(),
            Config::default(),
        )
    };
    let mut brands = Brands::new();
    brands.insert("lotus", state()).unwrap();
    assert!(brands
        .insert("lotus", state())
        .unwrap_err()
        .contains("twice"));
    assert!(brands.insert("a/b", state()).is_err());
    assert_eq!(brands.len(), 1);
}
