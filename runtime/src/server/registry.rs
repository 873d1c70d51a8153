//! The Windows registry writes of `DllRegisterServer`/`DllUnregisterServer`:
//! `Software\Classes\CLSID\{clsid}` and its `InprocServer32` key, under
//! HKLM or HKCU. A registration that fails half-way is undone exactly:
//! keys it created are deleted, values it changed in keys that were there
//! before get their old contents back.

use windows_core::HRESULT;

use super::class::ServerClass;
use super::clsid::registry_name;
use super::key::{Key, Value, wide};
use super::registry_api::{HKEY, HKEY_CURRENT_USER, HKEY_LOCAL_MACHINE, REG_SZ, RegDeleteTreeW};
use crate::hresult::S_OK;
use crate::win32::{
    ERROR_FILE_NOT_FOUND, ERROR_INSUFFICIENT_BUFFER, ERROR_SUCCESS, GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS,
    GET_MODULE_HANDLE_EX_FLAG_UNCHANGED_REFCOUNT, GetLastError, GetModuleFileNameW, GetModuleHandleExW, HMODULE,
};

/// Where registration writes: `HKLM` or `HKCU`, under `Software\Classes\CLSID`.
#[cfg_attr(any(docsrs, mapisync_docsrs), doc(cfg(windows)))]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// `HKEY_LOCAL_MACHINE`: every user (`regsvr32`; needs an administrator).
    Machine,
    /// `HKEY_CURRENT_USER`: this user only (`regsvr32 /n /i:user`).
    User,
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
            return Err(HRESULT::from_win32(ERROR_INSUFFICIENT_BUFFER));
        }
        buffer.resize(buffer.len() * 4, 0);
    }
}

/// One change `register` made, and how to take it back.
enum Change {
    /// A key it created (`path` under the root): deleted with its subkeys.
    Created { path: String },
    /// A value it set in a key that was there before: `old` is written back,
    /// or the value deleted when there was none.
    Set { path: String, name: Option<&'static str>, old: Option<Value> },
}

/// The changes of one `register` call, newest last.
struct Journal {
    root: HKEY,
    changes: Vec<Change>,
}

impl Journal {
    /// Opens or creates `path` under the root and notes a creation.
    fn key(&mut self, path: String) -> Result<Key, HRESULT> {
        let (key, created) = Key::create(self.root, &path)?;
        if created {
            self.changes.push(Change::Created { path });
        }
        Ok(key)
    }

    /// Sets a REG_SZ value of `key` (at `path`), noting the old value first
    /// unless `key` is inside a key this call created (deleting that undoes it).
    fn set(&mut self, key: &Key, path: &str, name: Option<&'static str>, text: &[u16]) -> Result<(), HRESULT> {
        let inside = |made: &str| path.strip_prefix(made).is_some_and(|rest| rest.is_empty() || rest.starts_with('\\'));
        let created = |change: &Change| matches!(change, Change::Created { path: made } if inside(made));
        if !self.changes.iter().any(created) {
            let old = key.get(name)?;
            self.changes.push(Change::Set { path: path.to_owned(), name, old });
        }
        let bytes = text.iter().flat_map(|unit| unit.to_le_bytes()).collect();
        key.set(name, &Value { kind: REG_SZ, bytes })
    }

    /// Takes every change back, newest first. Best effort: a step that fails
    /// does not stop the others.
    fn undo(self) {
        for change in self.changes.into_iter().rev() {
            match change {
                Change::Created { path } => {
                    let path = wide(&path);
                    // SAFETY: Win32: a predefined root key and a NUL-terminated path.
                    unsafe { RegDeleteTreeW(self.root, path.as_ptr()) };
                }
                Change::Set { path, name, old } => {
                    let Ok((key, _)) = Key::create(self.root, &path) else { continue };
                    let _ = match old {
                        Some(old) => key.set(name, &old),
                        None => key.delete(name),
                    };
                }
            }
        }
    }
}

fn register_class(class: &ServerClass, journal: &mut Journal, module: &[u16]) -> Result<(), HRESULT> {
    let path = class_key(class);
    let key = journal.key(path.clone())?;
    journal.set(&key, &path, None, &wide(class.name()))?;
    let server_path = format!("{path}\\InprocServer32");
    let server = journal.key(server_path.clone())?;
    journal.set(&server, &server_path, None, module)?;
    journal.set(&server, &server_path, Some("ThreadingModel"), &wide("Both"))
}

/// Registers every class under `scope`: `Software\Classes\CLSID\{clsid}`
/// (default value: the class name) and its `InprocServer32` (default
/// value: this module's path; `ThreadingModel` "Both"). On failure the
/// registry is left as this call found it: the keys it created are deleted
/// and the values it changed get their old contents back.
#[cfg_attr(any(docsrs, mapisync_docsrs), doc(cfg(windows)))]
pub fn register(classes: &[ServerClass], scope: Scope) -> HRESULT {
    let module = match module_path() {
        Ok(module) => module,
        Err(hr) => return hr,
    };
    let mut journal = Journal { root: root(scope), changes: Vec::new() };
    for class in classes {
        if let Err(hr) = register_class(class, &mut journal, &module) {
            journal.undo();
            return hr;
        }
    }
    S_OK
}

/// Removes every class's key under `scope`; a key that is not there is
/// not an error.
#[cfg_attr(any(docsrs, mapisync_docsrs), doc(cfg(windows)))]
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
