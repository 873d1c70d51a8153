//! An example provider built as an in-proc COM server: the DLL a real host
//! loads (`mapisync_example_provider.dll` on Windows,
//! `libmapisync_example_provider.so` on Linux).
//!
//! Its behaviour, which the C++ hosts in `tests/cpp` rely on:
//! - CLSID [`CLSID`], `{39A7C4C5-53CE-4119-89CB-BD5C40BD5C7C}`; the object
//!   answers IUnknown and IMAPISync.
//! - The class is aggregatable: `CreateInstance(outer, IID_IUnknown)` makes
//!   it the inner object of `outer` and returns its non-delegating IUnknown
//!   (whose IMAPISync delegates QueryInterface, AddRef and Release to
//!   `outer`); an outer with any other IID is CLASS_E_NOAGGREGATION.
//! - Each sync reports `Progress` for steps 1, 2 and 3 of 3, each with text,
//!   then ends with `Done(event, S_OK)`.
//! - If a callback call fails (the user cancelled, say), it stops there and
//!   ends with `Done(event, that HRESULT)`.
//!
//! The DLL exports `DllGetClassObject` and `DllCanUnloadNow`, on Windows
//! also `DllRegisterServer`, `DllUnregisterServer` and `DllInstall`, and
//! elsewhere the done-event functions `mapisync_wait_event` and
//! `mapisync_close_event`.

use mapisync::{MapiSync, SyncJob};

/// The class identifier hosts create the provider by: the constant
/// `export_server!` (at the end of this file) gives the class.
pub const CLSID: mapisync::GUID = <ExampleStore as mapisync::server::ExportedClass>::CLSID;

/// The texts of the three steps, in order.
pub const STEPS: [&str; 3] = ["Connecting to the server", "Downloading new messages", "Uploading local changes"];

/// A store whose sync walks through three steps.
#[derive(Debug, Default)]
pub struct ExampleStore;

impl ExampleStore {
    /// A new store.
    pub fn new() -> Self {
        ExampleStore
    }
}

#[mapisync::provider]
impl MapiSync for ExampleStore {
    fn synchronize_in_background(&self, job: &mut SyncJob) -> mapisync::Result<()> {
        let max = STEPS.len() as u32;
        for (index, text) in (1..).zip(STEPS) {
            // `?`: a failed callback call ends the sync with its HRESULT.
            job.progress(text, index, max)?;
        }
        Ok(())
    }
}

mapisync::export_server!(ExampleStore => "{39A7C4C5-53CE-4119-89CB-BD5C40BD5C7C}", ExampleStore::new, aggregatable);
