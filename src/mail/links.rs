//! Signed links for people without an account. A link names one person (an invitee) for one
//! purpose, expires, and is useless if any character is changed.
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

use crate::error::AppError;

type HmacSha256 = Hmac<Sha256>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Accept or decline a meeting invitation.
    Respond,
    /// See and update one's own agreed actions on one case.
    Actions,
    /// A partner agency's referral form: it shows nothing of any case, only takes reports.
    Referral,
}

impl Purpose {
    fn tag(self) -> &'static str {
        match self {
            Purpose::Respond => "rsvp",
            Purpose::Actions => "actions",
            Purpose::Referral => "referral",
        }
    }
}

/// What a link that holds says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub subject: String,
    pub issued: Option<DateTime<Utc>>,
}

#[derive(Debug, PartialEq, Eq)]
pub enum LinkError {
    Invalid,
    Expired,
    /// Withdrawn before it expired (a referral link an administrator revoked).
    Revoked,
}

#[derive(Clone)]
pub struct LinkSigner {
    key: Vec<u8>,
}

impl std::fmt::Debug for LinkSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LinkSigner(..)")
    }
}

impl LinkSigner {
    pub fn new(secret: &[u8]) -> LinkSigner {
        LinkSigner {
            key: secret.to_vec(),
        }
    }

    /// The configured secret, or one kept in `<data dir>/link-secret`, made on first start.
    pub fn from_config(
        secret: Option<&str>,
        data_dir: &std::path::Path,
    ) -> Result<LinkSigner, AppError> {
        if let Some(s) = secret {
            return Ok(LinkSigner::new(s.as_bytes()));
        }
        let path = data_dir.join("link-secret");
        if let Ok(existing) = std::fs::read_to_string(&path) {
            if existing.trim().len() >= 32 {
                return Ok(LinkSigner::new(existing.trim().as_bytes()));
            }
        }
        let mut bytes = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut bytes);
        let secret = hex::encode(bytes);
        std::fs::create_dir_all(data_dir)
            .and_then(|_| std::fs::write(&path, &secret))
            .map_err(|e| AppError::Startup(format!("cannot write {}: {e}", path.display())))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600));
        }
        Ok(LinkSigner::new(secret.as_bytes()))
    }

    fn mac(&self, body: &str) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(&self.key).unwrap_or_else(|_| {
            // HMAC takes keys of any length; this branch cannot be reached.
            HmacSha256::new_from_slice(b"unreachable").expect("fixed key")
        });
        mac.update(body.as_bytes());
        mac
    }

    /// A link for `subject`, made at `issued` (the age of a link decides whether opening it
    /// needs a one-time code) and working until `expires`.
    pub fn sign_at(
        &self,
        purpose: Purpose,
        subject: &str,
        issued: DateTime<Utc>,
        expires: DateTime<Utc>,
    ) -> String {
        // The subject is hex-encoded so that it can hold any text (an email address) safely.
        let body = format!(
            "{}.{}.{}.{}",
            purpose.tag(),
            hex::encode(subject),
            expires.timestamp(),
            issued.timestamp()
        );
        let sig = hex::encode(self.mac(&body).finalize().into_bytes());
        format!("{body}.{sig}")
    }

    /// The subject the link names, if the signature holds and it has not expired.
    pub fn verify(
        &self,
        token: &str,
        purpose: Purpose,
        now: DateTime<Utc>,
    ) -> Result<String, LinkError> {
        self.verify_link(token, purpose, now).map(|v| v.subject)
    }

    /// The subject and the issue time (none for a link made before links carried one).
    pub fn verify_link(
        &self,
        token: &str,
        purpose: Purpose,
        now: DateTime<Utc>,
    ) -> Result<Verified, LinkError> {
        let (body, sig) = token.rsplit_once('.').ok_or(LinkError::Invalid)?;
        let sig = hex::decode(sig).map_err(|_| LinkError::Invalid)?;
        self.mac(body)
            .verify_slice(&sig)
            .map_err(|_| LinkError::Invalid)?;
        let mut parts = body.splitn(4, '.');
        let (tag, subject, expires, issued) =
            (parts.next(), parts.next(), parts.next(), parts.next());
        if tag != Some(purpose.tag()) {
            return Err(LinkError::Invalid);
        }
        let expires: i64 = expires
            .and_then(|e| e.parse().ok())
            .ok_or(LinkError::Invalid)?;
        if now.timestamp() > expires {
            return Err(LinkError::Expired);
        }
        let bytes = subject
            .and_then(|s| hex::decode(s).ok())
            .ok_or(LinkError::Invalid)?;
        Ok(Verified {
            subject: String::from_utf8(bytes).map_err(|_| LinkError::Invalid)?,
            issued: issued
                .and_then(|i| i.parse::<i64>().ok())
                .and_then(|i| DateTime::from_timestamp(i, 0)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    #[test]
    fn signed_links_verify_expire_and_refuse_tampering() {
        let s = LinkSigner::new(b"0123456789abcdef0123456789abcdef");
        let now = Utc
            .with_ymd_and_hms(2026, 11, 25, 10, 0, 0)
            .single()
            .expect("time");
        let t = s.sign_at(Purpose::Respond, "invitee-1", now, now + Duration::days(3));
        assert_eq!(
            s.verify_link(&t, Purpose::Respond, now).map(|v| v.issued),
            Ok(Some(now)),
            "the link carries when it was made"
        );
        assert_eq!(
            s.verify(&t, Purpose::Respond, now),
            Ok("invitee-1".to_string())
        );
        assert_eq!(
            s.verify(&t, Purpose::Respond, now + Duration::days(4)),
            Err(LinkError::Expired)
        );
        let tampered = t.replacen(&hex::encode("invitee-1"), &hex::encode("invitee-2"), 1);
        assert_ne!(tampered, t);
        assert_eq!(
            s.verify(&tampered, Purpose::Respond, now),
            Err(LinkError::Invalid)
        );
        let other_key = LinkSigner::new(b"another secret key of thirty-two!");
        assert_eq!(
            other_key.verify(&t, Purpose::Respond, now),
            Err(LinkError::Invalid)
        );
        assert_eq!(
            s.verify("garbage", Purpose::Respond, now),
            Err(LinkError::Invalid)
        );
    }
}
