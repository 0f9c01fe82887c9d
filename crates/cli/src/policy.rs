//! `memberledger policy show|list|publish`: the policy history.

use std::path::Path;

use clap::Subcommand;
use memberledger::domain::PolicyVersion;
use memberledger::{Action, Command, Ledger, MemberId, Policy, StoreId, Uuid};

use crate::report::parse_time;
use crate::Fail;

/// The namespace of `policy publish` command ids (UUID v5 of the policy and its time), so
/// publishing the same file for the same time twice records it once.
const PUBLISH_NAMESPACE: Uuid = Uuid::from_u128(0x706f_6c69_6379_4075_9062_6c69_7368_0001);

#[derive(Subcommand)]
pub(crate) enum PolicyCmd {
    /// Shows the policy version in force (now, or at --as-of).
    Show {
        /// The time (RFC 3339); the latest version when absent.
        #[arg(long)]
        as_of: Option<String>,
        /// Prints JSON.
        #[arg(long)]
        json: bool,
    },
    /// Lists every policy version and when it took effect.
    List {
        /// Prints JSON, one version per line.
        #[arg(long)]
        json: bool,
    },
    /// Publishes a policy file as a new version, in force for commands at or after --at.
    Publish {
        /// The policy JSON file.
        file: std::path::PathBuf,
        /// When it takes effect (RFC 3339); after every event already recorded.
        #[arg(long)]
        at: String,
        /// The store (or office) publishing it.
        #[arg(long, default_value = "HQ")]
        store: String,
        /// The command id; by default derived from the policy and the time.
        #[arg(long)]
        id: Option<Uuid>,
    },
}

fn since(v: &PolicyVersion) -> String {
    v.effective_at.map_or_else(
        || "the founding policy".to_owned(),
        |t| format!("in force from {t}"),
    )
}

pub(crate) fn run(ledger: &Ledger, cmd: PolicyCmd) -> Result<u8, Fail> {
    let mut o = String::new();
    match cmd {
        PolicyCmd::Show { as_of, json } => {
            let v = match parse_time(as_of.as_deref())? {
                Some(at) => ledger.policy_at(at),
                None => ledger.policy_history().current().clone(),
            };
            if json {
                outln!(o, "{}", serde_json::to_string(&v).expect("serialises"));
            } else {
                outln!(o, "policy version {} ({})", v.version, since(&v));
                outln!(
                    o,
                    "{}",
                    serde_json::to_string_pretty(v.policy.as_ref()).expect("serialises")
                );
            }
        }
        PolicyCmd::List { json } => {
            for v in ledger.policy_history().versions() {
                if json {
                    outln!(o, "{}", serde_json::to_string(v).expect("serialises"));
                } else {
                    outln!(
                        o,
                        "version {:<4} {:<40} {} tiers, {} bonus rules",
                        v.version,
                        since(v),
                        v.policy.tiers.len(),
                        v.policy.recharge_bonus.len()
                    );
                }
            }
        }
        PolicyCmd::Publish {
            file,
            at,
            store,
            id,
        } => return publish(ledger, &file, &at, &store, id),
    }
    crate::emit(&o)
}

fn publish(
    ledger: &Ledger,
    file: &Path,
    at: &str,
    store: &str,
    id: Option<Uuid>,
) -> Result<u8, Fail> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| Fail::usage(format!("cannot read {}: {e}", file.display())))?;
    let policy = Policy::from_json(&text).map_err(|e| Fail::usage(format!("{}: {e}", e.code())))?;
    let at = parse_time(Some(at))?.expect("given");
    let store = StoreId::new(store).map_err(|e| Fail::usage(format!("{}: {e}", e.code())))?;
    let id = id.unwrap_or_else(|| {
        Uuid::new_v5(
            &PUBLISH_NAMESPACE,
            format!("{}|{at}", policy.to_json()).as_bytes(),
        )
    });
    let command = Command::new(
        id,
        at,
        MemberId::policy_stream(),
        store,
        Action::PublishPolicy {
            policy: Box::new(policy),
        },
    )
    .map_err(memberledger::Error::from)?;
    let receipt = ledger.execute(&command)?;
    let version = receipt.events.first().map_or(0, |e| e.event.policy);
    let done = format!(
        "{} policy version {version}, in force from {at} (command {id})",
        if receipt.replayed {
            "already published:"
        } else {
            "published"
        }
    );
    crate::emit_done(&format!("{done}\n"), &done)
}
