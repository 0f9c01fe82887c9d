//! Amounts, times and coupons in a binary format (the CBOR of a checkpoint) are whole
//! numbers and arrays, read back exactly; in JSON they keep their text forms.

use memberledger_core::{Money, Timestamp};
use proptest::prelude::*;
use serde::{de::DeserializeOwned, Serialize};

fn cbor_round_trip<T: Serialize + DeserializeOwned>(value: &T) -> T {
    let mut bytes = Vec::new();
    ciborium::into_writer(value, &mut bytes).expect("encodes");
    ciborium::from_reader(bytes.as_slice()).expect("decodes")
}

proptest! {
    #[test]
    fn any_amount_reads_back_from_cbor_as_whole_cents(cents in any::<i64>()) {
        let m = Money::from_cents(cents);
        let mut bytes = Vec::new();
        ciborium::into_writer(&m, &mut bytes).unwrap();
        // An integer, not text: at most 9 bytes.
        prop_assert!(bytes.len() <= 9, "{bytes:?}");
        prop_assert_eq!(cbor_round_trip(&m), m);
    }

    #[test]
    fn any_time_reads_back_from_cbor_to_the_nanosecond(
        secs in 0i64..253_402_300_799, nanos in 0u32..1_000_000_000,
    ) {
        let t: Timestamp = chrono::DateTime::from_timestamp(secs, nanos)
            .unwrap()
            .to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)
            .parse()
            .unwrap();
        prop_assert_eq!(cbor_round_trip(&t), t);
        // JSON keeps the RFC 3339 text.
        let text = serde_json::to_string(&t).unwrap();
        prop_assert_eq!(text, format!("\"{t}\""));
    }
}

#[test]
fn json_keeps_amounts_as_text_and_refuses_numbers() {
    let m = Money::from_cents(12_345);
    assert_eq!(serde_json::to_string(&m).unwrap(), "\"123.45\"");
    assert!(serde_json::from_str::<Money>("12345").is_err());
}

#[test]
fn a_time_out_of_range_in_cbor_is_an_error_not_a_panic() {
    let mut bytes = Vec::new();
    ciborium::into_writer(&(i64::MAX, 0u32), &mut bytes).unwrap();
    assert!(ciborium::from_reader::<Timestamp, _>(bytes.as_slice()).is_err());
    let mut bytes = Vec::new();
    // Year 10000: past what the ledger records.
    ciborium::into_writer(&(253_402_300_800i64, 0u32), &mut bytes).unwrap();
    assert!(ciborium::from_reader::<Timestamp, _>(bytes.as_slice()).is_err());
}
