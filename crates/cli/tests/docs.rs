//! The docs point at the tree as it is: docs/ARCHITECTURE.md's code map names every source file
//! of every crate and nothing else, every crate has its section, and every repository path a
//! document names (README.md, docs/*.md, docs/decisions/*.md) exists, including the short paths
//! of docs/RULES.md's "Code" and "Test" columns.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn read(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Every `.rs` file under `dir`, as a path relative to the repository root.
fn rust_files(dir: &Path, out: &mut BTreeSet<String>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("a directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|x| x == "rs") {
            let rel = path.strip_prefix(root()).expect("under the root");
            out.insert(rel.to_string_lossy().replace('\\', "/"));
        }
    }
}

/// The crates of the workspace: the directories under `crates/`.
fn crates() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(root().join("crates"))
        .expect("crates/")
        .map(|e| e.expect("an entry"))
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// The tokens of `text` that look like paths: runs of path characters, cut at anything else
/// (backticks, brackets, spaces, commas), without a trailing dot.
fn path_tokens(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || "_-./".contains(c)))
        .map(|t| t.trim_end_matches('.'))
        .filter(|t| !t.is_empty())
}

/// The text of `doc` from the heading `from` to the next heading of the same level.
fn section<'a>(doc: &'a str, from: &str) -> &'a str {
    let start = doc
        .find(&format!("\n{from}\n"))
        .unwrap_or_else(|| panic!("no heading {from:?}"));
    let level = from.split(' ').next().expect("a level");
    let rest = &doc[start + from.len() + 2..];
    let end = rest
        .find(&format!("\n{level} "))
        .map_or(rest.len(), |i| i + 1);
    &rest[..end]
}

#[test]
fn the_code_map_names_every_source_file_and_only_files_that_exist() {
    let doc = read("docs/ARCHITECTURE.md");
    let map = section(&doc, "## Code map");
    let named: BTreeSet<String> = path_tokens(map)
        .filter(|t| t.starts_with("crates/") && t.contains("/src/") && t.ends_with(".rs"))
        .map(str::to_owned)
        .collect();
    let mut on_disk = BTreeSet::new();
    for name in crates() {
        let src = root().join("crates").join(&name).join("src");
        if src.is_dir() {
            rust_files(&src, &mut on_disk);
        }
    }
    let missing: Vec<_> = on_disk.difference(&named).collect();
    let stale: Vec<_> = named.difference(&on_disk).collect();
    assert!(
        missing.is_empty(),
        "docs/ARCHITECTURE.md's code map does not name these source files (add a line each, with its purpose): {missing:#?}"
    );
    assert!(
        stale.is_empty(),
        "docs/ARCHITECTURE.md's code map names files that do not exist: {stale:#?}"
    );
}

#[test]
fn the_code_map_has_a_section_for_every_crate() {
    let doc = read("docs/ARCHITECTURE.md");
    let map = section(&doc, "## Code map");
    for name in crates() {
        assert!(
            map.contains(&format!("\n### `crates/{name}`")),
            "docs/ARCHITECTURE.md's code map has no section `### `crates/{name}``"
        );
    }
}

#[test]
fn where_to_change_what_names_files_that_exist() {
    let doc = read("docs/ARCHITECTURE.md");
    let table = section(&doc, "## Where to change what");
    let rows = table.lines().filter(|l| l.starts_with("| ")).count();
    assert!(rows > 10, "the table has rows ({rows})");
    for token in path_tokens(table).filter(|t| t.starts_with("crates/")) {
        assert!(root().join(token).exists(), "{token} does not exist");
    }
    for change in [
        "bonus",
        "spend order",
        "HTTP route",
        "CLI subcommand",
        "store format",
    ] {
        assert!(table.contains(change), "the table has a row for {change:?}");
    }
}

#[test]
fn every_repository_path_the_docs_name_exists() {
    let mut docs = vec!["README.md".to_owned()];
    for dir in ["docs", "docs/decisions"] {
        let mut names: Vec<_> = std::fs::read_dir(root().join(dir))
            .expect("docs")
            .map(|e| {
                e.expect("an entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .filter(|n| n.ends_with(".md"))
            .map(|n| format!("{dir}/{n}"))
            .collect();
        names.sort();
        docs.extend(names);
    }
    let mut stale = Vec::new();
    for doc in &docs {
        let text = read(doc);
        for token in path_tokens(&text) {
            let token = token.trim_start_matches("../").trim_start_matches("./");
            let is_repo_path = [
                "crates/",
                "docs/",
                "fuzz/",
                "benches/",
                "examples/",
                "scripts/",
            ]
            .iter()
            .any(|p| token.starts_with(p));
            let is_file = Path::new(token).extension().is_some();
            if is_repo_path && is_file && !root().join(token).exists() {
                stale.push(format!("{doc}: {token}"));
            }
        }
    }
    assert!(
        stale.is_empty(),
        "the docs name paths that do not exist: {stale:#?}"
    );
}

/// docs/RULES.md shortens paths (its table "How to read the Code and Test columns"): a path
/// in its tables is under one of these directories.
const RULES_ROOTS: [&str; 6] = [
    "crates/core/src",
    "crates/memberledger/src",
    "crates/core/tests",
    "crates/memberledger/tests",
    "crates/cli/tests",
    "crates/audit/tests",
];

#[test]
fn every_short_path_in_rules_exists() {
    let text = read("docs/RULES.md");
    let mut stale = Vec::new();
    for line in text.lines().filter(|l| l.starts_with('|')) {
        for code in line.split('`').skip(1).step_by(2) {
            let is_path = code.ends_with(".rs")
                && code
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_/.".contains(c));
            if !is_path || code.starts_with("crates/") {
                continue;
            }
            let found = RULES_ROOTS.iter().any(|r| {
                let p = root().join(r).join(code);
                // A test named `x.rs` may be a folder `x/` (RULES.md says which).
                p.exists() || p.with_extension("").is_dir()
            });
            if !found {
                stale.push(code.to_owned());
            }
        }
    }
    stale.sort();
    stale.dedup();
    assert!(
        stale.is_empty(),
        "docs/RULES.md names paths that do not exist: {stale:#?}"
    );
}
