//! The `extern "C"` entry points. Each one checks its pointers, runs the safe call of
//! [`crate::api`] inside `catch_unwind` (no panic crosses the boundary: it becomes
//! [`ML_INTERNAL`]), and hands back a code and one string the caller frees with
//! [`ml_string_free`].

use std::ffi::{c_char, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};

use memberledger::Ledger;

use crate::api::{self, Failure};
use crate::codes::{self, ML_INTERNAL, ML_INVALID_ARGUMENT, ML_OK, ML_VERIFY_FAILED};

/// An open ledger. Share one handle between threads freely; close it once, after every call
/// on it has returned.
pub struct MlLedger {
    ledger: Ledger,
}

/// A string for C: interior NULs (impossible in our JSON, possible in no message) become `?`.
fn c_string(s: String) -> *mut c_char {
    let s = CString::new(s).unwrap_or_else(|e| {
        let bytes: Vec<u8> = e
            .into_vec()
            .into_iter()
            .map(|b| if b == 0 { b'?' } else { b })
            .collect();
        CString::new(bytes).expect("no NUL left")
    });
    s.into_raw()
}

/// Runs `f` with the panic caught, writes its text to `*out` and returns its code.
///
/// # Safety
/// `out` is NULL or valid for one write of a pointer.
unsafe fn answer(out: *mut *mut c_char, f: impl FnOnce() -> Result<(i32, String), Failure>) -> i32 {
    if out.is_null() {
        return ML_INVALID_ARGUMENT;
    }
    let (code, text) = match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(done)) => done,
        Ok(Err(failure)) => (failure.code.number, failure.message),
        Err(_) => (
            ML_INTERNAL,
            "the library panicked; nothing was acknowledged".to_owned(),
        ),
    };
    // SAFETY: `out` is not NULL, and the caller promised it is valid for a write.
    unsafe { out.write(c_string(text)) };
    code
}

/// The text behind a C string; `None` for NULL.
///
/// # Safety
/// `p` is NULL or a NUL-terminated string that stays valid and unchanged during the call.
unsafe fn text<'a>(p: *const c_char, what: &str) -> Result<Option<&'a str>, Failure> {
    if p.is_null() {
        return Ok(None);
    }
    // SAFETY: not NULL, and the caller promised a NUL-terminated string valid for the call.
    let s = unsafe { CStr::from_ptr(p) };
    s.to_str()
        .map(Some)
        .map_err(|_| Failure::new("invalid_argument", format!("{what} is not UTF-8")))
}

/// Like [`text`], for an argument that must be given.
///
/// # Safety
/// As [`text`].
unsafe fn required<'a>(p: *const c_char, what: &str) -> Result<&'a str, Failure> {
    // SAFETY: passed on from the caller's promise.
    unsafe { text(p, what) }?
        .ok_or_else(|| Failure::new("invalid_argument", format!("{what} is NULL")))
}

/// The ledger behind a handle.
///
/// # Safety
/// `p` is NULL or a handle from [`ml_open`] / [`ml_open_in_memory`] not yet closed.
unsafe fn handle<'a>(p: *const MlLedger) -> Result<&'a Ledger, Failure> {
    // SAFETY: the caller promised a live handle or NULL; `as_ref` maps NULL to `None`.
    unsafe { p.as_ref() }
        .map(|h| &h.ledger)
        .ok_or_else(|| Failure::new("invalid_argument", "the ledger handle is NULL"))
}

fn ok(json: String) -> Result<(i32, String), Failure> {
    Ok((ML_OK, json))
}

/// Hands a new handle to `*ledger_out`, or the failure's message to `*message_out`.
///
/// # Safety
/// Both pointers are NULL or valid for one write.
unsafe fn opened(
    ledger_out: *mut *mut MlLedger,
    message_out: *mut *mut c_char,
    open: impl FnOnce() -> Result<Ledger, Failure>,
) -> i32 {
    if ledger_out.is_null() {
        return ML_INVALID_ARGUMENT;
    }
    // SAFETY: not NULL; the caller promised it is valid for a write.
    unsafe { ledger_out.write(std::ptr::null_mut()) };
    let mut handle = None;
    // SAFETY: passed on from the caller's promise about `message_out`.
    let code = unsafe {
        answer(message_out, || {
            handle = Some(Box::new(MlLedger { ledger: open()? }));
            Ok((ML_OK, String::new()))
        })
    };
    if let Some(h) = handle {
        // SAFETY: checked above; valid for a write.
        unsafe { ledger_out.write(Box::into_raw(h)) };
    }
    code
}

/// Opens (or creates) the ledger in the directory `path`. `policy_json` is NULL for the
/// built-in policy, or a policy's JSON: a new ledger is founded with it, an existing one must
/// have been. On `ML_OK`, `*ledger_out` is the handle (close it with [`ml_close`]); always,
/// `*message_out` is a string to free with [`ml_string_free`] (empty on success).
///
/// # Safety
/// `path` and `policy_json` are NULL or NUL-terminated strings; `ledger_out` and
/// `message_out` are valid for one write each.
#[no_mangle]
pub unsafe extern "C" fn ml_open(
    path: *const c_char,
    policy_json: *const c_char,
    ledger_out: *mut *mut MlLedger,
    message_out: *mut *mut c_char,
) -> i32 {
    // SAFETY: the caller's promises, passed on.
    unsafe {
        opened(ledger_out, message_out, || {
            api::open(required(path, "path")?, text(policy_json, "policy")?)
        })
    }
}

/// A ledger in memory (for tests and trials): as [`ml_open`], with no directory.
///
/// # Safety
/// As [`ml_open`].
#[no_mangle]
pub unsafe extern "C" fn ml_open_in_memory(
    policy_json: *const c_char,
    ledger_out: *mut *mut MlLedger,
    message_out: *mut *mut c_char,
) -> i32 {
    // SAFETY: the caller's promises, passed on.
    unsafe {
        opened(ledger_out, message_out, || {
            api::in_memory(text(policy_json, "policy")?)
        })
    }
}

/// Closes a ledger (NULL is ignored). Every call on it must have returned.
///
/// # Safety
/// `ledger` is NULL or a handle from [`ml_open`] not closed before.
#[no_mangle]
pub unsafe extern "C" fn ml_close(ledger: *mut MlLedger) {
    if ledger.is_null() {
        return;
    }
    // SAFETY: a handle from `Box::into_raw` in `ml_open`, closed once (the caller's promise).
    let handle = unsafe { Box::from_raw(ledger) };
    let _ = catch_unwind(AssertUnwindSafe(move || drop(handle)));
}

/// Frees a string this library returned (NULL is ignored).
///
/// # Safety
/// `s` is NULL or a string from this library not freed before.
#[no_mangle]
pub unsafe extern "C" fn ml_string_free(s: *mut c_char) {
    if s.is_null() {
        return;
    }
    // SAFETY: made by `CString::into_raw` in this library, freed once (the caller's promise).
    drop(unsafe { CString::from_raw(s) });
}

/// The string code of a result code (`"insufficient_balance"` for
/// `ML_INSUFFICIENT_BALANCE`), or NULL for a number that is no code. Static: never free it.
#[no_mangle]
pub extern "C" fn ml_code_name(code: i32) -> *const c_char {
    // Every name is ASCII with no NUL; each is stored NUL-terminated once, here.
    static NAMES: std::sync::OnceLock<Vec<(i32, CString)>> = std::sync::OnceLock::new();
    let names = NAMES.get_or_init(|| {
        codes::CODES
            .iter()
            .map(|c| (c.number, CString::new(c.name).expect("no NUL")))
            .collect()
    });
    names
        .iter()
        .find(|(n, _)| *n == code)
        .map_or(std::ptr::null(), |(_, s)| s.as_ptr())
}

/// Executes one command (a JSON object, as one line of `memberledger apply`). On `ML_OK`,
/// `*out` is the receipt JSON, given once the command is durable; otherwise the message.
///
/// # Safety
/// `ledger` is a live handle; `command_json` a NUL-terminated string; `out` valid for a write.
#[no_mangle]
pub unsafe extern "C" fn ml_execute(
    ledger: *const MlLedger,
    command_json: *const c_char,
    out: *mut *mut c_char,
) -> i32 {
    // SAFETY: the caller's promises, passed on.
    unsafe {
        answer(out, || {
            ok(api::execute(
                handle(ledger)?,
                required(command_json, "command")?,
            )?)
        })
    }
}

/// Executes a JSON array of commands in one group commit. On `ML_OK`, `*out` is a JSON array
/// of receipts in order, each `"ok":true` or refused in place with its `error`.
///
/// # Safety
/// As [`ml_execute`].
#[no_mangle]
pub unsafe extern "C" fn ml_execute_batch(
    ledger: *const MlLedger,
    commands_json: *const c_char,
    out: *mut *mut c_char,
) -> i32 {
    // SAFETY: the caller's promises, passed on.
    unsafe {
        answer(out, || {
            ok(api::execute_batch(
                handle(ledger)?,
                required(commands_json, "commands")?,
            )?)
        })
    }
}

/// A member's view JSON (as `memberledger member show --json`), now (`as_of` NULL) or as of
/// an RFC 3339 time.
///
/// # Safety
/// `ledger` is a live handle; `member` a NUL-terminated string; `as_of` NULL or one; `out`
/// valid for a write.
#[no_mangle]
pub unsafe extern "C" fn ml_member(
    ledger: *const MlLedger,
    member: *const c_char,
    as_of: *const c_char,
    out: *mut *mut c_char,
) -> i32 {
    // SAFETY: the caller's promises, passed on.
    unsafe {
        answer(out, || {
            ok(api::member(
                handle(ledger)?,
                required(member, "member")?,
                text(as_of, "as_of")?,
            )?)
        })
    }
}

/// A member's statement JSON (as `memberledger statement --json`) for `[from, to]`; NULL
/// leaves that end open.
///
/// # Safety
/// As [`ml_member`], with `from` and `to` NULL or NUL-terminated strings.
#[no_mangle]
pub unsafe extern "C" fn ml_statement(
    ledger: *const MlLedger,
    member: *const c_char,
    from: *const c_char,
    to: *const c_char,
    out: *mut *mut c_char,
) -> i32 {
    // SAFETY: the caller's promises, passed on.
    unsafe {
        answer(out, || {
            ok(api::statement(
                handle(ledger)?,
                required(member, "member")?,
                text(from, "from")?,
                text(to, "to")?,
            )?)
        })
    }
}

/// Verifies the ledger. `*out` is the report JSON (as `memberledger verify --json`), with
/// `ML_OK` when it names no problem and `ML_VERIFY_FAILED` when it does.
///
/// # Safety
/// `ledger` is a live handle; `out` valid for a write.
#[no_mangle]
pub unsafe extern "C" fn ml_verify(ledger: *const MlLedger, out: *mut *mut c_char) -> i32 {
    // SAFETY: the caller's promises, passed on.
    unsafe {
        answer(out, || {
            let (good, report) = api::verify(handle(ledger)?)?;
            Ok((if good { ML_OK } else { ML_VERIFY_FAILED }, report))
        })
    }
}

/// Writes the whole log to the file `path` in `format` (`jsonl`, `hledger`, `beancount`,
/// `csv`). On `ML_OK`, `*out` is `{"events":N}`.
///
/// # Safety
/// `ledger` is a live handle; `format` and `path` NUL-terminated strings; `out` valid for a
/// write.
#[no_mangle]
pub unsafe extern "C" fn ml_export(
    ledger: *const MlLedger,
    format: *const c_char,
    path: *const c_char,
    out: *mut *mut c_char,
) -> i32 {
    // SAFETY: the caller's promises, passed on.
    unsafe {
        answer(out, || {
            let n = api::export(
                handle(ledger)?,
                required(format, "format")?,
                required(path, "path")?,
            )?;
            ok(serde_json::json!({ "events": n }).to_string())
        })
    }
}

/// The policy version in force now (`as_of` NULL) or at a time, as `memberledger policy show
/// --json` prints it.
///
/// # Safety
/// `ledger` is a live handle; `as_of` NULL or a NUL-terminated string; `out` valid for a write.
#[no_mangle]
pub unsafe extern "C" fn ml_policy(
    ledger: *const MlLedger,
    as_of: *const c_char,
    out: *mut *mut c_char,
) -> i32 {
    // SAFETY: the caller's promises, passed on.
    unsafe {
        answer(out, || {
            ok(api::policy(handle(ledger)?, text(as_of, "as_of")?)?)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_never_crosses_the_boundary() {
        let mut out: *mut c_char = std::ptr::null_mut();
        // SAFETY: `out` is a valid place for one pointer.
        let code = unsafe { answer(&mut out, || panic!("a bug")) };
        assert_eq!(code, ML_INTERNAL);
        // SAFETY: `answer` wrote a string of ours; freed once below.
        let message = unsafe { CStr::from_ptr(out) }
            .to_string_lossy()
            .into_owned();
        assert!(message.contains("panicked"), "{message}");
        // SAFETY: a string of ours, not freed before.
        unsafe { ml_string_free(out) };
    }

    #[test]
    fn a_handle_is_shareable_between_threads() {
        fn shareable<T: Send + Sync>() {}
        shareable::<MlLedger>();
    }

    #[test]
    fn a_message_with_a_nul_still_reaches_c() {
        let p = c_string("a\0b".to_owned());
        // SAFETY: a string of ours; freed once below.
        assert_eq!(unsafe { CStr::from_ptr(p) }.to_bytes(), b"a?b");
        // SAFETY: a string of ours, not freed before.
        unsafe { ml_string_free(p) };
    }
}
