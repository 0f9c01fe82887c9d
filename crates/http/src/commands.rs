//! `POST /v1/commands`: one command or a batch in, one receipt each out, once durable.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use memberledger::domain::Rejection;
use memberledger::{Command, Error, Receipt, Uuid};
use serde_json::value::RawValue;

use crate::error::{ApiError, ErrorBody};
use crate::extract;
use crate::permit;
use crate::state::{AppState, Caller};

/// The header that, when present, must equal the command id.
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";

/// One element of the body: a command, or why it is not one (and its id when readable).
type Parsed = Result<Command, (Option<Uuid>, Error)>;

/// Sends commands. The answer comes only once they are durable: the commands of concurrent
/// requests are written together, one disk sync per group. The command id is the idempotency key:
/// sending a command again returns its original receipt (`replayed: true`).
///
/// With `?dry_run=true` nothing is recorded: each command is quoted (decided as executing
/// would decide it, the batch in order) and its receipt is what executing now would return,
/// marked `"dry_run":true` and with the member's view after it (`"member"`). A command already
/// recorded is quoted with `replayed: true` and its recorded events.
#[utoipa::path(
    post,
    path = "/v1/commands",
    tag = "commands",
    request_body(content = crate::schema::Commands, description = "One command, or an array of at most the batch limit"),
    params(
        ("Idempotency-Key" = Option<String>, Header, description = "When present, must equal the command's id (one command only)"),
        ("dry_run" = Option<bool>, Query, description = "Quote the commands: answer what executing would record, and record nothing"),
    ),
    responses(
        (status = 200, description = "The receipt of the command, or of each command of a batch in order (each `ok` or refused)", body = crate::schema::Receipts),
        (status = 400, description = "Malformed body or command, `invalid_*`, or an Idempotency-Key that is not the command id", body = ErrorBody),
        (status = 401, description = "No token or an unknown one", body = ErrorBody),
        (status = 403, description = "The token's role may not send this command", body = ErrorBody),
        (status = 404, description = "The command's member is not enrolled", body = ErrorBody),
        (status = 409, description = "`idempotency_conflict`, `out_of_order`", body = ErrorBody),
        (status = 413, description = "The body or the batch is over the limit", body = ErrorBody),
        (status = 422, description = "A business refusal (`insufficient_balance`, …)", body = ErrorBody),
        (status = 429, description = "The token is over its rate", body = ErrorBody),
        (status = 503, description = "Storage failed or the request timed out: send again with the same id", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn post(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    uri: Uri,
    body: Body,
) -> Result<Response, ApiError> {
    permit::send_commands(&caller)?;
    let q: DryRun = extract::query(&uri)?;
    let dry_run = q.dry_run.unwrap_or(false);
    let bytes = extract::body(&headers, body, state.config().body_max).await?;
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| ApiError::bad_request("invalid_command", "the body is not UTF-8"))?;
    let (parsed, batch) = parse(text, state.config().batch_max)?;
    check_key(&headers, &parsed, batch)?;
    for command in parsed.iter().flatten() {
        permit::write(&caller, command)?;
    }
    let commands: Vec<Command> = parsed
        .iter()
        .filter_map(|p| p.as_ref().ok().cloned())
        .collect();
    let results: Vec<Result<serde_json::Value, Error>> = if commands.is_empty() {
        Vec::new()
    } else if dry_run {
        let ledger = state.ledger().clone();
        extract::blocking(move || ledger.quote_batch(&commands))
            .await?
            .into_iter()
            .map(|r| r.map(|q| q.to_json()))
            .collect()
    } else {
        state
            .execute(commands)
            .await?
            .into_iter()
            .map(|r| r.map(|r| r.to_json()))
            .collect()
    };
    answer(&state, parsed, results, batch, dry_run)
}

/// The query of `POST /v1/commands`.
#[derive(serde::Deserialize)]
struct DryRun {
    dry_run: Option<bool>,
}

/// The commands of a body (an object, or an array of at most `max`), each parsed by the
/// facade; and whether it was an array.
fn parse(text: &str, max: usize) -> Result<(Vec<Parsed>, bool), ApiError> {
    let malformed = |e: serde_json::Error| {
        ApiError::bad_request("invalid_command", format!("the body is not JSON: {e}"))
    };
    let batch = text.trim_start().starts_with('[');
    let items: Vec<Box<RawValue>> = if batch {
        serde_json::from_str(text).map_err(malformed)?
    } else {
        vec![serde_json::from_str(text).map_err(malformed)?]
    };
    if items.len() > max {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "batch_too_large",
            format!(
                "a batch takes at most {max} commands; this one has {}",
                items.len()
            ),
        ));
    }
    if items.is_empty() {
        return Err(ApiError::bad_request(
            "invalid_command",
            "the batch is empty",
        ));
    }
    let parsed = items.iter().map(|raw| parse_one(raw.get())).collect();
    Ok((parsed, batch))
}

fn parse_one(text: &str) -> Parsed {
    Command::from_json(text).map_err(|e| {
        let id = serde_json::from_str::<serde_json::Value>(text)
            .ok()
            .and_then(|v| v.get("id")?.as_str().and_then(|s| Uuid::try_parse(s).ok()));
        (id, e.into())
    })
}

/// An `Idempotency-Key` header, when present, must be the id of the one command sent.
fn check_key(headers: &HeaderMap, parsed: &[Parsed], batch: bool) -> Result<(), ApiError> {
    let Some(key) = headers.get(IDEMPOTENCY_KEY) else {
        return Ok(());
    };
    let mismatch = |why: String| ApiError::bad_request("idempotency_key_mismatch", why);
    let key = key
        .to_str()
        .map_err(|_| mismatch("the Idempotency-Key header is not text".into()))?;
    if batch {
        return Err(mismatch(
            "a batch carries no Idempotency-Key header: each command's id is its key".into(),
        ));
    }
    match parsed.first() {
        Some(Ok(c)) if Uuid::try_parse(key.trim()).ok() == Some(c.id) => Ok(()),
        Some(Ok(c)) => Err(mismatch(format!(
            "the Idempotency-Key header {key:?} is not the command id {}",
            c.id
        ))),
        Some(Err((_, e))) => Err(e.clone().into()),
        None => Ok(()),
    }
}

/// The response: one command's receipt (or its error with the status of its class), or a
/// batch's receipts in order. A storage failure answers 503 for the whole request: what it
/// acknowledged is durable, and sending the batch again with the same ids returns it.
fn answer(
    state: &AppState,
    parsed: Vec<Parsed>,
    results: Vec<Result<serde_json::Value, Error>>,
    batch: bool,
    dry_run: bool,
) -> Result<Response, ApiError> {
    let mut results = results.into_iter();
    let mut receipts = Vec::with_capacity(parsed.len());
    for p in parsed {
        let (kind, outcome) = match p {
            Err((id, e)) => ("unknown", Err((id, e))),
            Ok(c) => {
                let r = results
                    .next()
                    .unwrap_or_else(|| Err(Error::storage("no result for a command")));
                (c.action.type_name(), r.map_err(|e| (Some(c.id), e)))
            }
        };
        let label = match &outcome {
            Ok(r) if r["replayed"] == true => "replayed",
            Ok(_) => "ok",
            Err((_, e)) => e.code(),
        };
        // A quote records nothing: the command counters count what was recorded.
        if !dry_run {
            state.metrics().command(kind, label);
        }
        receipts.push(outcome);
    }
    if let Some(Err((_, e))) = receipts
        .iter()
        .find(|r| matches!(r, Err((_, Error::Storage(_) | Error::Corrupt { .. }))))
    {
        return Err(e.clone().into());
    }
    if !batch {
        return match receipts.pop() {
            Some(Ok(r)) => Ok(Json(r).into_response()),
            Some(Err((_, e))) => Err(e.into()),
            None => Err(Rejection::InvalidCommand("no command".into()).into()),
        };
    }
    let body: Vec<serde_json::Value> = receipts
        .iter()
        .map(|r| match r {
            Ok(r) => r.clone(),
            Err((id, e)) => Receipt::error_json(*id, e),
        })
        .collect();
    Ok(Json(body).into_response())
}
