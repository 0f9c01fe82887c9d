//! Cohorts: a deterministic bucket of a member id, for comparing bonus ladders (and, later,
//! scoping them) across groups of members.

use sha2::{Digest, Sha256};

use crate::id::MemberId;

/// The cohort of `member` among `buckets` (0 to `buckets − 1`; 0 when `buckets` is 0 or 1).
///
/// `u64::from_be_bytes(first 8 bytes of SHA-256(member id's UTF-8 bytes)) mod buckets`.
/// **Stable forever**: reports compare cohorts across years and the policy may scope rules to
/// them, so the function and its inputs never change (a test pins values). Any SHA-256
/// gives the same answer: take the first 8 bytes of the digest as a big-endian integer.
///
/// ```
/// use memberledger_core::{cohort_of, MemberId};
/// let m = MemberId::new("M1").unwrap();
/// assert!(cohort_of(&m, 2) < 2);
/// assert_eq!(cohort_of(&m, 2), cohort_of(&m, 2));
/// assert_eq!(cohort_of(&m, 0), 0);
/// ```
#[must_use]
pub fn cohort_of(member: &MemberId, buckets: u32) -> u32 {
    if buckets <= 1 {
        return 0;
    }
    let digest = Sha256::digest(member.as_str().as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    let bucket = u64::from_be_bytes(first) % u64::from(buckets);
    u32::try_from(bucket).expect("below buckets, a u32")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(id: &str) -> MemberId {
        MemberId::new(id).unwrap()
    }

    #[test]
    fn cohort_of_is_pinned_forever() {
        // Computed with Python's hashlib, an independent SHA-256: they must never change.
        let got: Vec<u32> = ["M1", "M2", "M0000000", "m.42_x"]
            .iter()
            .map(|id| cohort_of(&m(id), 1000))
            .collect();
        assert_eq!(got, PINNED);
    }

    #[test]
    fn cohort_of_is_below_buckets_and_spreads_members() {
        let mut seen = [0u32; 4];
        for n in 0..400 {
            let c = cohort_of(&m(&format!("M{n:07}")), 4);
            assert!(c < 4);
            seen[usize::try_from(c).unwrap()] += 1;
        }
        assert!(seen.iter().all(|&n| n > 50), "{seen:?}");
        assert_eq!(cohort_of(&m("M1"), 1), 0);
        assert_eq!(cohort_of(&m("M1"), 0), 0);
    }

    const PINNED: [u32; 4] = [933, 150, 191, 909];
}
