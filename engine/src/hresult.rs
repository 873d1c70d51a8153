//! The HRESULTs the contract names and the MAPI error codes a store
//! returns, as `windows_core::HRESULT` constants. The MAPI values are
//! mingw-w64's `mapicode.h` (`MAKE_MAPI_E(n)` is `0x8004_0000 | n`,
//! `MAKE_MAPI_S(n)` is `0x0004_0000 | n`); a test compares each with the
//! header where mingw-w64 is installed.

use windows_result::HRESULT;

/// Success.
pub const S_OK: HRESULT = HRESULT(0);
/// Success, with a "no" or "not yet" meaning (`DllCanUnloadNow` while objects live).
pub const S_FALSE: HRESULT = HRESULT(1);
/// The object does not answer the requested interface (`MAPI_E_INTERFACE_NOT_SUPPORTED`).
pub const E_NOINTERFACE: HRESULT = HRESULT(0x8000_4002_u32 as i32);
/// A required out-pointer was NULL.
pub const E_POINTER: HRESULT = HRESULT(0x8000_4003_u32 as i32);
/// Unspecified failure (`MAPI_E_CALL_FAILED`).
pub const E_FAIL: HRESULT = HRESULT(0x8000_4005_u32 as i32);
/// Provider code panicked; the panic was caught at the COM boundary.
pub const E_UNEXPECTED: HRESULT = HRESULT(0x8000_FFFF_u32 as i32);
/// An argument was invalid (`MAPI_E_INVALID_PARAMETER`).
pub const E_INVALIDARG: HRESULT = HRESULT(0x8007_0057_u32 as i32);
/// Out of memory or of threads (`MAPI_E_NOT_ENOUGH_MEMORY`).
pub const E_OUTOFMEMORY: HRESULT = HRESULT(0x8007_000E_u32 as i32);
/// An outer unknown was passed to a class that cannot be aggregated.
pub const CLASS_E_NOAGGREGATION: HRESULT = HRESULT(0x8004_0110_u32 as i32);
/// The class factory does not serve the requested CLSID.
pub const CLASS_E_CLASSNOTAVAILABLE: HRESULT = HRESULT(0x8004_0111_u32 as i32);
/// The requested operation is not supported.
pub const MAPI_E_NO_SUPPORT: HRESULT = HRESULT(0x8004_0102_u32 as i32);
/// A sync of this object is already running.
pub const MAPI_E_BUSY: HRESULT = HRESULT(0x8004_010B_u32 as i32);
/// The user cancelled (typically returned by the host's callback).
pub const MAPI_E_USER_CANCEL: HRESULT = HRESULT(0x8004_0113_u32 as i32);
/// The network failed.
pub const MAPI_E_NETWORK_ERROR: HRESULT = HRESULT(0x8004_0115_u32 as i32);
/// The provider is shutting down: `SynchronizeInBackground` after
/// [`lifecycle::shutdown`](https://docs.rs/mapisync/latest/mapisync/lifecycle/fn.shutdown.html) (mapicode.h:
/// `MAKE_MAPI_E(0x200)`, "the session is ending").
pub const MAPI_E_END_OF_SESSION: HRESULT = HRESULT(0x8004_0200_u32 as i32);

/// Access denied (`MAPI_E_NO_ACCESS`).
pub const E_ACCESSDENIED: HRESULT = HRESULT(0x8007_0005_u32 as i32);
/// The caller may not open or change the object (mapicode.h: `E_ACCESSDENIED`).
pub const MAPI_E_NO_ACCESS: HRESULT = E_ACCESSDENIED;
/// A flag the method does not know.
pub const MAPI_E_UNKNOWN_FLAGS: HRESULT = HRESULT(0x8004_0106_u32 as i32);
/// An entry identifier that is malformed.
pub const MAPI_E_INVALID_ENTRYID: HRESULT = HRESULT(0x8004_0107_u32 as i32);
/// The object was released or is in a bad state.
pub const MAPI_E_INVALID_OBJECT: HRESULT = HRESULT(0x8004_0108_u32 as i32);
/// The object changed since it was opened.
pub const MAPI_E_OBJECT_CHANGED: HRESULT = HRESULT(0x8004_0109_u32 as i32);
/// The object was deleted since it was opened.
pub const MAPI_E_OBJECT_DELETED: HRESULT = HRESULT(0x8004_010A_u32 as i32);
/// The disk is full.
pub const MAPI_E_NOT_ENOUGH_DISK: HRESULT = HRESULT(0x8004_010D_u32 as i32);
/// A system resource (not memory) ran out.
pub const MAPI_E_NOT_ENOUGH_RESOURCES: HRESULT = HRESULT(0x8004_010E_u32 as i32);
/// The object or property does not exist.
pub const MAPI_E_NOT_FOUND: HRESULT = HRESULT(0x8004_010F_u32 as i32);
/// The caller's and the provider's versions do not match (`MSProviderInit`).
pub const MAPI_E_VERSION: HRESULT = HRESULT(0x8004_0110_u32 as i32);
/// The server refused the logon.
pub const MAPI_E_LOGON_FAILED: HRESULT = HRESULT(0x8004_0111_u32 as i32);
/// No more sessions can be opened.
pub const MAPI_E_SESSION_LIMIT: HRESULT = HRESULT(0x8004_0112_u32 as i32);
/// Reading or writing the store's files failed.
pub const MAPI_E_DISK_ERROR: HRESULT = HRESULT(0x8004_0116_u32 as i32);
/// An error whose details are in `GetLastError`.
pub const MAPI_E_EXTENDED_ERROR: HRESULT = HRESULT(0x8004_0119_u32 as i32);
/// Data read from the store is corrupt.
pub const MAPI_E_CORRUPT_DATA: HRESULT = HRESULT(0x8004_011B_u32 as i32);
/// The provider's profile section lacks what it needs.
pub const MAPI_E_UNCONFIGURED: HRESULT = HRESULT(0x8004_011C_u32 as i32);
/// One of several providers failed.
pub const MAPI_E_FAILONEPROVIDER: HRESULT = HRESULT(0x8004_011D_u32 as i32);
/// The server wants a new password.
pub const MAPI_E_PASSWORD_CHANGE_REQUIRED: HRESULT = HRESULT(0x8004_0120_u32 as i32);
/// The password has expired.
pub const MAPI_E_PASSWORD_EXPIRED: HRESULT = HRESULT(0x8004_0121_u32 as i32);
/// The account is disabled.
pub const MAPI_E_ACCOUNT_DISABLED: HRESULT = HRESULT(0x8004_0124_u32 as i32);
/// An entry identifier no provider recognizes.
pub const MAPI_E_UNKNOWN_ENTRYID: HRESULT = HRESULT(0x8004_0201_u32 as i32);
/// The operation could not be completed.
pub const MAPI_E_UNABLE_TO_COMPLETE: HRESULT = HRESULT(0x8004_0400_u32 as i32);
/// The operation timed out.
pub const MAPI_E_TIMEOUT: HRESULT = HRESULT(0x8004_0401_u32 as i32);
/// The operation was cancelled.
pub const MAPI_E_CANCEL: HRESULT = HRESULT(0x8004_0501_u32 as i32);
/// The request is for another provider.
pub const MAPI_E_NOT_ME: HRESULT = HRESULT(0x8004_0502_u32 as i32);
/// The message store is corrupt.
pub const MAPI_E_CORRUPT_STORE: HRESULT = HRESULT(0x8004_0600_u32 as i32);
/// MAPI or the provider is not initialized.
pub const MAPI_E_NOT_INITIALIZED: HRESULT = HRESULT(0x8004_0605_u32 as i32);
/// A folder or message of that name already exists.
pub const MAPI_E_COLLISION: HRESULT = HRESULT(0x8004_0604_u32 as i32);
/// A warning: the call succeeded, but some values are errors.
pub const MAPI_W_ERRORS_RETURNED: HRESULT = HRESULT(0x0004_0380);
/// A warning: the call did part of the work.
pub const MAPI_W_PARTIAL_COMPLETION: HRESULT = HRESULT(0x0004_0680);

/// Every code above with its name (the alias `MAPI_E_NO_ACCESS` under its
/// COM name, `E_ACCESSDENIED`).
const NAMES: [(HRESULT, &str); 45] = [
    (S_OK, "S_OK"),
    (S_FALSE, "S_FALSE"),
    (E_NOINTERFACE, "E_NOINTERFACE"),
    (E_POINTER, "E_POINTER"),
    (E_FAIL, "E_FAIL"),
    (E_UNEXPECTED, "E_UNEXPECTED"),
    (E_INVALIDARG, "E_INVALIDARG"),
    (E_OUTOFMEMORY, "E_OUTOFMEMORY"),
    (CLASS_E_NOAGGREGATION, "CLASS_E_NOAGGREGATION"),
    (CLASS_E_CLASSNOTAVAILABLE, "CLASS_E_CLASSNOTAVAILABLE"),
    (MAPI_E_NO_SUPPORT, "MAPI_E_NO_SUPPORT"),
    (MAPI_E_BUSY, "MAPI_E_BUSY"),
    (MAPI_E_USER_CANCEL, "MAPI_E_USER_CANCEL"),
    (MAPI_E_NETWORK_ERROR, "MAPI_E_NETWORK_ERROR"),
    (MAPI_E_END_OF_SESSION, "MAPI_E_END_OF_SESSION"),
    (E_ACCESSDENIED, "E_ACCESSDENIED"),
    (MAPI_E_UNKNOWN_FLAGS, "MAPI_E_UNKNOWN_FLAGS"),
    (MAPI_E_INVALID_ENTRYID, "MAPI_E_INVALID_ENTRYID"),
    (MAPI_E_INVALID_OBJECT, "MAPI_E_INVALID_OBJECT"),
    (MAPI_E_OBJECT_CHANGED, "MAPI_E_OBJECT_CHANGED"),
    (MAPI_E_OBJECT_DELETED, "MAPI_E_OBJECT_DELETED"),
    (MAPI_E_NOT_ENOUGH_DISK, "MAPI_E_NOT_ENOUGH_DISK"),
    (MAPI_E_NOT_ENOUGH_RESOURCES, "MAPI_E_NOT_ENOUGH_RESOURCES"),
    (MAPI_E_NOT_FOUND, "MAPI_E_NOT_FOUND"),
    (MAPI_E_VERSION, "MAPI_E_VERSION"),
    (MAPI_E_LOGON_FAILED, "MAPI_E_LOGON_FAILED"),
    (MAPI_E_SESSION_LIMIT, "MAPI_E_SESSION_LIMIT"),
    (MAPI_E_DISK_ERROR, "MAPI_E_DISK_ERROR"),
    (MAPI_E_EXTENDED_ERROR, "MAPI_E_EXTENDED_ERROR"),
    (MAPI_E_CORRUPT_DATA, "MAPI_E_CORRUPT_DATA"),
    (MAPI_E_UNCONFIGURED, "MAPI_E_UNCONFIGURED"),
    (MAPI_E_FAILONEPROVIDER, "MAPI_E_FAILONEPROVIDER"),
    (MAPI_E_PASSWORD_CHANGE_REQUIRED, "MAPI_E_PASSWORD_CHANGE_REQUIRED"),
    (MAPI_E_PASSWORD_EXPIRED, "MAPI_E_PASSWORD_EXPIRED"),
    (MAPI_E_ACCOUNT_DISABLED, "MAPI_E_ACCOUNT_DISABLED"),
    (MAPI_E_UNKNOWN_ENTRYID, "MAPI_E_UNKNOWN_ENTRYID"),
    (MAPI_E_UNABLE_TO_COMPLETE, "MAPI_E_UNABLE_TO_COMPLETE"),
    (MAPI_E_TIMEOUT, "MAPI_E_TIMEOUT"),
    (MAPI_E_CANCEL, "MAPI_E_CANCEL"),
    (MAPI_E_NOT_ME, "MAPI_E_NOT_ME"),
    (MAPI_E_CORRUPT_STORE, "MAPI_E_CORRUPT_STORE"),
    (MAPI_E_NOT_INITIALIZED, "MAPI_E_NOT_INITIALIZED"),
    (MAPI_E_COLLISION, "MAPI_E_COLLISION"),
    (MAPI_W_ERRORS_RETURNED, "MAPI_W_ERRORS_RETURNED"),
    (MAPI_W_PARTIAL_COMPLETION, "MAPI_W_PARTIAL_COMPLETION"),
];

/// Codes that two headers define under different names (FACILITY_ITF is
/// each interface's own): their name says both.
const SHARED: [(HRESULT, &str); 2] = [
    (CLASS_E_NOAGGREGATION, "CLASS_E_NOAGGREGATION or MAPI_E_VERSION"),
    (CLASS_E_CLASSNOTAVAILABLE, "CLASS_E_CLASSNOTAVAILABLE or MAPI_E_LOGON_FAILED"),
];

/// The name of an HRESULT this crate defines, for messages and logs
/// ([`Error`](crate::Error)'s `Display` uses it).
///
/// ```
/// assert_eq!(mapisync::hresult_name(mapisync::MAPI_E_BUSY), Some("MAPI_E_BUSY"));
/// assert_eq!(mapisync::hresult_name(mapisync::MAPI_E_NOT_FOUND), Some("MAPI_E_NOT_FOUND"));
/// assert_eq!(mapisync::hresult_name(mapisync::MAPI_E_VERSION), Some("CLASS_E_NOAGGREGATION or MAPI_E_VERSION"));
/// assert_eq!(mapisync::hresult_name(mapisync::HRESULT(0x1234)), None);
/// ```
pub fn hresult_name(hr: HRESULT) -> Option<&'static str> {
    SHARED.iter().chain(&NAMES).find(|(code, _)| *code == hr).map(|(_, name)| *name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_every_mapi_code_has_the_mapi_facility() {
        for (i, (code, name)) in NAMES.iter().enumerate() {
            let shared = SHARED.iter().find(|(other, _)| other == code);
            let twice = NAMES[..i].iter().any(|(other, _)| other == code);
            assert!(!twice || shared.is_some(), "{name} twice");
            let expected = shared.map_or(*name, |(_, both)| *both);
            assert_eq!(hresult_name(*code), Some(expected));
            assert!(expected.contains(name));
            if name.starts_with("MAPI_") {
                assert_eq!((code.0 as u32 >> 16) & 0x7FFF, 4, "{name}: FACILITY_ITF");
                assert_eq!(code.is_err(), name.starts_with("MAPI_E_"), "{name}: severity");
            }
        }
        assert_eq!(MAPI_E_NO_ACCESS, E_ACCESSDENIED);
    }

    /// Compares every MAPI code (and the COM codes MAPI aliases) with
    /// mingw-w64's `mapicode.h`, found through the mingw-w64 compiler's own
    /// search path; skipped, with a reason, where it is not installed.
    #[test]
    #[cfg_attr(miri, ignore = "starts a compiler process")]
    fn every_mapi_code_matches_mingw_w64_mapicode_h() {
        let Some(header) = mingw_header("mapicode.h") else {
            println!(
                "SKIP: x86_64-w64-mingw32-gcc or its mapicode.h is not installed (apt-get install mingw-w64-x86-64-dev)"
            );
            return;
        };
        let defines = header_codes(&header);
        let mut compared = 0;
        for (code, name) in NAMES.iter().filter(|(_, name)| name.starts_with("MAPI_")) {
            assert_eq!(defines.get(*name), Some(&(code.0 as u32)), "{name} in mapicode.h");
            compared += 1;
        }
        assert_eq!(defines.get("MAPI_E_NO_ACCESS"), Some(&(MAPI_E_NO_ACCESS.0 as u32)));
        println!("{} codes match mapicode.h", compared + 1);
    }

    /// The text of a mingw-w64 header, located by the compiler (`-M` lists
    /// the files an `#include` reads, with their paths).
    fn mingw_header(name: &str) -> Option<String> {
        use std::io::Write;
        let mut child = std::process::Command::new("x86_64-w64-mingw32-gcc")
            .args(["-M", "-x", "c", "-"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .ok()?;
        child.stdin.take()?.write_all(format!("#include <{name}>\n").as_bytes()).ok()?;
        let output = child.wait_with_output().ok()?;
        let deps = String::from_utf8(output.stdout).ok()?;
        let path = deps.split_whitespace().find(|word| word.ends_with(&format!("/{name}")))?;
        std::fs::read_to_string(path).ok()
    }

    /// `#define NAME MAKE_MAPI_E(n)`, `MAKE_MAPI_S(n)` and the aliases of the
    /// COM codes, evaluated.
    fn header_codes(header: &str) -> std::collections::HashMap<String, u32> {
        let com = [("E_FAIL", E_FAIL), ("E_OUTOFMEMORY", E_OUTOFMEMORY), ("E_INVALIDARG", E_INVALIDARG)];
        let com = com.into_iter().chain([("E_NOINTERFACE", E_NOINTERFACE), ("E_ACCESSDENIED", E_ACCESSDENIED)]);
        let com: std::collections::HashMap<&str, u32> = com.map(|(name, code)| (name, code.0 as u32)).collect();
        let mut defines = std::collections::HashMap::new();
        for line in header.lines() {
            let mut words = line.split_whitespace();
            let (Some("#define"), Some(name), Some(value)) = (words.next(), words.next(), words.next()) else {
                continue;
            };
            let number =
                |inner: &str| u32::from_str_radix(inner.trim_start_matches("0x").trim_end_matches(')'), 16).ok();
            let code = if let Some(inner) = value.strip_prefix("MAKE_MAPI_E(") {
                number(inner).map(|n| 0x8004_0000 | n)
            } else if let Some(inner) = value.strip_prefix("MAKE_MAPI_S(") {
                number(inner).map(|n| 0x0004_0000 | n)
            } else {
                com.get(value).copied()
            };
            defines.extend(code.map(|code| (name.to_string(), code)));
        }
        defines
    }
}
