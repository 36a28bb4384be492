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

/// The built binary as an operator runs it from a directory of its own (empty), with only its
/// data folder set (and its database, on PostgreSQL): nothing of the test's surroundings.
pub struct Operator {
    pub cwd: tempfile::TempDir,
    pub data: std::path::PathBuf,
    pub database_url: Option<String>,
    pub env: Vec<(String, String)>,
}

impl Operator {
    pub fn new(data: &std::path::Path, database_url: Option<String>) -> Operator {
        Operator {
            cwd: tempfile::tempdir().expect("an empty directory"),
            data: data.to_path_buf(),
            database_url,
            env: Vec::new(),
        }
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_safeguard"));
        cmd.args(args)
            .current_dir(self.cwd.path())
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("SAFEGUARD_DATA_DIR", &self.data)
            .env("SAFEGUARD_LOG", "error");
        if let Some(url) = &self.database_url {
            cmd.env("SAFEGUARD_DATABASE_URL", url);
        }
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd
    }

    /// Runs a command to its end: whether it succeeded, and all it printed.
    pub fn run(&self, args: &[&str]) -> (bool, String) {
        let o = self.command(args).output().expect("run safeguard");
        (
            o.status.success(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            ),
        )
    }

    /// Adds a chair of Cardiff with a password, as `user add --password-stdin` does, and
    /// returns their API token.
    pub fn add_chair(&self) -> String {
        let cmd = self.command(&[
            "user",
            "add",
            "--name",
            "Chair Sample",
            "--email",
            "chair.sample@council.example",
            "--role",
            "chair",
            "--team",
            "Test team",
            "--authority",
            "la-cardiff",
            "--password-stdin",
        ]);
        add_user(cmd, "a long synthetic password\n").0
    }

    /// Starts `serve` on a free port and waits until it answers: the process and its base URL.
    pub fn serve(&self) -> (Child, String) {
        let port = free_port();
        let base = format!("http://127.0.0.1:{port}");
        let mut child = self
            .command(&["serve"])
            .env("SAFEGUARD_BIND", format!("127.0.0.1:{port}"))
            .env("SAFEGUARD_SCHEDULER", "off")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("serve");
        wait_until_answering(&mut child, &base, || {
            "the service's output is not kept".into()
        });
        (child, base)
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("a free port")
        .local_addr()
        .expect("its address")
        .port()
}
