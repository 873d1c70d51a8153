//! An open Windows registry key: create (saying whether it was new), read,
//! write and delete a value. The raw Win32 calls registration makes.

use windows_core::HRESULT;

use super::registry_api::{
    HKEY, KEY_READ, KEY_WRITE, REG_CREATED_NEW_KEY, REG_OPTION_NON_VOLATILE, REG_VALUE_TYPE, RegCloseKey,
    RegCreateKeyExW, RegDeleteValueW, RegQueryValueExW, RegSetValueExW,
};
use crate::hresult::E_INVALIDARG;
use crate::win32::{ERROR_FILE_NOT_FOUND, ERROR_MORE_DATA, ERROR_SUCCESS, WIN32_ERROR};

/// `Ok` for ERROR_SUCCESS, else the status as an HRESULT.
pub(super) fn check(status: WIN32_ERROR) -> Result<(), HRESULT> {
    if status == ERROR_SUCCESS { Ok(()) } else { Err(HRESULT::from_win32(status)) }
}

/// `text` as a NUL-terminated UTF-16 string.
pub(super) fn wide(text: &str) -> Vec<u16> {
    text.encode_utf16().chain(Some(0)).collect()
}

/// A value as the registry stores it: its type (`REG_SZ`, ...) and bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Value {
    pub(super) kind: REG_VALUE_TYPE,
    pub(super) bytes: Vec<u8>,
}

/// An open registry key, closed on drop.
pub(super) struct Key(HKEY);

impl Key {
    /// Opens `path` under `parent` for reading and writing, creating it
    /// (non-volatile) if it is not there; `true` when it was created.
    pub(super) fn create(parent: HKEY, path: &str) -> Result<(Key, bool), HRESULT> {
        let path = wide(path);
        let mut key: HKEY = core::ptr::null_mut();
        let mut disposition = 0;
        // SAFETY: Win32: `path` is NUL-terminated; class and security
        // attributes may be NULL; `key` and `disposition` are writable.
        check(unsafe {
            RegCreateKeyExW(
                parent,
                path.as_ptr(),
                0,
                core::ptr::null(),
                REG_OPTION_NON_VOLATILE,
                KEY_READ | KEY_WRITE,
                core::ptr::null(),
                &mut key,
                &mut disposition,
            )
        })?;
        Ok((Key(key), disposition == REG_CREATED_NEW_KEY))
    }

    /// A value, `None` when there is none; `None` as the name is the key's
    /// default value.
    pub(super) fn get(&self, name: Option<&str>) -> Result<Option<Value>, HRESULT> {
        let name = name.map(wide);
        let name_ptr = name.as_ref().map_or(core::ptr::null(), |name| name.as_ptr());
        let (mut kind, mut size) = (0, 0u32);
        loop {
            let mut bytes = vec![0u8; size as usize];
            let data = if bytes.is_empty() { core::ptr::null_mut() } else { bytes.as_mut_ptr() };
            // SAFETY: Win32: `self.0` is open for reading; `name_ptr` is NULL or
            // NUL-terminated; `data` is NULL or writable for `size` bytes.
            let status = unsafe { RegQueryValueExW(self.0, name_ptr, core::ptr::null(), &mut kind, data, &mut size) };
            match status {
                ERROR_FILE_NOT_FOUND => return Ok(None),
                // With NULL data, success only reports the size; with a buffer
                // of that size, the value (which may have grown meanwhile: then
                // ERROR_MORE_DATA, and another round).
                ERROR_SUCCESS if !data.is_null() || size == 0 => {
                    bytes.truncate(size as usize);
                    return Ok(Some(Value { kind, bytes }));
                }
                ERROR_SUCCESS | ERROR_MORE_DATA => {}
                status => return Err(HRESULT::from_win32(status)),
            }
        }
    }

    /// Sets a value; `None` as the name is the key's default value.
    pub(super) fn set(&self, name: Option<&str>, value: &Value) -> Result<(), HRESULT> {
        let name = name.map(wide);
        let name_ptr = name.as_ref().map_or(core::ptr::null(), |name| name.as_ptr());
        let size = u32::try_from(value.bytes.len()).map_err(|_| E_INVALIDARG)?;
        // SAFETY: Win32: `self.0` is open for writing; `name_ptr` is NULL
        // or NUL-terminated; `value.bytes` is readable for `size` bytes.
        check(unsafe { RegSetValueExW(self.0, name_ptr, 0, value.kind, value.bytes.as_ptr(), size) })
    }

    /// Deletes a value; one that is not there is not an error.
    pub(super) fn delete(&self, name: Option<&str>) -> Result<(), HRESULT> {
        let name = name.map(wide);
        let name_ptr = name.as_ref().map_or(core::ptr::null(), |name| name.as_ptr());
        // SAFETY: Win32: `self.0` is open for writing; `name_ptr` is NULL or NUL-terminated.
        match unsafe { RegDeleteValueW(self.0, name_ptr) } {
            ERROR_FILE_NOT_FOUND => Ok(()),
            status => check(status),
        }
    }
}

impl Drop for Key {
    fn drop(&mut self) {
        // SAFETY: Win32: our own open key, closed once.
        unsafe { RegCloseKey(self.0) };
    }
}
