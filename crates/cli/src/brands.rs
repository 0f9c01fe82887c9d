//! The brands file (`--brands FILE`): one ledger per brand, each with its tokens file and,
//! optionally, its webhook and its notice webhook. A JSON object by brand name:
//!
//! ```json
//! {
//!   "lotus": {"db": "lotus-data", "tokens": "lotus-tokens",
//!             "notice_webhook": {"url": "http://10.0.0.7:9000/notices", "secret_file": "lotus-secret",
//!                                "interval_secs": 300}},
//!   "peony": {"db": "postgres://ml@db.internal/chain?schema=peony", "tokens": "peony-tokens",
//!             "webhook": {"url": "http://10.0.0.5:9000/hook", "secret_file": "peony-secret",
//!                         "cursor": "peony.webhook-cursor"}}
//! }
//! ```
//!
//! Relative paths are taken from the brands file's directory, so the file and its ledgers
//! move together. `--brand NAME` makes every command work on that brand's ledger and tokens
//! file; `serve` without `--brand` hosts them all (`/brands/{brand}/…`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::{Db, Fail};

/// One brand of the file, as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    /// The ledger: a directory, or a PostgreSQL URL (`?schema=NAME`).
    db: String,
    /// The brand's tokens file.
    tokens: PathBuf,
    /// Where the brand's events are pushed.
    webhook: Option<WebhookEntry>,
    /// Where the brand's notices are pushed.
    notice_webhook: Option<NoticeWebhookEntry>,
}

/// A brand's webhook, as written.
#[derive(Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub(crate) struct WebhookEntry {
    /// The `http://` URL.
    pub(crate) url: String,
    /// The file holding the HMAC key.
    pub(crate) secret_file: PathBuf,
    /// The cursor file (beside a ledger on disk by default).
    pub(crate) cursor: Option<PathBuf>,
}

/// A brand's notice webhook, as written: the settings of `serve --notice-webhook`.
#[derive(Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub(crate) struct NoticeWebhookEntry {
    /// The `http://` URL.
    pub(crate) url: String,
    /// The file holding the HMAC key.
    pub(crate) secret_file: PathBuf,
    /// The record of acknowledged notices (beside a ledger on disk by default).
    pub(crate) acked: Option<PathBuf>,
    /// How often the notices due are derived, in seconds (60 by default).
    pub(crate) interval_secs: Option<u64>,
}

/// A brand: its name, its ledger, its tokens file, its webhooks.
pub(crate) struct Brand {
    pub(crate) name: String,
    pub(crate) db: Db,
    pub(crate) tokens: PathBuf,
    pub(crate) webhook: Option<WebhookEntry>,
    pub(crate) notice_webhook: Option<NoticeWebhookEntry>,
}

/// Every brand of the file, by name; a malformed file or brand name is a usage error.
pub(crate) fn load(file: &Path) -> Result<Vec<Brand>, Fail> {
    let text = std::fs::read_to_string(file).map_err(|e| {
        Fail::usage(format!(
            "cannot read the brands file {}: {e}",
            file.display()
        ))
    })?;
    let entries: BTreeMap<String, Entry> = serde_json::from_str(&text).map_err(|e| {
        Fail::usage(format!(
            "the brands file {} is not a JSON object of brands ({{\"NAME\": {{\"db\": …, \"tokens\": …}}}}): {e}",
            file.display()
        ))
    })?;
    if entries.is_empty() {
        return Err(Fail::usage(format!(
            "the brands file {} names no brand",
            file.display()
        )));
    }
    let base = file.parent().unwrap_or_else(|| Path::new(""));
    let at = |p: &Path| base.join(p);
    entries
        .into_iter()
        .map(|(name, e)| {
            memberledger_http::check_brand_name(&name)
                .map_err(|m| Fail::usage(format!("{}: {m}", file.display())))?;
            let db = match Db::parse(&e.db) {
                Db::Dir(dir) => Db::Dir(at(&dir)),
                pg => pg,
            };
            let webhook = e.webhook.map(|w| WebhookEntry {
                secret_file: at(&w.secret_file),
                cursor: w.cursor.as_deref().map(at),
                url: w.url,
            });
            let notice_webhook = e.notice_webhook.map(|n| NoticeWebhookEntry {
                secret_file: at(&n.secret_file),
                acked: n.acked.as_deref().map(at),
                ..n
            });
            Ok(Brand {
                name,
                db,
                tokens: at(&e.tokens),
                webhook,
                notice_webhook,
            })
        })
        .collect()
}

/// The brand `name` of the file; an unknown one is a usage error naming the known ones.
pub(crate) fn find(file: &Path, name: &str) -> Result<Brand, Fail> {
    let brands = load(file)?;
    let known: Vec<String> = brands.iter().map(|b| b.name.clone()).collect();
    brands.into_iter().find(|b| b.name == name).ok_or_else(|| {
        Fail::usage(format!(
            "brand_not_found: the brands file {} has no brand {name:?} (it has {})",
            file.display(),
            known.join(", ")
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_are_the_brands_files_and_urls_are_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("brands.json");
        std::fs::write(
            &file,
            r#"{"lotus":{"db":"lotus-data","tokens":"t/lotus"},
                "peony":{"db":"postgres://u@h/d?schema=peony","tokens":"/abs/peony",
                         "webhook":{"url":"http://127.0.0.1:9/","secret_file":"s"},
                         "notice_webhook":{"url":"http://127.0.0.1:9/n","secret_file":"ns",
                                           "acked":"n/acked","interval_secs":5}}}"#,
        )
        .unwrap();
        let Ok(lotus) = find(&file, "lotus") else {
            panic!("lotus")
        };
        assert_eq!(lotus.db, Db::Dir(dir.path().join("lotus-data")));
        assert_eq!(lotus.tokens, dir.path().join("t/lotus"));
        let Ok(peony) = find(&file, "peony") else {
            panic!("peony")
        };
        assert_eq!(peony.db, Db::parse("postgres://u@h/d?schema=peony"));
        assert_eq!(peony.tokens, PathBuf::from("/abs/peony"));
        assert_eq!(peony.webhook.unwrap().secret_file, dir.path().join("s"));
        let Some(notices) = peony.notice_webhook else {
            panic!("peony's notice webhook")
        };
        assert_eq!(notices.secret_file, dir.path().join("ns"));
        assert_eq!(notices.acked, Some(dir.path().join("n/acked")));
        assert_eq!(notices.interval_secs, Some(5));
        assert!(lotus.notice_webhook.is_none());
        assert!(find(&file, "tulip").is_err_and(|f| f.message.contains("brand_not_found")));
    }

    #[test]
    fn a_malformed_brands_file_is_a_usage_error() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("brands.json");
        for (text, says) in [
            ("[]", "not a JSON object of brands"),
            ("{}", "names no brand"),
            (r#"{"a/b":{"db":"x","tokens":"t"}}"#, "a brand name is"),
            (r#"{"a":{"db":"x"}}"#, "missing field `tokens`"),
            (r#"{"a":{"db":"x","tokens":"t","dbs":1}}"#, "unknown field"),
            (
                r#"{"a":{"db":"x","tokens":"t","notice_webhook":{"url":"http://h/"}}}"#,
                "missing field `secret_file`",
            ),
        ] {
            std::fs::write(&file, text).unwrap();
            let f = load(&file).err().unwrap();
            assert!(f.message.contains(says), "{text}: {}", f.message);
            assert_eq!(f.code, 2);
        }
    }
}
