//! `memberledger token add`: a new bearer token, printed once; the file keeps its hash.

use std::path::PathBuf;

use clap::Subcommand;
use memberledger_http::Role;

use crate::Fail;

#[derive(Subcommand)]
pub(crate) enum TokenCmd {
    /// Makes a new token for a role, adds its SHA-256 to the tokens file and prints the token
    /// (the only time it is shown).
    Add {
        /// hq, store:<id>, auditor or member:<id>.
        #[arg(long)]
        role: String,
        /// The tokens file (created if missing).
        #[arg(long, env = "MEMBERLEDGER_TOKENS", default_value = crate::serve::DEFAULT_TOKENS)]
        tokens: PathBuf,
    },
}

pub(crate) fn run(cmd: &TokenCmd) -> Result<u8, Fail> {
    match cmd {
        TokenCmd::Add { role, tokens } => {
            let role = Role::parse(role).map_err(Fail::usage)?;
            let token = memberledger_http::add_token(tokens, &role).map_err(Fail::usage)?;
            let done = format!("added a {role} token to {}", tokens.display());
            crate::emit_done(&format!("{token}\n"), &done)
        }
    }
}
