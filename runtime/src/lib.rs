//! The implementation crate of [`mapisync`](https://docs.rs/mapisync): the
//! ABI types, the COM object, the sync protocol, the host simulator and
//! the in-proc server. Use it through `mapisync`, which re-exports all of
//! it beside the `#[mapisync::provider]` attribute; this crate has no
//! stability promise apart from `mapisync`'s, and its items are documented
//! there.
#![cfg_attr(any(docsrs, mapisync_docsrs), feature(doc_cfg))]
#![deny(missing_docs)]
#![deny(unsafe_op_in_unsafe_fn)]

// Lets the crate's own tests use `#[mapisync::provider]`, whose expansion
// names `::mapisync`: in them, `mapisync` is this crate, and the attribute
// its dev-dependency (the doctests see the facade instead).
extern crate self as mapisync;
#[cfg(test)]
use mapisync_macros::provider;

// Before every module: of the two hidden paths to the items the expansion
// names, rustc's errors print the one it meets first, and it should be
// `mapisync::__private::...`, not `mapisync::protocol::...`.
/// What `#[mapisync::provider]` expands to refers to; not a public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::abi::IMAPISync_Vtbl;
    pub use crate::protocol::{Provider, ProviderOf, ProviderProbe, into_interface, vtable};
}

// The engine: the windows-core-free half (../engine), named by its modules
// as if they were this crate's (`crate::state`, `crate::workers`, ...), as
// the engine's own modules name each other. In the loom models, its source
// is compiled into this crate instead, so that its atomics and locks are
// loom's too (the engine's `atomic` swaps them in under `cfg(all(loom,
// test))`, which holds only in a crate's own tests).
#[cfg(not(all(loom, test)))]
use mapisync_engine as engine;
#[cfg(all(loom, test))]
#[path = "../../engine/src/lib.rs"]
#[allow(dead_code, unused_imports, unreachable_pub)]
mod engine;
#[cfg(windows)]
use engine::win32;
use engine::{atomic, error, flags, gate, hresult, state, unwind, workers};
// In the models the engine's modules name the engine's root as `crate`, as
// in the engine, and so find its HANDLE here.
#[cfg(all(loom, test))]
use engine::HANDLE;

pub mod abi;
pub mod aggregate;
#[cfg(any(test, feature = "host"))]
#[cfg_attr(any(docsrs, mapisync_docsrs), doc(cfg(feature = "host")))]
pub mod conformance;
pub use engine::event;
pub mod forward;
#[cfg(any(test, feature = "host"))]
#[cfg_attr(any(docsrs, mapisync_docsrs), doc(cfg(feature = "host")))]
pub mod host;
mod job;
pub mod lifecycle;
#[cfg(all(test, loom))]
mod loom_models;
mod object;
// Public, hidden, only so that rustc names `IMAPISync::from`'s bound
// `mapisync::protocol::<impl IMAPISync>::from` in a user's error (E0277 on a
// type without the attribute): a private module would be printed through
// this crate's own name. Its public items are the root's and `__private`'s.
#[doc(hidden)]
pub mod protocol;
pub mod server;
mod spawn;

pub use abi::{IMAPISync, IMAPISyncProgressCallback, MAPISIB};
pub use error::{Error, Result};
pub use flags::SyncFlags;
pub use forward::ForwardSync;
pub use hresult::*;
pub use job::SyncJob;
pub use lifecycle::CancelToken;
pub use protocol::{MapiSync, provider_of};
pub use windows_core::{GUID, HRESULT, IUnknown, Interface};

// `mapisync::windows_core` is the facade's re-export: one here would be
// shown a second time, as a module, on the facade's pages.
