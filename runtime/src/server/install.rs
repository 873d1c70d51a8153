//! `DllInstall(install, cmdline)`: `regsvr32 /i:<cmdline>` and
//! `regsvr32 /n /i:<cmdline>`, registration under the scope its command
//! line names.

use super::class::ServerClass;
use super::registry::{Scope, register, unregister};
use crate::hresult::E_INVALIDARG;
use windows_core::HRESULT;

/// `DllInstall(install, cmdline)`: `cmdline` "user" (any case) is
/// [`Scope::User`], NULL or empty is [`Scope::Machine`], anything else
/// E_INVALIDARG; `install` non-zero registers, zero unregisters.
///
/// # Safety
/// `cmdline` is NULL or a NUL-terminated UTF-16 string.
pub unsafe fn install(classes: &[ServerClass], install: i32, cmdline: *const u16) -> HRESULT {
    let mut text = Vec::new();
    if !cmdline.is_null() {
        let mut at = cmdline;
        // SAFETY: DllInstall: the caller vouches for a NUL-terminated string; the
        // loop stops at its NUL (and gives up on absurd lengths).
        while let unit @ 1.. = unsafe { *at } {
            if text.len() > 64 {
                break;
            }
            text.push(unit);
            // SAFETY: NUL-terminated string: `at` is not at the NUL yet, so the next unit is still inside the string.
            at = unsafe { at.add(1) };
        }
    }
    let text = String::from_utf16_lossy(&text);
    let scope = if text.is_empty() {
        Scope::Machine
    } else if text.trim().eq_ignore_ascii_case("user") {
        Scope::User
    } else {
        return E_INVALIDARG;
    };
    if install != 0 { register(classes, scope) } else { unregister(classes, scope) }
}
