//! Shared by the CLI's tests: running the binary on a ledger (with or without standard input),
//! and the settings `serve` refuses before it listens (a webhook's or notice webhook's secret
//! and URL).
#![allow(dead_code)] // each test file uses a part

use std::ffi::OsStr;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use tempfile::TempDir;

/// Runs `memberledger --db <db> <args>` (a directory or a PostgreSQL URL).
pub fn memberledger(db: &(impl AsRef<OsStr> + ?Sized), args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_memberledger"))
        .arg("--db")
        .arg(db)
        .args(args)
        .output()
        .unwrap()
}

/// Runs `memberledger --db <db> <args>` with `input` on its standard input.
pub fn memberledger_stdin(db: &(impl AsRef<OsStr> + ?Sized), args: &[&str], input: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_memberledger"))
        .arg("--db")
        .arg(db)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

/// The run ended with exit 2 and a message saying `says`.
pub fn refused(o: &Output, says: &str) {
    assert_eq!(o.status.code(), Some(2), "{o:?}");
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains(says), "{stderr}");
}

/// A ledger with an hq token, for runs of `serve` that must stop before listening; its secret
/// file is named but not yet written.
pub struct ServeSetup {
    pub db: PathBuf,
    pub tokens: String,
    pub secret: PathBuf,
    dir: TempDir,
}

impl ServeSetup {
    pub fn new() -> ServeSetup {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("ledger");
        let tokens = dir.path().join("tokens").to_str().unwrap().to_owned();
        assert!(memberledger(&db, &["init"]).status.success());
        let add = ["token", "add", "--role", "hq", "--tokens", &tokens];
        assert!(memberledger(&db, &add).status.success());
        ServeSetup {
            db,
            tokens,
            secret: dir.path().join("secret"),
            dir,
        }
    }

    /// A file path in the setup's directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Runs `serve` on any loopback port with these arguments.
    pub fn serve(&self, extra: &[&str]) -> Output {
        let mut args = vec!["serve", "--listen", "127.0.0.1:0", "--tokens", &self.tokens];
        args.extend_from_slice(extra);
        memberledger(&self.db, &args)
    }

    /// Runs `serve` with a hook at `url` (its flags named by `hook`), its secret file, and
    /// these arguments.
    pub fn serve_hook(&self, hook: Hook, url: &str, extra: &[&str]) -> Output {
        let secret = self.secret.to_str().unwrap();
        let mut args = vec![hook.url_flag, url, hook.secret_flag, secret];
        args.extend_from_slice(extra);
        self.serve(&args)
    }

    /// The refusals both hooks share: a secret file that cannot be read, an empty secret, a
    /// URL that is not plain `http://`. Leaves a good secret written.
    pub fn refuses_a_bad_secret_or_url(&self, hook: Hook) {
        let _ = std::fs::remove_file(&self.secret);
        refused(
            &self.serve_hook(hook, "http://127.0.0.1:9/", &[]),
            "cannot read the webhook secret",
        );
        std::fs::write(&self.secret, "\n").unwrap();
        refused(
            &self.serve_hook(hook, "http://127.0.0.1:9/", &[]),
            "the webhook secret is empty",
        );
        std::fs::write(&self.secret, "k3y\n").unwrap();
        refused(
            &self.serve_hook(hook, "https://example.invalid/", &[]),
            "must start with http://",
        );
    }
}

/// The flags of one of `serve`'s hooks.
#[derive(Clone, Copy)]
pub struct Hook {
    pub url_flag: &'static str,
    pub secret_flag: &'static str,
}

/// `--webhook`: every event, as recorded.
pub const WEBHOOK: Hook = Hook {
    url_flag: "--webhook",
    secret_flag: "--webhook-secret-file",
};

/// `--notice-webhook`: the notices due.
pub const NOTICE_WEBHOOK: Hook = Hook {
    url_flag: "--notice-webhook",
    secret_flag: "--notice-webhook-secret-file",
};
