//! Misdirected email is the sector's commonest breach. An agency may list the email domains its
//! staff use; an invitee or action owner of that agency at any other address is sent nothing
//! until the person asking confirms it with a reason, which the audit keeps.
use serde_json::json;

use crate::error::AppError;
use crate::reference::agencies::AgencyDirectory;

/// One address to check: the field it was typed in, the agency it belongs to, the address.
pub struct Addressed<'a> {
    pub field: String,
    pub agency: Option<&'a str>,
    pub email: &'a str,
}

/// An address outside its agency's domains.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Outside {
    pub field: String,
    pub email: String,
    pub agency: String,
    pub domains: Vec<String>,
}

pub fn outside(agencies: &AgencyDirectory, addresses: &[Addressed<'_>]) -> Vec<Outside> {
    addresses
        .iter()
        .filter_map(|a| {
            let agency = agencies.address_outside(a.agency?, a.email)?;
            Some(Outside {
                field: a.field.clone(),
                email: a.email.trim().to_string(),
                agency: agency.name_en.clone(),
                domains: agency.domains.clone(),
            })
        })
        .collect()
}

/// Nothing outside, or confirmed with a reason of 20 characters or more: the reason, to keep.
/// Otherwise a 422 naming the first such address's field, listing them all.
pub fn confirm(
    outside: &[Outside],
    rationale: &Option<String>,
) -> Result<Option<String>, AppError> {
    let given = rationale
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty());
    if outside.is_empty() {
        return Ok(None);
    }
    match given {
        Some(r) => super::input::rationale(r, "confirm_addresses_rationale").map(Some),
        None => Err(AppError::Unprocessable {
            code: "address_outside_agency",
            field: outside.first().map(|o| o.field.clone()),
            message: format!(
                "please check {} and confirm with a reason (confirm_addresses_rationale): {}",
                if outside.len() == 1 {
                    "this address"
                } else {
                    "these addresses"
                },
                outside
                    .iter()
                    .map(|o| format!(
                        "{} is not at {} ({})",
                        o.email,
                        o.agency,
                        o.domains.join(", ")
                    ))
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
            details: Some(json!({ "addresses": outside })),
        }),
    }
}
