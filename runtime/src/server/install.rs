//! `DllInstall(install, cmdline)`: `regsvr32 /i:<cmdline>` and
//! `regsvr32 /n /i:<cmdline>`, registration under the scope its command
//! line names.

use windows_core::HRESULT;

use super::class::ServerClass;
use super::registry::{Scope, register, unregister};
use crate::hresult::E_INVALIDARG;

/// `DllInstall(install, cmdline)`: registers (`install` non-zero) or
/// unregisters (zero) every class, under the scope `cmdline` names.
///
/// The command line is read whole and trimmed of white space; then
///
/// | `cmdline` | scope |
/// |---|---|
/// | NULL, empty or only white space | [`Scope::Machine`] (`regsvr32 /i`) |
/// | `user`, in any case | [`Scope::User`] (`regsvr32 /n /i:user`) |
/// | anything else | none: E_INVALIDARG, and the registry is not touched |
///
/// # Safety
/// `cmdline` is NULL or a NUL-terminated UTF-16 string.
#[cfg_attr(any(docsrs, mapisync_docsrs), doc(cfg(windows)))]
pub unsafe fn install(classes: &[ServerClass], install: i32, cmdline: *const u16) -> HRESULT {
    // SAFETY: DllInstall: the caller passes NULL or a NUL-terminated string.
    let text = unsafe { command_line(cmdline) };
    let Some(scope) = scope_of(&text) else {
        return E_INVALIDARG;
    };
    if install != 0 { register(classes, scope) } else { unregister(classes, scope) }
}

/// The scope a command line names, or `None` when it names none.
fn scope_of(cmdline: &str) -> Option<Scope> {
    match cmdline.trim() {
        "" => Some(Scope::Machine),
        word if word.eq_ignore_ascii_case("user") => Some(Scope::User),
        _ => None,
    }
}

/// The whole string up to its NUL (invalid UTF-16 replaced, so it names no scope).
///
/// # Safety
/// `text` is NULL or a NUL-terminated UTF-16 string.
unsafe fn command_line(text: *const u16) -> String {
    if text.is_null() {
        return String::new();
    }
    let mut len = 0;
    // SAFETY: NUL-terminated string: every unit up to and including the NUL
    // is readable, and the loop stops at the NUL.
    while unsafe { *text.add(len) } != 0 {
        len += 1;
    }
    // SAFETY: NUL-terminated string: the `len` units before the NUL are readable
    // and not written during the call.
    String::from_utf16_lossy(unsafe { core::slice::from_raw_parts(text, len) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_accepted_words_and_nothing_else() {
        for (text, scope) in [
            ("", Some(Scope::Machine)),
            (" \t\r\n ", Some(Scope::Machine)),
            ("user", Some(Scope::User)),
            ("  User\t", Some(Scope::User)),
            ("USER", Some(Scope::User)),
            ("everyone", None),
            ("user everyone", None),
            ("machine", None),
            ("u\u{fffd}ser", None),
        ] {
            assert_eq!(scope_of(text), scope, "{text:?}");
        }
    }

    #[test]
    fn the_command_line_is_read_up_to_its_nul_however_long() {
        let long = format!("user{}everyone", " ".repeat(10_000));
        let wide: Vec<u16> = long.encode_utf16().chain([0, b'x' as u16]).collect();
        // SAFETY: test: a NUL-terminated string.
        assert_eq!(unsafe { command_line(wide.as_ptr()) }, long);
        // SAFETY: test: NULL is accepted.
        assert_eq!(unsafe { command_line(core::ptr::null()) }, "");
    }
}
