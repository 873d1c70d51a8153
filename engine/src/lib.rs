//! The windows-core-free half of the implementation of
//! [`mapisync`](https://docs.rs/mapisync): its error type, flags and HRESULT
//! constants, the sync's atomic states, the done event and the module's
//! worker threads (their registry, cancel tokens and module pin). Use it
//! through `mapisync`, which re-exports what is public here; this crate has
//! no stability promise apart from `mapisync`'s, and its items are
//! documented there.
//!
//! It is a crate of its own so that it compiles beside syn, the first
//! long step of a provider's build, rather than after windows-core
//! (BENCHMARKS.md, "The engine split"); the COM object and the protocol,
//! which need windows-core, are in mapisync-runtime. Its hidden modules are
//! what the runtime builds on: `pub` only because the runtime is another
//! crate, and not a public API.
#![cfg_attr(any(docsrs, mapisync_docsrs), feature(doc_cfg))]
#![deny(missing_docs)]
#![deny(unsafe_op_in_unsafe_fn)]

#[doc(hidden)]
pub mod atomic;
#[doc(hidden)]
pub mod error;
pub mod event;
#[doc(hidden)]
pub mod flags;
#[doc(hidden)]
pub mod gate;
#[doc(hidden)]
pub mod hresult;
#[doc(hidden)]
pub mod state;
#[doc(hidden)]
pub mod unwind;
#[doc(hidden)]
#[cfg(windows)]
pub mod win32;
#[doc(hidden)]
pub mod workers;

pub use error::{Error, Result};
pub use flags::SyncFlags;
pub use hresult::*;
pub use windows_result::HRESULT;

/// A Win32 `HANDLE`: an opaque pointer-sized value.
///
/// On Windows the done event is a real Win32 event; elsewhere it is a
/// portable event that [`event`] waits on and closes.
pub type HANDLE = *mut core::ffi::c_void;
pub use workers::CancelToken;
