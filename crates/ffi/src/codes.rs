//! The stable result codes: an integer for C, beside the string code every other adapter puts
//! on the wire (`Error::code`), and the family a host groups them in (the HTTP adapter's
//! status classes). Numbers are never reused or renumbered; new codes take new numbers.

/// `"ok"`: the call succeeded.
pub const ML_OK: i32 = 0;
/// `"invalid_argument"`: a NULL pointer, text that is not UTF-8, an unknown export format, a
/// statement period that ends before it starts.
pub const ML_INVALID_ARGUMENT: i32 = 1;
/// `"internal"`: the library panicked; the call recorded nothing it did not acknowledge.
pub const ML_INTERNAL: i32 = 2;
/// `"io"`: the export could not be written.
pub const ML_IO: i32 = 3;
/// `"verify_failed"`: `verify` found a problem (the report names it).
pub const ML_VERIFY_FAILED: i32 = 4;
/// `"batch_too_large"`: a batch over the ledger's limit, or empty.
pub const ML_BATCH_TOO_LARGE: i32 = 5;
/// `"storage"`: the medium failed; the command was not acknowledged (retry with the same id).
pub const ML_STORAGE: i32 = 6;
/// `"corrupt"`: the stored log is damaged.
pub const ML_CORRUPT: i32 = 7;
/// `"concurrency_conflict"`: another writer moved the member and retries ran out.
pub const ML_CONCURRENCY_CONFLICT: i32 = 8;
/// `"invalid_amount"`.
pub const ML_INVALID_AMOUNT: i32 = 10;
/// `"invalid_id"`.
pub const ML_INVALID_ID: i32 = 11;
/// `"invalid_command"`.
pub const ML_INVALID_COMMAND: i32 = 12;
/// `"member_not_found"`.
pub const ML_MEMBER_NOT_FOUND: i32 = 13;
/// `"member_exists"`.
pub const ML_MEMBER_EXISTS: i32 = 14;
/// `"member_frozen"`.
pub const ML_MEMBER_FROZEN: i32 = 15;
/// `"insufficient_balance"`.
pub const ML_INSUFFICIENT_BALANCE: i32 = 16;
/// `"unknown_tier"`.
pub const ML_UNKNOWN_TIER: i32 = 17;
/// `"unknown_consumption"`.
pub const ML_UNKNOWN_CONSUMPTION: i32 = 18;
/// `"refund_exceeds_original"`.
pub const ML_REFUND_EXCEEDS_ORIGINAL: i32 = 19;
/// `"out_of_order"`.
pub const ML_OUT_OF_ORDER: i32 = 20;
/// `"idempotency_conflict"`.
pub const ML_IDEMPOTENCY_CONFLICT: i32 = 21;
/// `"invalid_policy"`.
pub const ML_INVALID_POLICY: i32 = 22;
/// `"insufficient_points"`.
pub const ML_INSUFFICIENT_POINTS: i32 = 23;
/// `"settlement_exceeds_owed"`.
pub const ML_SETTLEMENT_EXCEEDS_OWED: i32 = 24;
/// `"unknown_package"`.
pub const ML_UNKNOWN_PACKAGE: i32 = 25;
/// `"package_exhausted"`.
pub const ML_PACKAGE_EXHAUSTED: i32 = 26;
/// `"package_expired"`.
pub const ML_PACKAGE_EXPIRED: i32 = 27;
/// `"future_time"`.
pub const ML_FUTURE_TIME: i32 = 28;
/// `"limit_exceeded"`.
pub const ML_LIMIT_EXCEEDED: i32 = 29;
/// `"stored_value_cap_exceeded"`: a recharge or bonus would take the member past the
/// policy's stored-value cap.
pub const ML_STORED_VALUE_CAP_EXCEEDED: i32 = 30;
/// `"expiry_too_short"`: an expiry sooner than the policy's minimum.
pub const ML_EXPIRY_TOO_SHORT: i32 = 31;
/// `"period_closed"`: the command would take effect in a closed period.
pub const ML_PERIOD_CLOSED: i32 = 32;
/// `"card_in_use"`.
pub const ML_CARD_IN_USE: i32 = 33;
/// `"card_lost"`.
pub const ML_CARD_LOST: i32 = 34;
/// `"card_replaced"`.
pub const ML_CARD_REPLACED: i32 = 35;
/// `"card_not_linked"`.
pub const ML_CARD_NOT_LINKED: i32 = 36;
/// `"card_key_missing"`.
pub const ML_CARD_KEY_MISSING: i32 = 37;
/// `"unknown_hold"`.
pub const ML_UNKNOWN_HOLD: i32 = 38;
/// `"capture_exceeds_hold"`.
pub const ML_CAPTURE_EXCEEDS_HOLD: i32 = 39;
/// `"holds_open"`.
pub const ML_HOLDS_OPEN: i32 = 40;
/// `"unknown_coupon"`.
pub const ML_UNKNOWN_COUPON: i32 = 41;
/// `"coupon_expired"`.
pub const ML_COUPON_EXPIRED: i32 = 42;
/// `"coupon_used"`.
pub const ML_COUPON_USED: i32 = 43;
/// `"coupon_not_applicable"`.
pub const ML_COUPON_NOT_APPLICABLE: i32 = 44;
/// `"unknown"`: a code this build has no number for; the message starts with its string code.
pub const ML_UNKNOWN: i32 = 99;

/// One result code: its number, its string code, and its family.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Code {
    /// The stable integer (the `ML_*` constant).
    pub number: i32,
    /// The stable string code.
    pub name: &'static str,
    /// The family: `ok`, `invalid`, `not_found`, `conflict`, `refused`, `storage`, `internal`.
    pub family: &'static str,
}

const fn code(number: i32, name: &'static str, family: &'static str) -> Code {
    Code {
        number,
        name,
        family,
    }
}

/// Every code, by number.
pub const CODES: &[Code] = &[
    code(ML_OK, "ok", "ok"),
    code(ML_INVALID_ARGUMENT, "invalid_argument", "invalid"),
    code(ML_INTERNAL, "internal", "internal"),
    code(ML_IO, "io", "storage"),
    code(ML_VERIFY_FAILED, "verify_failed", "storage"),
    code(ML_BATCH_TOO_LARGE, "batch_too_large", "invalid"),
    code(ML_STORAGE, "storage", "storage"),
    code(ML_CORRUPT, "corrupt", "storage"),
    code(ML_CONCURRENCY_CONFLICT, "concurrency_conflict", "conflict"),
    code(ML_INVALID_AMOUNT, "invalid_amount", "invalid"),
    code(ML_INVALID_ID, "invalid_id", "invalid"),
    code(ML_INVALID_COMMAND, "invalid_command", "invalid"),
    code(ML_MEMBER_NOT_FOUND, "member_not_found", "not_found"),
    code(ML_MEMBER_EXISTS, "member_exists", "conflict"),
    code(ML_MEMBER_FROZEN, "member_frozen", "refused"),
    code(ML_INSUFFICIENT_BALANCE, "insufficient_balance", "refused"),
    code(ML_UNKNOWN_TIER, "unknown_tier", "invalid"),
    code(ML_UNKNOWN_CONSUMPTION, "unknown_consumption", "refused"),
    code(
        ML_REFUND_EXCEEDS_ORIGINAL,
        "refund_exceeds_original",
        "refused",
    ),
    code(ML_OUT_OF_ORDER, "out_of_order", "conflict"),
    code(ML_IDEMPOTENCY_CONFLICT, "idempotency_conflict", "conflict"),
    code(ML_INVALID_POLICY, "invalid_policy", "invalid"),
    code(ML_INSUFFICIENT_POINTS, "insufficient_points", "refused"),
    code(
        ML_SETTLEMENT_EXCEEDS_OWED,
        "settlement_exceeds_owed",
        "refused",
    ),
    code(ML_UNKNOWN_PACKAGE, "unknown_package", "refused"),
    code(ML_PACKAGE_EXHAUSTED, "package_exhausted", "refused"),
    code(ML_PACKAGE_EXPIRED, "package_expired", "refused"),
    code(ML_FUTURE_TIME, "future_time", "refused"),
    code(ML_LIMIT_EXCEEDED, "limit_exceeded", "refused"),
    code(
        ML_STORED_VALUE_CAP_EXCEEDED,
        "stored_value_cap_exceeded",
        "refused",
    ),
    code(ML_EXPIRY_TOO_SHORT, "expiry_too_short", "invalid"),
    code(ML_PERIOD_CLOSED, "period_closed", "refused"),
    code(ML_CARD_IN_USE, "card_in_use", "refused"),
    code(ML_CARD_LOST, "card_lost", "refused"),
    code(ML_CARD_REPLACED, "card_replaced", "refused"),
    code(ML_CARD_NOT_LINKED, "card_not_linked", "refused"),
    code(ML_CARD_KEY_MISSING, "card_key_missing", "refused"),
    code(ML_UNKNOWN_HOLD, "unknown_hold", "refused"),
    code(ML_CAPTURE_EXCEEDS_HOLD, "capture_exceeds_hold", "refused"),
    code(ML_HOLDS_OPEN, "holds_open", "refused"),
    code(ML_UNKNOWN_COUPON, "unknown_coupon", "refused"),
    code(ML_COUPON_EXPIRED, "coupon_expired", "refused"),
    code(ML_COUPON_USED, "coupon_used", "refused"),
    code(ML_COUPON_NOT_APPLICABLE, "coupon_not_applicable", "refused"),
    code(ML_UNKNOWN, "unknown", "internal"),
];

/// The code of a string code; [`ML_UNKNOWN`]'s for a string this build does not know.
pub fn by_name(name: &str) -> Code {
    CODES
        .iter()
        .find(|c| c.name == name)
        .copied()
        .unwrap_or(code(ML_UNKNOWN, "unknown", "internal"))
}

/// The code of a number, if it is one.
pub fn by_number(number: i32) -> Option<Code> {
    CODES.iter().find(|c| c.number == number).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_one_number_and_one_name() {
        for (i, a) in CODES.iter().enumerate() {
            for b in &CODES[i + 1..] {
                assert_ne!(a.number, b.number, "{} and {}", a.name, b.name);
                assert_ne!(a.name, b.name);
            }
            assert_eq!(by_name(a.name), *a);
            assert_eq!(by_number(a.number), Some(*a));
        }
    }

    /// Every code docs/RULES.md lists (its "Codes" table) has a number of its own: a new
    /// code cannot reach C as `ML_UNKNOWN` unnoticed.
    #[test]
    fn every_code_the_rules_list_has_its_own_number() {
        let rules = include_str!("../../../docs/RULES.md");
        let table = rules
            .split("| code | meaning |")
            .nth(1)
            .expect("the Codes table of docs/RULES.md");
        let listed: Vec<&str> = table
            .lines()
            .skip(2)
            .take_while(|l| l.starts_with("| `"))
            .filter_map(|l| l.split('`').nth(1))
            .collect();
        assert!(listed.len() >= 20, "{listed:?}");
        for name in listed {
            assert_ne!(by_name(name).number, ML_UNKNOWN, "{name} has no number");
        }
    }

    #[test]
    fn an_unknown_string_code_maps_to_unknown() {
        assert_eq!(by_name("no_such_code").number, ML_UNKNOWN);
        assert_eq!(by_number(-1), None);
    }
}
