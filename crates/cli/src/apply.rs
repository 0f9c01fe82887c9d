//! `memberledger apply`: JSON Lines in, one receipt per line out.

mod input;

use std::cell::RefCell;
use std::collections::VecDeque;
use std::io::{BufReader, Read, Write};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};

use memberledger::{Error, Ledger, Receipt, Uuid};

use crate::Fail;
use input::{next_group, Group, Grouping, NonBlank};

/// Where receipts go, and what was done so far (for the message when output fails).
struct Receipts<W: Write> {
    /// Flushed after each group's receipts: at once for someone typing, in large writes for
    /// a file.
    out: std::io::BufWriter<W>,
    /// Commands recorded (or replayed) durably.
    durable: u64,
    /// Receipts written out (flushed).
    printed: u64,
    /// Receipts written to the buffer since the last flush.
    pending: u64,
    /// The receipt being written (reused).
    line: Vec<u8>,
}

/// What a command of a group got: a receipt, or (a dry run) its quote.
enum Answer {
    Recorded(Receipt),
    Quote(serde_json::Value),
}

/// Runs a batch. Lines are grouped while more input is already buffered (so a pipe or a file
/// gets group commit, and someone typing gets each receipt at once); every receipt is printed
/// only once its command is durable. The input is read and parsed on a thread of its own,
/// a group ahead, and the group after the one being written is decided while it is written
/// ([`Ledger::execute_stream`]). When the receipts cannot be written (the reader went away, a
/// full disk) no further command is executed: the message says how many commands were
/// durable and how many receipts were printed, and the exit is 2.
///
/// With `dry_run`, the whole input is quoted as one batch ([`Ledger::quote_batch`]: later
/// lines see earlier ones) and nothing is recorded: each line gets the receipt it would get,
/// marked `"dry_run":true`, with the member after it; the exit codes are apply's.
pub(crate) fn run(ledger: &Ledger, file: &str, dry_run: bool) -> Result<u8, Fail> {
    let input: Box<dyn Read + Send> = if file == "-" {
        Box::new(std::io::stdin())
    } else {
        Box::new(
            std::fs::File::open(file)
                .map_err(|e| Fail::usage(format!("cannot read {file}: {e}")))?,
        )
    };
    let reader = BufReader::with_capacity(1 << 16, input);
    let mut out = Receipts::new(std::io::stdout().lock());
    if dry_run {
        return quote(ledger, reader, &mut out);
    }
    // One group read ahead besides the one at hand. The reader's thread is not waited for:
    // after a failure it may be blocked reading a terminal or a pipe that never ends, and the
    // run must end anyway (it ends itself when the input does, or the receiver is gone).
    let (groups, read) = sync_channel(1);
    std::thread::spawn(move || read_groups(reader, &groups));
    execute(ledger, &read, &mut out)
}

/// A dry run: the whole input quoted as one batch, its receipts printed.
fn quote<R: Read>(
    ledger: &Ledger,
    mut reader: BufReader<R>,
    out: &mut Receipts<impl Write>,
) -> Result<u8, Fail> {
    let (group, _) = next_group(&mut reader, &mut 0, Grouping::Whole)?;
    let results = ledger
        .quote_batch(&group.commands)
        .into_iter()
        .map(|r| r.map(|q| Answer::Quote(q.to_json())))
        .collect();
    let rejected = out.group(group.lines, &group.commands, results)?;
    out.flush()?;
    Ok(u8::from(rejected))
}

/// The reader's thread: each group of the input in order, then the failure to read it, if
/// any. Stops when the executing side has gone.
fn read_groups<R: Read>(mut reader: BufReader<R>, groups: &SyncSender<Result<Group, Fail>>) {
    let mut number = 0u64;
    loop {
        let next = next_group(&mut reader, &mut number, Grouping::Buffered);
        let end = !matches!(next, Ok((_, false)));
        let sent = match next {
            Ok((group, _)) if group.lines.is_empty() => true,
            Ok((group, _)) => groups.send(Ok(group)).is_ok(),
            Err(e) => groups.send(Err(e)).is_ok(),
        };
        if end || !sent {
            return;
        }
    }
}

/// Executes the groups read, in order, and prints each group's receipts once it is durable.
/// Stops at a failure of the input, the output or the medium (a command's write failing).
fn execute(
    ledger: &Ledger,
    groups: &Receiver<Result<Group, Fail>>,
    out: &mut Receipts<impl Write>,
) -> Result<u8, Fail> {
    // The lines of each group handed to the ledger and not yet answered, in order.
    // (Both callbacks reach them, one at a time.)
    let lines = RefCell::new(VecDeque::new());
    let failed: RefCell<Option<Fail>> = RefCell::new(None);
    let mut rejected = false;
    ledger.execute_stream(
        |wait| {
            let group = if wait {
                groups.recv().ok()?
            } else {
                groups.try_recv().ok()?
            };
            match group {
                Ok(group) => {
                    lines.borrow_mut().push_back(group.lines);
                    Some(group.commands)
                }
                Err(e) => {
                    failed.borrow_mut().get_or_insert(e);
                    None
                }
            }
        },
        |commands, results| {
            out.durable += results.iter().filter(|r| r.is_ok()).count() as u64;
            let results = results
                .into_iter()
                .map(|r| r.map(Answer::Recorded))
                .collect();
            let group = lines
                .borrow_mut()
                .pop_front()
                .expect("the lines of each group answered");
            let written = out.group(group, &commands, results);
            match written.and_then(|r| out.flush().map(|()| r)) {
                Ok(r) => {
                    rejected |= r;
                    true
                }
                Err(e) => {
                    failed.borrow_mut().get_or_insert(e);
                    false
                }
            }
        },
    );
    match failed.into_inner() {
        Some(e) => Err(e),
        None => Ok(u8::from(rejected)),
    }
}

impl<W: Write> Receipts<W> {
    fn new(out: W) -> Receipts<W> {
        Receipts {
            out: std::io::BufWriter::with_capacity(1 << 16, out),
            durable: 0,
            printed: 0,
            pending: 0,
            line: Vec::new(),
        }
    }

    /// Writes a group's receipts in input order (`lines`: each line's number, and its error
    /// when it is not a command; `commands` and `results`: the others'). Returns whether any
    /// was rejected. A failure of the medium ends the run after its receipt: no command
    /// after it ran.
    fn group(
        &mut self,
        lines: Vec<NonBlank>,
        commands: &[memberledger::Command],
        results: Vec<Result<Answer, Error>>,
    ) -> Result<bool, Fail> {
        let mut results = commands.iter().zip(results);
        let mut rejected = false;
        for (line, refused) in lines {
            let receipt = match refused {
                Some((id, e)) => Err((id, e)),
                None => {
                    let (c, result) = results.next().expect("one result per command");
                    result.map_err(|e| (Some(c.id), e))
                }
            };
            match receipt {
                Ok(Answer::Recorded(r)) => self.write_receipt(&r)?,
                Ok(Answer::Quote(q)) => self.write(&q)?,
                Err((id, e)) => {
                    self.write(&error_receipt(id, &e, line))?;
                    if matches!(e, Error::Storage(_) | Error::Corrupt { .. }) {
                        // The medium failed: what was not acknowledged is printed; stop.
                        self.flush()?;
                        return Err(Fail::usage(format!("{}: {e}", e.code())));
                    }
                    rejected = true;
                }
            }
        }
        Ok(rejected)
    }

    /// Writes one receipt.
    fn write(&mut self, receipt: &serde_json::Value) -> Result<(), Fail> {
        writeln!(self.out, "{receipt}").map_err(|e| self.failed(&e))?;
        self.pending += 1;
        Ok(())
    }

    /// Writes one receipt of a recorded command (its JSON written straight from the events).
    fn write_receipt(&mut self, receipt: &Receipt) -> Result<(), Fail> {
        self.line.clear();
        receipt.write_json(&mut self.line);
        self.line.push(b'\n');
        self.out
            .write_all(&self.line)
            .map_err(|e| self.failed(&e))?;
        self.pending += 1;
        Ok(())
    }

    /// Writes out what is buffered: after each group, so its receipts are seen at once.
    fn flush(&mut self) -> Result<(), Fail> {
        self.out.flush().map_err(|e| self.failed(&e))?;
        self.printed += std::mem::take(&mut self.pending);
        Ok(())
    }

    /// The failure of the output: what was done, and that nothing more will be.
    fn failed(&self, e: &std::io::Error) -> Fail {
        Fail::usage(format!(
            "cannot write the receipts to standard output ({e}): executing no further command; {} commands were durable, {} receipts were printed (send the commands again with the same ids for their receipts)",
            self.durable, self.printed
        ))
    }
}

/// A failed receipt, with the number of the input line it answers.
fn error_receipt(id: Option<Uuid>, e: &Error, line: u64) -> serde_json::Value {
    let mut json = Receipt::error_json(id, e);
    if let Some(o) = json.as_object_mut() {
        o.insert("line".into(), line.into());
    }
    json
}
