//! The pages' cookies: the session cookie (HttpOnly, SameSite=Strict, Secure behind TLS; the
//! session itself is `domain::session`), the anonymous forms' CSRF cookie, the language, and
//! the one-time tokens of forms that create something.
use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::error::AppError;
use crate::storage::schema::users;
use crate::storage::DbConn;

pub use crate::identity::random_token;

pub const COOKIE: &str = "sg_session";
/// The anonymous forms' CSRF token (double-submit: cookie and hidden field must match).
pub const PRE_COOKIE: &str = "sg_form";
pub const LANGUAGE_COOKIE: &str = "sg_lang";

pub use crate::identity::same_token;

/// The anonymous forms' CSRF token: the browser's, if its cookie holds one, else a new one
/// (which the page then sets).
pub fn anonymous_csrf(req: &actix_web::HttpRequest) -> String {
    req.cookie(PRE_COOKIE)
        .map(|c| c.value().to_string())
        .filter(|v| v.len() == 64)
        .unwrap_or_else(random_token)
}

pub fn set_language(conn: &mut DbConn, user_id: &str, language: &str) -> Result<(), AppError> {
    diesel::update(users::table.find(user_id))
        .set(users::language.eq(language))
        .execute(conn)?;
    Ok(())
}

/// What became of a form's one-time token.
pub enum Submission {
    /// First time: go ahead.
    New,
    /// Already done: where it led.
    Done(String),
    /// Another submission of the same form is being handled now.
    InProgress,
}

/// Claims a form's one-time token for this submission.
pub fn claim_submission(
    conn: &mut DbConn,
    token: &str,
    user_id: &str,
    now: NaiveDateTime,
) -> Result<Submission, AppError> {
    use crate::storage::schema::form_submissions;
    use diesel::result::{DatabaseErrorKind, Error as DieselError};
    let inserted = diesel::insert_into(form_submissions::table)
        .values((
            form_submissions::token.eq(token),
            form_submissions::user_id.eq(user_id),
            form_submissions::created_at.eq(now),
        ))
        .execute(conn);
    match inserted {
        Ok(_) => Ok(Submission::New),
        Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {
            let outcome: Option<String> = form_submissions::table
                .find(token)
                .filter(form_submissions::user_id.eq(user_id))
                .select(form_submissions::outcome)
                .get_result::<Option<String>>(conn)
                .optional()?
                .flatten();
            Ok(outcome
                .map(Submission::Done)
                .unwrap_or(Submission::InProgress))
        }
        Err(e) => Err(e.into()),
    }
}

/// Records where a submission led, or frees the token when it was refused (so the corrected
/// form can be sent again).
pub fn finish_submission(
    conn: &mut DbConn,
    token: &str,
    outcome: Option<&str>,
) -> Result<(), AppError> {
    use crate::storage::schema::form_submissions;
    match outcome {
        Some(o) => {
            diesel::update(form_submissions::table.find(token))
                .set(form_submissions::outcome.eq(Some(o)))
                .execute(conn)?;
        }
        None => {
            diesel::delete(form_submissions::table.find(token)).execute(conn)?;
        }
    }
    Ok(())
}
