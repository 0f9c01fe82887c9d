//! `GET /v1/export`: the whole log, streamed. A blocking task writes the export in chunks
//! into a small channel that the response body reads: memory holds a few chunks, never the
//! export, and a client that goes away stops the export at its next chunk.

use std::io::Write;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header::CONTENT_TYPE, Uri};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use memberledger_audit::Format;
use serde::Deserialize;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

use crate::error::{ApiError, ErrorBody};
use crate::extract;
use crate::permit;
use crate::state::{AppState, Caller};

/// Bytes sent in one chunk.
const CHUNK: usize = 64 << 10;

/// Chunks written ahead of the client.
const AHEAD: usize = 4;

/// `?format=`.
#[derive(Deserialize)]
struct Query {
    format: Option<String>,
}

/// Writes into the channel in chunks of [`CHUNK`]; fails once the client has gone.
struct ChunkWriter {
    buf: Vec<u8>,
    tx: mpsc::Sender<Result<Bytes, std::io::Error>>,
}

impl ChunkWriter {
    fn send(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK)));
        self.tx.blocking_send(Ok(chunk)).map_err(|_| {
            std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the client went away")
        })
    }
}

impl Write for ChunkWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.send()
    }
}

/// The format and content type of `?format=`.
fn format(name: Option<&str>) -> Result<(Format, &'static str), ApiError> {
    match name.unwrap_or("jsonl") {
        "jsonl" => Ok((Format::Jsonl, "application/jsonl")),
        "hledger" => Ok((Format::Hledger, "text/plain; charset=utf-8")),
        "beancount" => Ok((Format::Beancount, "text/plain; charset=utf-8")),
        "csv" => Ok((Format::Csv, "text/csv; charset=utf-8")),
        other => Err(ApiError::bad_request(
            "invalid_query",
            format!("format {other:?}: expected jsonl, hledger, beancount or csv"),
        )),
    }
}

/// The whole log: JSON Lines (the canonical export of docs/AUDIT.md), an hledger journal or
/// a beancount file closed by balance assertions, or CSV. Streamed; a failure midway ends
/// the stream early (the body is then incomplete and the connection is cut).
#[utoipa::path(
    get,
    path = "/v1/export",
    tag = "books",
    params(("format" = Option<crate::schema::ExportFormat>, Query, description = "jsonl (default), hledger, beancount or csv")),
    responses(
        (status = 200, description = "The export, streamed", content(
            (String = "application/jsonl"),
            (String = "text/plain"),
            (String = "text/csv"),
        )),
        (status = 400, description = "An unknown format", body = ErrorBody),
        (status = 401, description = "No token or an unknown one", body = ErrorBody),
        (status = 403, description = "Not an hq or auditor token", body = ErrorBody),
        (status = 429, description = "The token is over its rate", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn export(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    uri: Uri,
) -> Result<Response, ApiError> {
    permit::read_books(&caller)?;
    let q: Query = extract::query(&uri)?;
    let (format, content_type) = format(q.format.as_deref())?;
    let (tx, rx) = mpsc::channel(AHEAD);
    let ledger = state.ledger().clone();
    tokio::task::spawn_blocking(move || {
        let mut out = ChunkWriter {
            buf: Vec::with_capacity(CHUNK),
            tx: tx.clone(),
        };
        let result = memberledger_audit::export(&ledger, format, &mut out)
            .map_err(|e| e.to_string())
            .and_then(|_| out.flush().map_err(|e| e.to_string()));
        if let Err(e) = result {
            tracing::warn!(target: "memberledger_http::request", "export stopped: {e}");
            let _ = tx.blocking_send(Err(std::io::Error::other(e)));
        }
    });
    let body = Body::from_stream(ReceiverStream::new(rx));
    Ok(([(CONTENT_TYPE, content_type)], body).into_response())
}
