//! sled's side of the log layout: the key of each chunk (`e` + the big-endian position of its
//! first event) and the chunk size that keeps a chunk in sled's log. The record and chunk codec
//! itself is shared with the file store (`memberledger_store::record`).

use memberledger_store::record::encode_chunks as encode_chunks_within;
use memberledger_store::{Sealed, StoreError};

pub(crate) use memberledger_store::record::{decode_chunk, decode_chunk_with, record_at};

pub(crate) const EVENT_PREFIX: u8 = b'e';

/// The most bytes of records one key takes (a larger record is a chunk on its own). Below
/// sled's blob threshold, so chunks stay in its log.
pub const CHUNK_BYTES: usize = 24 * 1024;

/// sled's segment size (sled 0.34's default, which the store keeps).
pub(crate) const SLED_SEGMENT_SIZE: usize = 512 * 1024;

/// The largest value sled 0.34 keeps in its log rather than in a blob file of its own: a
/// quarter of a segment, less the segment's header (20 bytes) and a message's (32).
pub(crate) const SLED_BLOB_THRESHOLD: usize = SLED_SEGMENT_SIZE / 4 - 20 - 32;

/// A chunk (with its key, 9 bytes) stays in sled's log.
const _: () = assert!(CHUNK_BYTES + 9 < SLED_BLOB_THRESHOLD);
/// A chunk's records are framed with `u32` lengths.
const _: () = assert!(CHUNK_BYTES <= u32::MAX as usize);

/// Lays sealed records out in chunks of at most [`CHUNK_BYTES`], one sled key each.
pub(crate) fn encode_chunks(sealed: &[Sealed]) -> Vec<(u64, Vec<u8>)> {
    encode_chunks_within(sealed, CHUNK_BYTES)
}

pub(crate) fn event_key(position: u64) -> [u8; 9] {
    let mut k = [0u8; 9];
    k[0] = EVENT_PREFIX;
    k[1..].copy_from_slice(&position.to_be_bytes());
    k
}

pub(crate) fn key_position(key: &[u8]) -> Result<u64, StoreError> {
    let bytes: [u8; 8] = key
        .get(1..9)
        .and_then(|b| b.try_into().ok())
        .filter(|_| key.len() == 9)
        .ok_or_else(|| StoreError::Corrupt {
            position: 0,
            why: format!("bad log key {key:?}"),
        })?;
    Ok(u64::from_be_bytes(bytes))
}
