//! The hash chain: each event's hash covers the one before it and its canonical JSON.

use sha2::{Digest, Sha256};

/// A SHA-256 chain hash.
pub type Hash = [u8; 32];

/// The hash before the first event: 32 zero bytes.
pub const GENESIS_HASH: Hash = [0; 32];

/// The chain rule: `SHA-256(prev ‖ canonical_json)`.
pub fn chain_hash(prev: &Hash, canonical: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update(prev);
    h.update(canonical);
    h.finalize().into()
}
