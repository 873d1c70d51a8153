//! The COM conformance checker: drives any object through its raw IUnknown
//! slots and checks it against COM's QueryInterface and reference-count rules.
//!
//! A provider author calls [`check_conformance`] (or a configured
//! [`Conformance`]) in a test; a host like Outlook relies on these rules
//! without checking them, so an object that breaks one misbehaves far from
//! the cause.

mod rule;
mod run;

use windows_core::{GUID, Interface};

pub use self::rule::{Rule, Violation};
use self::run::{Expected, Run};
use crate::abi::{IID_IMAPISync, IID_IUnknown};

/// Checks `object` with the default [`Conformance`]: it must answer
/// IUnknown, IMAPISync and its own interface `I`, and refuse a few IIDs no
/// object implements.
///
/// ```
/// struct Store;
///
/// #[mapisync::provider]
/// impl mapisync::MapiSync for Store {
///     fn synchronize_in_background(&self, _job: &mut mapisync::SyncJob) -> mapisync::Result<()> {
///         Ok(())
///     }
/// }
///
/// let sync: mapisync::IMAPISync = Store.into();
/// let report = mapisync::host::check_conformance(&sync).unwrap();
/// assert!(report.interfaces.contains(&mapisync::abi::IID_IMAPISync));
/// assert!(report.checks > 0);
/// ```
pub fn check_conformance<I: Interface>(object: &I) -> Result<ConformanceReport, Vec<Violation>> {
    Conformance::new().check(object)
}

/// What the checker asks an object: the interfaces it must answer and the
/// ones it must refuse.
///
/// The rules are checked over every interface the object must answer (the
/// set given here, plus IUnknown, IMAPISync and the interface of the value
/// passed to [`Conformance::check`]), so an object that also answers, say,
/// its store interface is checked on all of them together:
///
/// ```
/// use mapisync::host::Conformance;
/// # struct Store;
/// # #[mapisync::provider]
/// # impl mapisync::MapiSync for Store {
/// #     fn synchronize_in_background(&self, _: &mut mapisync::SyncJob) -> mapisync::Result<()> { Ok(()) }
/// # }
/// let sync: mapisync::IMAPISync = Store.into();
/// // A mapisync object answers nothing but IUnknown and IMAPISync.
/// let violations = Conformance::new()
///     .answers(mapisync::abi::IID_IClassFactory)
///     .check(&sync)
///     .unwrap_err();
/// assert!(violations.iter().all(|v| v.rule == mapisync::host::Rule::Answers));
/// ```
///
/// An object that promises E_POINTER for a NULL `ppv` (every mapisync
/// object does) says so with [`promises_e_pointer`](Self::promises_e_pointer);
/// no other object is called with a NULL `ppv`.
///
/// The object must be idle while it is checked: reference counts are read
/// through AddRef and Release, so a running sync (whose worker holds a
/// reference) or another thread using the object makes them unreliable.
#[derive(Clone, Debug)]
pub struct Conformance {
    answers: Vec<GUID>,
    refuses: Vec<GUID>,
    null_ppv: bool,
}

/// IIDs no object answers: IID_NULL, all ones, and IIDs one bit away from
/// IUnknown's and IMAPISync's (an object that compares only part of the
/// GUID answers those).
const NEVER_ANSWERED: [GUID; 4] = [
    GUID::zeroed(),
    GUID::from_u128(u128::MAX),
    GUID::from_u128(0x00000000_0000_0000_c000_000000000047),
    GUID::from_u128(0x5024a385_2d44_486a_81a8_8f0ecb6071dc),
];

impl Default for Conformance {
    fn default() -> Self {
        Self::new()
    }
}

impl Conformance {
    /// IUnknown and IMAPISync must answer; IID_NULL and three near misses of
    /// real IIDs must be refused.
    pub fn new() -> Self {
        Self { answers: vec![IID_IUnknown, IID_IMAPISync], refuses: NEVER_ANSWERED.to_vec(), null_ppv: false }
    }

    /// The object must also answer `iid` (and it is no longer expected to refuse it).
    pub fn answers(mut self, iid: GUID) -> Self {
        self.refuses.retain(|refused| *refused != iid);
        if !self.answers.contains(&iid) {
            self.answers.push(iid);
        }
        self
    }

    /// The object must also refuse `iid` (and it is no longer expected to answer it).
    pub fn refuses(mut self, iid: GUID) -> Self {
        self.answers.retain(|answered| *answered != iid);
        if !self.refuses.contains(&iid) {
            self.refuses.push(iid);
        }
        self
    }

    /// The object promises that QueryInterface with a NULL `ppv` returns
    /// E_POINTER and takes no reference, as mapisync's objects do: check
    /// that too ([`Rule::NullOutPointer`]). Off by default: COM's callers
    /// never pass NULL, so an object need not check, and one that does not
    /// would crash on the call.
    ///
    /// ```
    /// # struct Store;
    /// # #[mapisync::provider]
    /// # impl mapisync::MapiSync for Store {
    /// #     fn synchronize_in_background(&self, _: &mut mapisync::SyncJob) -> mapisync::Result<()> { Ok(()) }
    /// # }
    /// let sync: mapisync::IMAPISync = Store.into();
    /// mapisync::host::Conformance::new().promises_e_pointer().check(&sync).unwrap();
    /// ```
    pub fn promises_e_pointer(mut self) -> Self {
        self.null_ppv = true;
        self
    }

    /// Runs every check on `object`; `Err` lists every rule it broke.
    ///
    /// The object's reference count is the same afterwards as before, unless
    /// the object itself leaks (which is then reported as
    /// [`Rule::Balance`]).
    pub fn check<I: Interface>(&self, object: &I) -> Result<ConformanceReport, Vec<Violation>> {
        let mut answers = self.answers.clone();
        if !answers.contains(&I::IID) && !self.refuses.contains(&I::IID) {
            answers.push(I::IID);
        }
        let mut run = Run::default();
        let expect = Expected { answers: &answers, refuses: &self.refuses, null_ppv: self.null_ppv };
        // SAFETY: COM: `object` holds a reference for the whole check, so its
        // interface pointer is a live object whose vtable starts with
        // IUnknown's three slots.
        let interfaces = unsafe { run.check(object.as_raw(), I::IID, expect) };
        if run.violations.is_empty() {
            Ok(ConformanceReport {
                interfaces,
                refused: self.refuses.clone(),
                query_interface_calls: run.calls,
                checks: run.checks,
            })
        } else {
            Err(run.violations)
        }
    }
}

/// What a conforming object was checked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConformanceReport {
    /// The interfaces it answered, each checked against all the others.
    pub interfaces: Vec<GUID>,
    /// The IIDs it refused, from every one of its interfaces.
    pub refused: Vec<GUID>,
    /// How many QueryInterface calls the check made.
    pub query_interface_calls: usize,
    /// How many individual assertions held.
    pub checks: usize,
}

#[cfg(test)]
mod tests {
    //! Hand-made objects that each break one rule, so every check is seen to fail.

    use super::*;
    use crate::hresult::{E_NOINTERFACE, E_POINTER, S_OK};
    use core::ffi::c_void;
    use std::sync::atomic::{AtomicU32, Ordering};
    use windows_core::{HRESULT, IUnknown, IUnknown_Vtbl};

    /// What a hand-made object gets wrong.
    #[derive(Clone, Copy, Default)]
    struct Flaws {
        /// AddRef and Release always return 1.
        constant_counts: bool,
        /// A NULL ppv gives S_OK instead of E_POINTER.
        null_ppv_ok: bool,
        /// Failed QueryInterface leaves `*ppv` alone.
        keeps_ppv: bool,
        /// Answers every IID.
        answers_everything: bool,
        /// IUnknown from the IMAPISync pointer is a second interface of the object.
        second_identity: bool,
        /// QueryInterface for IMAPISync takes two references.
        leaks_on_query: bool,
        /// Does not answer IMAPISync.
        no_sync: bool,
    }

    /// An object with two interface pointers (its two vtable words), one count.
    #[repr(C)]
    struct Flawed {
        vtable: &'static IUnknown_Vtbl,
        second: &'static IUnknown_Vtbl,
        refs: AtomicU32,
        flaws: Flaws,
        /// QueryInterface calls with a NULL `ppv` (a real object that does
        /// not check would crash on them).
        null_ppv_calls: AtomicU32,
    }

    static FIRST: IUnknown_Vtbl =
        IUnknown_Vtbl { QueryInterface: first_qi, AddRef: first_add_ref, Release: first_release };
    static SECOND: IUnknown_Vtbl =
        IUnknown_Vtbl { QueryInterface: second_qi, AddRef: second_add_ref, Release: second_release };

    /// # Safety
    /// `this` points to the first word of a live `Flawed`.
    unsafe fn flawed<'a>(this: *mut c_void) -> &'a Flawed {
        // SAFETY: test: the caller vouches for the pointer; Flawed is repr(C).
        unsafe { &*(this as *const Flawed) }
    }

    fn second_of(this: *mut c_void) -> *mut c_void {
        // SAFETY: test: `second` is the next word of the same allocation.
        unsafe { (this as *mut *const IUnknown_Vtbl).add(1).cast() }
    }

    fn first_of(second: *mut c_void) -> *mut c_void {
        // SAFETY: test: `second` is the second word of a Flawed.
        unsafe { (second as *mut *const IUnknown_Vtbl).sub(1).cast() }
    }

    /// # Safety
    /// COM: `this` is a live interface pointer of a `Flawed` object the caller holds.
    /// `iid` and `ppv` are NULL or valid.
    unsafe extern "system" fn first_qi(this: *mut c_void, iid: *const GUID, ppv: *mut *mut c_void) -> HRESULT {
        // SAFETY: test: COM's contract for the call.
        let object = unsafe { flawed(this) };
        let flaws = object.flaws;
        if ppv.is_null() {
            object.null_ppv_calls.fetch_add(1, Ordering::SeqCst);
            return if flaws.null_ppv_ok { S_OK } else { E_POINTER };
        }
        // SAFETY: test: COM's contract for the call.
        let iid = unsafe { *iid };
        let answered = flaws.answers_everything || iid == IID_IUnknown || (iid == IID_IMAPISync && !flaws.no_sync);
        if !answered {
            if !flaws.keeps_ppv {
                // SAFETY: test: COM's contract for the call.
                unsafe { *ppv = core::ptr::null_mut() };
            }
            return E_NOINTERFACE;
        }
        object.refs.fetch_add(1, Ordering::Relaxed);
        if iid == IID_IMAPISync && flaws.leaks_on_query {
            object.refs.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: test: COM's contract for the call.
        unsafe { *ppv = if iid == IID_IMAPISync { second_of(this) } else { this } };
        S_OK
    }

    /// # Safety
    /// COM: `this` is a live interface pointer of a `Flawed` object the caller holds.
    unsafe extern "system" fn first_add_ref(this: *mut c_void) -> u32 {
        // SAFETY: test: COM's contract for the call.
        let object = unsafe { flawed(this) };
        let now = object.refs.fetch_add(1, Ordering::Relaxed) + 1;
        if object.flaws.constant_counts { 1 } else { now }
    }

    /// # Safety
    /// COM: `this` is a live interface pointer of a `Flawed` object the caller holds.
    /// The caller gives up one reference.
    unsafe extern "system" fn first_release(this: *mut c_void) -> u32 {
        // SAFETY: test: COM's contract for the call.
        let object = unsafe { flawed(this) };
        let now = object.refs.fetch_sub(1, Ordering::Release) - 1;
        let constant = object.flaws.constant_counts;
        if now == 0 {
            core::sync::atomic::fence(Ordering::Acquire);
            // SAFETY: test: the last reference; the object came from Box::into_raw.
            drop(unsafe { Box::from_raw(this as *mut Flawed) });
        }
        if constant { 1 } else { now }
    }

    /// # Safety
    /// COM: `this` is a live interface pointer of a `Flawed` object the caller holds.
    /// `iid` and `ppv` are NULL or valid.
    unsafe extern "system" fn second_qi(this: *mut c_void, iid: *const GUID, ppv: *mut *mut c_void) -> HRESULT {
        let first = first_of(this);
        // SAFETY: test: COM's contract for the call.
        let (object, wanted) = unsafe { (flawed(first), *iid) };
        if wanted == IID_IUnknown && object.flaws.second_identity && !ppv.is_null() {
            object.refs.fetch_add(1, Ordering::Relaxed);
            // SAFETY: test: COM's contract for the call.
            unsafe { *ppv = this };
            return S_OK;
        }
        // SAFETY: test: COM: the second interface's caller holds a reference to
        // the object, whose first interface `first` is; `iid` and `ppv` are the caller's.
        unsafe { first_qi(first, iid, ppv) }
    }

    /// # Safety
    /// COM: `this` is a live interface pointer of a `Flawed` object the caller holds.
    unsafe extern "system" fn second_add_ref(this: *mut c_void) -> u32 {
        // SAFETY: test: COM: the caller holds a reference to the object, reached by its first interface.
        unsafe { first_add_ref(first_of(this)) }
    }

    /// # Safety
    /// COM: `this` is a live interface pointer of a `Flawed` object the caller holds.
    /// The caller gives up one reference.
    unsafe extern "system" fn second_release(this: *mut c_void) -> u32 {
        // SAFETY: test: COM: the caller gives up a reference to the object, reached by its first interface.
        unsafe { first_release(first_of(this)) }
    }

    fn object(flaws: Flaws) -> IUnknown {
        let raw = Box::into_raw(Box::new(Flawed {
            vtable: &FIRST,
            second: &SECOND,
            refs: AtomicU32::new(1),
            flaws,
            null_ppv_calls: AtomicU32::new(0),
        }));
        // SAFETY: test: a live object whose one reference is handed over.
        unsafe { IUnknown::from_raw(raw.cast()) }
    }

    fn rules(flaws: Flaws) -> Vec<Rule> {
        let object = object(flaws);
        let mut rules: Vec<Rule> = match Conformance::new().promises_e_pointer().check(&object) {
            Ok(_) => Vec::new(),
            Err(violations) => violations.into_iter().map(|v| v.rule).collect(),
        };
        rules.dedup();
        if flaws.leaks_on_query {
            // Forget what the flawed object leaked, so dropping `object` frees it.
            // SAFETY: test: `object` holds a reference to a live Flawed.
            unsafe { flawed(object.as_raw()) }.refs.store(1, Ordering::Relaxed);
        }
        rules
    }

    #[test]
    fn a_correct_object_passes_and_is_balanced() {
        let object = object(Flaws::default());
        let report = check_conformance(&object).unwrap();
        assert_eq!(report.interfaces, vec![IID_IUnknown, IID_IMAPISync]);
        assert_eq!(report.refused, NEVER_ANSWERED.to_vec());
        // SAFETY: test: `object` holds a reference.
        let count = unsafe { Run::default().count(object.as_raw()) };
        assert_eq!(count, 1);
    }

    #[test]
    fn each_flaw_is_reported_under_its_rule() {
        let flaws = |f: fn(&mut Flaws)| {
            let mut flaws = Flaws::default();
            f(&mut flaws);
            flaws
        };
        assert_eq!(rules(flaws(|f| f.constant_counts = true)), vec![Rule::RefCountReturns]);
        assert_eq!(rules(flaws(|f| f.null_ppv_ok = true)), vec![Rule::NullOutPointer]);
        assert_eq!(rules(flaws(|f| f.keeps_ppv = true)), vec![Rule::NullOnFailure]);
        assert_eq!(rules(flaws(|f| f.answers_everything = true)), vec![Rule::NoInterface]);
        assert_eq!(rules(flaws(|f| f.second_identity = true)), vec![Rule::Identity]);
        assert_eq!(rules(flaws(|f| f.no_sync = true)), vec![Rule::Answers]);
        let leaky = rules(flaws(|f| f.leaks_on_query = true));
        assert!(leaky.contains(&Rule::QueryInterfaceAddsOne), "{leaky:?}");
        assert!(leaky.contains(&Rule::Balance), "{leaky:?}");
    }

    #[test]
    fn the_default_check_never_passes_a_null_ppv() {
        let object = object(Flaws { null_ppv_ok: true, ..Flaws::default() });
        let report = check_conformance(&object);
        // SAFETY: test: `object` holds a reference to a live Flawed.
        let null_calls = unsafe { flawed(object.as_raw()) }.null_ppv_calls.load(Ordering::SeqCst);
        assert_eq!(null_calls, 0, "QueryInterface(_, NULL) on an object that promised nothing");
        assert!(report.is_ok(), "{report:?}");
    }

    #[test]
    fn extra_interfaces_are_checked_against_each_other() {
        let object = object(Flaws::default());
        let violations = Conformance::new().answers(crate::abi::IID_IClassFactory).check(&object).unwrap_err();
        assert!(violations.iter().all(|v| v.rule == Rule::Answers), "{violations:?}");
        assert_eq!(violations.len(), 1, "{violations:?}");
        assert!(Conformance::new().refuses(IID_IMAPISync).check(&object).is_err());
    }
}
