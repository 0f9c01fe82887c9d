//! A cursor over canonical JSON: the reader's primitives (literal bytes, plain strings,
//! canonical integers).

/// A cursor over canonical JSON.
pub(crate) struct Reader<'a> {
    s: &'a str,
    at: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(s: &'a str) -> Reader<'a> {
        Reader { s, at: 0 }
    }

    #[inline(always)]
    fn rest(&self) -> &'a [u8] {
        &self.s.as_bytes()[self.at..]
    }

    /// Expects exactly these bytes next. Inlined: every caller's bytes are a constant, so the
    /// comparison becomes a few loads instead of a call to `memcmp`.
    #[inline(always)]
    pub(super) fn lit(&mut self, lit: &[u8]) -> Option<()> {
        self.rest().starts_with(lit).then(|| self.at += lit.len())
    }

    /// Whether these bytes come next (consumed if they do).
    #[inline(always)]
    pub(super) fn eat(&mut self, lit: &[u8]) -> bool {
        self.lit(lit).is_some()
    }

    /// A string with nothing escaped, borrowed; `None` for any escape (left to serde).
    pub(super) fn plain_str(&mut self) -> Option<&'a str> {
        self.lit(b"\"")?;
        let start = self.at;
        let len = plain_run(self.rest());
        if self.rest().get(len) != Some(&b'"') {
            return None;
        }
        self.at += len + 1;
        Some(&self.s[start..start + len])
    }

    /// An unsigned integer in canonical form: `0`, or digits without a leading zero.
    pub(super) fn uint(&mut self) -> Option<u64> {
        let digits = self
            .rest()
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        if digits == 0 || digits > 20 || (digits > 1 && self.rest()[0] == b'0') {
            return None;
        }
        let n = self.rest()[..digits].iter().try_fold(0u64, |n, &b| {
            n.checked_mul(10)?.checked_add(u64::from(b - b'0'))
        })?;
        self.at += digits;
        Some(n)
    }

    /// Whether every byte was read.
    pub(super) fn done(&self) -> bool {
        self.at == self.s.len()
    }
}

/// The length of the run of bytes at the start of `b` before the first quote, backslash or control
/// character (all of `b` when there is none): eight bytes at a time, a word's bytes tested
/// at once. In a word, `(x - 0x01..01) & !x & 0x80..80` marks each zero byte (and, from a
/// borrow, possibly bytes after one, never before), so the lowest mark of the three tests is
/// the first byte that ends the run.
pub(super) fn plain_run(b: &[u8]) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let zero = |x: u64| x.wrapping_sub(ONES) & !x;
    let mut words = b.chunks_exact(8);
    let mut at = 0;
    for word in &mut words {
        let w = u64::from_le_bytes(word.try_into().expect("eight bytes"));
        let quote = zero(w ^ (ONES * u64::from(b'"')));
        let backslash = zero(w ^ (ONES * u64::from(b'\\')));
        // Below 0x20: what taking 0x20 from every byte borrows through (bytes of 0x80 and up
        // never do, `!x` clears them).
        let control = w.wrapping_sub(ONES * 0x20) & !w;
        let marks = (quote | backslash | control) & HIGHS;
        if marks != 0 {
            return at + (marks.trailing_zeros() / 8) as usize;
        }
        at += 8;
    }
    let tail = words.remainder();
    at + tail
        .iter()
        .position(|&c| c == b'"' || c == b'\\' || c < 0x20)
        .unwrap_or(tail.len())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    proptest! {
        /// The run ends where a byte-by-byte search says, whatever the bytes (the three
        /// stops and bytes around them are drawn often).
        #[test]
        fn a_plain_run_ends_at_the_first_stop(
            b in prop::collection::vec(
                prop_oneof![Just(b'"'), Just(b'\\'), 0u8..0x21, 0x5bu8..0x5e, 0x7fu8..=0xff, any::<u8>()],
                0..40,
            ),
        ) {
            let naive = b.iter().position(|&c| c == b'"' || c == b'\\' || c < 0x20).unwrap_or(b.len());
            prop_assert_eq!(super::plain_run(&b), naive);
        }
    }
}
