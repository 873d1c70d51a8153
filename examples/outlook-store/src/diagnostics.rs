//! Where the provider's errors and panic texts go inside OUTLOOK.EXE: the
//! debugger output (`OutputDebugStringW`: a debugger's output window, or
//! Sysinternals DebugView), since a GUI process has no console; elsewhere
//! standard error. And the guard that keeps a panic from unwinding into MAPI.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Once;

use mapisync::{E_UNEXPECTED, HRESULT};

/// Writes one line, prefixed with the crate's name, to the debugger output
/// (Windows) or standard error (elsewhere).
pub fn log(message: &str) {
    let line = format!("{}: {message}\n", env!("CARGO_PKG_NAME"));
    #[cfg(windows)]
    {
        let wide: Vec<u16> = line.encode_utf16().chain(Some(0)).collect();
        // SAFETY: Win32: `wide` is a NUL-terminated UTF-16 string alive for the call.
        unsafe { windows_sys::Win32::System::Diagnostics::Debug::OutputDebugStringW(wide.as_ptr()) };
    }
    #[cfg(not(windows))]
    eprint!("{line}");
}

/// Installs (once per load of the DLL) a panic hook that logs the panic's
/// text and place with [`log`], then calls the hook it replaced (the
/// default one prints to standard error), so a test binary or a host with a
/// console still sees every panic's message. Each Rust DLL has its own
/// standard library, so this hook sees this DLL's panics only. It takes no
/// backtrace of its own: OUTLOOK.EXE has no standard error to print one to,
/// and with `RUST_BACKTRACE=1` the default hook's stack walk out of a
/// windows-rs method page-faults on i686-pc-windows-gnu (seen under Wine,
/// in the example's panic test); leave RUST_BACKTRACE unset there.
pub fn install_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(chain_panic_hook);
}

/// Sets a hook that logs with [`log`] and then calls the current hook.
fn chain_panic_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        log(&format!("panic: {info}"));
        previous(info);
    }));
}

/// Runs the body of a `Drop` impl that windows-rs's last `Release` (an
/// `extern "system"` trampoline) reaches: a panic is logged and stops
/// there, instead of unwinding out of the trampoline, where Rust would
/// abort OUTLOOK.EXE. A `Drop` should not panic; this is the backstop.
///
/// ```
/// use mapisync_outlook_store::diagnostics::guarded_drop;
/// guarded_drop("Session::drop", || panic!("bug"));
/// // Still running: the panic was caught and logged.
/// ```
pub fn guarded_drop(what: &str, body: impl FnOnce()) {
    if let Err(payload) = catch_unwind(AssertUnwindSafe(body)) {
        // Leaked, not dropped: its Drop may panic again in an `extern` frame.
        std::mem::forget(payload);
        log(&format!("{what} panicked; the rest of its cleanup is skipped"));
    }
}

/// Runs the body of an entry point MAPI calls: a panic becomes
/// E_UNEXPECTED (logged, with its text logged by the hook) instead of
/// unwinding into MAPI's C++ frames.
pub fn guard(what: &str, body: impl FnOnce() -> HRESULT) -> HRESULT {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or_else(|payload| {
        // Its Drop is arbitrary code that may panic again, here in an
        // `extern` function: leak the (rare) payload rather than drop it.
        std::mem::forget(payload);
        log(&format!("{what} panicked; answering E_UNEXPECTED"));
        E_UNEXPECTED
    })
}

/// Runs the body of a windows-rs `#[implement]` method: a panic becomes
/// `Err(E_UNEXPECTED)` (logged, with its text logged by the hook) instead
/// of unwinding into the `extern "system"` trampoline, where Rust would
/// abort OUTLOOK.EXE. Each `_Impl` method of the example is one call:
///
/// ```
/// use mapisync_outlook_store::diagnostics::guarded;
/// # struct Store;
/// # impl Store {
/// fn save_changes(&self, _flags: u32) -> windows_core::Result<()> {
///     guarded("IMsgStore::SaveChanges", || Err(mapisync::MAPI_E_NO_SUPPORT.into()))
/// }
/// # }
/// assert_eq!(guarded("demo", || -> windows_core::Result<()> { panic!("bug") }).unwrap_err().code(), mapisync::E_UNEXPECTED);
/// ```
pub fn guarded<T>(what: &str, body: impl FnOnce() -> windows_core::Result<T>) -> windows_core::Result<T> {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or_else(|payload| {
        // Leaked, not dropped: its Drop may panic again in an `extern` frame.
        std::mem::forget(payload);
        log(&format!("{what} panicked; answering E_UNEXPECTED"));
        Err(E_UNEXPECTED.into())
    })
}

#[cfg(test)]
thread_local! {
    /// The method that panics next on this thread (tests only).
    static ARMED: std::cell::Cell<Option<&'static str>> = const { std::cell::Cell::new(None) };
}

/// Tests only: makes the next [`fail_point`] named `what` on this thread panic.
#[cfg(test)]
pub(crate) fn panic_next(what: &'static str) {
    ARMED.with(|armed| armed.set(Some(what)));
}

/// A place where a test can make an `#[implement]` method panic, to prove
/// its guard; compiles to nothing outside tests.
#[cfg_attr(not(windows), allow(dead_code))]
pub(crate) fn fail_point(_what: &str) {
    #[cfg(test)]
    if ARMED.with(|armed| armed.get()) == Some(_what) {
        ARMED.with(|armed| armed.set(None));
        panic!("a test made {_what} panic");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    thread_local! {
        /// Whether the hook installed before ours ran for a panic on this thread.
        static PREVIOUS_RAN: Cell<bool> = const { Cell::new(false) };
    }

    /// Our hook logs, then hands the panic to the hook it replaced: a
    /// failing assertion in a test binary still prints its message.
    #[test]
    fn the_panic_hook_chains_to_the_previous_hook() {
        std::panic::set_hook(Box::new(|_| PREVIOUS_RAN.with(|ran| ran.set(true))));
        chain_panic_hook();
        let caught = catch_unwind(|| panic!("a test panic, logged and then passed on"));
        drop(std::panic::take_hook()); // back to the default hook
        assert!(caught.is_err());
        assert!(PREVIOUS_RAN.with(Cell::get), "the previous hook never saw the panic");
    }

    #[test]
    fn a_panic_in_a_guarded_drop_stops_there() {
        struct Bomb;
        impl Drop for Bomb {
            fn drop(&mut self) {
                guarded_drop("Bomb::drop", || {
                    panic_next("Bomb::drop");
                    fail_point("Bomb::drop");
                });
            }
        }
        let outcome = catch_unwind(|| drop(Bomb));
        assert!(outcome.is_ok(), "the panic left the Drop");
    }
}
