//! The checked-in header (include/memberledger.h) is exactly what cbindgen generates from the
//! crate: a changed signature or a new code cannot ship with a stale header. Without cbindgen
//! the test skips, unless `MEMBERLEDGER_REQUIRE_TOOLS=1` (CI runs `crates/ffi/header.sh
//! --check`, which installs it).

use std::path::PathBuf;
use std::process::Command;

#[test]
fn the_checked_in_header_is_what_cbindgen_generates() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    if Command::new("cbindgen").arg("--version").output().is_err() {
        assert!(
            std::env::var("MEMBERLEDGER_REQUIRE_TOOLS").as_deref() != Ok("1"),
            "cbindgen is required (MEMBERLEDGER_REQUIRE_TOOLS=1) but missing"
        );
        eprintln!("cbindgen not found: skipped");
        return;
    }
    let work = tempfile::tempdir().expect("a temporary directory");
    let generated = work.path().join("memberledger.h");
    let out = Command::new("cbindgen")
        .current_dir(&dir)
        .args([
            "--quiet",
            "--config",
            "cbindgen.toml",
            "--crate",
            "memberledger-ffi",
        ])
        .arg("--output")
        .arg(&generated)
        .arg(".")
        .output()
        .expect("cbindgen runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let want = std::fs::read_to_string(&generated).expect("generated");
    let have = std::fs::read_to_string(dir.join("include/memberledger.h")).expect("checked in");
    assert!(
        want == have,
        "include/memberledger.h is out of date: run bash crates/ffi/header.sh"
    );
}

#[test]
fn the_header_lists_every_code_beside_its_string_code() {
    let header = include_str!("../include/memberledger.h");
    for code in memberledger_ffi::codes::CODES {
        let name = format!("`\"{}\"`", code.name);
        let define = format!("#define ML_{} {}", code.name.to_uppercase(), code.number);
        let at = header
            .find(&define)
            .unwrap_or_else(|| panic!("no {define}"));
        let doc = header[..at].rsplit("/**").next().expect("a comment");
        assert!(doc.contains(&name), "{define} is not documented as {name}");
    }
}
