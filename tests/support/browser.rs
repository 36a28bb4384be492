//! Headless Chromium driven through WebDriver (Debian's `chromium` and `chromium-driver`), spoken
//! to directly over HTTP: start a session, open pages, type, click, read, take screenshots, and
//! run axe-core in the page. The driver and browser end with the value.
#![allow(dead_code)]

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{json, Value};

const DRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

pub struct Browser {
    driver: Child,
    base: String,
    session: String,
    _profile: tempfile::TempDir,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn call(method: &str, url: &str, body: Option<Value>) -> Value {
    let req = ureq::request(method, url).timeout(Duration::from_secs(60));
    let result = match body {
        Some(b) => req.send_json(b),
        None => req.call(),
    };
    let response = match result {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("WebDriver {method} {url}: {e}"),
    };
    response.into_json().expect("WebDriver answers JSON")
}

impl Browser {
    /// None when Chromium is not installed here (a developer's machine); CI installs it, and
    /// under `CI=true` its absence is a failure, not a skip.
    pub fn start() -> Option<Browser> {
        if !std::path::Path::new(DRIVER).exists() || !std::path::Path::new(CHROMIUM).exists() {
            if std::env::var("CI").is_ok_and(|v| !v.is_empty()) {
                panic!("CI must install chromium and chromium-driver for the browser tests");
            }
            eprintln!("Chromium not installed: browser test skipped");
            return None;
        }
        let port = free_port();
        let driver = Command::new(DRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let base = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        while ureq::get(&format!("{base}/status")).call().is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        let profile = tempfile::tempdir().expect("profile dir");
        // The flags keep Chromium from reaching for the network, which this machine refuses.
        let created = call(
            "POST",
            &format!("{base}/session"),
            Some(
                json!({"capabilities": {"alwaysMatch": {"browserName": "chrome", "goog:chromeOptions": {
                    "binary": CHROMIUM,
                    "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                             "--disable-background-networking", "--disable-component-update", "--disable-sync",
                             "--disable-dev-shm-usage", "--window-size=1280,1400",
                             format!("--user-data-dir={}", profile.path().display())],
                }}}}),
            ),
        );
        let session = created["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no WebDriver session: {created}"))
            .to_string();
        Some(Browser {
            driver,
            base,
            session,
            _profile: profile,
        })
    }

    fn url(&self, path: &str) -> String {
        format!("{}/session/{}{path}", self.base, self.session)
    }

    fn cmd(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let v = call(method, &self.url(path), body);
        if let Some(err) = v["value"]["error"].as_str() {
            panic!("WebDriver {path}: {err}: {}", v["value"]["message"]);
        }
        v["value"].clone()
    }

    /// Opens `url` and waits for its page. Under load, chromedriver can answer the navigation
    /// before the new document has replaced the old one, so the old page is marked first and
    /// the wait is for a page without the mark (as `click_and_wait` does).
    pub fn goto(&self, url: &str) {
        self.run("window.__sgOldPage = true;", json!([]));
        self.cmd("POST", "/url", Some(json!({ "url": url })));
        self.wait_for_new_page(url);
    }

    fn wait_for_new_page(&self, what: &str) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let loaded = self.run(
                "return window.__sgOldPage === undefined && document.readyState === 'complete';",
                json!([]),
            );
            if loaded == json!(true) {
                return;
            }
            assert!(Instant::now() < deadline, "no new page for {what}");
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    pub fn current_url(&self) -> String {
        self.cmd("GET", "/url", None)
            .as_str()
            .unwrap_or("")
            .to_string()
    }

    pub fn title(&self) -> String {
        self.cmd("GET", "/title", None)
            .as_str()
            .unwrap_or("")
            .to_string()
    }

    pub fn source(&self) -> String {
        self.cmd("GET", "/source", None)
            .as_str()
            .unwrap_or("")
            .to_string()
    }

    pub fn find(&self, css: &str) -> String {
        let v = self.cmd(
            "POST",
            "/element",
            Some(json!({"using": "css selector", "value": css})),
        );
        v[ELEMENT]
            .as_str()
            .unwrap_or_else(|| panic!("no element {css}: {v}"))
            .to_string()
    }

    pub fn exists(&self, css: &str) -> bool {
        let v = call(
            "POST",
            &self.url("/elements"),
            Some(json!({"using": "css selector", "value": css})),
        );
        v["value"].as_array().is_some_and(|l| !l.is_empty())
    }

    pub fn click(&self, css: &str) {
        let el = self.find(css);
        self.cmd("POST", &format!("/element/{el}/click"), Some(json!({})));
    }

    /// Clicks something that loads a new page, and waits until the new page has loaded.
    pub fn click_and_wait(&self, css: &str) {
        self.run("window.__sgOldPage = true;", json!([]));
        self.click(css);
        self.wait_for_new_page(&format!("a click on {css}"));
    }

    pub fn type_into(&self, css: &str, text: &str) {
        let el = self.find(css);
        self.cmd("POST", &format!("/element/{el}/clear"), Some(json!({})));
        self.cmd(
            "POST",
            &format!("/element/{el}/value"),
            Some(json!({ "text": text })),
        );
    }

    pub fn value(&self, css: &str) -> String {
        let el = self.find(css);
        self.cmd("GET", &format!("/element/{el}/property/value"), None)
            .as_str()
            .unwrap_or("")
            .to_string()
    }

    pub fn text(&self, css: &str) -> String {
        let el = self.find(css);
        self.cmd("GET", &format!("/element/{el}/text"), None)
            .as_str()
            .unwrap_or("")
            .to_string()
    }

    pub fn run(&self, script: &str, args: Value) -> Value {
        self.cmd(
            "POST",
            "/execute/sync",
            Some(json!({"script": script, "args": args})),
        )
    }

    /// Downloads `url` with the browser's own session cookies, as the browser would save it
    /// (the pages' content security policy lets no script fetch it from inside the page).
    pub fn download(&self, url: &str) -> Vec<u8> {
        let cookies = self.cmd("GET", "/cookie", None);
        let header = cookies
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| Some(format!("{}={}", c["name"].as_str()?, c["value"].as_str()?)))
            .collect::<Vec<_>>()
            .join("; ");
        let answer = ureq::get(url)
            .set("Cookie", &header)
            .call()
            .unwrap_or_else(|e| panic!("download {url}: {e}"));
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut answer.into_reader(), &mut bytes).expect("the body");
        bytes
    }

    /// Saves a PNG of the whole page under `target/screenshots/`.
    pub fn screenshot(&self, name: &str) -> std::path::PathBuf {
        // Tall enough for the whole page (measured at an ordinary size first).
        self.cmd(
            "POST",
            "/window/rect",
            Some(json!({"width": 1280, "height": 900})),
        );
        let height = self
            .run("return document.documentElement.scrollHeight;", json!([]))
            .as_i64()
            .unwrap_or(1400)
            .clamp(600, 8000);
        self.cmd(
            "POST",
            "/window/rect",
            Some(json!({"width": 1280, "height": height + 120})),
        );
        let b64 = self.cmd("GET", "/screenshot", None);
        let png = base64::engine::general_purpose::STANDARD
            .decode(b64.as_str().unwrap_or(""))
            .expect("screenshot is base64");
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
        std::fs::create_dir_all(&dir).expect("screenshot folder");
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).expect("write screenshot");
        path
    }

    /// Runs axe-core (WCAG 2.0, 2.1 and 2.2, levels A and AA) on the page; returns each
    /// violation as a line.
    pub fn accessibility_violations(&self) -> Vec<String> {
        let axe = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/assets/axe.min.js"
        ))
        .expect("tests/assets/axe.min.js (scripts/vendor-frontend)");
        self.run(&format!("{axe}\nreturn true;"), json!([]));
        let result = self.cmd(
            "POST",
            "/execute/async",
            Some(json!({"script": "const done = arguments[arguments.length - 1];
                axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']}})
                  .then(r => done(r.violations.map(v => v.id + ': ' + v.help + ' at ' + v.nodes.map(n => n.target.join(' ')).slice(0, 3).join(', '))))
                  .catch(e => done(['axe failed: ' + e]));", "args": []})),
        );
        result
            .as_array()
            .map(|l| {
                l.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = ureq::delete(&format!("{}/session/{}", self.base, self.session)).call();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
