//! A client of the pages over plain HTTP that keeps cookies and does not follow redirects, so
//! each answer can be checked.
#![allow(dead_code)]

use std::collections::HashMap;

use super::TestApp;

/// A client that keeps cookies and does not follow redirects, so each answer can be checked.
pub struct Web {
    base: String,
    agent: ureq::Agent,
    cookies: std::sync::Mutex<HashMap<String, String>>,
    /// Sent as `X-Forwarded-For`, as a reverse proxy would for a client at that address.
    forwarded_for: Option<String>,
}

pub struct Answer {
    pub status: u16,
    pub location: String,
    pub headers: HashMap<String, String>,
    pub body: String,
    /// The body as sent, for what is not text (a PDF).
    pub bytes: Vec<u8>,
}

impl Web {
    pub fn new(app: &TestApp) -> Web {
        Web::at(&app.base)
    }

    /// A client of the service at `base`.
    pub fn at(base: &str) -> Web {
        Web {
            base: base.to_string(),
            agent: ureq::AgentBuilder::new().redirects(0).build(),
            cookies: Default::default(),
            forwarded_for: None,
        }
    }

    /// A browser behind a proxy: every request says it was forwarded for `chain`.
    pub fn forwarded_for(app: &TestApp, chain: &str) -> Web {
        Web {
            forwarded_for: Some(chain.to_string()),
            ..Web::new(app)
        }
    }

    pub fn send(&self, method: &str, path: &str, form: Option<&[(&str, &str)]>) -> Answer {
        self.try_send(method, path, form)
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"))
    }

    /// As `send`, but a connection that fails (a service that has just died) is an error,
    /// not a panic.
    pub fn try_send(
        &self,
        method: &str,
        path: &str,
        form: Option<&[(&str, &str)]>,
    ) -> Result<Answer, String> {
        let cookie = self
            .cookies
            .lock()
            .expect("cookies")
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        let mut req = self
            .agent
            .request(method, &format!("{}{path}", self.base))
            .set("Cookie", &cookie);
        if let Some(chain) = &self.forwarded_for {
            req = req.set("X-Forwarded-For", chain);
        }
        let result = match form {
            Some(f) => req.send_form(f),
            None => req.call(),
        };
        let r = match result {
            Ok(r) => r,
            Err(ureq::Error::Status(_, r)) => r,
            Err(e) => return Err(e.to_string()),
        };
        for set in r.all("set-cookie") {
            if let Some((k, rest)) = set.split_once('=') {
                let v = rest.split(';').next().unwrap_or("").to_string();
                self.cookies
                    .lock()
                    .expect("cookies")
                    .insert(k.to_string(), v);
            }
        }
        let headers = r
            .headers_names()
            .into_iter()
            .filter_map(|n| r.header(&n).map(|v| (n.clone(), v.to_string())))
            .collect();
        let status = r.status();
        let location = r.header("location").unwrap_or("").to_string();
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut r.into_reader(), &mut bytes).map_err(|e| e.to_string())?;
        Ok(Answer {
            status,
            location,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
            bytes,
        })
    }

    pub fn get(&self, path: &str) -> Answer {
        self.send("GET", path, None)
    }

    pub fn post(&self, path: &str, form: &[(&str, &str)]) -> Answer {
        self.send("POST", path, Some(form))
    }

    pub fn hidden(body: &str, name: &str) -> String {
        let marker = format!("name=\"{name}\" value=\"");
        let start = body
            .find(&marker)
            .map(|i| i + marker.len())
            .unwrap_or_else(|| panic!("no {name} in the page"));
        let raw: String = body[start..].chars().take_while(|c| *c != '"').collect();
        // As a browser reads the attribute.
        raw.replace("&#x3D;", "=")
            .replace("&#x2F;", "/")
            .replace("&#x60;", "`")
            .replace("&#x27;", "'")
            .replace("&quot;", "\"")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&")
    }

    /// Whether the browser holds a cookie of this name (any the service set and did not clear).
    /// The value of a cookie the service set, if it did.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.cookies.lock().expect("cookies").get(name).cloned()
    }

    pub fn has_cookie(&self, name: &str) -> bool {
        self.cookies
            .lock()
            .expect("cookies")
            .get(name)
            .is_some_and(|v| !v.is_empty())
    }

    pub fn sign_in(&self, email: &str, password: &str) -> Answer {
        let page = self.get("/sign-in");
        let csrf = Web::hidden(&page.body, "csrf");
        self.post(
            "/sign-in",
            &[("csrf", &csrf), ("email", email), ("password", password)],
        )
    }
}

/// The message shown at the first field in error (GOV.UK `govuk-error-message`), without its
/// visually hidden "Error:" prefix.
pub fn error_at_field(page: &str) -> String {
    let start = page
        .find("govuk-error-message")
        .expect("a message at the field");
    let rest = &page[start..];
    let text = &rest[rest.find("</span>").expect("prefix") + 7..];
    text[..text.find("</p>").expect("end")].trim().to_string()
}
