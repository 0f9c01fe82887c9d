//! Bearer tokens and roles: the tokens file holds SHA-256 hashes, never a token.
//!
//! A tokens file has one line per token, `<sha256 of the token, lowercase hex> <role>`; blank
//! lines and lines starting with `#` are ignored. A role is `hq`, `store:<id>`, `auditor` or
//! `member:<id>`.

use std::collections::HashMap;
use std::fmt;
use std::io::Write;
use std::path::Path;

use memberledger::{MemberId, StoreId};
use sha2::{Digest, Sha256};

/// Who a token speaks for.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// Head office: everything.
    Hq,
    /// A store: commands for its own store only, and reads of any member.
    Store(StoreId),
    /// Reads, reports, verify, export; never writes.
    Auditor,
    /// A member's own view and statement only (a mini-program).
    Member(MemberId),
}

impl Role {
    /// Parses `hq`, `store:<id>`, `auditor` or `member:<id>`.
    pub fn parse(s: &str) -> Result<Role, String> {
        let id_err = |e: memberledger::domain::Rejection| format!("role {s:?}: {e}");
        match s.split_once(':') {
            None if s == "hq" => Ok(Role::Hq),
            None if s == "auditor" => Ok(Role::Auditor),
            Some(("store", id)) => Ok(Role::Store(StoreId::new(id).map_err(id_err)?)),
            Some(("member", id)) => Ok(Role::Member(MemberId::new(id).map_err(id_err)?)),
            _ => Err(format!(
                "role {s:?}: expected hq, store:<id>, auditor or member:<id>"
            )),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Role::Hq => f.write_str("hq"),
            Role::Store(s) => write!(f, "store:{s}"),
            Role::Auditor => f.write_str("auditor"),
            Role::Member(m) => write!(f, "member:{m}"),
        }
    }
}

/// The SHA-256 of a token, lowercase hex: what the tokens file holds.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The known tokens, by hash.
#[derive(Clone, Debug, Default)]
pub struct Tokens {
    by_hash: HashMap<String, Role>,
}

impl Tokens {
    /// No token at all (every request that needs one is refused).
    pub fn new() -> Tokens {
        Tokens::default()
    }

    /// Reads a tokens file; a malformed line is an error naming its number.
    pub fn load(path: &Path) -> Result<Tokens, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read the tokens file {}: {e}", path.display()))?;
        Tokens::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Parses the text of a tokens file.
    pub fn parse(text: &str) -> Result<Tokens, String> {
        let mut tokens = Tokens::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let bad = |why: &str| format!("line {}: {why}", i + 1);
            let (hash, role) = line
                .split_once(char::is_whitespace)
                .ok_or_else(|| bad("expected `<sha256 hex> <role>`"))?;
            let is_hex = hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit());
            if !is_hex {
                return Err(bad("the hash is not 64 hex digits"));
            }
            let role = Role::parse(role.trim()).map_err(|e| bad(&e))?;
            tokens.by_hash.insert(hash.to_ascii_lowercase(), role);
        }
        Ok(tokens)
    }

    /// Adds a token (held by its hash only).
    pub fn insert(&mut self, token: &str, role: Role) {
        self.by_hash.insert(token_hash(token), role);
    }

    /// The role of a token, if it is known.
    pub fn role(&self, token: &str) -> Option<&Role> {
        self.by_hash.get(&token_hash(token))
    }

    /// The role of a token by its hash (lowercase hex).
    pub fn role_of_hash(&self, hash: &str) -> Option<&Role> {
        self.by_hash.get(hash)
    }

    /// How many tokens are known.
    pub fn len(&self) -> usize {
        self.by_hash.len()
    }

    /// True when no token is known.
    pub fn is_empty(&self) -> bool {
        self.by_hash.is_empty()
    }
}

/// A new random token: 32 bytes from the operating system, as `mlt_` and 64 hex digits.
pub fn new_token() -> Result<String, String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| format!("no randomness from the system: {e}"))?;
    Ok(format!("mlt_{}", hex::encode(bytes)))
}

/// Makes a new token for a role, appends its hash to the tokens file (created if missing,
/// readable by its owner only), and returns the token: the only time it is ever seen.
pub fn add_token(path: &Path, role: &Role) -> Result<String, String> {
    if path.exists() {
        Tokens::load(path)?; // never append to a file we could not read back
    }
    let token = new_token()?;
    let mut options = std::fs::OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .map_err(|e| format!("cannot open the tokens file {}: {e}", path.display()))?;
    writeln!(file, "{} {role}", token_hash(&token))
        .and_then(|()| file.sync_all())
        .map_err(|e| format!("cannot write the tokens file {}: {e}", path.display()))?;
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_read_back_as_written() {
        for s in ["hq", "auditor", "store:S1", "member:M-7"] {
            assert_eq!(Role::parse(s).unwrap().to_string(), s);
        }
        for s in ["", "root", "store:", "member:bad id", "store:S1:x"] {
            assert!(Role::parse(s).is_err(), "{s}");
        }
    }

    #[test]
    fn a_tokens_file_holds_hashes_and_finds_the_role_of_a_token() {
        let text = format!("# comment\n\n{} store:S1\n", token_hash("secret"));
        let tokens = Tokens::parse(&text).unwrap();
        assert_eq!(
            tokens.role("secret"),
            Some(&Role::Store(StoreId::new("S1").unwrap()))
        );
        assert_eq!(tokens.role("Secret"), None);
        assert!(Tokens::parse("abc hq").unwrap_err().contains("line 1"));
    }

    #[test]
    fn token_add_appends_a_hash_and_returns_the_token_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokens");
        let a = add_token(&path, &Role::Hq).unwrap();
        let b = add_token(&path, &Role::Auditor).unwrap();
        assert_ne!(a, b);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(!text.contains(&a) && !text.contains(&b));
        let tokens = Tokens::load(&path).unwrap();
        assert_eq!(tokens.role(&a), Some(&Role::Hq));
        assert_eq!(tokens.role(&b), Some(&Role::Auditor));
    }
}
