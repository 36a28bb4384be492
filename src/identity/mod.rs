//! Who is acting: the actor a request or a job runs as, their role, and the hashing of the
//! tokens and passwords that prove it.
pub mod oidc;
pub mod password;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RoleName {
    Chair,
    Practitioner,
    TeamLead,
    /// May record a departure from a timescale (WSP); sees cases like a team lead.
    SeniorManager,
    Administrator,
    /// The service itself, applying what the calendar decides (the 18th birthday). No user
    /// can hold it.
    System,
}

pub fn parse_role(s: &str) -> Option<RoleName> {
    match s {
        "chair" => Some(RoleName::Chair),
        "practitioner" => Some(RoleName::Practitioner),
        "team_lead" => Some(RoleName::TeamLead),
        "senior_manager" => Some(RoleName::SeniorManager),
        "administrator" => Some(RoleName::Administrator),
        _ => None,
    }
}

pub fn role_str(r: RoleName) -> &'static str {
    match r {
        RoleName::Chair => "chair",
        RoleName::Practitioner => "practitioner",
        RoleName::TeamLead => "team_lead",
        RoleName::SeniorManager => "senior_manager",
        RoleName::Administrator => "administrator",
        RoleName::System => "system",
    }
}

/// The signed-in user, as the engine and the access rules see them.
#[derive(Debug, Clone)]
pub struct Actor {
    pub id: String,
    pub name: String,
    pub role: RoleName,
    pub team: String,
    pub authority: String,
    /// Cases this person opened by break-glass whose access has not yet run out, as found when
    /// their request was authenticated.
    pub broken_glass: Vec<String>,
    /// The language they read: their saved choice, or what their request asked for.
    pub language: crate::i18n::Language,
}

pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// 32 random bytes as hex: a session cookie, a CSRF token, the secret part of an API token.
pub fn random_token() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// A short, one-way name for a token, safe to write in a log: enough to tell two tokens apart,
/// useless for signing in.
pub fn token_fingerprint(token: &str) -> String {
    hash_token(token).chars().take(12).collect()
}

/// Compares two tokens without stopping at the first difference.
pub fn same_token(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}
