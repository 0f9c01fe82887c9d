//! Opening a ledger whose directory cannot be written (a read-only mount, a copy without write
//! permission).
//!
//! sled 0.34 has no read-only mode: it opens its data file for writing, takes a lock on it and
//! may write a snapshot when it opens. So a ledger directory that cannot be written is copied
//! (every file, recursively; an unfinished `snap.*.generating` left out) into a private
//! temporary directory, and the store opens that copy for reading: `verify`, `export`,
//! `member show` and the reports work, and every write is refused with a clear `Storage`
//! error. The copy is removed when the store is dropped. It costs the size of the ledger in
//! temporary space, once per open.

use std::path::Path;

use memberledger_store::StoreError;

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
        StoreError::Storage(why) => StoreError::Storage(why.replace(&copy, &origin)),
        other => other,
    }
}

/// Copies the ledger in `dir` into a new private temporary directory.
pub(crate) fn private_copy(dir: &Path) -> Result<tempfile::TempDir, StoreError> {
    let fail = |e: std::io::Error| {
        StoreError::Storage(format!(
            "the ledger at {} cannot be written, and copying it to read it failed: {e}",
            dir.display()
        ))
    };
    let copy = tempfile::Builder::new()
        .prefix("memberledger-readonly-")
        .tempdir()
        .map_err(fail)?;
    copy_tree(dir, copy.path()).map_err(fail)?;
    Ok(copy)
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
