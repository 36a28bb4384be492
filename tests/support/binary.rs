//! The built `safeguard` binary as an operator runs it: a user added with a password on
//! standard input, and the service started and waited for until it answers.
use std::io::Write;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Runs `user add … --password-stdin` (the caller's command, with its arguments) and returns
/// the token it printed and everything it printed.
pub fn add_user(mut cmd: Command, password: &str) -> (String, String) {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("user add");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(password.as_bytes())
        .expect("password");
    let out = child.wait_with_output().expect("user add ran");
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{printed}");
    let token = printed
        .split_whitespace()
        .find(|w| w.starts_with("sg_"))
        .expect("token printed")
        .to_string();
    (token, printed)
}

/// Waits until the service at `base` answers `/healthz`: polls it, and fails at once if the
/// process stops, or after 30 seconds, with `why` (its log, say).
pub fn wait_until_answering(child: &mut Child, base: &str, why: impl Fn() -> String) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let up = ureq::get(&format!("{base}/healthz"))
            .timeout(Duration::from_millis(500))
            .call()
            .is_ok();
        if up {
            return;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("the service stopped while starting ({status}): {}", why());
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the service did not start: {}", why());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}
