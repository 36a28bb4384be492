//! Every workflow version ever used, kept in the database: a case keeps the version it started
//! with even after the file changes or goes.
use diesel::prelude::*;

use crate::engine::{Workflow, WorkflowRegistry};
use crate::error::AppError;
use crate::storage::schema::workflow_definitions;
use crate::storage::DbConn;

/// Records each loaded version in the database, and loads back any version that running
/// cases use but the folder no longer has, so a case keeps the version it started with.
/// A version whose text changed without a new version number is refused.
pub fn sync_with_database(
    registry: &mut WorkflowRegistry,
    conn: &mut DbConn,
    now: chrono::NaiveDateTime,
) -> Result<(), AppError> {
    let stored: Vec<(String, i32, String, String)> = workflow_definitions::table
        .select((
            workflow_definitions::name,
            workflow_definitions::version,
            workflow_definitions::sha256,
            workflow_definitions::source,
        ))
        .load(conn)?;
    for (name, version, sha, source) in &stored {
        let version = u32::try_from(*version).unwrap_or(0);
        match registry.get(name, version) {
            Some(loaded) if &loaded.sha256 != sha => {
                return Err(AppError::Startup(format!(
                    "{}: workflow '{name}' version {version} differs from the copy cases already use; \
                     raise `version` when changing a workflow",
                    loaded.origin
                )));
            }
            Some(_) => {}
            None => {
                let origin = format!("database copy of {name} v{version}");
                registry.insert(Workflow::parse(source, &origin)?)?;
            }
        }
    }
    for wf in registry.every_version() {
        let known = stored
            .iter()
            .any(|(n, v, _, _)| n == wf.name() && *v as u32 == wf.version());
        if !known {
            diesel::insert_into(workflow_definitions::table)
                .values((
                    workflow_definitions::name.eq(wf.name()),
                    workflow_definitions::version.eq(wf.version() as i32),
                    workflow_definitions::sha256.eq(&wf.sha256),
                    workflow_definitions::source.eq(&wf.source),
                    workflow_definitions::first_loaded_at.eq(now),
                ))
                .execute(conn)?;
        }
    }
    Ok(())
}
