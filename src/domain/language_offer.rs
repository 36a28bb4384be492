//! The child's and the family's language, and the active offer of Welsh (Welsh Language
//! Standards), recorded again when they become known or change after the report: on the case,
//! in its history with what they were before.
use diesel::prelude::*;
use serde::Deserialize;
use serde_json::json;

use super::audit;
use super::report::{one_of, LANGUAGES, WELSH_OFFERS};
use super::unit_of_work::{self, Intent};
use super::Services;
use crate::error::AppError;
use crate::identity::Actor;
use crate::storage::schema::cases;
use crate::storage::DbConn;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LanguagesAndOffer {
    pub expected_version: i64,
    pub language: String,
    pub family_language: String,
    pub welsh_offer: String,
}

/// Records them on a case the person may open (an administrator opens none: 404, as for any
/// case out of reach).
pub fn record(
    svc: &Services,
    conn: &mut DbConn,
    intent: &Intent<'_>,
    actor: &Actor,
    key: &str,
    req: &LanguagesAndOffer,
) -> Result<i64, AppError> {
    one_of(&req.language, LANGUAGES, "language")?;
    one_of(&req.family_language, LANGUAGES, "family_language")?;
    one_of(&req.welsh_offer, WELSH_OFFERS, "welsh_offer")?;
    unit_of_work::on_case(conn, intent, actor, key, |conn, case| {
        super::case::at_version(case, req.expected_version)?;
        diesel::update(cases::table.find(&case.id))
            .set((
                cases::child_language.eq(&req.language),
                cases::family_language.eq(&req.family_language),
                cases::welsh_offer.eq(&req.welsh_offer),
            ))
            .execute(conn)?;
        audit::record_on_case(
            conn,
            &svc.audit_key,
            &case.id,
            &actor.id,
            "languages_recorded",
            json!({
                "language": req.language, "family_language": req.family_language,
                "welsh_offer": req.welsh_offer,
                "before": {"language": case.child_language, "family_language": case.family_language,
                           "welsh_offer": case.welsh_offer},
            }),
            intent.now.naive_utc(),
        )?;
        Ok(case.version + 1)
    })
}
