//! Reading requests into the facade's types, with every failure a JSON 4xx; running the
//! ledger's blocking calls off the async threads.

use axum::body::{Body, Bytes};
use axum::extract::Query;
use axum::http::{header::CONTENT_LENGTH, HeaderMap, StatusCode, Uri};
use memberledger::{MemberId, Timestamp};
use serde::de::DeserializeOwned;
use tokio_stream::StreamExt;

use crate::error::ApiError;

/// Runs a blocking ledger call (a disk sync, a replay) on tokio's blocking pool. A panic in
/// it is answered 500; the server goes on.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f).await.map_err(|e| {
        tracing::error!(target: "memberledger_http::request", "a ledger call failed: {e}");
        ApiError::internal("the server failed on this request (a bug): nothing more is known")
    })
}

/// 413: the body is over the limit.
fn too_large(max: usize) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "body_too_large",
        format!("the body is over the server's limit of {max} bytes"),
    )
}

/// Reads a body of at most `max` bytes, refusing a longer one as soon as that is known.
pub(crate) async fn body(headers: &HeaderMap, body: Body, max: usize) -> Result<Bytes, ApiError> {
    let declared = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > u64::try_from(max).unwrap_or(u64::MAX)) {
        return Err(too_large(max));
    }
    let mut stream = body.into_data_stream();
    let mut buf = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| {
            ApiError::bad_request("invalid_body", format!("cannot read the body: {e}"))
        })?;
        if buf.len() + chunk.len() > max {
            return Err(too_large(max));
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(Bytes::from(buf))
}

/// The query string as `T`; a malformed one is 400 `invalid_query`.
pub(crate) fn query<T: DeserializeOwned>(uri: &Uri) -> Result<T, ApiError> {
    Query::<T>::try_from_uri(uri)
        .map(|q| q.0)
        .map_err(|e| ApiError::bad_request("invalid_query", e.body_text()))
}

/// A time parameter (RFC 3339), if given.
pub(crate) fn time(name: &str, value: Option<&str>) -> Result<Option<Timestamp>, ApiError> {
    value
        .map(|t| {
            t.parse::<Timestamp>()
                .map_err(|e| ApiError::bad_request("invalid_query", format!("`{name}`: {e}")))
        })
        .transpose()
}

/// A member id from the path; a malformed one is 400 `invalid_id`.
pub(crate) fn member(id: &str) -> Result<MemberId, ApiError> {
    MemberId::new(id).map_err(ApiError::from)
}

/// 404 `member_not_found`.
pub(crate) fn member_not_found(id: &MemberId) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "member_not_found",
        format!("member {id} is not enrolled"),
    )
}
