//! A real OpenID Connect provider for the sign-in tests: the `oidc-provider` package from the
//! npm registry (installed by `scripts/test` into `target/tools/oidc`), run by Node on loopback.
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

pub const CLIENT_ID: &str = "safeguard";
pub const CLIENT_SECRET: &str = "a client secret for the tests only";
/// What the service's public address makes its callback; the provider has it registered.
pub const REDIRECT: &str = "http://safeguard.test/sign-in/oidc/callback";

pub struct Provider {
    child: Child,
    pub issuer: String,
    agent: ureq::Agent,
    cookies: std::sync::Mutex<HashMap<String, String>>,
}

fn tools() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/tools/oidc")
}

impl Provider {
    /// Starts the provider; None (with a note) where it is not installed, except in CI.
    pub fn start() -> Option<Provider> {
        let dir = tools();
        if !dir.join("node_modules/oidc-provider").exists() {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI must run the sign-in tests: scripts/test installs the OpenID Connect provider"
            );
            eprintln!("oidc-provider not installed in target/tools/oidc (scripts/test installs it): skipped");
            return None;
        }
        // The script as it stands in the tree, beside its packages.
        let source = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/oidc/provider.mjs");
        let script = dir.join("provider.mjs");
        std::fs::copy(&source, &script).expect("copy the provider script");
        let mut child = Command::new("node")
            .arg(&script)
            .env("REDIRECT_URI", REDIRECT)
            .env("CLIENT_SECRET", CLIENT_SECRET)
            .stdout(Stdio::piped())
            .stderr(
                std::fs::File::create(dir.join("provider.log")).map_or(Stdio::null(), Stdio::from),
            )
            .spawn()
            .expect("node starts");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let mut issuer = None;
        for line in lines.by_ref() {
            let line = line.expect("provider output");
            if let Some(i) = line.strip_prefix("issuer ") {
                issuer = Some(i.trim().to_string());
                break;
            }
        }
        let issuer = issuer.expect("the provider printed its issuer");
        // It goes on writing notes; a closed pipe would stop it.
        std::thread::spawn(move || lines.for_each(drop));
        Some(Provider {
            child,
            issuer,
            agent: ureq::AgentBuilder::new().redirects(0).build(),
            cookies: Default::default(),
        })
    }

    /// The service's settings for this provider, as one tenant with this id.
    pub fn settings(&self, tenant: &str) -> Vec<(&'static str, String)> {
        vec![
            ("SAFEGUARD_OIDC_ISSUER", self.issuer.clone()),
            ("SAFEGUARD_OIDC_TENANTS", tenant.to_string()),
            ("SAFEGUARD_OIDC_CLIENT_ID", CLIENT_ID.to_string()),
            ("SAFEGUARD_OIDC_CLIENT_SECRET", CLIENT_SECRET.to_string()),
        ]
    }

    /// A GET on the provider with its cookies; the answer's status and Location.
    fn get(&self, url: &str) -> (u16, String) {
        let url = if url.starts_with('/') {
            format!("{}{url}", self.issuer)
        } else {
            url.to_string()
        };
        let cookie = self
            .cookies
            .lock()
            .expect("cookies")
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        let answer = match self.agent.get(&url).set("Cookie", &cookie).call() {
            Ok(r) => r,
            Err(ureq::Error::Status(_, r)) => r,
            Err(e) => panic!("provider {url}: {e}"),
        };
        for c in answer.all("set-cookie") {
            if let Some((pair, _)) = c.split_once(';').or(Some((c, ""))) {
                if let Some((k, v)) = pair.split_once('=') {
                    self.cookies
                        .lock()
                        .expect("cookies")
                        .insert(k.trim().to_string(), v.to_string());
                }
            }
        }
        let status = answer.status();
        let location = answer.header("location").unwrap_or("").to_string();
        if !(300..400).contains(&status) {
            panic!(
                "provider {url}: {status} {}",
                answer.into_string().unwrap_or_default()
            );
        }
        (status, location)
    }

    /// Follows the provider from the authorisation address the service sent the browser to,
    /// signing in as `login` of tenant `tid`, to the service's callback; returns its path.
    /// Each call is a new browser at the provider, with no session there yet.
    pub fn sign_in(&self, authorize: &str, login: &str, tid: &str) -> String {
        self.cookies.lock().expect("cookies").clear();
        let (_, interaction) = self.get(authorize);
        assert!(interaction.contains("/interaction/"), "{interaction}");
        let sep = if interaction.contains('?') { '&' } else { '?' };
        let (_, resume) = self.get(&format!("{interaction}{sep}login={login}&tid={tid}"));
        let (_, back) = self.get(&resume);
        assert!(back.starts_with(REDIRECT), "back to the service: {back}");
        back.replace("http://safeguard.test", "")
    }
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
