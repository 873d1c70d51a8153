//! mapisync's error: an HRESULT and, optionally, the text the host shows.
//!
//! A provider's `Err` ends the sync with `Done(event, code)`; when the error
//! carries a message, the host first gets `Error(code, message)`, which
//! Outlook shows in its Send/Receive dialog. The message is kept by this
//! type on every platform (windows-core's own error keeps a message only on
//! Windows, through `IErrorInfo`).

use core::fmt;

use windows_result::HRESULT;

use crate::hresult::{E_FAIL, hresult_name};

/// `Result` with mapisync's [`Error`]: what
/// [`MapiSync::synchronize_in_background`](https://docs.rs/mapisync/latest/mapisync/trait.MapiSync.html#tymethod.synchronize_in_background)
/// and the [`SyncJob`](https://docs.rs/mapisync/latest/mapisync/struct.SyncJob.html) methods return.
pub type Result<T> = core::result::Result<T, Error>;

/// An HRESULT and, optionally, a message for the user.
///
/// Build one with [`Error::new`] (code and text) or from a bare HRESULT;
/// `?` converts windows-core's errors, keeping their code.
///
/// ```
/// use mapisync::{Error, MAPI_E_NETWORK_ERROR};
///
/// fn connect(host: &str) -> mapisync::Result<()> {
///     Err(Error::new(MAPI_E_NETWORK_ERROR, format!("cannot reach {host}")))
/// }
///
/// let error = connect("imap.example.com").unwrap_err();
/// assert_eq!(error.code(), MAPI_E_NETWORK_ERROR);
/// assert_eq!(error.message(), "cannot reach imap.example.com");
/// ```
///
/// `?` on a windows-core result works in a provider, and so does a bare code:
///
/// ```
/// use mapisync::{Error, HRESULT, MAPI_E_USER_CANCEL};
///
/// fn from_windows_core() -> mapisync::Result<()> {
///     windows_core::HRESULT(MAPI_E_USER_CANCEL.0).ok()?; // a windows_core::Result
///     Ok(())
/// }
///
/// assert_eq!(from_windows_core().unwrap_err().code(), MAPI_E_USER_CANCEL);
/// let bare: Error = MAPI_E_USER_CANCEL.into();
/// assert_eq!(bare.message(), "");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Error {
    code: HRESULT,
    message: Option<Box<str>>,
}

impl Error {
    /// An error with `code` and a message for the host's `Error` call. An
    /// empty message is no message: the host then sees only `Done`.
    pub fn new(code: HRESULT, message: impl Into<String>) -> Self {
        let message = message.into();
        Self { code, message: (!message.is_empty()).then(|| message.into_boxed_str()) }
    }

    /// An error with `code` and no message (the host sees only `Done`).
    pub const fn from_hresult(code: HRESULT) -> Self {
        Self { code, message: None }
    }

    /// The HRESULT that reaches `Done`. A success code in an `Err` reaches
    /// the host as E_FAIL.
    pub const fn code(&self) -> HRESULT {
        self.code
    }

    /// The message, or `""` when there is none.
    pub fn message(&self) -> &str {
        self.message.as_deref().unwrap_or("")
    }

    /// The code as the host receives it: a success code in an `Err` is E_FAIL.
    pub(crate) fn failure_code(&self) -> HRESULT {
        if self.code.is_ok() { E_FAIL } else { self.code }
    }

    /// Turns an HRESULT a host method returned into a `Result`.
    pub(crate) fn check(hr: HRESULT) -> Result<()> {
        if hr.is_ok() { Ok(()) } else { Err(Self::from_hresult(hr)) }
    }
}

impl From<HRESULT> for Error {
    fn from(code: HRESULT) -> Self {
        Self::from_hresult(code)
    }
}

/// Keeps the code only. windows-core keeps messages on Windows alone, and
/// there it fills in the system's generic text for any code; taking it would
/// make the host's `Error` calls differ by platform. Add your own text with
/// [`Error::new`] (for example in `map_err`).
impl From<windows_result::Error> for Error {
    fn from(error: windows_result::Error) -> Self {
        Self::from_hresult(error.code())
    }
}

/// The code, and the message if there is one. windows-core keeps a message
/// only on Windows, where it hands it to combase (`RoOriginateErrorW`); a
/// bare code goes through `from_hresult`, which calls nothing. The code is
/// always a failure code, as for [`HRESULT`]: `?` in a windows-rs
/// `#[implement]` method never answers success for an error.
///
/// ```
/// use mapisync::{E_FAIL, Error, S_OK};
///
/// let error = mapisync::windows_core::Error::from(Error::from(S_OK));
/// assert_eq!(error.code(), E_FAIL);
/// ```
impl From<Error> for windows_result::Error {
    fn from(error: Error) -> Self {
        let code = error.failure_code();
        match error.message {
            None => windows_result::Error::from_hresult(code),
            Some(message) => windows_result::Error::new(code, &*message),
        }
    }
}

/// The code as the host receives it: always a failure code, so a store
/// method that answers `error.into()` never answers success for an error.
/// A success code in an `Err` becomes E_FAIL, as it does on its way to `Done`.
///
/// ```
/// use mapisync::{E_FAIL, Error, HRESULT, MAPI_E_NOT_FOUND, S_FALSE};
///
/// assert_eq!(HRESULT::from(Error::from(MAPI_E_NOT_FOUND)), MAPI_E_NOT_FOUND);
/// assert_eq!(HRESULT::from(Error::from(S_FALSE)), E_FAIL);
/// ```
impl From<Error> for HRESULT {
    fn from(error: Error) -> Self {
        error.failure_code()
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error").field("code", &self.code).field("message", &self.message()).finish()
    }
}

/// The code's name where mapisync knows it ([`hresult_name`]), then the
/// code in hex, then the message: `MAPI_E_NETWORK_ERROR (0x80040115): cannot
/// reach imap.example.com`; a code without a name prints as `0x80041234`.
///
/// [`hresult_name`]: crate::hresult_name
///
/// ```
/// use mapisync::{Error, HRESULT, MAPI_E_NETWORK_ERROR};
///
/// let error = Error::new(MAPI_E_NETWORK_ERROR, "cannot reach imap.example.com");
/// assert_eq!(error.to_string(), "MAPI_E_NETWORK_ERROR (0x80040115): cannot reach imap.example.com");
/// assert_eq!(Error::from(HRESULT(0x8004_1234_u32 as i32)).to_string(), "0x80041234");
/// ```
impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let code = self.code.0 as u32;
        match hresult_name(self.code) {
            Some(name) => write!(f, "{name} ({code:#010X})")?,
            None => write!(f, "{code:#010X}")?,
        }
        match &self.message {
            Some(message) => write!(f, ": {message}"),
            None => Ok(()),
        }
    }
}

impl std::error::Error for Error {}

/// The code as the host receives it (always a failure code), for the
/// runtime (not a method: [`Error`] is public, and this is not).
pub fn failure_code(error: &Error) -> HRESULT {
    error.failure_code()
}

/// A host call's HRESULT as a result (`Err` for a failure code), for the
/// runtime (not a method: [`Error`] is public, and this is not).
pub fn check(hr: HRESULT) -> Result<()> {
    Error::check(hr)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hresult::{MAPI_E_NETWORK_ERROR, S_OK};

    #[test]
    fn keeps_its_text_on_every_platform() {
        let error = Error::new(MAPI_E_NETWORK_ERROR, "cannot reach imap.example.com");
        assert_eq!(error.code(), MAPI_E_NETWORK_ERROR);
        assert_eq!(error.message(), "cannot reach imap.example.com");
        assert_eq!(error.to_string(), "MAPI_E_NETWORK_ERROR (0x80040115): cannot reach imap.example.com");
    }

    #[test]
    fn an_empty_text_is_no_text() {
        assert_eq!(Error::new(MAPI_E_NETWORK_ERROR, ""), Error::from(MAPI_E_NETWORK_ERROR));
        assert_eq!(Error::from(MAPI_E_NETWORK_ERROR).to_string(), "MAPI_E_NETWORK_ERROR (0x80040115)");
        assert_eq!(Error::from(HRESULT(0x8004_1234_u32 as i32)).to_string(), "0x80041234");
    }

    #[test]
    fn windows_core_errors_convert_by_code() {
        let from_core: Error = windows_result::Error::from_hresult(MAPI_E_NETWORK_ERROR).into();
        assert_eq!(from_core, Error::from_hresult(MAPI_E_NETWORK_ERROR));
        let back: windows_result::Error = Error::from_hresult(MAPI_E_NETWORK_ERROR).into();
        assert_eq!(back.code(), MAPI_E_NETWORK_ERROR);
    }

    #[test]
    fn an_error_with_a_message_keeps_its_code_in_windows_core() {
        if running_under_wine() {
            // windows-core hands the message to combase's RoOriginateErrorW,
            // which Wine 8 lacks: the call would end the process.
            println!("SKIP under Wine: combase.dll.RoOriginateErrorW is not implemented");
            return;
        }
        let back: windows_result::Error = Error::new(MAPI_E_NETWORK_ERROR, "text").into();
        assert_eq!(back.code(), MAPI_E_NETWORK_ERROR);
    }

    /// Wine's ntdll exports `wine_get_version`; Windows' does not.
    #[cfg(windows)]
    fn running_under_wine() -> bool {
        use windows_sys::Win32::System::LibraryLoader::{GetModuleHandleA, GetProcAddress};
        // SAFETY: Win32: both names are NUL-terminated; ntdll is loaded in every process.
        unsafe {
            let ntdll = GetModuleHandleA(c"ntdll.dll".as_ptr().cast());
            !ntdll.is_null() && GetProcAddress(ntdll, c"wine_get_version".as_ptr().cast()).is_some()
        }
    }

    #[cfg(not(windows))]
    fn running_under_wine() -> bool {
        false
    }

    #[test]
    fn a_success_code_reaches_the_host_as_e_fail() {
        assert_eq!(Error::from(S_OK).failure_code(), E_FAIL);
        assert_eq!(Error::from(MAPI_E_NETWORK_ERROR).failure_code(), MAPI_E_NETWORK_ERROR);
    }

    #[test]
    fn an_error_converts_to_a_failure_code_always() {
        for code in [S_OK, crate::hresult::S_FALSE, HRESULT(0x7FFF_FFFF)] {
            assert_eq!(HRESULT::from(Error::from(code)), E_FAIL, "{code:?}");
            assert_eq!(HRESULT::from(Error::new(code, "text")), E_FAIL, "{code:?}");
        }
        assert_eq!(HRESULT::from(Error::from(MAPI_E_NETWORK_ERROR)), MAPI_E_NETWORK_ERROR);
    }

    /// The conversion `?` takes in a windows-rs `#[implement]` method: the
    /// same failure code (without a message, which needs combase on Windows
    /// and Wine lacks its `RoOriginateErrorW`).
    #[test]
    fn an_error_becomes_a_failing_windows_core_error_always() {
        for code in [S_OK, crate::hresult::S_FALSE, HRESULT(0x7FFF_FFFF)] {
            assert_eq!(windows_result::Error::from(Error::from(code)).code(), E_FAIL, "{code:?}");
        }
        assert_eq!(windows_result::Error::from(Error::from(MAPI_E_NETWORK_ERROR)).code(), MAPI_E_NETWORK_ERROR);
    }
}
