//! What several property tests check of every member state they reach.

use memberledger_core::MemberState;
use serde::Serialize;

fn cbor(value: &impl Serialize) -> Vec<u8> {
    let mut bytes = Vec::new();
    ciborium::into_writer(value, &mut bytes).expect("encodes");
    bytes
}

/// The state serialized as its compact projection where it lies ([`MemberState::compact`])
/// is, byte for byte, a copy of it made compact: in CBOR (a checkpoint's form, by serde and by
/// hand) and in JSON, with the spending window and without.
pub fn assert_compact_is_the_copy(state: &MemberState) {
    for spending in [true, false] {
        let copy = state.clone().without_consumption_records();
        let copy = if spending {
            copy
        } else {
            copy.without_spending_window()
        };
        let view = state.compact(spending);
        assert_eq!(cbor(&view), cbor(&copy), "spending window kept: {spending}");
        // The hand-written CBOR, when it writes the state, writes the same bytes.
        let mut ours = Vec::new();
        if view.write_cbor(&mut ours) {
            assert_eq!(
                ours,
                cbor(&view),
                "by hand, spending window kept: {spending}"
            );
        } else {
            assert!(ours.is_empty(), "a state left to serde writes nothing");
        }
        assert_eq!(
            serde_json::to_string(&view).expect("encodes"),
            serde_json::to_string(&copy).expect("encodes")
        );
    }
}
