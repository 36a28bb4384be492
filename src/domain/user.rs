//! User accounts: adding one with its first API token (shown once; see `api_token`), finding
//! one by token, setting a password.
use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::api_token;
use super::audit::AuditKey;
use crate::error::AppError;
use crate::identity::parse_role;
use crate::reference::agencies::AgencyDirectory;
use crate::storage::models::UserRow;
use crate::storage::schema::users;
use crate::storage::DbConn;

pub struct NewUser<'a> {
    pub name: &'a str,
    pub email: &'a str,
    pub role: &'a str,
    pub team: &'a str,
    pub authority: &'a str,
}

/// How long a new user's first token works, and the key its issue is recorded under.
pub struct FirstToken<'a> {
    pub key: &'a AuditKey,
    pub days: i64,
}

/// Creates a user and returns (user id, token). The token is not stored and cannot be shown again.
pub fn add_user(
    conn: &mut DbConn,
    agencies: &AgencyDirectory,
    new: NewUser<'_>,
    first: FirstToken<'_>,
    now: NaiveDateTime,
) -> Result<(String, String), AppError> {
    check_new(agencies, &new)?;
    crate::storage::write_transaction(conn, |conn| {
        let row = insert(conn, &new, crate::i18n::Language::English, now)?;
        let (_, token) = api_token::issue(
            conn,
            first.key,
            &row,
            "first token",
            first.days,
            "setup",
            now,
        )?;
        Ok((row.id, token))
    })
}

/// Every problem with a new account's details at once, each naming its field.
pub fn check_new(agencies: &AgencyDirectory, new: &NewUser<'_>) -> Result<(), AppError> {
    let mut problems = Vec::new();
    if new.name.trim().is_empty() || new.name.chars().count() > 200 {
        problems.push(AppError::bad_request(
            "invalid_name",
            "name",
            "name must be 1 to 200 characters",
        ));
    }
    if new.email.trim().parse::<lettre::Address>().is_err() {
        problems.push(AppError::bad_request(
            "invalid_email",
            "email",
            format!("{:?} is not an email address", new.email),
        ));
    }
    if parse_role(new.role).is_none() {
        problems.push(AppError::bad_request(
            "invalid_role",
            "role",
            "role must be one of chair, practitioner, team_lead, senior_manager, administrator",
        ));
    }
    if new.team.trim().is_empty() || new.team.chars().count() > 100 {
        problems.push(AppError::bad_request(
            "invalid_team",
            "team",
            "team must be 1 to 100 characters",
        ));
    }
    if agencies.get(new.authority).is_none() {
        problems.push(AppError::bad_request(
            "unknown_authority",
            "authority",
            format!("no agency has the code {:?}", new.authority),
        ));
    }
    match AppError::all_of(problems) {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// Inserts a checked account with no password and no token; an email already taken is a
/// conflict.
pub fn insert(
    conn: &mut DbConn,
    new: &NewUser<'_>,
    language: crate::i18n::Language,
    now: NaiveDateTime,
) -> Result<UserRow, AppError> {
    let row = UserRow {
        id: uuid::Uuid::new_v4().to_string(),
        name: new.name.trim().to_string(),
        email: new.email.trim().to_lowercase(),
        role: new.role.to_string(),
        team: new.team.trim().to_string(),
        authority_code: new.authority.to_string(),
        active: true,
        created_at: now,
        password_hash: None,
        language: language.code().to_string(),
    };
    match diesel::insert_into(users::table).values(&row).execute(conn) {
        Ok(_) => Ok(row),
        Err(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        )) => Err(AppError::Conflict {
            code: "email_taken",
            message: format!("a user with email {} already exists", new.email.trim()),
        }),
        Err(e) => Err(e.into()),
    }
}

/// The names of these users, by id (the people a record says did something).
pub fn names(
    conn: &mut DbConn,
    ids: &[&str],
) -> Result<std::collections::HashMap<String, String>, AppError> {
    Ok(users::table
        .filter(users::id.eq_any(ids))
        .select((users::id, users::name))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect())
}

pub fn find_by_email(conn: &mut DbConn, email: &str) -> Result<UserRow, AppError> {
    users::table
        .filter(users::email.eq(email.trim().to_lowercase()))
        .select(UserRow::as_select())
        .get_result(conn)
        .optional()?
        .ok_or(AppError::NotFound("user"))
}

/// Sets (or resets, by an administrator) the password of the user with this email, and ends
/// their sessions: a reset after a suspected compromise must lock out whoever got in.
pub fn set_password(conn: &mut DbConn, email: &str, password: &str) -> Result<(), AppError> {
    use crate::storage::schema::web_sessions;
    crate::identity::password::check_policy(password)?;
    let hashed = crate::identity::password::hash(password)?;
    crate::storage::write_transaction(conn, |conn| {
        let id: String = users::table
            .filter(users::email.eq(email.trim().to_lowercase()))
            .select(users::id)
            .get_result(conn)
            .optional()?
            .ok_or(AppError::NotFound("user"))?;
        diesel::update(users::table.find(&id))
            .set(users::password_hash.eq(Some(&hashed)))
            .execute(conn)?;
        diesel::delete(web_sessions::table.filter(web_sessions::user_id.eq(&id))).execute(conn)?;
        Ok(())
    })
}
