//! The frame: how the log's bytes are cut into checked pieces. A frame is a 16-byte header and
//! a body; the body is a chunk of consecutive records as the store crate defines them
//! (`memberledger_store::record`). The header: the body's length (u32), the flags (u32; bit 0:
//! the last frame of an append), a CRC-32 of those eight bytes, and a CRC-32 of the body; all
//! little-endian. An append is one or more frames, the last one flagged, which is written
//! only once the frames before it are synced (`append`): an append whose last frame is
//! missing or damaged was never acknowledged.

/// Bytes of a frame's header.
pub(crate) const HEADER_LEN: usize = 16;

/// The flag of an append's last frame.
pub(crate) const END: u32 = 1;

/// The most bytes of records a frame holds when an append is cut into frames (a larger record
/// is a frame on its own): a read of one event reads at most about this much.
pub(crate) const FRAME_BYTES: usize = 64 * 1024;

/// The largest body a header may claim (a record of the most events a command may record
/// fits): a larger claim is a damaged header.
pub(crate) const BODY_MAX: u32 = 256 * 1024 * 1024;

/// A frame header read back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Header {
    /// The body's length.
    pub(crate) len: u32,
    /// Whether this frame closes its append.
    pub(crate) end: bool,
    /// The body's CRC-32.
    pub(crate) body_crc: u32,
}

impl Header {
    /// The frame's whole length, header included.
    pub(crate) fn frame_len(self) -> usize {
        HEADER_LEN + usize::try_from(self.len).unwrap_or(usize::MAX - HEADER_LEN)
    }
}

/// Appends a frame holding `body` to `out`.
#[cfg(test)]
pub(crate) fn push_frame(out: &mut Vec<u8>, body: &[u8], end: bool) {
    framing(out, end, |b| b.extend_from_slice(body));
}

/// Appends a frame to `out` whose body `write` appends (to `out` itself, after room left for
/// the header, which is then filled in).
pub(crate) fn framing(out: &mut Vec<u8>, end: bool, write: impl FnOnce(&mut Vec<u8>)) {
    let at = out.len();
    out.resize(at + HEADER_LEN, 0);
    write(out);
    let body = &out[at + HEADER_LEN..];
    let len = u32::try_from(body.len()).expect("a frame body is bounded by BODY_MAX");
    let body_crc = crc32fast::hash(body);
    let flags = if end { END } else { 0 };
    let mut head = [0u8; HEADER_LEN];
    head[..4].copy_from_slice(&len.to_le_bytes());
    head[4..8].copy_from_slice(&flags.to_le_bytes());
    let head_crc = crc32fast::hash(&head[..8]);
    head[8..12].copy_from_slice(&head_crc.to_le_bytes());
    head[12..].copy_from_slice(&body_crc.to_le_bytes());
    out[at..at + HEADER_LEN].copy_from_slice(&head);
}

/// The header at the start of `bytes`, if it is whole and checks (its CRC, known flags, a
/// length within [`BODY_MAX`], a non-empty body).
pub(crate) fn read_header(bytes: &[u8]) -> Option<Header> {
    let h: &[u8; HEADER_LEN] = bytes.get(..HEADER_LEN)?.try_into().ok()?;
    let word = |i: usize| u32::from_le_bytes([h[i], h[i + 1], h[i + 2], h[i + 3]]);
    let (len, flags, head_crc, body_crc) = (word(0), word(4), word(8), word(12));
    let checks = crc32fast::hash(&h[..8]) == head_crc
        && (flags == 0 || flags == END)
        && len > 0
        && len <= BODY_MAX;
    checks.then_some(Header {
        len,
        end: flags == END,
        body_crc,
    })
}

/// The body of the frame whose header is `header`, at the start of `bytes`, if it is whole and
/// matches its CRC.
pub(crate) fn body(bytes: &[u8], header: Header) -> Option<&[u8]> {
    let body = bytes.get(HEADER_LEN..header.frame_len())?;
    (crc32fast::hash(body) == header.body_crc).then_some(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_frame_reads_back_and_any_flipped_byte_is_found() {
        let mut out = Vec::new();
        push_frame(&mut out, b"the records", true);
        let h = read_header(&out).unwrap();
        assert!(h.end);
        assert_eq!(body(&out, h), Some(&b"the records"[..]));
        for i in 0..out.len() {
            let mut bad = out.clone();
            bad[i] ^= 0x10;
            let found = read_header(&bad).and_then(|h| body(&bad, h).map(|_| ()));
            assert!(found.is_none(), "a flip at byte {i} went unseen");
        }
    }

    #[test]
    fn zeros_are_never_a_header() {
        assert_eq!(read_header(&[0u8; HEADER_LEN]), None);
        assert_eq!(read_header(&[0u8; 3]), None);
    }
}
