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

    fn rest(&self) -> &'a [u8] {
        &self.s.as_bytes()[self.at..]
    }

    /// Expects exactly these bytes next.
    pub(super) fn lit(&mut self, lit: &[u8]) -> Option<()> {
        self.rest().starts_with(lit).then(|| self.at += lit.len())
    }

    /// Whether these bytes come next (consumed if they do).
    pub(super) fn eat(&mut self, lit: &[u8]) -> bool {
        self.lit(lit).is_some()
    }

    /// A string with nothing escaped, borrowed; `None` for any escape (left to serde).
    pub(super) fn plain_str(&mut self) -> Option<&'a str> {
        self.lit(b"\"")?;
        let start = self.at;
        let len = self
            .rest()
            .iter()
            .position(|&b| b == b'"' || b == b'\\' || b < 0x20)?;
        if self.rest()[len] != b'"' {
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
