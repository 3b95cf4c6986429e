//! `ECR_LAB_STARTUP_TRACE=1`: each phase of a start (opening the data directory, reading the
//! snapshot, replaying the journal after it, listening) prints its duration to stderr, as
//! `ecr-lab startup: <phase> <ms> ms (at <ms> ms)`, the second figure counted from the first
//! [`begin`] (the top of `main`). For finding where start-up time goes (`scripts/bench-startup`
//! passes it through); costs one load of a flag read once when unset.

use std::sync::{Mutex, OnceLock};
use std::time::Instant;

struct Trace {
    start: Instant,
    last: Mutex<Instant>,
}

fn trace() -> Option<&'static Trace> {
    static TRACE: OnceLock<Option<Trace>> = OnceLock::new();
    TRACE
        .get_or_init(|| {
            let on = std::env::var_os("ECR_LAB_STARTUP_TRACE").is_some_and(|v| !v.is_empty() && v != "0");
            on.then(|| {
                let now = Instant::now();
                Trace { start: now, last: Mutex::new(now) }
            })
        })
        .as_ref()
}

/// Starts the clock (call first thing in `main`; later calls do nothing).
pub fn begin() {
    let _ = trace();
}

/// Whether phases are being traced.
pub fn enabled() -> bool {
    trace().is_some()
}

/// Ends the phase `name`: prints how long since the previous phase ended.
pub fn phase(name: &str) {
    let Some(trace) = trace() else { return };
    let now = Instant::now();
    let mut last = trace.last.lock().unwrap_or_else(|e| e.into_inner());
    let took = now - *last;
    *last = now;
    drop(last);
    let at = now - trace.start;
    eprintln!("ecr-lab startup: {name} {:.2} ms (at {:.2} ms)", ms(took), ms(at));
}

/// Prints how long `name` took, measured by the caller (a phase on another thread, which does
/// not end the current one).
pub fn took(name: &str, since: Instant) {
    if trace().is_some() {
        eprintln!("ecr-lab startup:   {name} {:.2} ms", ms(since.elapsed()));
    }
}

fn ms(d: std::time::Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
