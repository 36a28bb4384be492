//! Users, roles and API tokens. A token is shown once; only its SHA-256 is stored, so a copy
//! of the database does not let anyone sign in.
use chrono::NaiveDateTime;
use diesel::prelude::*;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::db::models::UserRow;
use crate::db::schema::users;
use crate::db::DbConn;
use crate::domain::agency::AgencyDirectory;
use crate::engine::definition::RoleName;
use crate::error::AppError;

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
}

impl Actor {
    pub fn from_row(row: &UserRow) -> Result<Actor, AppError> {
        Ok(Actor {
            id: row.id.clone(),
            name: row.name.clone(),
            role: parse_role(&row.role).ok_or_else(|| {
                AppError::Internal(format!("user {} has role {}", row.id, row.role))
            })?,
            team: row.team.clone(),
            authority: row.authority_code.clone(),
        })
    }
}

pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

pub struct NewUser<'a> {
    pub name: &'a str,
    pub email: &'a str,
    pub role: &'a str,
    pub team: &'a str,
    pub authority: &'a str,
}

/// Creates a user and returns (user id, token). The token is not stored and cannot be shown again.
pub fn add_user(
    conn: &mut DbConn,
    agencies: &AgencyDirectory,
    new: NewUser<'_>,
    now: NaiveDateTime,
) -> Result<(String, String), AppError> {
    if new.name.trim().is_empty() || new.name.chars().count() > 200 {
        return Err(AppError::bad_request(
            "invalid_name",
            "name",
            "name must be 1 to 200 characters",
        ));
    }
    if new.email.parse::<lettre::Address>().is_err() {
        return Err(AppError::bad_request(
            "invalid_email",
            "email",
            format!("{:?} is not an email address", new.email),
        ));
    }
    if parse_role(new.role).is_none() {
        return Err(AppError::bad_request(
            "invalid_role",
            "role",
            "role must be one of chair, practitioner, team_lead, senior_manager, administrator",
        ));
    }
    if new.team.trim().is_empty() {
        return Err(AppError::bad_request(
            "invalid_team",
            "team",
            "team must not be empty",
        ));
    }
    if agencies.get(new.authority).is_none() {
        return Err(AppError::bad_request(
            "unknown_authority",
            "authority",
            format!("no agency has the code {:?}", new.authority),
        ));
    }
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    let token = format!("sg_{}", hex::encode(bytes));
    let id = uuid::Uuid::new_v4().to_string();
    let inserted = diesel::insert_into(users::table)
        .values(UserRow {
            id: id.clone(),
            name: new.name.trim().to_string(),
            email: new.email.to_lowercase(),
            role: new.role.to_string(),
            team: new.team.trim().to_string(),
            authority_code: new.authority.to_string(),
            token_hash: hash_token(&token),
            active: true,
            created_at: now,
            password_hash: None,
            language: "en".into(),
        })
        .execute(conn);
    match inserted {
        Ok(_) => Ok((id, token)),
        Err(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        )) => Err(AppError::Conflict {
            code: "email_taken",
            message: format!("a user with email {} already exists", new.email),
        }),
        Err(e) => Err(e.into()),
    }
}

pub fn find_by_token(conn: &mut DbConn, token: &str) -> Result<Option<UserRow>, AppError> {
    Ok(users::table
        .filter(users::token_hash.eq(hash_token(token)))
        .filter(users::active.eq(true))
        .select(UserRow::as_select())
        .get_result(conn)
        .optional()?)
}
