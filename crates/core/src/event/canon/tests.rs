//! The canonical writer and reader held to serde's output on every event type.

use super::scalars::put_str;
use super::table::put_data;
use super::*;
use crate::event::decode_event_serde;
use crate::event::Event;
use crate::money::Money;
use proptest::prelude::*;

/// Every golden file of every schema version.
fn goldens() -> Vec<(String, String)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let mut files = Vec::new();
    for version in std::fs::read_dir(dir).unwrap() {
        for f in std::fs::read_dir(version.unwrap().path()).unwrap() {
            let path = f.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            files.push((path.display().to_string(), text.trim_end().to_owned()));
        }
    }
    assert!(files.len() >= 33, "golden files: {}", files.len());
    files
}

#[test]
fn serde_and_canon_agree() {
    for (name, json) in goldens() {
        let (position, by_serde) = decode_event_serde(json.as_bytes()).unwrap();
        // The writer gives the golden bytes, and serde's writer the same body.
        let mut out = Vec::new();
        put_event(&mut out, position, &by_serde, None);
        assert_eq!(String::from_utf8(out).unwrap(), json, "{name}");
        let mut data = Vec::new();
        if put_data(&by_serde.body, &mut data) {
            let body = serde_json::to_string(&by_serde.body).unwrap();
            assert!(body.contains(std::str::from_utf8(&data).unwrap()), "{name}");
        }
        // The reader reads every type but the policy's, to the same event.
        match take_event(&json) {
            Some(read) => {
                assert_eq!(read.position, position, "{name}");
                let policy = if read.policy_present {
                    read.event.policy
                } else {
                    1
                };
                assert_eq!(
                    Event {
                        policy,
                        ..read.event
                    },
                    by_serde,
                    "{name}"
                );
                assert_eq!(read.policy_present, by_serde.v >= 2, "{name}");
            }
            None => assert_eq!(by_serde.body.type_name(), "policy_published", "{name}"),
        }
    }
}

#[test]
fn the_reader_gives_up_on_anything_but_the_canonical_layout() {
    let (_, consumed) = goldens()
        .into_iter()
        .find(|(n, _)| n.ends_with("v2/consumed.json"))
        .unwrap();
    assert!(take_event(&consumed).is_some());
    let variants = [
        consumed.replace(r#""at":"#, r#""at": "#),
        consumed.replace(r#""points_earned":260"#, r#""points_earned":0260"#),
        consumed.replace(r#""index":0,"member":"M1""#, r#""member":"M1","index":0"#),
        consumed.replace(r#""tier":"standard""#, r#""tier":"stan\u0064ard""#),
        consumed.replace(r#""service":"facial""#, r#""service":"fa\"cial""#),
        consumed.replace(r#""v":2,"#, r#""v":2,"x":1,"#),
        format!("{consumed} "),
    ];
    for v in &variants {
        assert!(take_event(v).is_none(), "{v}");
    }
    // serde still reads what is only laid out differently, and writing it back gives
    // other bytes: `verify` reports such an event.
    let (position, e) = crate::decode_event(variants[0].as_bytes()).unwrap();
    let mut out = Vec::new();
    put_event(&mut out, position, &e, None);
    assert_eq!(out, consumed.as_bytes());
}

proptest! {
    /// Strings are escaped exactly as serde_json escapes them.
    #[test]
    fn strings_escape_as_serde_does(s in "\\PC*|[\\x00-\\x7f]{0,40}") {
        let mut out = Vec::new();
        put_str(&mut out, &s);
        prop_assert_eq!(String::from_utf8(out).unwrap(), serde_json::to_string(&s).unwrap());
    }

    /// Amounts are written as `Display` writes them, and read back.
    #[test]
    fn money_round_trips(cents in -1_000_000_000_000i64..1_000_000_000_000) {
        let m = Money::from_cents(cents);
        let mut out = Vec::new();
        m.put(&mut out);
        prop_assert_eq!(String::from_utf8(out.clone()).unwrap(), format!("\"{m}\""));
        if cents >= 0 {
            let s = String::from_utf8(out).unwrap();
            prop_assert_eq!(Money::take(&mut Reader::new(&s)), Some(m));
        }
    }
}

/// Where the binary form of a golden event is pinned: `tests/golden-binary/<version>/<type>.hex`.
fn binary_golden(json_path: &str) -> std::path::PathBuf {
    let path = std::path::Path::new(json_path);
    let version = path.parent().unwrap().file_name().unwrap();
    let name = path.file_stem().unwrap().to_str().unwrap();
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden-binary")
        .join(version)
        .join(format!("{name}.hex"))
}

/// Every golden event but the policy's has a binary form: pinned byte for byte (regenerated
/// with `UPDATE_GOLDEN=1`), read back to the same event, re-encoded to the golden JSON, and
/// refused cut short or with a byte more.
#[test]
fn binary_forms_read_back_to_their_events_and_are_pinned() {
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    for (name, json) in goldens() {
        let (position, event) = decode_event_serde(json.as_bytes()).unwrap();
        let mut bin = Vec::new();
        if !put_event_bin(&mut bin, &event) {
            assert_eq!(event.body.type_name(), "policy_published", "{name}");
            assert!(bin.is_empty(), "{name}");
            continue;
        }
        let golden = binary_golden(&name);
        let hex = hex::encode(&bin);
        if update {
            std::fs::create_dir_all(golden.parent().unwrap()).unwrap();
            std::fs::write(&golden, format!("{hex}\n")).unwrap();
        }
        let pinned = std::fs::read_to_string(&golden).unwrap_or_default();
        assert_eq!(pinned.trim_end(), hex, "{name}: the binary form changed");
        let again = crate::decode_binary_event(&bin).unwrap();
        assert_eq!(again, event, "{name}");
        assert_eq!(crate::canonical_json(position, &again), json, "{name}");
        for cut in 0..bin.len() {
            assert!(take_event_bin(&bin[..cut]).is_none(), "{name} cut at {cut}");
        }
        let mut longer = bin.clone();
        longer.push(0);
        assert!(take_event_bin(&longer).is_none(), "{name}");
    }
}

/// A varint has one form, its shortest: each value is one sequence of bytes.
#[test]
fn varints_are_read_in_their_shortest_form_only() {
    let read = |b: &[u8]| binary::tests_varint(b);
    assert_eq!(read(&[0]), Some(0));
    assert_eq!(read(&[0x7f]), Some(127));
    assert_eq!(read(&[0x80, 0x01]), Some(128));
    assert_eq!(read(&[0x80, 0x00]), None);
    assert_eq!(read(&[0xff, 0x80, 0x00]), None);
    let mut max = Vec::new();
    binary::put_varint(&mut max, u64::MAX);
    assert_eq!(read(&max), Some(u64::MAX));
    assert_eq!(
        read(&[0xff; 9].iter().copied().chain([0x02]).collect::<Vec<_>>()),
        None
    );
    assert_eq!(read(&[0x80; 11]), None);
}

proptest! {
    /// Any byte of a golden event's binary form changed: it reads as no event, or as an event
    /// whose binary form is those bytes (a different event, which `verify` finds by its JSON);
    /// never a panic.
    #[test]
    fn a_binary_form_changed_anywhere_reads_as_what_it_says(
        pick in any::<prop::sample::Index>(),
        at in any::<prop::sample::Index>(),
        flip in 1u8..=255,
    ) {
        let files = goldens();
        let (_, json) = &files[pick.index(files.len())];
        let (_, event) = decode_event_serde(json.as_bytes()).unwrap();
        let mut bin = Vec::new();
        if put_event_bin(&mut bin, &event) {
            let i = at.index(bin.len());
            bin[i] ^= flip;
            if let Some(read) = crate::decode_binary_event(&bin) {
                prop_assert_ne!(&read, &event);
                let mut again = Vec::new();
                prop_assert!(put_event_bin(&mut again, &read));
                prop_assert_eq!(again, bin);
            }
        }
    }

    /// Arbitrary bytes never panic the reader.
    #[test]
    fn arbitrary_bytes_never_panic_the_binary_reader(b in prop::collection::vec(any::<u8>(), 0..300)) {
        let _ = crate::decode_binary_event(&b);
        let mut with_version = vec![1u8];
        with_version.extend_from_slice(&b);
        let _ = crate::decode_binary_event(&with_version);
    }
}
