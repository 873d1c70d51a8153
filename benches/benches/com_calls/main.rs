//! The cost of a COM call into a mapisync object, side by side with the same
//! object written with windows-core's `#[implement]`, a hand-written C++
//! object compiled at -O2, and (for the reference count) a bare atomic
//! increment/decrement pair as the floor.
//!
//! Every call goes through the object's raw vtable pointer, as a C host's
//! does: the benchmark loads the vtable from the object on each iteration and
//! calls the slot, so no implementation can be inlined into the caller.
//!
//! After criterion's own report, a summary table prints each operation's time
//! per call and its ratio to C++ and to windows-rs, with the target from the
//! performance issue, all from this run: for the calls that take
//! nanoseconds, the median over criterion's samples of the sample's mean time
//! per call; for the two that start a thread, the median single call.
//!
//! `cargo bench -p mapisync-benches` runs it all in about two minutes.

mod cpp_object;
mod host_callback;
mod windows_rs_object;

use core::ffi::c_void;
use std::collections::BTreeMap;
use std::hint::black_box;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use criterion::{BenchmarkGroup, Criterion, measurement::WallTime};
use mapisync::abi::{HANDLE, IID_IClassFactory, IID_IMAPISync, IID_IUnknown, IMAPISync_Vtbl, MAPISIB};
use mapisync::{E_NOINTERFACE, S_OK};
use windows_core::GUID;

/// Samples per benchmark; the summary reads this many back per benchmark.
const SAMPLE_SIZE: usize = 40;

/// The provider every competitor implements: it does nothing.
struct Noop;

#[mapisync::provider]
impl mapisync::MapiSync for Noop {
    fn synchronize_in_background(&self, _job: &mut mapisync::SyncJob) -> mapisync::Result<()> {
        Ok(())
    }
}

/// One object under test: its IMAPISync pointer (we own one reference) and
/// how the host closes the done events it hands over.
struct Subject {
    name: &'static str,
    this: *mut c_void,
    close_event: unsafe fn(HANDLE),
}

const MAPISYNC: &str = "mapisync";
const WINDOWS_RS: &str = "windows-rs";
const CPP: &str = "C++";
/// The floor: for AddRef+Release a bare atomic increment/decrement pair; for
/// the sync a bare `std::thread::spawn` of a closure that calls the host's
/// `Done`, which is what starting any Rust thread costs.
const FLOOR: &str = "floor";

fn subjects() -> [Subject; 3] {
    let sync: mapisync::IMAPISync = Noop.into();
    [
        Subject { name: MAPISYNC, this: mapisync::Interface::into_raw(sync), close_event: close_mapisync_event },
        Subject { name: WINDOWS_RS, this: windows_rs_object::create(), close_event: windows_rs_object::close_event },
        Subject { name: CPP, this: cpp_object::create(), close_event: cpp_object::close_event },
    ]
}

/// # Safety
/// `event` is a done event a mapisync object handed over, not yet closed.
unsafe fn close_mapisync_event(event: HANDLE) {
    // SAFETY: the caller vouches for the handle.
    unsafe { mapisync::event::close(event) }
}

/// The vtable behind an interface pointer, loaded from the object as a host does.
///
/// # Safety
/// `this` is a live IMAPISync object.
#[inline(always)]
unsafe fn vtable<'a>(this: *mut c_void) -> &'a IMAPISync_Vtbl {
    // SAFETY: COM: a live object's first word is its vtable pointer, and the
    // vtable outlives the object.
    unsafe { &**(this as *const *const IMAPISync_Vtbl) }
}

// ---- the operations, each timed over `iters` calls --------------------------

fn add_ref_release(this: *mut c_void, iters: u64) -> Duration {
    let start = Instant::now();
    for _ in 0..iters {
        let this = black_box(this);
        // SAFETY: COM: we hold a reference to `this`; AddRef then Release leaves the count as it was.
        unsafe {
            let vtbl = vtable(this);
            (vtbl.base__.AddRef)(this);
            (vtbl.base__.Release)(this);
        }
    }
    start.elapsed()
}

fn atomic_floor(iters: u64) -> Duration {
    let count = AtomicU32::new(1);
    let start = Instant::now();
    for _ in 0..iters {
        let count = black_box(&count);
        count.fetch_add(1, Ordering::Relaxed);
        count.fetch_sub(1, Ordering::Release);
    }
    start.elapsed()
}

/// QueryInterface for `iid`, then Release of what it returned.
fn query_hit(this: *mut c_void, iid: &'static GUID, iters: u64) -> Duration {
    let start = Instant::now();
    for _ in 0..iters {
        let this = black_box(this);
        let mut out = core::ptr::null_mut();
        // SAFETY: COM: we hold a reference; `iid` and `out` are valid; the
        // reference QueryInterface returns is released through its own vtable.
        unsafe {
            let hr = (vtable(this).base__.QueryInterface)(this, black_box(iid), &mut out);
            debug_assert_eq!(hr, S_OK);
            (vtable(out).base__.Release)(out);
        }
    }
    start.elapsed()
}

/// QueryInterface for an interface the object does not implement.
fn query_miss(this: *mut c_void, iters: u64) -> Duration {
    let start = Instant::now();
    for _ in 0..iters {
        let this = black_box(this);
        let mut out = core::ptr::null_mut();
        // SAFETY: COM: we hold a reference; `iid` and `out` are valid.
        let hr = unsafe { (vtable(this).base__.QueryInterface)(this, black_box(&IID_IClassFactory), &mut out) };
        debug_assert_eq!(hr, E_NOINTERFACE);
        black_box(out);
    }
    start.elapsed()
}

/// Starts one sync; returns how long the call took and the done event.
fn start_sync(this: *mut c_void) -> (Duration, HANDLE) {
    let mut event: HANDLE = core::ptr::null_mut();
    let sib = MAPISIB {
        ulSize: MAPISIB::SIZE,
        ulFlags: 0,
        psesSync: core::ptr::null_mut(),
        punkCallBack: host_callback::pointer(),
        phSyncDoneEvent: &mut event,
    };
    let start = Instant::now();
    // SAFETY: COM: we hold a reference; `sib` is a valid MAPISIB for the call.
    let hr = unsafe { (vtable(this).SynchronizeInBackground)(this, &sib) };
    let took = start.elapsed();
    assert_eq!(hr, S_OK, "SynchronizeInBackground failed");
    (took, event)
}

/// Runs `round` `iters` times, each time after the previous round's `Done`
/// has arrived; `round` returns what it timed. The total and each round's time.
fn timed_rounds(iters: u64, mut round: impl FnMut() -> Duration) -> (Duration, Vec<Duration>) {
    let each: Vec<Duration> = (0..iters).map(|_| round()).collect();
    (each.iter().sum(), each)
}

/// One sync of `subject`, timed from the call to its return (`done` false:
/// call-to-return) or to the host's `Done` (`done` true: round trip); the
/// event's close is never timed.
fn timed_sync(subject: &Subject, done: bool) -> Duration {
    let seen = host_callback::done_calls();
    let start = Instant::now();
    let (returned, event) = start_sync(black_box(subject.this));
    let _ = host_callback::wait_done(seen);
    let took = if done { start.elapsed() } else { returned };
    // SAFETY: the sync handed the event over to us, and it is closed once.
    unsafe { (subject.close_event)(event) };
    took
}

/// The floor of [`timed_sync`]: a bare Rust thread that calls `Done` at once,
/// timed to its spawn's return (`done` false) or to the `Done` (`done` true).
fn timed_spawn(done: bool) -> Duration {
    let seen = host_callback::done_calls();
    let start = Instant::now();
    drop(std::thread::spawn(host_callback::call_done));
    let spawned = start.elapsed();
    let _ = host_callback::wait_done(seen);
    if done { start.elapsed() } else { spawned }
}

/// Each subject answers as the contract says before anything is timed: the
/// figures are only worth comparing if every object does the same work.
fn check(subject: &Subject) {
    let this = subject.this;
    // SAFETY: COM: we hold a reference for all of these calls.
    unsafe {
        let vtbl = vtable(this);
        assert_eq!((vtbl.base__.AddRef)(this), 2, "{}: AddRef", subject.name);
        assert_eq!((vtbl.base__.Release)(this), 1, "{}: Release", subject.name);
        for iid in [&IID_IUnknown, &IID_IMAPISync] {
            let mut out = core::ptr::null_mut();
            assert_eq!((vtbl.base__.QueryInterface)(this, iid, &mut out), S_OK, "{}: QI hit", subject.name);
            assert!(!out.is_null());
            assert_eq!((vtable(out).base__.Release)(out), 1, "{}: Release after QI", subject.name);
        }
        let mut out = this;
        assert_eq!((vtbl.base__.QueryInterface)(this, &IID_IClassFactory, &mut out), E_NOINTERFACE);
        assert!(out.is_null(), "{}: a miss leaves *ppv NULL", subject.name);
    }
    let seen = host_callback::done_calls();
    let (_, event) = start_sync(this);
    assert!(!event.is_null(), "{}: no done event", subject.name);
    let (done_event, hr) = host_callback::wait_done(seen);
    assert_eq!((done_event, hr), (event, S_OK), "{}: Done", subject.name);
    // SAFETY: handed over by the sync above, closed once.
    unsafe { (subject.close_event)(event) };
}

// ---- recording what criterion measured -------------------------------------

/// (operation, subject): one benchmark.
type BenchmarkId = (&'static str, &'static str);
/// Every (iterations, elapsed) pair criterion asked for, per benchmark.
static RECORDS: Mutex<BTreeMap<BenchmarkId, Vec<(u64, Duration)>>> = Mutex::new(BTreeMap::new());
/// Every single call's time, for the operations timed call by call.
static CALLS: Mutex<BTreeMap<BenchmarkId, Vec<Duration>>> = Mutex::new(BTreeMap::new());

/// Times `routine` for criterion and keeps the figure for the summary.
fn measured(
    group: &mut BenchmarkGroup<'_, WallTime>,
    operation: &'static str,
    subject: &'static str,
    mut routine: impl FnMut(u64) -> Duration,
) {
    group.bench_function(subject, |b| {
        b.iter_custom(|iters| {
            let elapsed = routine(iters);
            RECORDS.lock().unwrap().entry((operation, subject)).or_default().push((iters, elapsed));
            elapsed
        })
    });
}

/// As [`measured`], for a routine that times each call and keeps every time.
fn measured_per_call(
    group: &mut BenchmarkGroup<'_, WallTime>,
    operation: &'static str,
    subject: &'static str,
    mut routine: impl FnMut(u64) -> (Duration, Vec<Duration>),
) {
    measured(group, operation, subject, |iters| {
        let (total, each) = routine(iters);
        CALLS.lock().unwrap().entry((operation, subject)).or_default().extend(each);
        total
    });
}

fn median(mut values: Vec<f64>) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let middle = values.len() / 2;
    Some(if values.len() % 2 == 1 { values[middle] } else { (values[middle - 1] + values[middle]) / 2.0 })
}

/// In ns: for an operation timed call by call, the median single call of all
/// criterion asked for, warm-up included (a thread start now and then waits
/// behind the machine's other work, so the mean says more about the machine
/// than about the object); otherwise the
/// median over criterion's samples (the last SAMPLE_SIZE calls; the
/// warm-up's come first) of each sample's mean time per call.
///
/// None when criterion did not take its samples (`--test`, `--profile-time`,
/// or a filter that left the benchmark out).
fn median_ns(operation: &str, subject: &str) -> Option<f64> {
    let records = RECORDS.lock().unwrap();
    let all = records.get(&(operation, subject)).filter(|all| all.len() >= SAMPLE_SIZE)?;
    if let Some(each) = CALLS.lock().unwrap().get(&(operation, subject)) {
        return median(each.iter().map(|t| t.as_nanos() as f64).collect());
    }
    let samples = &all[all.len() - SAMPLE_SIZE..];
    median(samples.iter().map(|(n, t)| t.as_nanos() as f64 / *n as f64).collect())
}

// ---- the run ----------------------------------------------------------------

const ADD_REF_RELEASE: &str = "AddRef+Release";
const QI_IUNKNOWN: &str = "QI IUnknown hit + Release";
const QI_IMAPISYNC: &str = "QI IMAPISync hit + Release";
const QI_MISS: &str = "QI miss";
const CALL_TO_RETURN: &str = "SynchronizeInBackground call-to-return";
const ROUND_TRIP: &str = "round trip to Done";

/// The targets: (operation, at most x C++, at most x windows-rs).
const TARGETS: [(&str, f64, Option<f64>); 6] = [
    (ADD_REF_RELEASE, 1.05, Some(0.8)),
    (QI_IUNKNOWN, 1.05, Some(0.8)),
    (QI_IMAPISYNC, 1.05, Some(0.8)),
    (QI_MISS, 1.0, None),
    (CALL_TO_RETURN, 1.1, None),
    (ROUND_TRIP, 1.2, None),
];

fn main() {
    let subjects = subjects();
    for subject in &subjects {
        check(subject);
    }
    // 'static names and pointers the closures can capture by copy.
    let subjects: &'static [Subject] = Box::leak(Box::new(subjects));

    let mut criterion = Criterion::default()
        .sample_size(SAMPLE_SIZE)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .configure_from_args();

    let mut group = criterion.benchmark_group(ADD_REF_RELEASE);
    for subject in subjects {
        measured(&mut group, ADD_REF_RELEASE, subject.name, |n| add_ref_release(subject.this, n));
    }
    measured(&mut group, ADD_REF_RELEASE, FLOOR, atomic_floor);
    group.finish();

    for (operation, iid) in [(QI_IUNKNOWN, &IID_IUnknown), (QI_IMAPISYNC, &IID_IMAPISync)] {
        let mut group = criterion.benchmark_group(operation);
        for subject in subjects {
            measured(&mut group, operation, subject.name, |n| query_hit(subject.this, iid, n));
        }
        group.finish();
    }

    let mut group = criterion.benchmark_group(QI_MISS);
    for subject in subjects {
        measured(&mut group, QI_MISS, subject.name, |n| query_miss(subject.this, n));
    }
    group.finish();

    // A thread per call: fewer, longer samples.
    for (operation, to_done) in [(CALL_TO_RETURN, false), (ROUND_TRIP, true)] {
        let mut group = criterion.benchmark_group(operation);
        group.measurement_time(Duration::from_secs(4));
        for subject in subjects {
            measured_per_call(&mut group, operation, subject.name, |n| {
                timed_rounds(n, || timed_sync(subject, to_done))
            });
        }
        measured_per_call(&mut group, operation, FLOOR, |n| timed_rounds(n, || timed_spawn(to_done)));
        group.finish();
    }

    criterion.final_summary();
    summary();

    for subject in subjects {
        // SAFETY: COM: gives up the reference `subjects` took; workers hold their own.
        unsafe { (vtable(subject.this).base__.Release)(subject.this) };
    }
}

/// Prints the ratio table from this run's figures.
fn summary() {
    println!();
    println!(
        "{:<40} {:>11} {:>11} {:>11} {:>11} {:>9} {:>9}  target",
        "operation (median ns per call)", MAPISYNC, WINDOWS_RS, CPP, FLOOR, "vs C++", "vs w-rs"
    );
    let cell = |v: Option<f64>| v.map_or_else(|| "-".to_string(), |v| format!("{v:.2}"));
    let (mut missed, mut rows) = (0, 0);
    for (operation, cpp_target, windows_target) in TARGETS {
        let ours = median_ns(operation, MAPISYNC);
        let windows = median_ns(operation, WINDOWS_RS);
        let cpp = median_ns(operation, CPP);
        let floor = median_ns(operation, FLOOR);
        let vs_cpp = ours.zip(cpp).map(|(a, b)| a / b);
        let vs_windows = ours.zip(windows).map(|(a, b)| a / b);
        let mut verdict = format!("<= {cpp_target}x C++");
        if let Some(limit) = windows_target {
            verdict += &format!(", <= {limit}x w-rs");
        }
        let met = vs_cpp.is_some_and(|r| r <= cpp_target)
            && windows_target.is_none_or(|limit| vs_windows.is_some_and(|r| r <= limit));
        if ours.is_some() {
            verdict += if met { ": met" } else { ": MISSED" };
            missed += usize::from(!met);
            rows += 1;
        }
        println!(
            "{:<40} {:>11} {:>11} {:>11} {:>11} {:>9} {:>9}  {verdict}",
            operation,
            cell(ours),
            cell(windows),
            cell(cpp),
            cell(floor),
            cell(vs_cpp),
            cell(vs_windows)
        );
    }
    if rows == 0 {
        println!("no figures: criterion took no samples (--test, --profile-time or a filter)");
    } else {
        println!("targets missed in this run: {missed} of {rows}");
    }
}
