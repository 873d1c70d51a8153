//! Arbitrary MAPISIB contents and arbitrary host behaviour against one
//! provider object; `mapisync_fuzz::run` checks every invariant and panics
//! (a crash, for libFuzzer) when one breaks.

#![no_main]

use libfuzzer_sys::fuzz_target;
use mapisync_fuzz::{Scenario, quiet_scripted_panics, run};

fuzz_target!(init: quiet_scripted_panics(), |scenario: Scenario| {
    run(&scenario);
});
