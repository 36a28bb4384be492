//! Reference data kept in the database so that foreign keys hold.
use diesel::prelude::*;

use super::models::AgencyRow;
use super::schema::agencies;
use super::DbConn;
use crate::error::AppError;
use crate::reference::agencies::{Agency, AgencyDirectory};

/// Writes the directory to the database so foreign keys hold; names are refreshed.
pub fn store_agencies(conn: &mut DbConn, directory: &AgencyDirectory) -> Result<(), AppError> {
    let existing: Vec<String> = agencies::table.select(agencies::code).load(conn)?;
    for a in directory.all() {
        if existing.contains(&a.code) {
            diesel::update(agencies::table.find(&a.code))
                .set((
                    agencies::kind.eq(&a.kind),
                    agencies::name_en.eq(&a.name_en),
                    agencies::name_cy.eq(&a.name_cy),
                ))
                .execute(conn)?;
        } else {
            diesel::insert_into(agencies::table)
                .values(AgencyRow {
                    code: a.code.clone(),
                    kind: a.kind.clone(),
                    name_en: a.name_en.clone(),
                    name_cy: a.name_cy.clone(),
                    shipped: true,
                    // A file's agency keeps its domains and area in the file.
                    domains: String::new(),
                    area: None,
                })
                .execute(conn)?;
        }
    }
    Ok(())
}

/// The agencies administrators added in the pages (not in a file).
pub fn added_agencies(conn: &mut DbConn) -> Result<Vec<Agency>, AppError> {
    let rows: Vec<AgencyRow> = agencies::table
        .filter(agencies::shipped.eq(false))
        .select(AgencyRow::as_select())
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|r| Agency {
            domains: r.domains.split_whitespace().map(str::to_string).collect(),
            code: r.code,
            kind: r.kind,
            name_en: r.name_en,
            name_cy: r.name_cy,
            area: r.area,
            serves: Vec::new(),
        })
        .collect())
}
