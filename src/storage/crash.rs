//! Fixed failure points, for the crash tests. With `SAFEGUARD_CRASH_AT=name` (or `name:n`) the
//! process aborts the first (or n-th) time it reaches `crash_point("name")`, as a `kill -9` or
//! a power cut would at that instant: nothing after it runs, no transaction in progress commits.
//! Unset, as in any real deployment, a crash point costs one atomic load.
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

struct Armed {
    name: String,
    countdown: AtomicU64,
}

fn armed() -> Option<&'static Armed> {
    static ARMED: OnceLock<Option<Armed>> = OnceLock::new();
    ARMED
        .get_or_init(|| {
            let raw = std::env::var("SAFEGUARD_CRASH_AT").ok()?;
            let (name, n) = match raw.split_once(':') {
                Some((name, n)) => (name.to_string(), n.parse().ok()?),
                None => (raw, 1),
            };
            Some(Armed {
                name,
                countdown: AtomicU64::new(n),
            })
        })
        .as_ref()
}

pub fn crash_point(name: &str) {
    if let Some(a) = armed() {
        if a.name == name && a.countdown.fetch_sub(1, Ordering::SeqCst) == 1 {
            eprintln!("crash point {name}: aborting");
            std::process::abort();
        }
    }
}
