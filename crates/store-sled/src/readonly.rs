//! Opening a ledger from a private copy: a ledger whose directory cannot be written (a
//! read-only mount, a copy without write permission), or any ledger on demand
//! (`SledStore::open_copy`, which `verify` uses: an auditor's command never writes to the
//! ledger, and sled's recovery rewrites damaged files when it opens them).
//!
//! sled 0.34 has no read-only mode: it opens its data file for writing, takes a lock on it and
//! may write a snapshot when it opens. So a ledger directory that cannot be written is copied
//! (every file, recursively; an unfinished `snap.*.generating` left out) into a private
//! temporary directory, and the store opens that copy for reading: `verify`, `export`,
//! `member show` and the reports work, and every write is refused with a clear `Storage`
//! error. The copy is removed when the store is dropped. It costs the size of the ledger in
//! temporary space, once per open (`std::fs::copy` clones extents instead where the file
//! system can, e.g. btrfs or XFS with the temporary directory on the same file system).
//!
//! The copy is taken under a shared lock on sled's data file (sled holds an exclusive one
//! while open), so never from a ledger being written. Its directory is named after the
//! process (`memberledger-readonly-<pid>-…`): a copy left by a process that was killed is
//! removed by the next copy made once that process is gone.

use std::path::{Path, PathBuf};

use memberledger_store::StoreError;

/// Why a store reads a copy: its directory cannot be written.
pub(crate) const NOT_WRITABLE: &str = "its directory cannot be written";
/// Why a store reads a copy: the caller asked for one (`SledStore::open_copy`).
pub(crate) const ASKED: &str = "opened from a copy so that nothing is written to it";

/// The prefix of every private copy's directory, followed by the owner's pid and `-`.
const PREFIX: &str = "memberledger-readonly-";

/// A private copy of a ledger's directory, removed on drop.
pub(crate) struct Copy {
    /// The ledger's own directory.
    pub(crate) origin: PathBuf,
    /// The copy.
    pub(crate) dir: tempfile::TempDir,
    /// Why the ledger is read from a copy.
    pub(crate) why: &'static str,
}

/// Whether `dir` holds a ledger (sled's data file `db`) that this process cannot write.
pub(crate) fn is_read_only(dir: &Path) -> bool {
    let db = dir.join("db");
    if !db.is_file() {
        return false;
    }
    let refused = |e: &std::io::Error| {
        matches!(
            e.kind(),
            std::io::ErrorKind::PermissionDenied | std::io::ErrorKind::ReadOnlyFilesystem
        )
    };
    if let Err(e) = std::fs::OpenOptions::new().append(true).open(&db) {
        return refused(&e);
    }
    // sled also creates files beside its data file (snapshots, blobs).
    let probe = dir.join(format!(".memberledger-probe-{}", std::process::id()));
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
    {
        Ok(_) => {
            let _ = std::fs::remove_file(&probe);
            false
        }
        Err(e) => refused(&e),
    }
}

/// The error with the private copy's directory replaced by the ledger's own.
pub(crate) fn name_origin(e: StoreError, copy: &Path, origin: &Path) -> StoreError {
    let (copy, origin) = (copy.display().to_string(), origin.display().to_string());
    match e {
        StoreError::Corrupt { position, why } => StoreError::Corrupt {
            position,
            why: why.replace(&copy, &origin),
        },
        StoreError::Storage { why, source } => StoreError::Storage {
            why: why.replace(&copy, &origin),
            source,
        },
        other => other,
    }
}

/// Copies the ledger in `dir` into a new private temporary directory, holding a shared lock
/// on sled's data file meanwhile (refused while another process has the ledger open).
pub(crate) fn private_copy(dir: &Path, why: &'static str) -> Result<Copy, StoreError> {
    let fail = |e: std::io::Error| {
        StoreError::storage(format!(
            "the ledger at {} is read from a private copy ({why}), and copying it failed: {e}",
            dir.display()
        ))
    };
    if !dir.is_dir() {
        return Err(fail(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            "no such directory",
        )));
    }
    remove_stale_copies(&std::env::temp_dir());
    let _lock = lock_shared(dir)?;
    let copy = tempfile::Builder::new()
        .prefix(&format!("{PREFIX}{}-", std::process::id()))
        .tempdir()
        .map_err(fail)?;
    copy_tree(dir, copy.path()).map_err(fail)?;
    Ok(Copy {
        origin: dir.to_path_buf(),
        dir: copy,
        why,
    })
}

/// A shared lock on sled's data file in `dir` (none without one), waiting a moment for a
/// closing handle; a lock held for longer is a ledger open in another process.
fn lock_shared(dir: &Path) -> Result<Option<std::fs::File>, StoreError> {
    use fs2::FileExt;
    let Ok(file) = std::fs::File::open(dir.join("db")) else {
        return Ok(None);
    };
    for _ in 0..20 {
        if FileExt::try_lock_shared(&file).is_ok() {
            return Ok(Some(file));
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    Err(StoreError::Locked {
        location: dir.display().to_string(),
        source: None,
    })
}

/// Removes the private copies in `tmp` whose owner process is gone (killed before it could
/// remove its copy). Only where processes can be looked up (`/proc`); a copy whose pid is in
/// use, by its owner or another process, is left alone.
pub(crate) fn remove_stale_copies(tmp: &Path) {
    let proc = Path::new("/proc");
    if !proc.join("self").exists() {
        return;
    }
    let Ok(entries) = std::fs::read_dir(tmp) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = name
            .strip_prefix(PREFIX)
            .and_then(|rest| rest.split_once('-'))
            .and_then(|(pid, _)| pid.parse::<u32>().ok())
        else {
            continue;
        };
        let owned = entry
            .metadata()
            .is_ok_and(|m| m.is_dir() && !m.file_type().is_symlink());
        if owned && !alive(&proc.join(pid.to_string())) {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// Whether the process at `/proc/<pid>` is running: it exists and is not a zombie (killed,
/// not yet reaped), which can no longer use its copy.
fn alive(proc_pid: &Path) -> bool {
    match std::fs::read_to_string(proc_pid.join("stat")) {
        // The state follows the command name in parentheses: `pid (name) S …`.
        Ok(stat) => !stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| matches!(rest.trim_start().chars().next(), Some('Z' | 'X'))),
        Err(_) => proc_pid.exists(),
    }
}

fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let name = entry.file_name();
        let target = to.join(&name);
        let kind = entry.file_type()?;
        if kind.is_dir() {
            std::fs::create_dir(&target)?;
            copy_tree(&entry.path(), &target)?;
        } else if kind.is_file() && !name.to_string_lossy().ends_with(".generating") {
            std::fs::copy(entry.path(), &target)?;
            // `copy` carries the permissions over; the copy must be writable for sled.
            make_writable(&target)?;
        }
    }
    Ok(())
}

#[cfg(unix)]
fn make_writable(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
}

#[cfg(not(unix))]
fn make_writable(_path: &Path) -> std::io::Result<()> {
    Ok(())
}
