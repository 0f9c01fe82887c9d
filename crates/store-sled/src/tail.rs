//! Whether sled's data file ends where sled itself leaves it, read from the last segment of
//! its log (sled 0.34's layout).
//!
//! sled writes its log in segments, each opening with a 20-byte header and followed by
//! messages laid end to end: a 4-byte checksum, a kind byte (0: none, sled's filler), then
//! the message's length, segment number and page id as sled's variable-length integers, then
//! the message's bytes. A flush writes the messages written since the last one, no more, so a
//! data file left by a normal close, or by a crash after an acknowledged write, ends on a
//! segment boundary, at the end of a message, or (after sled's recovery at an open, which
//! fills the rest of the segment it goes on writing with zeros up to one byte short of its
//! end) in a run of zeros. A file cut inside a message ends none of these ways.

/// The length of a segment's header in sled 0.34.
const SEGMENT_HEADER_LEN: usize = 20;

/// Whether `segment`, the last (partial) segment of sled's data file, ends where sled
/// leaves a log: after its header, whole messages follow up to the end or up to a run of
/// zeros that reaches it. An empty tail (the file ends on a segment boundary) is whole.
pub(crate) fn ends_whole(segment: &[u8]) -> bool {
    if segment.is_empty() {
        return true;
    }
    let Some(mut rest) = segment.get(SEGMENT_HEADER_LEN..) else {
        return false;
    };
    loop {
        if rest.iter().all(|&b| b == 0) {
            // The end, or sled's filler after the last message.
            return true;
        }
        match message_len(rest) {
            Some(len) if len <= rest.len() => rest = &rest[len..],
            _ => return false,
        }
    }
}

/// The length of the message `bytes` starts with (its header and its bytes), or `None` when
/// its header is cut or names no message (kind 0).
fn message_len(bytes: &[u8]) -> Option<usize> {
    let kind = *bytes.get(4)?;
    if kind == 0 {
        return None;
    }
    let mut at = 5;
    let len = varint(bytes, &mut at)?;
    varint(bytes, &mut at)?; // segment number
    varint(bytes, &mut at)?; // page id
    usize::try_from(len).ok()?.checked_add(at)
}

/// sled 0.34's variable-length `u64` at `bytes[*at..]`, moving `at` past it.
fn varint(bytes: &[u8], at: &mut usize) -> Option<u64> {
    let first = *bytes.get(*at)?;
    let (value, len) = match first {
        0..=240 => (u64::from(first), 1),
        241..=248 => {
            let low = u64::from(*bytes.get(*at + 1)?);
            (240 + 256 * (u64::from(first) - 241) + low, 2)
        }
        249 => {
            let hi = u64::from(*bytes.get(*at + 1)?);
            let low = u64::from(*bytes.get(*at + 2)?);
            (2288 + 256 * hi + low, 3)
        }
        other => {
            let n = usize::from(other) - 247;
            let mut le = [0u8; 8];
            le[..n].copy_from_slice(bytes.get(*at + 1..=*at + n)?);
            (u64::from_le_bytes(le), n + 1)
        }
    };
    *at += len;
    Some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A message as sled lays it out: checksum, kind, length, segment number, page id, bytes.
    fn message(len: u8) -> Vec<u8> {
        let mut m = vec![9, 9, 9, 9, 1, len, 3, 7];
        m.extend(std::iter::repeat_n(0xaa, usize::from(len)));
        m
    }

    #[test]
    fn a_segment_ends_whole_only_at_a_message_end_or_in_sleds_filler() {
        let mut segment = vec![0x55; SEGMENT_HEADER_LEN];
        let mut ends = vec![segment.len()];
        for len in [0, 5, 200, 17] {
            segment.extend(message(len));
            ends.push(segment.len());
        }
        for cut in 1..=segment.len() {
            assert_eq!(
                ends_whole(&segment[..cut]),
                ends.contains(&cut),
                "cut at {cut} of {}",
                segment.len()
            );
        }
        // sled's recovery fills the rest of the segment with zeros.
        let mut filled = segment.clone();
        filled.extend([0; 300]);
        assert!(ends_whole(&filled));
        // A zero run followed by more is no filler.
        filled.push(1);
        assert!(!ends_whole(&filled));
        assert!(ends_whole(&[]));
    }

    #[test]
    fn sleds_variable_length_integers_read_back() {
        for (bytes, value) in [
            (vec![240], 240),
            (vec![241, 0], 240),
            (vec![248, 255], 2287),
            (vec![249, 0, 0], 2288),
            (vec![250, 1, 2, 3], 0x03_0201),
            (vec![255, 1, 0, 0, 0, 0, 0, 0, 0], 1),
        ] {
            let mut at = 0;
            assert_eq!(varint(&bytes, &mut at), Some(value), "{bytes:?}");
            assert_eq!(at, bytes.len());
            if bytes.len() > 1 {
                let cut = &bytes[..bytes.len() - 1];
                assert_eq!(varint(cut, &mut 0), None, "{bytes:?}");
            }
        }
    }
}
