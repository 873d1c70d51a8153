//! Synchronizes a directory of `.eml` messages into an in-memory store,
//! driven by the host simulator as Outlook would drive it, with a live
//! progress bar fed by the host's progress events.
//!
//! ```sh
//! cargo run --example mailbox_sync                 # the shipped sample messages
//! cargo run --example mailbox_sync -- ~/some/mail  # any directory of .eml files
//! ```
//! `MAILBOX_SYNC_LATENCY_MS` sets the simulated network latency per message (default 250).

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use mapisync::host::{Event, Host};
use mapisync_examples::mailbox::{MailboxStore, Store, sample_dir};

fn main() -> ExitCode {
    let source = std::env::args_os().nth(1).map_or_else(sample_dir, PathBuf::from);
    let latency = std::env::var("MAILBOX_SYNC_LATENCY_MS").ok().and_then(|v| v.parse().ok()).unwrap_or(250);
    println!("Synchronizing {} ...", source.display());

    let store = Store::default();
    let sync: mapisync::IMAPISync = MailboxStore::new(&source, store.clone(), Duration::from_millis(latency)).into();

    let bar = progress_bar();
    let feed = bar.clone();
    let host = Host::new().on_event(move |event| match event {
        Event::Progress { text, index, max } => {
            feed.set_length(u64::from(*max));
            feed.set_position(u64::from(*index));
            if let Some(text) = text {
                if feed.is_hidden() {
                    println!("  [{index}/{max}] {text}");
                }
                feed.set_message(text.clone());
            }
        }
        Event::Error { hr, text } => {
            feed.println(format!("  warning {}: {}", name(*hr), text.as_deref().unwrap_or("")))
        }
        _ => {} // Done, and any event a later mapisync adds (Event is #[non_exhaustive])
    });
    let report = match host.run(&sync) {
        Ok(report) => report,
        Err(e) => {
            eprintln!("the object does not implement IMAPISync: {e}");
            return ExitCode::FAILURE;
        }
    };
    bar.finish_and_clear();

    let hr = report.done.unwrap_or(report.started);
    println!("Done({}) in {:.2} s", name(hr), report.duration.as_secs_f64());
    let store = store.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    println!("{} message(s) in the store:", store.len());
    for message in store.values() {
        let subject = if message.subject.is_empty() { "(no subject)" } else { &message.subject };
        println!("  {:<38} {}", truncate(&message.from, 38), subject);
    }
    let refs = |r: Option<mapisync::host::RefCounts>| r.map_or("-".into(), |r| format!("{} -> {}", r.before, r.after));
    println!(
        "Host objects: callback {}, session {} ({})",
        refs(report.callback_refs),
        refs(report.session_refs),
        if report.balanced() { "balanced" } else { "UNBALANCED" }
    );
    if hr == mapisync::S_OK && report.balanced() { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}

fn progress_bar() -> ProgressBar {
    if !std::io::stdout().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stdout());
    if let Ok(style) = ProgressStyle::with_template("{spinner} [{bar:30}] {pos}/{len} {wide_msg}") {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.enable_steady_tick(Duration::from_millis(80));
    bar
}

fn name(hr: mapisync::HRESULT) -> String {
    mapisync::hresult_name(hr).map_or_else(|| format!("{:#010x}", hr.0), str::to_owned)
}

fn truncate(text: &str, width: usize) -> String {
    text.chars().take(width).collect()
}
