//! A real server on a loopback port, in this process, and a real HTTP client.
#![allow(dead_code)] // each test file uses a part

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use memberledger::{Clock, Ledger};
use memberledger_http::{AppState, Config, Role, Tokens};

pub mod receiver;

/// The roles every test server has a token for.
pub const ROLES: [&str; 6] = [
    "hq",
    "store:S1",
    "store:S2",
    "auditor",
    "member:M1",
    "member:M2",
];

/// A running server (stopped before its ledger and directory go).
pub struct Server {
    pub addr: SocketAddr,
    running: Running,
    pub ledger: Arc<Ledger>,
    pub tokens: HashMap<&'static str, String>,
    _dir: Option<tempfile::TempDir>,
}

/// The future a server is given to know when to stop.
pub type Stopped = Pin<Box<dyn Future<Output = ()> + Send>>;

/// A server on a loopback port, on a runtime in a thread of its own; stopped (gracefully)
/// when dropped.
pub struct Running {
    pub addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<std::io::Result<()>>>,
}

impl Running {
    /// Runs `serve` on a listener bound to any loopback port, with the future that resolves
    /// when the server is to stop.
    pub fn spawn<S, F>(serve: S) -> Running
    where
        S: FnOnce(tokio::net::TcpListener, Stopped) -> F + Send + 'static,
        F: Future<Output = std::io::Result<()>>,
    {
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        std_listener.set_nonblocking(true).unwrap();
        let addr = std_listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?;
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(std_listener)?;
                serve(
                    listener,
                    Box::pin(async move {
                        let _ = stopped.await;
                    }),
                )
                .await
            })
        });
        Running {
            addr,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// Stops the server (gracefully) and waits for it.
    pub fn stop(&mut self) -> std::io::Result<()> {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        match self.thread.take() {
            Some(t) => t.join().expect("the server thread"),
            None => Ok(()),
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.stop();
    }
}

/// A request to a server with these headers: its status, body and content type (a refusal's
/// status is an answer too).
pub fn request(
    addr: SocketAddr,
    (method, path): (&str, &str),
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> Answer {
    let agent = ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(60))
        .build();
    let mut req = agent.request(method, &format!("http://{addr}{path}"));
    for (k, v) in headers {
        req = req.set(k, v);
    }
    let result = match body {
        Some(b) => req.set("Content-Type", "application/json").send_string(b),
        None => req.call(),
    };
    let response = match result {
        Ok(r) | Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("{method} {path}: {e}"),
    };
    let status = response.status();
    let content_type = response
        .header("content-type")
        .unwrap_or_default()
        .to_owned();
    Answer {
        status,
        body: response.into_string().unwrap(),
        content_type,
    }
}

/// An answer: status and body.
pub struct Answer {
    pub status: u16,
    pub body: String,
    pub content_type: String,
}

impl Answer {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
    pub fn code(&self) -> String {
        self.json()["code"].as_str().unwrap_or_default().to_owned()
    }
}

/// A fixed "now" after every command of the tests.
pub fn clock() -> Clock {
    Clock::fixed("2026-06-01T00:00:00Z".parse().unwrap())
}

impl Server {
    /// A server over an in-memory ledger.
    pub fn start(config: Config) -> Server {
        Server::start_with(Ledger::in_memory(), None, config, Router::new())
    }

    /// A server over a sled ledger in a new directory.
    pub fn start_on_disk(config: Config) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::open(dir.path().join("ledger")).unwrap();
        Server::start_with(ledger, Some(dir), config, Router::new())
    }

    /// A server over a ledger, with extra routes under the same middleware.
    pub fn start_with(
        ledger: Ledger,
        dir: Option<tempfile::TempDir>,
        config: Config,
        extra: Router<AppState>,
    ) -> Server {
        ledger.set_clock(clock());
        let ledger = Arc::new(ledger);
        let mut tokens = Tokens::new();
        let mut plain = HashMap::new();
        for role in ROLES {
            let token = memberledger_http::new_token().unwrap();
            tokens.insert(&token, Role::parse(role).unwrap());
            plain.insert(role, token);
        }
        let state = AppState::new(ledger.clone(), tokens, config);
        let running = Running::spawn(move |listener, stopped| async move {
            let app = memberledger_http::app_with(state, extra);
            axum::serve(listener, app)
                .with_graceful_shutdown(stopped)
                .await
        });
        Server {
            addr: running.addr,
            running,
            ledger,
            tokens: plain,
            _dir: dir,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn token(&self, role: &str) -> &str {
        &self.tokens[role]
    }

    /// A request with a role's token (or none, or any header given).
    pub fn call(
        &self,
        method: &str,
        path: &str,
        auth: Option<&str>,
        headers: &[(&str, &str)],
        body: Option<&str>,
    ) -> Answer {
        let mut all = headers.to_vec();
        if let Some(a) = auth {
            all.push(("Authorization", a));
        }
        request(self.addr, (method, path), &all, body)
    }

    /// GET as a role.
    pub fn get(&self, role: &str, path: &str) -> Answer {
        let auth = format!("Bearer {}", self.token(role));
        self.call("GET", path, Some(&auth), &[], None)
    }

    /// POST as a role.
    pub fn post(&self, role: &str, path: &str, body: &str) -> Answer {
        let auth = format!("Bearer {}", self.token(role));
        self.call("POST", path, Some(&auth), &[], Some(body))
    }

    /// The chain's last position, read from the ledger itself.
    pub fn position(&self) -> u64 {
        self.ledger.head().unwrap().position
    }

    /// Stops the server (gracefully) and waits for it.
    pub fn stop(&mut self) -> std::io::Result<()> {
        self.running.stop()
    }
}

/// A command line with a numbered id.
pub fn command(n: u32, at: &str, rest: &str) -> String {
    format!(r#"{{"id":"00000000-0000-4000-8000-{n:012}","at":"{at}",{rest}}}"#)
}

/// M1 enrolls at S1, recharges 1000.00 (E1) and is served 230.00 of 按摩 by E2 on
/// 2026-03-01; the server's clock reads 2026-06-01.
pub fn small_chain(s: &Server) {
    let lines = [
        command(
            1,
            "2026-03-01T10:00:00Z",
            r#""type":"enroll","member":"M1","store":"S1""#,
        ),
        command(
            2,
            "2026-03-01T10:05:00Z",
            r#""type":"recharge","member":"M1","store":"S1","amount":"1000.00","staff":"E1""#,
        ),
        command(
            3,
            "2026-03-01T11:00:00Z",
            r#""type":"consume","member":"M1","store":"S1","amount":"230.00","service":"按摩","staff":"E2""#,
        ),
        command(
            4,
            "2026-03-02T10:00:00Z",
            r#""type":"enroll","member":"M2","store":"S2""#,
        ),
        command(
            5,
            "2026-03-02T10:05:00Z",
            r#""type":"recharge","member":"M2","store":"S2","amount":"500.00""#,
        ),
    ];
    let body = format!("[{}]", lines.join(","));
    let a = s.post("hq", "/v1/commands", &body);
    assert_eq!(a.status, 200, "{}", a.body);
}
