//! The Win32 registry functions and constants registration calls, declared
//! here from their documented C prototypes (winreg.h, advapi32.dll).
//!
//! windows-sys has them only with its `Win32_System_Registry` and
//! `Win32_Security` features, which make windows-sys about three times
//! slower to compile (2.9 s against 0.9 s of CPU in a debug build), and
//! every provider's build would pay for it; the dozen items registration
//! needs are declared here instead. The types are windows-sys's (`HKEY` a
//! `*mut c_void`, the flags `u32`, the status a `WIN32_ERROR`), so values
//! pass between the two unchanged, and the crate's tests check each
//! declaration against windows-sys's (`tests::declarations_match_windows_sys`).

use core::ffi::c_void;

use crate::win32::WIN32_ERROR;

/// An open registry key (winreg.h `HKEY`).
#[allow(clippy::upper_case_acronyms)]
pub(super) type HKEY = *mut c_void;
/// A value's type (winnt.h `REG_SZ`, ...).
#[allow(non_camel_case_types)]
pub(super) type REG_VALUE_TYPE = u32;

// The predefined keys are LONGs sign-extended to a pointer:
// `((HKEY)(ULONG_PTR)((LONG)0x80000001))`.
/// `HKEY_CURRENT_USER`.
pub(super) const HKEY_CURRENT_USER: HKEY = 0x8000_0001_u32 as i32 as isize as HKEY;
/// `HKEY_LOCAL_MACHINE`.
pub(super) const HKEY_LOCAL_MACHINE: HKEY = 0x8000_0002_u32 as i32 as isize as HKEY;
/// `KEY_READ`: STANDARD_RIGHTS_READ | KEY_QUERY_VALUE | KEY_ENUMERATE_SUB_KEYS | KEY_NOTIFY.
pub(super) const KEY_READ: u32 = 0x0002_0019;
/// `KEY_WRITE`: STANDARD_RIGHTS_WRITE | KEY_SET_VALUE | KEY_CREATE_SUB_KEY.
pub(super) const KEY_WRITE: u32 = 0x0002_0006;
/// `REG_OPTION_NON_VOLATILE`.
pub(super) const REG_OPTION_NON_VOLATILE: u32 = 0;
/// `REG_CREATED_NEW_KEY`, the disposition of a key RegCreateKeyExW created.
pub(super) const REG_CREATED_NEW_KEY: u32 = 1;
/// `REG_SZ`, a NUL-terminated string.
pub(super) const REG_SZ: REG_VALUE_TYPE = 1;

windows_link::link!("advapi32.dll" "system" fn RegCloseKey(key: HKEY) -> WIN32_ERROR);
// `security` is a `const SECURITY_ATTRIBUTES*`; registration passes NULL.
windows_link::link!("advapi32.dll" "system" fn RegCreateKeyExW(
    key: HKEY,
    sub_key: *const u16,
    reserved: u32,
    class: *const u16,
    options: u32,
    desired: u32,
    security: *const c_void,
    result: *mut HKEY,
    disposition: *mut u32
) -> WIN32_ERROR);
windows_link::link!("advapi32.dll" "system" fn RegDeleteTreeW(key: HKEY, sub_key: *const u16) -> WIN32_ERROR);
windows_link::link!("advapi32.dll" "system" fn RegDeleteValueW(key: HKEY, value_name: *const u16) -> WIN32_ERROR);
windows_link::link!("advapi32.dll" "system" fn RegQueryValueExW(
    key: HKEY,
    value_name: *const u16,
    reserved: *const u32,
    kind: *mut REG_VALUE_TYPE,
    data: *mut u8,
    data_size: *mut u32
) -> WIN32_ERROR);
windows_link::link!("advapi32.dll" "system" fn RegSetValueExW(
    key: HKEY,
    value_name: *const u16,
    reserved: u32,
    kind: REG_VALUE_TYPE,
    data: *const u8,
    data_size: u32
) -> WIN32_ERROR);

#[cfg(test)]
mod tests {
    use super::*;
    use windows_sys::Win32::System::Registry as theirs;

    /// Each function has windows-sys's exact type (RegCreateKeyExW but for
    /// the security attributes' pointee), each constant its value.
    #[test]
    fn declarations_match_windows_sys() {
        type Close = unsafe extern "system" fn(HKEY) -> WIN32_ERROR;
        type Delete = unsafe extern "system" fn(HKEY, *const u16) -> WIN32_ERROR;
        type Query =
            unsafe extern "system" fn(HKEY, *const u16, *const u32, *mut u32, *mut u8, *mut u32) -> WIN32_ERROR;
        type Set = unsafe extern "system" fn(HKEY, *const u16, u32, u32, *const u8, u32) -> WIN32_ERROR;
        let _: [Close; 2] = [RegCloseKey, theirs::RegCloseKey];
        let _: [Delete; 4] = [RegDeleteTreeW, theirs::RegDeleteTreeW, RegDeleteValueW, theirs::RegDeleteValueW];
        let _: [Query; 2] = [RegQueryValueExW, theirs::RegQueryValueExW];
        let _: [Set; 2] = [RegSetValueExW, theirs::RegSetValueExW];
        type Create<S> = unsafe extern "system" fn(
            HKEY,
            *const u16,
            u32,
            *const u16,
            u32,
            u32,
            *const S,
            *mut HKEY,
            *mut u32,
        ) -> WIN32_ERROR;
        let _: Create<c_void> = RegCreateKeyExW;
        let _: Create<windows_sys::Win32::Security::SECURITY_ATTRIBUTES> = theirs::RegCreateKeyExW;

        assert_eq!(HKEY_CURRENT_USER, theirs::HKEY_CURRENT_USER);
        assert_eq!(HKEY_LOCAL_MACHINE, theirs::HKEY_LOCAL_MACHINE);
        assert_eq!(KEY_READ, theirs::KEY_READ);
        assert_eq!(KEY_WRITE, theirs::KEY_WRITE);
        assert_eq!(REG_OPTION_NON_VOLATILE, theirs::REG_OPTION_NON_VOLATILE);
        assert_eq!(REG_CREATED_NEW_KEY, theirs::REG_CREATED_NEW_KEY);
        assert_eq!(REG_SZ, theirs::REG_SZ);
    }
}
