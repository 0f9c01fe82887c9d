//! The signature of a webhook's body (HMAC-SHA256, RFC 2104, the core's), and the header
//! that carries it.

/// The header of a webhook delivery that carries `sha256=<hex HMAC-SHA256 of the body>`.
pub const SIGNATURE_HEADER: &str = "x-memberledger-signature";

/// HMAC-SHA256 of `message` under `key`: the core's, the one the ledger keys card numbers
/// with.
///
/// ```
/// // RFC 4231, test case 2.
/// let mac = memberledger_http::hmac_sha256(b"Jefe", b"what do ya want for nothing?");
/// assert_eq!(hex::encode(mac), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
/// ```
pub use memberledger::domain::hmac_sha256;

/// The signature header's value for a body: `sha256=<hex>`. A receiver computes the same
/// over the bytes it received and compares (in constant time).
pub fn signature(key: &[u8], body: &[u8]) -> String {
    format!("sha256={}", hex::encode(hmac_sha256(key, body)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_changes_with_the_key_and_the_body() {
        let s = signature(b"k", b"body");
        assert!(s.starts_with("sha256="));
        assert_ne!(s, signature(b"k2", b"body"));
        assert_ne!(s, signature(b"k", b"body2"));
    }
}
