//! The C host: tests/c/scenario.c compiled with the machine's C compiler against the checked-in
//! header and this crate's libraries (static and shared), and run: the shared scenario, 8
//! threads on shared members, every error path. Then the same under valgrind: no leak, no
//! invalid access.
//!
//! Without `cc` or `valgrind` the test says so and skips that part, unless
//! `MEMBERLEDGER_REQUIRE_TOOLS=1` (CI), when it fails.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The directory cargo put this crate's libraries in. `cargo test` leaves them beside the
/// test in `…/deps`; `cargo build` also copies them up to the profile's directory.
fn lib_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test's path");
    let deps = exe.parent().expect("deps").to_path_buf();
    let profile = deps
        .parent()
        .expect("the profile's directory")
        .to_path_buf();
    [deps, profile]
        .into_iter()
        .find(|d| d.join("libmemberledger_ffi.a").exists())
        .unwrap_or_else(|| panic!("no libmemberledger_ffi.a beside {}", exe.display()))
}

fn tool_present(tool: &str) -> bool {
    let there = Command::new(tool).arg("--version").output().is_ok();
    if !there {
        assert!(
            std::env::var("MEMBERLEDGER_REQUIRE_TOOLS").as_deref() != Ok("1"),
            "{tool} is required (MEMBERLEDGER_REQUIRE_TOOLS=1) but missing"
        );
        eprintln!("{tool} not found: skipped");
    }
    there
}

fn show(out: &Output) -> String {
    format!(
        "status {}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[derive(Clone, Copy)]
enum Link {
    Static,
    Shared,
}

/// Compiles the C program, warnings as errors, with `defines` (`-D…`).
fn compile(link: Link, out: &Path, defines: &[&str]) {
    let lib = lib_dir();
    let mut cc = Command::new("cc");
    cc.args(defines)
        .args([
            "-std=c11", "-Wall", "-Wextra", "-Werror", "-pthread", "-g", "-I",
        ])
        .arg(crate_dir().join("include"))
        .arg(crate_dir().join("tests/c/scenario.c"))
        .arg("-o")
        .arg(out);
    match link {
        Link::Static => {
            cc.arg(lib.join("libmemberledger_ffi.a"))
                .args(["-lpthread", "-ldl", "-lm", "-lrt"])
        }
        Link::Shared => cc
            .arg("-L")
            .arg(&lib)
            .arg(format!("-Wl,-rpath,{}", lib.display()))
            .arg("-lmemberledger_ffi"),
    };
    let result = cc.output().expect("cc runs");
    assert!(result.status.success(), "cc failed: {}", show(&result));
}

/// Runs the program (under `wrapper` when given) on the fixtures in a new directory.
fn run(wrapper: &[&str], program: &Path) -> Output {
    let work = tempfile::tempdir().expect("a temporary directory");
    let fixtures = crate_dir().join("../../tests/fixtures/scenario");
    let (cmd, args) = match wrapper.split_first() {
        Some((first, rest)) => (first.to_string(), rest.to_vec()),
        None => (program.display().to_string(), Vec::new()),
    };
    let mut c = Command::new(cmd);
    c.args(args);
    if !wrapper.is_empty() {
        c.arg(program);
    }
    c.arg(fixtures).arg(work.path()).output().expect("runs")
}

#[test]
fn the_c_program_passes_the_shared_scenario_threads_and_error_paths() {
    if !tool_present("cc") {
        return;
    }
    let dir = tempfile::tempdir().expect("a temporary directory");
    for (link, name) in [(Link::Static, "static"), (Link::Shared, "shared")] {
        let program = dir.path().join(name);
        compile(link, &program, &[]);
        let out = run(&[], &program);
        assert!(out.status.success(), "{name}: {}", show(&out));
        assert!(String::from_utf8_lossy(&out.stdout).contains("all checks passed"));
    }
}

/// Runs the program built with `defines` under valgrind. The suppressions name only memory the
/// process-wide thread pools hold until exit (`tests/c/valgrind.supp`).
fn under_valgrind(defines: &[&str]) -> Option<Output> {
    if !tool_present("cc") || !tool_present("valgrind") {
        return None;
    }
    let dir = tempfile::tempdir().expect("a temporary directory");
    let program = dir.path().join("static");
    compile(Link::Static, &program, defines);
    let suppressions = format!(
        "--suppressions={}",
        crate_dir().join("tests/c/valgrind.supp").display()
    );
    let wrapper = [
        "valgrind",
        "--error-exitcode=1",
        "--leak-check=full",
        "--quiet",
        &suppressions,
    ];
    Some(run(&wrapper, &program))
}

#[test]
fn the_c_program_has_no_leak_and_no_invalid_access_under_valgrind() {
    if let Some(out) = under_valgrind(&[]) {
        assert!(out.status.success(), "valgrind: {}", show(&out));
    }
}

#[test]
fn valgrind_catches_a_string_the_host_never_frees() {
    if let Some(out) = under_valgrind(&["-DLEAK_ON_PURPOSE"]) {
        assert!(!out.status.success(), "valgrind: {}", show(&out));
        assert!(String::from_utf8_lossy(&out.stderr).contains("definitely lost"));
    }
}
