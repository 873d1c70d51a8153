//! The Windows registry writes of `DllRegisterServer`/`DllUnregisterServer`:
//! `Software\Classes\CLSID\{clsid}` and its `InprocServer32` key, under
//! HKLM or HKCU.

use super::class::ServerClass;
use super::clsid::registry_name;
use crate::hresult::{E_INVALIDARG, S_OK};
use windows_core::HRESULT;
use windows_sys::Win32::Foundation::{ERROR_FILE_NOT_FOUND, ERROR_SUCCESS, GetLastError, HMODULE, WIN32_ERROR};
use windows_sys::Win32::System::LibraryLoader::{
    GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS, GET_MODULE_HANDLE_EX_FLAG_UNCHANGED_REFCOUNT, GetModuleFileNameW,
    GetModuleHandleExW,
};
use windows_sys::Win32::System::Registry::{
    HKEY, HKEY_CURRENT_USER, HKEY_LOCAL_MACHINE, KEY_WRITE, REG_OPTION_NON_VOLATILE, REG_SZ, RegCloseKey,
    RegCreateKeyExW, RegDeleteTreeW, RegSetValueExW,
};

/// Where registration writes: `HKLM` or `HKCU`, under `Software\Classes\CLSID`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// `HKEY_LOCAL_MACHINE`: every user (`regsvr32`; needs an administrator).
    Machine,
    /// `HKEY_CURRENT_USER`: this user only (`regsvr32 /n /i:user`).
    User,
}

fn check(status: WIN32_ERROR) -> Result<(), HRESULT> {
    if status == ERROR_SUCCESS { Ok(()) } else { Err(HRESULT::from_win32(status)) }
}

fn wide(text: &str) -> Vec<u16> {
    text.encode_utf16().chain(Some(0)).collect()
}

fn root(scope: Scope) -> HKEY {
    match scope {
        Scope::Machine => HKEY_LOCAL_MACHINE,
        Scope::User => HKEY_CURRENT_USER,
    }
}

/// `Software\Classes\CLSID\{...}`, the key registration owns.
fn class_key(class: &ServerClass) -> String {
    format!("Software\\Classes\\CLSID\\{}", registry_name(&class.clsid()))
}

/// The full path of the module (DLL or EXE) this code was linked into,
/// NUL-terminated.
fn module_path() -> Result<Vec<u16>, HRESULT> {
    let mut module: HMODULE = core::ptr::null_mut();
    let address = module_path as fn() -> Result<Vec<u16>, HRESULT> as *const u16;
    // SAFETY: Win32: FROM_ADDRESS takes any address inside a loaded
    // module (this function's); UNCHANGED_REFCOUNT takes no reference
    // to release; `module` is writable.
    let found = unsafe {
        GetModuleHandleExW(
            GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS | GET_MODULE_HANDLE_EX_FLAG_UNCHANGED_REFCOUNT,
            address,
            &mut module,
        )
    };
    if found == 0 {
        // SAFETY: Win32: GetLastError has no preconditions.
        return Err(HRESULT::from_win32(unsafe { GetLastError() }));
    }
    let mut buffer = vec![0u16; 260];
    loop {
        let size = buffer.len() as u32;
        // SAFETY: Win32: `buffer` is writable for `size` UTF-16 units; the module stays loaded (it holds this code).
        let written = unsafe { GetModuleFileNameW(module, buffer.as_mut_ptr(), size) };
        if written == 0 {
            // SAFETY: Win32: GetLastError has no preconditions.
            return Err(HRESULT::from_win32(unsafe { GetLastError() }));
        }
        if written < size {
            buffer.truncate(written as usize);
            buffer.push(0);
            return Ok(buffer);
        }
        // Truncated: try again with room for the longest path Windows allows.
        if buffer.len() >= 32_768 {
            return Err(HRESULT::from_win32(windows_sys::Win32::Foundation::ERROR_INSUFFICIENT_BUFFER));
        }
        buffer.resize(buffer.len() * 4, 0);
    }
}

/// An open registry key, closed on drop.
struct Key(HKEY);

impl Key {
    fn create(parent: HKEY, path: &str) -> Result<Key, HRESULT> {
        let path = wide(path);
        let mut key: HKEY = core::ptr::null_mut();
        // SAFETY: Win32: `path` is NUL-terminated; class, security
        // attributes and disposition may be NULL; `key` is writable.
        check(unsafe {
            RegCreateKeyExW(
                parent,
                path.as_ptr(),
                0,
                core::ptr::null(),
                REG_OPTION_NON_VOLATILE,
                KEY_WRITE,
                core::ptr::null(),
                &mut key,
                core::ptr::null_mut(),
            )
        })?;
        Ok(Key(key))
    }

    /// Sets a REG_SZ value; `None` is the key's default value.
    fn set(&self, name: Option<&str>, value: &[u16]) -> Result<(), HRESULT> {
        let name = name.map(wide);
        let name_ptr = name.as_ref().map_or(core::ptr::null(), |name| name.as_ptr());
        let bytes = u32::try_from(value.len() * 2).map_err(|_| E_INVALIDARG)?;
        // SAFETY: Win32: `self.0` is open for writing; `name_ptr` is NULL
        // or NUL-terminated; `value` is NUL-terminated and `bytes` long.
        check(unsafe { RegSetValueExW(self.0, name_ptr, 0, REG_SZ, value.as_ptr().cast(), bytes) })
    }
}

impl Drop for Key {
    fn drop(&mut self) {
        // SAFETY: Win32: our own open key, closed once.
        unsafe { RegCloseKey(self.0) };
    }
}

fn register_class(class: &ServerClass, scope: Scope, path: &[u16]) -> Result<(), HRESULT> {
    let key = Key::create(root(scope), &class_key(class))?;
    key.set(None, &wide(class.name()))?;
    let server = Key::create(key.0, "InprocServer32")?;
    server.set(None, path)?;
    server.set(Some("ThreadingModel"), &wide("Both"))
}

/// Registers every class under `scope`: `Software\Classes\CLSID\{clsid}`
/// (default value: the class name) and its `InprocServer32` (default
/// value: this module's path; `ThreadingModel` "Both"). On failure
/// whatever was written is removed again.
pub fn register(classes: &[ServerClass], scope: Scope) -> HRESULT {
    let path = match module_path() {
        Ok(path) => path,
        Err(hr) => return hr,
    };
    for class in classes {
        if let Err(hr) = register_class(class, scope, &path) {
            let _ = unregister(classes, scope);
            return hr;
        }
    }
    S_OK
}

/// Removes every class's key under `scope`; a key that is not there is
/// not an error.
pub fn unregister(classes: &[ServerClass], scope: Scope) -> HRESULT {
    let mut result = S_OK;
    for class in classes {
        let path = wide(&class_key(class));
        // SAFETY: Win32: a predefined root key and a NUL-terminated path.
        let status = unsafe { RegDeleteTreeW(root(scope), path.as_ptr()) };
        if status != ERROR_SUCCESS && status != ERROR_FILE_NOT_FOUND {
            result = HRESULT::from_win32(status);
        }
    }
    result
}
