//! A real SMTP server on loopback for the tests, built on `mailin-embedded`. It keeps every
//! message it accepts, and refuses recipients it is told to refuse (550, a permanent failure).
#![allow(dead_code)]

use std::net::{IpAddr, TcpListener};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mailin_embedded::response::{NO_MAILBOX, OK};
use mailin_embedded::{Handler, Response, Server, SslConfig};

#[derive(Debug, Clone)]
pub struct Received {
    pub from: String,
    pub to: Vec<String>,
    pub raw: Vec<u8>,
    /// When the server accepted it.
    pub at: Instant,
}

impl Received {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.raw).to_string()
    }

    /// The Message-ID header, as sent.
    pub fn message_id(&self) -> String {
        let text = self.text();
        text.lines()
            .find_map(|l| {
                l.strip_prefix("Message-ID:")
                    .or_else(|| l.strip_prefix("Message-Id:"))
            })
            .map(|v| v.trim().to_string())
            .unwrap_or_default()
    }
}

#[derive(Clone, Default)]
struct Sink {
    received: Arc<Mutex<Vec<Received>>>,
    refuse: Arc<Mutex<Vec<String>>>,
    current: Option<Received>,
}

impl Handler for Sink {
    fn rcpt(&mut self, to: &str) -> Response {
        let refused = self
            .refuse
            .lock()
            .map(|r| r.iter().any(|a| to.contains(a.as_str())))
            .unwrap_or(false);
        if refused {
            NO_MAILBOX
        } else {
            OK
        }
    }

    fn data_start(&mut self, _domain: &str, from: &str, _is8bit: bool, to: &[String]) -> Response {
        self.current = Some(Received {
            from: from.to_string(),
            to: to.to_vec(),
            raw: Vec::new(),
            at: Instant::now(),
        });
        OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        if let Some(c) = self.current.as_mut() {
            c.raw.extend_from_slice(buf);
        }
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        if let Some(mut c) = self.current.take() {
            c.at = Instant::now();
            if let Ok(mut r) = self.received.lock() {
                r.push(c);
            }
        }
        OK
    }

    fn helo(&mut self, _ip: IpAddr, _domain: &str) -> Response {
        OK
    }
}

pub struct SmtpSink {
    pub port: u16,
    received: Arc<Mutex<Vec<Received>>>,
    refuse: Arc<Mutex<Vec<String>>>,
}

impl SmtpSink {
    pub fn start() -> SmtpSink {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind SMTP sink");
        Self::start_on(listener)
    }

    /// Starts on a port chosen earlier (the outage test frees a port, then brings the server up on it).
    pub fn start_on(listener: TcpListener) -> SmtpSink {
        let port = listener.local_addr().expect("address").port();
        let sink = Sink::default();
        let (received, refuse) = (sink.received.clone(), sink.refuse.clone());
        std::thread::spawn(move || {
            let mut server = Server::new(sink);
            server
                .with_name("sink.test")
                .with_num_threads(16)
                .with_tcp_listener(listener);
            server.with_ssl(SslConfig::None).expect("plain SMTP");
            // Serves until the test process ends.
            let _ = server.serve();
        });
        SmtpSink {
            port,
            received,
            refuse,
        }
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    pub fn refuse(&self, address: &str) {
        if let Ok(mut r) = self.refuse.lock() {
            r.push(address.to_string());
        }
    }

    /// Accepts mail for an address refused before (its mailbox was fixed).
    pub fn accept(&self, address: &str) {
        if let Ok(mut r) = self.refuse.lock() {
            r.retain(|a| a != address);
        }
    }

    pub fn messages(&self) -> Vec<Received> {
        self.received.lock().map(|r| r.clone()).unwrap_or_default()
    }

    /// Waits (bounded) until at least `n` messages have arrived; returns them all.
    pub fn wait_for(&self, n: usize) -> Vec<Received> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let got = self.messages();
            if got.len() >= n || Instant::now() > deadline {
                return got;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}
