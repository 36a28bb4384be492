//! Agencies an administrator adds in the pages: schools, GP practices, CAMHS, housing and the
//! voluntary sector, beside the shipped authorities, forces, health boards and youth justice
//! services. Each addition or change is a security event in the same transaction, and the
//! running service takes it up at once (the other replicas at their next scheduler pass).
use diesel::prelude::*;

use super::security_event::{self, SecurityKind};
use super::unit_of_work::{self, Intent};
use super::Services;
use crate::error::AppError;
use crate::reference::agencies::{AgencyDirectory, KINDS};
use crate::storage::models::AgencyRow;
use crate::storage::schema::agencies;
use crate::storage::DbConn;

/// The kinds shipped as data in full, which the pages do not add to.
const SHIPPED_ONLY: &[&str] = &["local_authority", "police", "health_board", "youth_justice"];

/// The kinds an administrator may add.
pub fn kinds_to_add() -> impl Iterator<Item = &'static str> {
    KINDS.iter().copied().filter(|k| !SHIPPED_ONLY.contains(k))
}

#[derive(Debug, Clone, Default)]
pub struct AgencyDetails {
    pub code: String,
    pub kind: String,
    pub name_en: String,
    pub name_cy: String,
    /// Email domains, separated by spaces or commas.
    pub domains: String,
    /// For a service of one local authority's area, that authority's code.
    pub area: String,
}

impl AgencyDetails {
    fn domains(&self) -> Vec<String> {
        self.domains
            .split([' ', ',', '\n', '\t'])
            .map(|d| d.trim().trim_start_matches('@').to_ascii_lowercase())
            .filter(|d| !d.is_empty())
            .collect()
    }

    fn area(&self) -> Option<&str> {
        Some(self.area.trim()).filter(|a| !a.is_empty())
    }
}

fn is_domain(d: &str) -> bool {
    d.len() <= 253
        && d.contains('.')
        && d.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}

/// Every problem at once, each naming its field. `adding` checks the code too.
fn check(dir: &AgencyDirectory, a: &AgencyDetails, adding: bool) -> Result<(), AppError> {
    let mut problems = Vec::new();
    let code_ok = (2..=60).contains(&a.code.len())
        && a.code
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if adding && !code_ok {
        problems.push(AppError::bad_request(
            "invalid_agency_code",
            "code",
            "the code is 2 to 60 lower-case letters, digits and hyphens, such as school-ysgol-y-bryn",
        ));
    } else if adding && dir.get(&a.code).is_some() {
        problems.push(AppError::unprocessable(
            "agency_code_taken",
            "code",
            format!("an agency already has the code {:?}", a.code),
        ));
    }
    if !kinds_to_add().any(|k| k == a.kind) {
        problems.push(AppError::bad_request(
            "invalid_agency_kind",
            "kind",
            format!(
                "the kind must be one of {}",
                kinds_to_add().collect::<Vec<_>>().join(", ")
            ),
        ));
    }
    for (field, name) in [("name_en", &a.name_en), ("name_cy", &a.name_cy)] {
        if name.trim().is_empty() || name.chars().count() > 200 {
            problems.push(AppError::bad_request(
                "invalid_agency_name",
                field,
                "the name must be 1 to 200 characters",
            ));
        }
    }
    if let Some(bad) = a.domains().into_iter().find(|d| !is_domain(d)) {
        problems.push(AppError::bad_request(
            "invalid_domain",
            "domains",
            format!("{bad:?} is not an email domain such as school.example.org"),
        ));
    }
    if let Some(area) = a.area() {
        if dir.kind_of(area) != Some("local_authority") {
            problems.push(AppError::bad_request(
                "unknown_authority",
                "area",
                format!("no local authority has the code {area:?}"),
            ));
        }
    }
    match AppError::all_of(problems) {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// Adds an agency; it can be chosen on every form at once.
pub fn add(
    svc: &Services,
    conn: &mut DbConn,
    intent: &Intent<'_>,
    new: &AgencyDetails,
) -> Result<(), AppError> {
    check(&svc.engine.agencies.current(), new, true)?;
    unit_of_work::write(conn, intent, |conn, _| {
        diesel::insert_into(agencies::table)
            .values(AgencyRow {
                code: new.code.clone(),
                kind: new.kind.clone(),
                name_en: new.name_en.trim().to_string(),
                name_cy: new.name_cy.trim().to_string(),
                shipped: false,
                domains: new.domains().join(" "),
                area: new.area().map(str::to_string),
            })
            .execute(conn)
            .map_err(|e| match e {
                diesel::result::Error::DatabaseError(
                    diesel::result::DatabaseErrorKind::UniqueViolation,
                    _,
                ) => AppError::unprocessable(
                    "agency_code_taken",
                    "code",
                    format!("an agency already has the code {:?}", new.code),
                ),
                other => other.into(),
            })?;
        noted(conn, intent, SecurityKind::AgencyAdded, new)
    })?;
    refresh(svc, conn)
}

/// Changes an agency added in the pages; a shipped one changes only with the shipped file.
pub fn change(
    svc: &Services,
    conn: &mut DbConn,
    intent: &Intent<'_>,
    to: &AgencyDetails,
) -> Result<(), AppError> {
    let row: AgencyRow = agencies::table
        .find(&to.code)
        .select(AgencyRow::as_select())
        .get_result(conn)
        .optional()?
        .ok_or(AppError::NotFound("agency"))?;
    if row.shipped {
        return Err(AppError::Conflict {
            code: "shipped_agency",
            message: "this agency comes with the service or the operator's file; change it there"
                .into(),
        });
    }
    check(&svc.engine.agencies.current(), to, false)?;
    unit_of_work::write(conn, intent, |conn, _| {
        diesel::update(agencies::table.find(&to.code))
            .set((
                agencies::kind.eq(&to.kind),
                agencies::name_en.eq(to.name_en.trim()),
                agencies::name_cy.eq(to.name_cy.trim()),
                agencies::domains.eq(to.domains().join(" ")),
                agencies::area.eq(to.area()),
            ))
            .execute(conn)?;
        noted(conn, intent, SecurityKind::AgencyChanged, to)
    })?;
    refresh(svc, conn)
}

fn noted(
    conn: &mut DbConn,
    intent: &Intent<'_>,
    kind: SecurityKind,
    a: &AgencyDetails,
) -> Result<(), AppError> {
    let detail = format!(
        "agency {} ({}, {:?} / {:?}, domains {:?}, area {:?})",
        a.code,
        a.kind,
        a.name_en.trim(),
        a.name_cy.trim(),
        a.domains().join(" "),
        a.area().unwrap_or("")
    );
    security_event::record_administration(
        conn,
        intent.key,
        kind,
        &detail,
        intent.who,
        intent.now.naive_utc(),
    )
}

/// Lays the stored additions over this process's directory.
pub fn refresh(svc: &Services, conn: &mut DbConn) -> Result<(), AppError> {
    svc.engine
        .agencies
        .set_added(crate::storage::reference::added_agencies(conn)?);
    Ok(())
}
