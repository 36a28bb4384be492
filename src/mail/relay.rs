//! The council's mail relay: a few open SMTP connections shared by the outbox's senders.
//!
//! lettre speaks the protocol (greeting, EHLO, STARTTLS, AUTH, each command and reply); this
//! module only decides when to open, reuse and drop a connection, and how the message body is
//! handed over. lettre's own transport writes the body and the end-of-data marker as two writes,
//! and offers no way to set TCP_NODELAY on its socket, so with Nagle's algorithm the five-byte
//! marker waits for the server's delayed ACK of the body: about 40 ms a message, which held
//! delivery to 89 messages a second on loopback. Here the dot-stuffed body and its marker go in
//! one write, through lettre's `command`, which then reads the server's reply.
use std::borrow::Cow;
use std::fmt;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use lettre::address::Envelope;
use lettre::transport::smtp::authentication::{Credentials, DEFAULT_MECHANISMS};
use lettre::transport::smtp::client::{SmtpConnection, Tls, TlsParameters};
use lettre::transport::smtp::commands::{Data, Mail, Rcpt};
use lettre::transport::smtp::extension::{ClientId, Extension, MailBodyParameter, MailParameter};
use lettre::transport::smtp::Error as SmtpError;

/// A connection idle for longer than this is asked for a NOOP before it carries a message, since
/// relays close idle sessions and a message must not be half-sent into a closed one.
const FRESH_FOR: Duration = Duration::from_secs(5);
/// Connections kept open between batches: one for each sender, with room to spare.
const KEEP_OPEN: usize = 8;

pub struct Relay {
    host: String,
    port: u16,
    tls: Tls,
    credentials: Option<Credentials>,
    hello: ClientId,
    timeout: Option<Duration>,
    idle: Mutex<Vec<(SmtpConnection, Instant)>>,
}

impl fmt::Debug for Relay {
    // No credentials in any log.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Relay")
            .field("host", &self.host)
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

impl Relay {
    /// Reads `smtp://[user:password@]host[:port][/hello-name][?tls=required|opportunistic]` or
    /// `smtps://…`, the forms lettre's `from_url` reads, with the same default ports.
    pub fn from_url(url: &str, timeout: Option<Duration>) -> Result<Relay, String> {
        let parsed = url::Url::parse(url).map_err(|e| e.to_string())?;
        let host = parsed
            .host_str()
            .ok_or_else(|| "it names no host".to_string())?
            .to_string();
        let tls_query = parsed
            .query_pairs()
            .find(|(k, _)| k == "tls")
            .map(|(_, v)| v.into_owned());
        let parameters = || TlsParameters::new(host.clone()).map_err(|e| e.to_string());
        let (tls, default_port) = match (parsed.scheme(), tls_query.as_deref()) {
            ("smtp", None) => (Tls::None, 25),
            ("smtp", Some("required")) => (Tls::Required(parameters()?), 587),
            ("smtp", Some("opportunistic")) => (Tls::Opportunistic(parameters()?), 587),
            ("smtps", _) => (Tls::Wrapper(parameters()?), 465),
            (scheme, tls) => {
                return Err(format!("unknown scheme {scheme:?} or tls setting {tls:?}"))
            }
        };
        let decode = |s: &str| -> Result<String, String> {
            percent_encoding::percent_decode_str(s)
                .decode_utf8()
                .map(Cow::into_owned)
                .map_err(|e| e.to_string())
        };
        let credentials = match parsed.password() {
            Some(password) => Some(Credentials::new(
                decode(parsed.username())?,
                decode(password)?,
            )),
            None => None,
        };
        let hello = match parsed.path().trim_matches('/') {
            "" => ClientId::default(),
            name => ClientId::Domain(name.to_string()),
        };
        Ok(Relay {
            port: parsed.port().unwrap_or(default_port),
            host,
            tls,
            credentials,
            hello,
            timeout,
            idle: Mutex::new(Vec::new()),
        })
    }

    fn connect(&self) -> Result<SmtpConnection, SmtpError> {
        let wrapper = match &self.tls {
            Tls::Wrapper(p) => Some(p),
            _ => None,
        };
        let mut conn = SmtpConnection::connect(
            (self.host.as_str(), self.port),
            self.timeout,
            &self.hello,
            wrapper,
            None,
        )?;
        match &self.tls {
            Tls::Required(p) => conn.starttls(p, &self.hello)?,
            Tls::Opportunistic(p) if conn.can_starttls() => conn.starttls(p, &self.hello)?,
            _ => {}
        }
        if let Some(credentials) = &self.credentials {
            conn.auth(DEFAULT_MECHANISMS, credentials)?;
        }
        Ok(conn)
    }

    /// An idle connection used recently, or one asked for a NOOP first; `None` when none is open.
    fn reuse(&self) -> Option<SmtpConnection> {
        loop {
            let (mut conn, since) = self.idle.lock().ok()?.pop()?;
            if since.elapsed() < FRESH_FOR || conn.test_connected() {
                return Some(conn);
            }
            conn.abort();
        }
    }

    fn give_back(&self, mut conn: SmtpConnection) {
        if conn.has_broken() {
            return;
        }
        match self.idle.lock() {
            Ok(mut idle) if idle.len() < KEEP_OPEN => idle.push((conn, Instant::now())),
            _ => {
                let _ = conn.quit();
            }
        }
    }

    /// Sends one message. An error leaves no connection behind in an unknown state: the
    /// session is aborted and the next message opens a new one. A reused connection the relay
    /// has closed fails at MAIL, before anything of the message was accepted, so the message
    /// is then sent once on a new connection.
    pub fn send(&self, envelope: &Envelope, message: &str) -> Result<(), SmtpError> {
        if let Some(mut conn) = self.reuse() {
            match transaction(&mut conn, envelope, message) {
                Ok(()) => {
                    self.give_back(conn);
                    return Ok(());
                }
                Err((stage, e)) => {
                    conn.abort();
                    if stage != Stage::Mail {
                        return Err(e);
                    }
                }
            }
        }
        let mut conn = self.connect()?;
        match transaction(&mut conn, envelope, message) {
            Ok(()) => {
                self.give_back(conn);
                Ok(())
            }
            Err((_, e)) => {
                conn.abort();
                Err(e)
            }
        }
    }
}

/// How far a transaction got before it failed.
#[derive(Debug, PartialEq, Eq)]
enum Stage {
    Mail,
    Later,
}

fn transaction(
    conn: &mut SmtpConnection,
    envelope: &Envelope,
    message: &str,
) -> Result<(), (Stage, SmtpError)> {
    let mut options = Vec::new();
    let non_ascii = |a: &lettre::Address| !AsRef::<str>::as_ref(a).is_ascii();
    if envelope.from().is_some_and(non_ascii) || envelope.to().iter().any(non_ascii) {
        options.push(MailParameter::SmtpUtfEight);
    }
    if !message.is_ascii() && conn.server_info().supports_feature(Extension::EightBitMime) {
        options.push(MailParameter::Body(MailBodyParameter::EightBitMime));
    }
    conn.command(Mail::new(envelope.from().cloned(), options))
        .map_err(|e| (Stage::Mail, e))?;
    let later = |e| (Stage::Later, e);
    for to in envelope.to() {
        conn.command(Rcpt::new(to.clone(), vec![])).map_err(later)?;
    }
    conn.command(Data).map_err(later)?;
    conn.command(Body(message)).map_err(later)?;
    Ok(())
}

/// The message as the DATA phase carries it: each line that begins with a dot gets another
/// (RFC 5321 section 4.5.2), then the end-of-data marker, so that the whole goes in one write.
struct Body<'a>(&'a str);

impl fmt::Display for Body<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for line in self.0.split_inclusive('\n') {
            if line.starts_with('.') {
                f.write_str(".")?;
            }
            f.write_str(line)?;
        }
        f.write_str("\r\n.\r\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_that_begins_with_a_dot_is_doubled_and_the_marker_follows() {
        let carried = Body("Subject: x\r\n\r\n.hidden\r\nplain . dot\r\n..two\r\n").to_string();
        assert_eq!(
            carried,
            "Subject: x\r\n\r\n..hidden\r\nplain . dot\r\n...two\r\n\r\n.\r\n"
        );
    }

    #[test]
    fn the_url_forms_the_readme_names_are_read_with_their_default_ports() {
        let plain = Relay::from_url("smtp://relay.council.example", None).expect("plain");
        assert_eq!((plain.port, matches!(plain.tls, Tls::None)), (25, true));
        let submission =
            Relay::from_url("smtp://u:p%40ss@relay.council.example?tls=required", None)
                .expect("submission");
        assert_eq!(submission.port, 587);
        assert!(matches!(submission.tls, Tls::Required(_)));
        assert!(submission.credentials.is_some());
        let wrapped = Relay::from_url("smtps://relay.council.example", None).expect("smtps");
        assert_eq!(wrapped.port, 465);
        assert!(Relay::from_url("smtp://relay.council.example?tls=sometimes", None).is_err());
        assert!(!format!("{submission:?}").contains("p@ss"));
    }
}
