//! A POS back end on tokio: four terminals record sales at once on one ledger on disk.
//!
//! The ledger's calls block (`execute` returns after the `fsync` that makes the command
//! durable), so every call runs on tokio's blocking pool through `spawn_blocking`, never on a
//! worker thread; concurrent commands are committed together, one `fsync` per group.
//!
//! `cargo run -p memberledger --example tokio_pos`

use std::sync::Arc;

use memberledger::{Command, Error, Ledger, MemberId, Policy, Receipt, Uuid};

/// Runs `execute` on the blocking pool and awaits its receipt.
async fn execute(ledger: &Arc<Ledger>, command: Command) -> Result<Receipt, Error> {
    let ledger = Arc::clone(ledger);
    tokio::task::spawn_blocking(move || ledger.execute(&command))
        .await
        .map_err(|e| Error::storage(format!("the ledger's task failed: {e}")))?
}

fn command(at: &str, rest: &str) -> Result<Command, Error> {
    Ok(Command::from_json(&format!(
        r#"{{"id":"{}","at":"{at}","store":"S1",{rest}}}"#,
        Uuid::new_v4()
    ))?)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("ledger");
    let ledger = {
        let path = path.clone();
        Arc::new(
            tokio::task::spawn_blocking(move || Ledger::create_or_open(path, Policy::builtin()))
                .await??,
        )
    };
    for m in 1..=4 {
        let enroll = command(
            "2026-03-01T09:00:00Z",
            &format!(r#""type":"enroll","member":"M{m}""#),
        )?;
        execute(&ledger, enroll).await?;
    }
    let terminals: Vec<_> = (1..=4)
        .map(|m| {
            let ledger = Arc::clone(&ledger);
            tokio::spawn(async move {
                let line = format!(r#""type":"recharge","member":"M{m}","amount":"500.00""#);
                execute(&ledger, command("2026-03-01T10:00:00Z", &line)?).await
            })
        })
        .collect();
    for t in terminals {
        let receipt = t.await??;
        println!(
            "recorded {} at position {}",
            receipt.command, receipt.events[0].position
        );
    }
    let ledger = Arc::into_inner(ledger).expect("every task is done");
    let m1 = ledger.member(&MemberId::new("M1")?).expect("enrolled");
    println!("M1 holds {} principal and {} bonus", m1.principal, m1.bonus);
    tokio::task::spawn_blocking(move || ledger.close()).await?;
    Ok(())
}
