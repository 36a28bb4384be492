//! Disclosure of a case record, for the child (a subject access request) or for a court. The
//! record leaves with what would identify other people taken out: other children, the people
//! who reported, and persons of concern. Each thing taken out is numbered where it stood and
//! listed, with the words it replaced and where they were, for the person who reviews the
//! export before it is sent; the list itself is never part of the export. Preparing the export
//! is recorded on the case (who, for whom, how many redactions of each kind, the file's SHA-256)
//! in the unit of work that reads the record, so a copy can be checked against it later.
use diesel::prelude::*;
use serde_json::{json, Value};

use super::audit::{self, AuditKey};
use super::case_access;
use super::child;
use super::input;
use crate::error::AppError;
use crate::identity::{Actor, RoleName};
use crate::reference::case_reference_spans;
use crate::storage::models::{CaseRow, UserRow};
use crate::storage::schema::{audit_events, cases, meeting_cases, users};
use crate::storage::DbConn;

/// Whom the export is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// The child, or someone acting for them, under a subject access request.
    Child,
    Court,
}

impl Purpose {
    pub fn parse(value: &str) -> Result<Purpose, AppError> {
        match value {
            "child" => Ok(Purpose::Child),
            "court" => Ok(Purpose::Court),
            _ => Err(AppError::bad_request(
                "invalid_choice",
                "purpose",
                "say whom the disclosure is for: the child or a court",
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Child => "child",
            Purpose::Court => "court",
        }
    }
}

/// Why something was taken out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    OtherChild,
    Reporter,
    PersonOfConcern,
    /// Someone from a record the reviewer may not open (a child at this child's meeting whose
    /// case is hidden from them): taken out all the same, without saying who they are.
    OtherRecord,
}

impl Kind {
    pub const ALL: [Kind; 4] = [
        Kind::OtherChild,
        Kind::Reporter,
        Kind::PersonOfConcern,
        Kind::OtherRecord,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::OtherChild => "other_child",
            Kind::Reporter => "reporter",
            Kind::PersonOfConcern => "person_of_concern",
            Kind::OtherRecord => "other_record",
        }
    }
}

/// Someone to take out of the record, by a name or an email address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    pub kind: Kind,
    pub name: String,
}

/// One thing taken out, as the reviewer sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redaction {
    pub number: usize,
    pub kind: Kind,
    /// Where in the record it stood, in the reader's words.
    pub place: String,
    pub removed: String,
}

/// Takes the subjects out of each text it is given, numbering what it takes.
pub struct Redactor {
    subjects: Vec<Subject>,
    own_reference: String,
    /// The disclosed child's own name parts: a reporter who shares the child's family name
    /// does not take the child's name out of the child's own record.
    spared: Vec<String>,
    child_name: String,
    pub redactions: Vec<Redaction>,
}

impl Redactor {
    pub fn new(subjects: Vec<Subject>, case: &CaseRow) -> Redactor {
        Redactor {
            subjects,
            own_reference: case.reference.clone(),
            spared: child::name_parts(&case.child_name),
            child_name: case.child_name.clone(),
            redactions: Vec::new(),
        }
    }

    /// `text` with every subject replaced by `marker(number, kind)`.
    pub fn redact(
        &mut self,
        text: &str,
        place: &str,
        marker: &dyn Fn(usize, Kind) -> String,
    ) -> String {
        let mut spans: Vec<(usize, usize, Kind)> = Vec::new();
        for s in &self.subjects {
            if s.name.contains('@') {
                // ASCII case only: it keeps every byte where it was, so the places found are
                // places in `text` whatever else the text holds.
                let (hay, needle) = (text.to_ascii_lowercase(), s.name.to_ascii_lowercase());
                spans.extend(
                    hay.match_indices(&needle)
                        .map(|(at, m)| (at, at + m.len(), s.kind)),
                );
            } else {
                spans.extend(
                    child::name_spans(text, &s.name, &self.spared)
                        .into_iter()
                        .map(|(a, b)| (a, b, s.kind)),
                );
            }
        }
        let own_number = self.own_reference.rsplit('-').next().unwrap_or("");
        let own_year = self.own_reference.split('-').nth(1).unwrap_or("");
        spans.extend(
            case_reference_spans(text)
                .into_iter()
                .filter(|(a, b)| !text[*a..*b].ends_with(&format!("{own_year}-{own_number}")))
                .map(|(a, b)| (a, b, Kind::OtherChild)),
        );
        // The child's own name stays whole in their own record, whoever else shares a part.
        let own = child::name_spans(text, &self.child_name, &self.spared);
        spans.retain(|(a, b, _)| !own.iter().any(|(x, y)| a < y && x < b && x <= a && b <= y));
        // The earliest, then the longest, wins where two overlap.
        spans.sort_by(|x, y| x.0.cmp(&y.0).then(y.1.cmp(&x.1)));
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        for (start, end, kind) in spans {
            if start < at {
                continue;
            }
            out.push_str(&text[at..start]);
            let number = self.redactions.len() + 1;
            out.push_str(&marker(number, kind));
            self.redactions.push(Redaction {
                number,
                kind,
                place: place.to_string(),
                removed: text[start..end].to_string(),
            });
            at = end;
        }
        out.push_str(&text[at..]);
        out
    }

    /// How many were taken out of each kind.
    pub fn counts(&self) -> Value {
        let mut counts = serde_json::Map::new();
        for k in Kind::ALL {
            let n = self.redactions.iter().filter(|r| r.kind == k).count();
            counts.insert(k.as_str().to_string(), json!(n));
        }
        Value::Object(counts)
    }
}

/// A chair, team lead or senior manager of one of the child's own authorities answers for what
/// the authority discloses; someone involved from elsewhere may read the case but not export it.
pub fn may_prepare(actor: &Actor, case: &CaseRow) -> bool {
    matches!(
        actor.role,
        RoleName::Chair | RoleName::TeamLead | RoleName::SeniorManager
    ) && (actor.authority == case.located_authority || actor.authority == case.residence_authority)
}

pub fn require_may_prepare(actor: &Actor, case: &CaseRow) -> Result<(), AppError> {
    if may_prepare(actor, case) {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "a disclosure is prepared by a chair, team lead or senior manager of the child's authority"
                .into(),
        ))
    }
}

/// Who the service itself knows should be taken out of this record:
/// - the other children at a meeting with this child. One whose case the reviewer may not see
///   is taken out all the same (a note or an answer in this record may name them), and listed
///   to the reviewer as from another record, not as a child;
/// - the people the report came from, as the report gave them, and whoever recorded it when
///   they work outside the child's authorities (a police officer, a teacher with an account).
///
/// Staff of the child's authorities acting in their role are not taken out.
pub fn known_subjects(
    conn: &mut DbConn,
    actor: &Actor,
    case: &CaseRow,
) -> Result<Vec<Subject>, AppError> {
    let mut subjects = Vec::new();
    let meetings: Vec<String> = meeting_cases::table
        .filter(meeting_cases::case_id.eq(&case.id))
        .select(meeting_cases::meeting_id)
        .load(conn)?;
    let others: Vec<String> = meeting_cases::table
        .filter(meeting_cases::meeting_id.eq_any(&meetings))
        .filter(meeting_cases::case_id.ne(&case.id))
        .select(meeting_cases::case_id)
        .distinct()
        .load(conn)?;
    let other_cases: Vec<CaseRow> = cases::table
        .filter(cases::id.eq_any(&others))
        .select(CaseRow::as_select())
        .load(conn)?;
    for other in other_cases {
        let kind = if case_access::may_see(conn, actor, &other)? {
            Kind::OtherChild
        } else {
            Kind::OtherRecord
        };
        subjects.push(Subject {
            kind,
            name: other.child_name,
        });
    }
    let created: Option<String> = audit_events::table
        .filter(audit_events::case_id.eq(&case.id))
        .filter(audit_events::kind.eq("case_created"))
        .select(audit_events::payload)
        .first(conn)
        .optional()?;
    let report: Value = created
        .and_then(|p| serde_json::from_str(&p).ok())
        .unwrap_or(Value::Null);
    for inv in report["involvements"].as_array().into_iter().flatten() {
        for field in ["person_name", "person_email"] {
            if let Some(name) = inv[field].as_str().filter(|n| !n.trim().is_empty()) {
                subjects.push(Subject {
                    kind: Kind::Reporter,
                    name: name.trim().to_string(),
                });
            }
        }
    }
    let recorder: Option<UserRow> = users::table
        .find(&case.created_by)
        .select(UserRow::as_select())
        .first(conn)
        .optional()?;
    if let Some(u) = recorder.filter(|u| {
        u.authority_code != case.located_authority && u.authority_code != case.residence_authority
    }) {
        subjects.push(Subject {
            kind: Kind::Reporter,
            name: u.name,
        });
        subjects.push(Subject {
            kind: Kind::Reporter,
            name: u.email,
        });
    }
    Ok(subjects)
}

/// The names a reviewer adds, one to a line, each checked as a name is.
pub fn typed_subjects(text: &str, kind: Kind, field: &str) -> Result<Vec<Subject>, AppError> {
    let mut out = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let name = input::field_len(line, field, 200)?;
        out.push(Subject { kind, name });
    }
    if out.len() > 100 {
        return Err(AppError::bad_request(
            "too_many",
            field,
            format!("{field} can list up to 100 names"),
        ));
    }
    Ok(out)
}

/// The request's own reference (a court's case number, the authority's request number): one
/// line, optional.
pub fn request_reference(value: &str) -> Result<String, AppError> {
    match value.trim() {
        "" => Ok(String::new()),
        value => input::field_len(value, "request_reference", 120),
    }
}

/// Records on the case that a disclosure was prepared, inside the unit of work that read it.
#[allow(clippy::too_many_arguments)]
pub fn record(
    conn: &mut DbConn,
    key: &AuditKey,
    actor: &Actor,
    case: &CaseRow,
    purpose: Purpose,
    request_reference: &str,
    redactor: &Redactor,
    sha256: &str,
    now: chrono::NaiveDateTime,
) -> Result<(), AppError> {
    require_may_prepare(actor, case)?;
    audit::record_on_case(
        conn,
        key,
        &case.id,
        &actor.id,
        "disclosure_prepared",
        json!({
            "purpose": purpose.as_str(),
            "request_reference": request_reference,
            "redactions": redactor.redactions.len(),
            "by_kind": redactor.counts(),
            "sha256": sha256,
        }),
        now,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(name: &str) -> CaseRow {
        CaseRow {
            id: "c".into(),
            reference: "CSE-2026-000001".into(),
            child_name: name.into(),
            child_date_of_birth: chrono::NaiveDate::from_ymd_opt(2011, 3, 1).unwrap(),
            child_gender: "f".into(),
            located_authority: "a".into(),
            residence_authority: "a".into(),
            looked_after: false,
            existing_plan: "none".into(),
            in_secure_estate: false,
            facts: "{}".into(),
            status: "open".into(),
            version: 1,
            audit_seq: 0,
            audit_head: String::new(),
            created_by: "u".into(),
            created_at: chrono::NaiveDateTime::default(),
            updated_at: chrono::NaiveDateTime::default(),
            team: None,
            restricted: false,
            child_language: "en".into(),
            family_language: "en".into(),
            welsh_offer: "not_made".into(),
            child_name_folded: String::new(),
            lead_user_id: None,
            legal_hold: None,
        }
    }

    fn marker(n: usize, k: Kind) -> String {
        format!("[{n}:{}]", k.as_str())
    }

    #[test]
    fn the_childs_own_name_stays_whole_whoever_shares_it() {
        let subjects = vec![Subject {
            kind: Kind::PersonOfConcern,
            name: "Quill".into(),
        }];
        let mut r = Redactor::new(subjects, &case("Ria Quill"));
        assert_eq!(
            r.redact("Ria Quill said Mr Quill was there", "here", &marker),
            "Ria Quill said Mr [1:person_of_concern] was there"
        );
    }

    #[test]
    fn takes_out_each_subject_and_lists_it() {
        let subjects = vec![
            Subject {
                kind: Kind::OtherChild,
                name: "Sam Quill".into(),
            },
            Subject {
                kind: Kind::Reporter,
                name: "Pat Ardent".into(),
            },
            Subject {
                kind: Kind::Reporter,
                name: "pat.ardent@school.example".into(),
            },
        ];
        let mut r = Redactor::new(subjects, &case("Ria Quill"));
        let out = r.redact(
            "Ria met Sam Quill; Ardent (Pat.Ardent@school.example) saw Sam. See CSE-2026-000002 and CSE-2026-000001.",
            "here",
            &marker,
        );
        assert_eq!(
            out,
            "Ria met [1:other_child]; [2:reporter] ([3:reporter]) saw [4:other_child]. See [5:other_child] and CSE-2026-000001."
        );
        let removed: Vec<&str> = r.redactions.iter().map(|x| x.removed.as_str()).collect();
        assert_eq!(
            removed,
            [
                "Sam Quill",
                "Ardent",
                "Pat.Ardent@school.example",
                "Sam",
                "CSE-2026-000002"
            ]
        );
        // The child's own family name, shared with the other child, stays in her own record.
        assert_eq!(r.redact("Quill family", "there", &marker), "Quill family");
        // A text with letters whose lower case is longer still finds the address, in place.
        assert_eq!(
            r.redact(
                "İİ wrote to PAT.ARDENT@school.example today",
                "there",
                &marker
            ),
            "İİ wrote to [6:reporter] today"
        );
        // A reference in the neutral form of subject lines is another case's too.
        assert_eq!(
            r.redact("Ref 2026-000009, not 2026-000001", "there", &marker),
            "Ref [7:other_child], not 2026-000001"
        );
        assert_eq!(r.counts()["other_child"], 4);
        assert_eq!(r.counts()["reporter"], 3);
        assert_eq!(r.counts()["person_of_concern"], 0);
    }
}
