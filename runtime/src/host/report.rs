//! What the host simulator reports: each callback call ([`Event`]), the
//! reference counts of its objects ([`RefCounts`]) and one run's
//! [`Report`]; and the choices that shape a run ([`Method`], [`CallbackMode`]).

use std::time::Duration;

use windows_core::HRESULT;

#[cfg(doc)]
use super::Host;

/// A callback method, for choosing where the host fails.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// `IMAPISyncProgressCallback::Progress`.
    Progress,
    /// `IMAPISyncProgressCallback::Error`.
    Error,
    /// `IMAPISyncProgressCallback::Done`.
    Done,
}

/// One call the provider made on the host's callback, in order.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// `Progress(text, index, max)`; `text` is `None` for a NULL string.
    Progress {
        /// The text, if any.
        text: Option<String>,
        /// Steps done.
        index: u32,
        /// Steps in all.
        max: u32,
    },
    /// `Error(hr, text)`.
    Error {
        /// The HRESULT reported.
        hr: HRESULT,
        /// The text, if any.
        text: Option<String>,
    },
    /// `Done(event, hr)`.
    Done {
        /// The final HRESULT.
        hr: HRESULT,
        /// Whether the handle passed back is the one written to `*phSyncDoneEvent`.
        same_event: bool,
    },
}

/// What the host passes as `punkCallBack`.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallbackMode {
    /// A recording IMAPISyncProgressCallback (the default).
    Recording,
    /// NULL.
    Null,
    /// An object that answers only IUnknown, refusing IMAPISyncProgressCallback.
    Refusing,
}

/// Reference counts of one of the host's objects, before the call and after
/// the sync ended and the worker let go.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RefCounts {
    /// Before `SynchronizeInBackground` (the host's own reference: 1).
    pub before: u32,
    /// After `Done` and the wait for the worker's releases.
    pub after: u32,
}

/// What one run saw.
#[non_exhaustive]
#[derive(Clone, Debug)]
pub struct Report {
    /// What `SynchronizeInBackground` returned.
    pub started: HRESULT,
    /// The handle written to `*phSyncDoneEvent`, as a number (0 for NULL).
    pub event_handle: usize,
    /// Whether the done event was signalled within the timeout.
    pub event_signalled: bool,
    /// Every callback call, in order.
    pub events: Vec<Event>,
    /// The HRESULT of the first `Done` call, if any.
    pub done: Option<HRESULT>,
    /// How many times `Done` was called (the contract: once per S_OK).
    pub done_calls: usize,
    /// From the call to its return.
    pub call_duration: Duration,
    /// From the call to `Done` (or to the end of waiting).
    pub duration: Duration,
    /// The host's callback object (absent with [`CallbackMode::Null`]).
    pub callback_refs: Option<RefCounts>,
    /// The host's session object (absent with [`Host::without_session`]).
    pub session_refs: Option<RefCounts>,
}

impl Report {
    /// The `Progress` calls as `(text, index, max)`.
    pub fn progress(&self) -> impl Iterator<Item = (Option<&str>, u32, u32)> {
        self.events.iter().filter_map(|event| match event {
            Event::Progress { text, index, max } => Some((text.as_deref(), *index, *max)),
            _ => None,
        })
    }

    /// The `Error` calls as `(hr, text)`.
    pub fn errors(&self) -> impl Iterator<Item = (HRESULT, Option<&str>)> {
        self.events.iter().filter_map(|event| match event {
            Event::Error { hr, text } => Some((*hr, text.as_deref())),
            _ => None,
        })
    }

    /// Whether every host object is back to the count it started with.
    pub fn balanced(&self) -> bool {
        [self.callback_refs, self.session_refs].iter().flatten().all(|refs| refs.before == refs.after)
    }
}
