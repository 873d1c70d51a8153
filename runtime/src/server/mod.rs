//! The in-proc COM server: the entry points a provider DLL exports, so a
//! host can make its objects with `DllGetClassObject` (or, on Windows,
//! `CoCreateInstance` after registration).
//!
//! One line in the provider crate exports them all:
//!
//! ```standalone_crate
//! pub struct MyStore;
//!
//! impl MyStore {
//!     pub fn new() -> Self {
//!         MyStore
//!     }
//! }
//!
//! #[mapisync::provider]
//! impl mapisync::MapiSync for MyStore {
//!     fn synchronize_in_background(&self, job: &mut mapisync::SyncJob) -> mapisync::Result<()> {
//!         job.progress("Checking the inbox", 1, 1)
//!     }
//! }
//!
//! mapisync::export_server!(MyStore => "{39A7C4C5-53CE-4119-89CB-BD5C40BD5C7C}", MyStore::new);
//! ```
//!
//! What the exported functions do:
//! - `DllGetClassObject(rclsid, riid, ppv)`: a new class factory for a CLSID
//!   the server exports, answering IUnknown and IClassFactory. An unknown
//!   CLSID is CLASS_E_CLASSNOTAVAILABLE; a NULL pointer argument is
//!   E_POINTER; `*ppv` is NULL on every failure.
//! - `IClassFactory::CreateInstance(outer, riid, ppv)`: makes one object and
//!   queries it for `riid`, so any interface the object answers can be asked
//!   for; the creation reference is released, so a failed query frees the
//!   object again. A non-NULL `outer` with any `riid` but IID_IUnknown is
//!   CLASS_E_NOAGGREGATION, as COM requires; with IID_IUnknown it reaches
//!   the [`ServerClass`] constructor, which refuses it (CLASS_E_NOAGGREGATION)
//!   unless the class is aggregatable (see [`crate::aggregate`]). A
//!   panicking constructor is E_UNEXPECTED.
//! - `IClassFactory::LockServer(lock)`: counts module-wide locks; an unlock
//!   without a lock is E_UNEXPECTED.
//! - `DllCanUnloadNow()`: S_FALSE while any worker thread of this module has
//!   not exited, or any object (class factories included) or lock lives, S_OK after.
//! - On Windows, `DllRegisterServer` / `DllUnregisterServer` write or remove
//!   `HKLM\Software\Classes\CLSID\{clsid}` with an `InprocServer32` key
//!   naming the DLL's own path and `ThreadingModel` "Both", and
//!   `DllInstall(install, cmdline)` does the same under HKCU when `cmdline`
//!   is "user" (`regsvr32 /n /i:user`), under HKLM when it is empty or
//!   white space (see `install`). A registration that fails half-way
//!   leaves the registry as it found it.
//!
//! One file per job: [`ServerClass`] and its constructors (`class.rs`), the
//! class factory and `DllGetClassObject` (`factory.rs`), CLSID text
//! (`clsid.rs`), `LockServer` and `DllCanUnloadNow` (`unload.rs`), the
//! `export_server!` macros (`export.rs`), and on Windows the registry
//! writes and their undo (`registry.rs`), the open registry key (`key.rs`),
//! the Win32 registry API it calls (`registry_api.rs`) and `DllInstall`'s
//! command line (`install.rs`).

mod class;
mod clsid;
mod export;
mod factory;
#[cfg(windows)]
mod install;
#[cfg(windows)]
mod key;
#[cfg(windows)]
mod registry;
#[cfg(windows)]
mod registry_api;
#[cfg(test)]
mod tests;
mod unload;

pub use crate::abi::IClassFactory_Vtbl;
pub use class::{Constructor, Instance, OuterUnknown, ServerClass, new_provider};
pub use clsid::{clsid, registry_name};
pub use export::ExportedClass;
#[doc(hidden)]
#[allow(deprecated)]
pub use export::PANIC_ABORT_ENDS_THE_HOST_PROCESS;
pub use factory::get_class_object;
#[cfg(windows)]
pub use install::install;
#[cfg(windows)]
pub use registry::{Scope, register, unregister};
pub use unload::can_unload_now;
pub use windows_core::GUID;
