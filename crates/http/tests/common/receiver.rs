//! A webhook receiver on loopback, for the webhook and notice-hook tests: a tiny HTTP server
//! (one request per connection) that checks each delivery's signature, hands the verified page
//! to the test's record, and answers as the test tells it: 200, 500, or nothing at all.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use memberledger_http::{signature, SIGNATURE_HEADER};
use serde_json::Value;

/// Answers 200: the delivery is acknowledged.
pub const ANSWER_OK: u8 = 0;
/// Answers 500 without reading the page: the sender must send it again.
pub const ANSWER_500: u8 = 1;
/// Reads the delivery (and keeps it) but closes without answering: the sender must send it
/// again.
pub const ANSWER_NOTHING: u8 = 2;

/// What a test keeps of the deliveries.
pub trait Record: Send + 'static {
    /// A delivery whose signature verified, its body as JSON.
    fn page(&mut self, page: Value);
    /// A delivery whose signature did not verify.
    fn bad_signature(&mut self);
    /// A delivery read in full, before it is answered in `mode`.
    fn answered(&mut self, _mode: u8) {}
}

/// A running receiver.
pub struct Receiver {
    pub addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Receiver {
    /// Listens on `addr` (port 0 for any), checking signatures with `secret` and answering as
    /// `mode` says at each delivery.
    pub fn start<R: Record>(
        addr: SocketAddr,
        secret: &'static [u8],
        seen: Arc<Mutex<R>>,
        mode: Arc<AtomicU8>,
    ) -> Receiver {
        let listener = TcpListener::bind(addr).unwrap();
        let addr = listener.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stopping.load(Ordering::SeqCst) {
                    return;
                }
                if let Ok(conn) = conn {
                    handle(conn, secret, &seen, mode.load(Ordering::SeqCst));
                }
            }
        });
        Receiver {
            addr,
            stop,
            thread: Some(thread),
        }
    }

    /// Stops listening: the port refuses connections until a receiver starts on it again.
    pub fn stop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
        if let Some(t) = self.thread.take() {
            t.join().unwrap();
        }
    }
}

/// Reads one delivery: its signature header and body; `None` if the connection ends first.
fn read_delivery(reader: &mut BufReader<TcpStream>) -> Option<(String, Vec<u8>)> {
    let (mut length, mut sig, mut line) = (0usize, String::new(), String::new());
    loop {
        line.clear();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return None;
        }
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':') {
            match k.trim().to_ascii_lowercase().as_str() {
                "content-length" => length = v.trim().parse().unwrap(),
                k if k == SIGNATURE_HEADER => sig = v.trim().to_owned(),
                _ => {}
            }
        }
    }
    let mut body = vec![0u8; length];
    reader.read_exact(&mut body).ok()?;
    Some((sig, body))
}

fn handle<R: Record>(conn: TcpStream, secret: &[u8], seen: &Mutex<R>, mode: u8) {
    conn.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut reader = BufReader::new(conn);
    let Some((sig, body)) = read_delivery(&mut reader) else {
        return;
    };
    let mut conn = reader.into_inner();
    let mut seen = seen.lock().unwrap();
    seen.answered(mode);
    if mode == ANSWER_500 {
        let _ = conn.write_all(
            b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        );
        return;
    }
    if sig == signature(secret, &body) {
        seen.page(serde_json::from_slice(&body).unwrap());
    } else {
        seen.bad_signature();
    }
    drop(seen);
    if mode == ANSWER_OK {
        let _ =
            conn.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    }
}

/// Waits (a minute at most) until `done`.
pub fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}
