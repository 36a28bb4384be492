//! One-time tokens of the page forms that create things (a report, a meeting): however often a
//! form is sent, and whatever happens to the service between two sends, it makes its thing
//! once. The token is claimed and its outcome recorded inside the unit of work that makes the
//! thing, so a crash leaves both or neither.
use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};

use crate::error::AppError;
use crate::storage::schema::form_submissions;
use crate::storage::DbConn;

/// Where a form already sent by this person led, if it was.
pub fn outcome(conn: &mut DbConn, token: &str, user_id: &str) -> Result<Option<String>, AppError> {
    Ok(form_submissions::table
        .find(token)
        .filter(form_submissions::user_id.eq(user_id))
        .select(form_submissions::outcome)
        .get_result::<Option<String>>(conn)
        .optional()?
        .flatten())
}

/// Claims the token at the start of the unit of work. A second send of the same form waits here
/// for the first to commit, then is refused with `form_already_sent` (and is shown where the
/// first led); if the first was refused or never committed, the second goes ahead.
pub fn claim(
    conn: &mut DbConn,
    token: &str,
    user_id: &str,
    now: NaiveDateTime,
) -> Result<(), AppError> {
    let inserted = diesel::insert_into(form_submissions::table)
        .values((
            form_submissions::token.eq(token),
            form_submissions::user_id.eq(user_id),
            form_submissions::created_at.eq(now),
        ))
        .execute(conn);
    match inserted {
        Ok(_) => Ok(()),
        Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {
            Err(AppError::Conflict {
                code: "form_already_sent",
                message: "this form has already been sent".into(),
            })
        }
        Err(e) => Err(e.into()),
    }
}

/// Records where the form led, in the same unit of work.
pub fn finish(conn: &mut DbConn, token: &str, outcome: &str) -> Result<(), AppError> {
    diesel::update(form_submissions::table.find(token))
        .set(form_submissions::outcome.eq(Some(outcome)))
        .execute(conn)?;
    Ok(())
}
