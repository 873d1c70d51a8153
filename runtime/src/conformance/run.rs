//! The checks themselves: one [`Run`] drives an object through its raw
//! IUnknown slots, step by step, and records what held and what did not.

use core::ffi::c_void;

use windows_core::{GUID, HRESULT, IUnknown_Vtbl};

use super::{Rule, Violation};
use crate::abi::IID_IUnknown;
use crate::hresult::{E_NOINTERFACE, E_POINTER, S_OK};

/// Where `*ppv` points before a call: not NULL, never dereferenced, so an
/// object that leaves `*ppv` untouched on failure is caught.
static UNTOUCHED: u8 = 0;

fn untouched() -> *mut c_void {
    (&raw const UNTOUCHED).cast_mut().cast()
}

/// The state of one check.
#[derive(Default)]
pub(super) struct Run {
    pub(super) violations: Vec<Violation>,
    pub(super) calls: usize,
    pub(super) checks: usize,
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

/// What the object under check promised.
pub(super) struct Expected<'a> {
    /// The interfaces it must answer.
    pub(super) answers: &'a [GUID],
    /// The IIDs it must refuse.
    pub(super) refuses: &'a [GUID],
    /// Whether it promised E_POINTER for a NULL `ppv`.
    pub(super) null_ppv: bool,
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
    pub(super) unsafe fn count(&mut self, this: *mut c_void) -> u32 {
        // SAFETY: COM: the caller holds a reference; the one taken here is given back at once.
        unsafe {
            let count = add_ref(this).wrapping_sub(1);
            release(this);
            count
        }
    }

    /// Every check, in order; returns the interfaces the object answered.
    /// The NULL-`ppv` check runs only when `null_ppv` says the object
    /// promised E_POINTER: COM's callers never pass NULL, so an object need
    /// not check, and one that does not would crash on the checker's call.
    ///
    /// # Safety
    /// As [`slots`]; `this` is the interface `own` of the object.
    pub(super) unsafe fn check(&mut self, this: *mut c_void, own: GUID, expect: Expected<'_>) -> Vec<GUID> {
        let Expected { answers, refuses, null_ppv } = expect;
        // SAFETY: COM: the caller holds a reference to `this` for the whole
        // check (this function's `# Safety`), and every reference a step
        // takes is one the next steps hold until `give_back` returns it.
        unsafe {
            let baseline = self.ref_count_returns(this);
            if null_ppv {
                self.null_out_pointer(this, baseline);
            }
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
