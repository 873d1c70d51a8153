//! The COM conformance checker: drives any object through its raw IUnknown
//! slots and checks it against COM's QueryInterface and reference-count rules.
//!
//! A provider author calls [`check_conformance`] (or a configured
//! [`Conformance`]) in a test; a host like Outlook relies on these rules
//! without checking them, so an object that breaks one misbehaves far from
//! the cause.

use core::ffi::c_void;
use core::fmt;

use windows_core::{GUID, HRESULT, IUnknown_Vtbl, Interface};

use crate::abi::{IID_IMAPISync, IID_IUnknown};
use crate::hresult::{E_NOINTERFACE, E_POINTER, S_OK};

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
/// The object must be idle while it is checked: reference counts are read
/// through AddRef and Release, so a running sync (whose worker holds a
/// reference) or another thread using the object makes them unreliable.
#[derive(Clone, Debug)]
pub struct Conformance {
    answers: Vec<GUID>,
    refuses: Vec<GUID>,
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
        Self { answers: vec![IID_IUnknown, IID_IMAPISync], refuses: NEVER_ANSWERED.to_vec() }
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
        let mut run = Run { violations: Vec::new(), calls: 0, checks: 0 };
        // SAFETY: COM: `object` holds a reference for the whole check, so its
        // interface pointer is a live object whose vtable starts with
        // IUnknown's three slots.
        let interfaces = unsafe { run.check(object.as_raw(), I::IID, &answers, &self.refuses) };
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

/// One broken rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// Which rule.
    pub rule: Rule,
    /// What the object did, with the IIDs and values involved.
    pub detail: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.rule, self.detail)
    }
}

/// The rules the checker knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Rule {
    /// AddRef returns the new count and Release the remaining one: two
    /// AddRefs then two Releases return n+1, n+2, n+1, n, with n ≥ 1 for the
    /// caller's own reference.
    RefCountReturns,
    /// A successful QueryInterface adds exactly one reference.
    QueryInterfaceAddsOne,
    /// The object answers every interface it was expected to answer.
    Answers,
    /// Reflexive: an interface pointer answers its own IID.
    Reflexive,
    /// Symmetric: an interface obtained from interface A answers A.
    Symmetric,
    /// Transitive: every interface answers every other interface of the object.
    Transitive,
    /// IUnknown identity: every interface gives the same IUnknown pointer, every time.
    Identity,
    /// An IID the object does not implement gives E_NOINTERFACE, from every interface.
    NoInterface,
    /// A failed QueryInterface sets `*ppv` to NULL.
    NullOnFailure,
    /// A NULL `ppv` gives E_POINTER (and takes no reference).
    NullOutPointer,
    /// After every reference the check took is released, the count is what it was.
    Balance,
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::RefCountReturns => "AddRef/Release return values",
            Self::QueryInterfaceAddsOne => "QueryInterface adds one reference",
            Self::Answers => "expected interface answered",
            Self::Reflexive => "QueryInterface is reflexive",
            Self::Symmetric => "QueryInterface is symmetric",
            Self::Transitive => "QueryInterface is transitive",
            Self::Identity => "stable IUnknown identity",
            Self::NoInterface => "unknown IID gives E_NOINTERFACE",
            Self::NullOnFailure => "failed QueryInterface sets *ppv to NULL",
            Self::NullOutPointer => "NULL ppv gives E_POINTER",
            Self::Balance => "reference count balanced",
        })
    }
}

/// Where `*ppv` points before a call: not NULL, never dereferenced, so an
/// object that leaves `*ppv` untouched on failure is caught.
static UNTOUCHED: u8 = 0;

fn untouched() -> *mut c_void {
    (&raw const UNTOUCHED).cast_mut().cast()
}

/// The state of one check.
struct Run {
    violations: Vec<Violation>,
    calls: usize,
    checks: usize,
}

/// The IUnknown slots of an interface pointer.
///
/// # Safety
/// COM: `this` is a live interface pointer (its first word points to a
/// vtable that starts with IUnknown_Vtbl), held for the lifetime `'a`.
unsafe fn slots<'a>(this: *mut c_void) -> &'a IUnknown_Vtbl {
    // SAFETY: COM: every interface pointer points to its vtable pointer.
    unsafe { &**(this as *const *const IUnknown_Vtbl) }
}

/// # Safety
/// As [`slots`].
unsafe fn add_ref(this: *mut c_void) -> u32 {
    // SAFETY: COM: the caller holds a reference for the whole call.
    unsafe { (slots(this).AddRef)(this) }
}

/// # Safety
/// As [`slots`], and the caller gives up one reference it holds.
unsafe fn release(this: *mut c_void) -> u32 {
    // SAFETY: COM: the caller gives up one reference it holds.
    unsafe { (slots(this).Release)(this) }
}

impl Run {
    fn expect(&mut self, holds: bool, rule: Rule, detail: impl FnOnce() -> String) -> bool {
        if holds {
            self.checks += 1;
        } else {
            self.violations.push(Violation { rule, detail: detail() });
        }
        holds
    }

    /// QueryInterface through the raw slot; `*ppv` starts as a non-NULL
    /// sentinel. Returns the HRESULT and what `*ppv` holds afterwards.
    ///
    /// # Safety
    /// As [`slots`].
    unsafe fn query(&mut self, this: *mut c_void, iid: &GUID) -> (HRESULT, *mut c_void) {
        self.calls += 1;
        let mut out = untouched();
        // SAFETY: COM: `this` is live (caller), `iid` and `out` are valid for the call.
        let hr = unsafe { (slots(this).QueryInterface)(this, iid, &mut out) };
        (hr, out)
    }

    /// Queries `this` for `iid`, which must be answered; returns the new
    /// reference, or `None` (with the violation recorded) if it was not.
    ///
    /// # Safety
    /// As [`slots`].
    unsafe fn query_answered(&mut self, this: *mut c_void, iid: &GUID, rule: Rule, from: &GUID) -> Option<*mut c_void> {
        // SAFETY: COM: `this` is live for the call, as this function's `# Safety` (that of [`slots`]) requires.
        let (hr, out) = unsafe { self.query(this, iid) };
        let answered = hr == S_OK && !out.is_null() && out != untouched();
        self.expect(answered, rule, || {
            format!("QueryInterface({iid:?}) on the {from:?} pointer gave {hr:?}, *ppv {out:?}")
        });
        if !answered && hr.is_ok() && !out.is_null() && out != untouched() {
            // A success code with a real pointer other than S_OK: still a
            // reference we were given, so give it back.
            // SAFETY: COM: a successful QueryInterface handed us this reference.
            unsafe { release(out) };
        }
        answered.then_some(out)
    }

    /// The count now, read as AddRef's return minus one.
    ///
    /// # Safety
    /// As [`slots`].
    unsafe fn count(&mut self, this: *mut c_void) -> u32 {
        // SAFETY: COM: the caller holds a reference; the one taken here is given back at once.
        unsafe {
            let count = add_ref(this).wrapping_sub(1);
            release(this);
            count
        }
    }

    /// Every check, in order; returns the interfaces the object answered.
    ///
    /// # Safety
    /// As [`slots`]; `this` is the interface `own` of the object.
    unsafe fn check(&mut self, this: *mut c_void, own: GUID, answers: &[GUID], refuses: &[GUID]) -> Vec<GUID> {
        // SAFETY: COM: the caller holds a reference to `this` for the whole
        // check (this function's `# Safety`), and every reference a step
        // takes is one the next steps hold until `give_back` returns it.
        unsafe {
            let baseline = self.ref_count_returns(this);
            self.null_out_pointer(this, baseline);
            let held = self.answered(this, own, answers, baseline);
            self.identity(&held);
            self.reflexive_symmetric_transitive(&held, own);
            self.refused(this, own, &held, refuses);
            self.give_back(this, held, baseline)
        }
    }

    /// AddRef, AddRef, Release, Release return n+1, n+2, n+1, n. Returns
    /// the count n if they did (the counts can then be trusted).
    ///
    /// # Safety
    /// As [`slots`].
    unsafe fn ref_count_returns(&mut self, this: *mut c_void) -> Option<u32> {
        // SAFETY: COM: the caller holds a reference; every AddRef is matched by a Release.
        let (a, b, c, d) = unsafe { (add_ref(this), add_ref(this), release(this), release(this)) };
        let reliable = self.expect(
            a >= 2 && b == a.wrapping_add(1) && c == a && d == a.wrapping_sub(1),
            Rule::RefCountReturns,
            || format!("AddRef, AddRef, Release, Release returned {a}, {b}, {c}, {d}"),
        );
        reliable.then_some(d)
    }

    /// A NULL `ppv` gives E_POINTER and takes no reference.
    ///
    /// # Safety
    /// As [`slots`].
    unsafe fn null_out_pointer(&mut self, this: *mut c_void, baseline: Option<u32>) {
        self.calls += 1;
        // SAFETY: COM: `this` is live (the caller's reference) and a NULL ppv is what is checked.
        let hr = unsafe { (slots(this).QueryInterface)(this, &IID_IUnknown, core::ptr::null_mut()) };
        self.expect(hr == E_POINTER, Rule::NullOutPointer, || {
            format!("QueryInterface(IID_IUnknown, NULL) gave {hr:?}")
        });
        if let Some(baseline) = baseline {
            // SAFETY: COM: the caller holds a reference.
            let now = unsafe { self.count(this) };
            self.expect(now == baseline, Rule::NullOutPointer, || {
                format!("QueryInterface with a NULL ppv changed the count from {baseline} to {now}")
            });
        }
    }

    /// Every expected interface, queried from `this`, each adding one
    /// reference. Returns the references it holds, with their IIDs.
    ///
    /// # Safety
    /// As [`slots`].
    unsafe fn answered(
        &mut self,
        this: *mut c_void,
        own: GUID,
        answers: &[GUID],
        baseline: Option<u32>,
    ) -> Vec<(GUID, *mut c_void)> {
        let mut held = Vec::new();
        for iid in answers {
            // SAFETY: COM: the caller holds a reference to `this`.
            let Some(pointer) = (unsafe { self.query_answered(this, iid, Rule::Answers, &own) }) else {
                continue;
            };
            held.push((*iid, pointer));
            if let Some(baseline) = baseline {
                let expected = baseline.wrapping_add(held.len() as u32);
                // SAFETY: COM: the caller holds a reference.
                let now = unsafe { self.count(this) };
                self.expect(now == expected, Rule::QueryInterfaceAddsOne, || {
                    format!("after QueryInterface({iid:?}) the count is {now}, expected {expected}")
                });
            }
        }
        held
    }

    /// IUnknown from every interface, twice, is one pointer.
    ///
    /// # Safety
    /// COM: every pointer in `held` is a reference the caller holds.
    unsafe fn identity(&mut self, held: &[(GUID, *mut c_void)]) {
        let identity = held.iter().find(|(iid, _)| *iid == IID_IUnknown).map(|&(_, pointer)| pointer);
        for &(iid, pointer) in held {
            for _ in 0..2 {
                // SAFETY: COM: the caller holds a reference to `pointer`.
                let Some(unknown) = (unsafe { self.query_answered(pointer, &IID_IUnknown, Rule::Identity, &iid) })
                else {
                    continue;
                };
                if let Some(identity) = identity {
                    self.expect(unknown == identity, Rule::Identity, || {
                        format!("IUnknown from the {iid:?} pointer is {unknown:?}, from the object {identity:?}")
                    });
                }
                // SAFETY: COM: the query above handed us this reference.
                unsafe { release(unknown) };
            }
        }
    }

    /// Reflexive, symmetric, transitive: every interface answers every one.
    ///
    /// # Safety
    /// COM: every pointer in `held` is a reference the caller holds.
    unsafe fn reflexive_symmetric_transitive(&mut self, held: &[(GUID, *mut c_void)], own: GUID) {
        for &(from, pointer) in held {
            for &(to, _) in held {
                let rule = if from == to {
                    Rule::Reflexive
                } else if to == own {
                    Rule::Symmetric
                } else {
                    Rule::Transitive
                };
                // SAFETY: COM: the caller holds a reference to `pointer`.
                if let Some(other) = unsafe { self.query_answered(pointer, &to, rule, &from) } {
                    // SAFETY: COM: the query above handed us this reference.
                    unsafe { release(other) };
                }
            }
        }
    }

    /// Every refused IID gives E_NOINTERFACE and a NULL `*ppv`, from the
    /// object and from every interface.
    ///
    /// # Safety
    /// As [`slots`]; every pointer in `held` is a reference the caller holds.
    unsafe fn refused(&mut self, this: *mut c_void, own: GUID, held: &[(GUID, *mut c_void)], refuses: &[GUID]) {
        let pointers: Vec<(GUID, *mut c_void)> = core::iter::once((own, this)).chain(held.iter().copied()).collect();
        for iid in refuses {
            for &(from, pointer) in &pointers {
                // SAFETY: COM: the caller holds a reference to `pointer`.
                let (hr, out) = unsafe { self.query(pointer, iid) };
                self.expect(hr == E_NOINTERFACE, Rule::NoInterface, || {
                    format!("QueryInterface({iid:?}) on the {from:?} pointer gave {hr:?}")
                });
                if hr.is_err() {
                    self.expect(out.is_null(), Rule::NullOnFailure, || {
                        format!(
                            "QueryInterface({iid:?}) on the {from:?} pointer failed with {hr:?} but left *ppv {out:?}"
                        )
                    });
                } else if !out.is_null() && out != untouched() {
                    // SAFETY: COM: a successful QueryInterface handed us this reference.
                    unsafe { release(out) };
                }
            }
        }
    }

    /// Gives back every reference in `held`, each Release returning one
    /// less, and checks the count is back at `baseline`. Returns the IIDs.
    ///
    /// # Safety
    /// As [`slots`]; every pointer in `held` is a reference the caller gives up.
    unsafe fn give_back(
        &mut self,
        this: *mut c_void,
        mut held: Vec<(GUID, *mut c_void)>,
        baseline: Option<u32>,
    ) -> Vec<GUID> {
        let interfaces: Vec<GUID> = held.iter().map(|&(iid, _)| iid).collect();
        while let Some((iid, pointer)) = held.pop() {
            // SAFETY: COM: the caller gives up this reference (this function's `# Safety`).
            let left = unsafe { release(pointer) };
            if let Some(baseline) = baseline {
                let expected = baseline.wrapping_add(held.len() as u32);
                self.expect(left == expected, Rule::RefCountReturns, || {
                    format!("Release of the {iid:?} reference returned {left}, expected {expected}")
                });
            }
        }
        // SAFETY: COM: the caller still holds its own reference to `this`.
        let after = unsafe { self.count(this) };
        self.expect(baseline.is_none_or(|baseline| after == baseline), Rule::Balance, || {
            format!("the count was {} before the check and is {after} after it", baseline.unwrap_or(after))
        });
        interfaces
    }
}

#[cfg(test)]
mod tests {
    //! Hand-made objects that each break one rule, so every check is seen to fail.

    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};
    use windows_core::IUnknown;

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
        let raw = Box::into_raw(Box::new(Flawed { vtable: &FIRST, second: &SECOND, refs: AtomicU32::new(1), flaws }));
        // SAFETY: test: a live object whose one reference is handed over.
        unsafe { IUnknown::from_raw(raw.cast()) }
    }

    fn rules(flaws: Flaws) -> Vec<Rule> {
        let object = object(flaws);
        let mut rules: Vec<Rule> = match check_conformance(&object) {
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
        let count = unsafe { Run { violations: Vec::new(), calls: 0, checks: 0 }.count(object.as_raw()) };
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
    fn extra_interfaces_are_checked_against_each_other() {
        let object = object(Flaws::default());
        let violations = Conformance::new().answers(crate::abi::IID_IClassFactory).check(&object).unwrap_err();
        assert!(violations.iter().all(|v| v.rule == Rule::Answers), "{violations:?}");
        assert_eq!(violations.len(), 1, "{violations:?}");
        assert!(Conformance::new().refuses(IID_IMAPISync).check(&object).is_err());
    }
}
