//! Rows as stored. Timestamps are UTC `NaiveDateTime`s; JSON is kept as text so the same
//! columns work on SQLite and PostgreSQL. `treat_none_as_null` keeps each insert's SQL the same
//! whatever is missing, so diesel can reuse the prepared statement.
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::Serialize;

use super::schema::*;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize)]
#[diesel(treat_none_as_null = true, table_name = agencies)]
pub struct AgencyRow {
    pub code: String,
    pub kind: String,
    pub name_en: String,
    pub name_cy: String,
    pub shipped: bool,
    /// Space-separated email domains (an agency added by an administrator).
    pub domains: String,
    pub area: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(treat_none_as_null = true, table_name = users)]
pub struct UserRow {
    pub id: String,
    pub name: String,
    pub email: String,
    pub role: String,
    pub team: String,
    pub authority_code: String,
    pub active: bool,
    pub created_at: NaiveDateTime,
    /// argon2id (PHC string); none for a user who only uses an API token.
    pub password_hash: Option<String>,
    /// `en` or `cy`: the language of the pages they read.
    pub language: String,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(treat_none_as_null = true, table_name = cases)]
pub struct CaseRow {
    pub id: String,
    pub reference: String,
    pub child_name: String,
    pub child_date_of_birth: NaiveDate,
    pub child_gender: String,
    pub located_authority: String,
    pub residence_authority: String,
    pub looked_after: bool,
    pub existing_plan: String,
    pub in_secure_estate: bool,
    pub facts: String,
    pub status: String,
    pub version: i64,
    pub audit_seq: i64,
    pub audit_head: String,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// The team whose staff see the case (with the team leads and senior managers of the
    /// child's authorities); none for a case recorded from outside those authorities.
    pub team: Option<String>,
    /// Opens only to the people named on it (`case_access_grants`) and by break-glass.
    pub restricted: bool,
    /// The child's language and the family's (`cy`, `en`, `both`, `other`, `not_known`).
    pub child_language: String,
    pub family_language: String,
    /// The active offer of Welsh: `accepted`, `declined` or `not_made`.
    pub welsh_offer: String,
    /// The name as search compares it: lower case, without accents.
    pub child_name_folded: String,
    /// Whom the case was handed to when the person leading it left (see `case::lead_user`).
    pub lead_user_id: Option<String>,
    /// A legal hold's reason: the case is kept past its retention period while it is set.
    pub legal_hold: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(treat_none_as_null = true, table_name = api_tokens)]
pub struct ApiTokenRow {
    pub id: String,
    pub user_id: String,
    pub token_hash: String,
    pub label: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub last_used_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
    pub revoked_by: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(treat_none_as_null = true, table_name = case_workflows)]
pub struct CaseWorkflowRow {
    pub id: String,
    pub case_id: String,
    pub workflow: String,
    pub workflow_version: i32,
    pub state: String,
    pub entered_at: NaiveDateTime,
    pub due_at: Option<NaiveDateTime>,
    pub due_source: Option<String>,
    pub started_at: NaiveDateTime,
    pub finished_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(treat_none_as_null = true, table_name = step_history)]
pub struct StepHistoryRow {
    pub id: String,
    pub case_id: String,
    pub case_workflow_id: String,
    pub workflow: String,
    pub state: String,
    pub entered_at: NaiveDateTime,
    pub due_at: Option<NaiveDateTime>,
    pub due_source: Option<String>,
    pub left_at: NaiveDateTime,
    pub left_by_event: String,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(treat_none_as_null = true, table_name = case_involvements)]
pub struct InvolvementRow {
    pub id: String,
    pub case_id: String,
    pub agency_code: String,
    pub person_name: Option<String>,
    pub person_email: Option<String>,
    pub role: String,
    pub user_id: Option<String>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(treat_none_as_null = true, table_name = agreed_actions)]
pub struct AgreedActionRow {
    pub id: String,
    pub case_id: String,
    pub meeting_id: Option<String>,
    pub kind: Option<String>,
    pub title: String,
    pub owner_name: String,
    pub owner_email: Option<String>,
    pub owner_user_id: Option<String>,
    pub agency_code: Option<String>,
    pub due_date: NaiveDate,
    pub status: String,
    pub cancellable: bool,
    pub rules: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// The user who agreed it (or applied the event that created it).
    pub created_by: Option<String>,
    pub reminder_sent_at: Option<NaiveDateTime>,
    pub overdue_notice_at: Option<NaiveDateTime>,
    pub escalated_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(treat_none_as_null = true, table_name = audit_events)]
pub struct AuditEventRow {
    pub case_id: String,
    pub seq: i64,
    pub at: NaiveDateTime,
    pub actor_id: String,
    pub kind: String,
    pub workflow: Option<String>,
    pub event: Option<String>,
    pub from_state: Option<String>,
    pub to_state: Option<String>,
    pub decline: bool,
    pub rationale: Option<String>,
    pub payload: String,
    pub prev_hash: String,
    pub hash: String,
    /// The case's version once this entry is written.
    pub case_version: i64,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(treat_none_as_null = true, table_name = access_log)]
pub struct AccessLogRow {
    pub id: String,
    pub user_id: String,
    pub case_id: String,
    pub action: String,
    pub path: String,
    pub at: NaiveDateTime,
    /// A keyed MAC of the line: a line edited or forged without the key is found out.
    pub mac: String,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(treat_none_as_null = true, table_name = security_events)]
pub struct SecurityEventRow {
    pub id: String,
    pub at: NaiveDateTime,
    pub kind: String,
    pub account: Option<String>,
    pub address: Option<String>,
    pub user_id: Option<String>,
    pub detail: String,
    pub mac: String,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(treat_none_as_null = true, table_name = meetings)]
pub struct MeetingRow {
    pub id: String,
    pub kind: String,
    pub starts_at: NaiveDateTime,
    pub ends_at: NaiveDateTime,
    pub location: Option<String>,
    pub online_link: Option<String>,
    pub chair_user_id: String,
    pub status: String,
    pub sequence: i32,
    pub uid: String,
    pub warnings: String,
    pub warnings_rationale: Option<String>,
    pub cancel_reason: Option<String>,
    pub record_summary: Option<String>,
    pub next_meeting_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(treat_none_as_null = true, table_name = meeting_invitees)]
pub struct InviteeRow {
    pub id: String,
    pub meeting_id: String,
    pub name: String,
    pub email: String,
    pub agency_code: Option<String>,
    pub role: String,
    pub language: String,
    pub direct_knowledge: bool,
    pub response: String,
    pub response_reason: Option<String>,
    pub responded_at: Option<NaiveDateTime>,
    pub attended: Option<bool>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(treat_none_as_null = true, table_name = outbox)]
pub struct OutboxRow {
    pub id: String,
    pub kind: String,
    pub meeting_id: Option<String>,
    pub case_id: Option<String>,
    pub recipient: String,
    pub sender: String,
    pub subject: String,
    pub raw: String,
    pub status: String,
    pub attempts: i32,
    pub not_before: NaiveDateTime,
    pub lease_until: Option<NaiveDateTime>,
    pub leased_by: Option<String>,
    pub last_error: Option<String>,
    pub created_at: NaiveDateTime,
    pub sent_at: Option<NaiveDateTime>,
    /// When an administrator last put it back in the queue after it failed.
    pub retried_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(treat_none_as_null = true, table_name = action_updates)]
pub struct ActionUpdateRow {
    pub id: String,
    pub action_id: String,
    pub case_id: String,
    pub at: NaiveDateTime,
    pub by_name: String,
    pub by_email: Option<String>,
    pub by_user_id: Option<String>,
    pub note: String,
    pub new_status: Option<String>,
    /// `note`, or `more_time_asked` (a partner's request, the note its reason).
    pub kind: String,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(treat_none_as_null = true, table_name = plan_reviews)]
pub struct PlanReviewRow {
    pub id: String,
    pub case_id: String,
    pub case_workflow_id: String,
    pub kind: String,
    pub number: i32,
    pub due_at: NaiveDateTime,
    pub due_source: String,
    pub status: String,
    pub held_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(treat_none_as_null = true, table_name = timescale_departures)]
pub struct TimescaleDepartureRow {
    pub id: String,
    pub case_id: String,
    pub case_workflow_id: Option<String>,
    pub step_entered_at: Option<NaiveDateTime>,
    pub state: Option<String>,
    pub review_id: Option<String>,
    pub due_at: NaiveDateTime,
    pub rationale: String,
    pub recorded_by: String,
    pub recorded_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(treat_none_as_null = true, table_name = referral_links)]
pub struct ReferralLinkRow {
    pub id: String,
    pub agency_code: String,
    pub person_name: Option<String>,
    pub person_email: Option<String>,
    pub issued_by: String,
    pub issued_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub revoked_at: Option<NaiveDateTime>,
    pub revoked_by: Option<String>,
    pub last_used_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(treat_none_as_null = true, table_name = partner_referrals)]
pub struct PartnerReferralRow {
    pub case_id: String,
    pub link_id: String,
    pub reporter_name: String,
    pub reporter_role: String,
    pub reporter_email: String,
    pub reporter_phone: String,
    pub language: String,
    pub submitted_at: NaiveDateTime,
    pub acknowledged_at: Option<NaiveDateTime>,
    pub acknowledged_by: Option<String>,
    pub decision_told_at: Option<NaiveDateTime>,
    pub flagged_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(treat_none_as_null = true, table_name = child_relations)]
pub struct ChildRelationRow {
    pub id: String,
    pub child_id: String,
    pub other_child_id: String,
    pub relation: String,
    pub reason: String,
    pub made_by: String,
    pub made_at: NaiveDateTime,
    pub ended_at: Option<NaiveDateTime>,
    pub ended_by: Option<String>,
}

impl UserRow {
    /// The user as the engine and the access rules see them.
    pub fn actor(&self) -> Result<crate::identity::Actor, crate::error::AppError> {
        Ok(crate::identity::Actor {
            id: self.id.clone(),
            name: self.name.clone(),
            role: crate::identity::parse_role(&self.role).ok_or_else(|| {
                crate::error::AppError::Internal(format!("user {} has role {}", self.id, self.role))
            })?,
            team: self.team.clone(),
            authority: self.authority_code.clone(),
            broken_glass: Vec::new(),
            language: crate::i18n::Language::parse(&self.language)
                .unwrap_or(crate::i18n::Language::English),
        })
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(treat_none_as_null = true, table_name = missing_episodes)]
pub struct MissingEpisodeRow {
    pub id: String,
    pub case_id: String,
    pub went_missing_at: NaiveDateTime,
    pub returned_at: Option<NaiveDateTime>,
    pub reported_by: String,
    pub return_interview_due_at: Option<NaiveDateTime>,
    pub interview_offered_at: Option<NaiveDateTime>,
    pub interview_held_at: Option<NaiveDateTime>,
    pub recorded_by: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = risk_assessments)]
pub struct RiskAssessmentRow {
    pub id: String,
    pub case_id: String,
    pub definition: String,
    pub definition_version: i32,
    pub answers: String,
    pub category: String,
    pub category_title: String,
    pub category_title_cy: String,
    pub rationale: String,
    pub assessed_by: String,
    pub assessed_at: NaiveDateTime,
    pub next_review_on: NaiveDate,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = risk_reviews)]
pub struct RiskReviewRow {
    pub case_id: String,
    pub due_on: NaiveDate,
    pub reason: String,
    pub since: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = contexts)]
pub struct ContextRow {
    pub id: String,
    pub reference: String,
    /// `place`, `peer_group` or `person_of_concern`.
    pub kind: String,
    pub name: String,
    pub description: String,
    pub authority_code: String,
    pub created_by: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(treat_none_as_null = true, table_name = context_actions)]
pub struct ContextActionRow {
    pub id: String,
    pub context_id: String,
    pub title: String,
    pub disruption: bool,
    pub owner_name: String,
    pub owner_email: Option<String>,
    pub owner_user_id: Option<String>,
    pub agency_code: Option<String>,
    pub due_date: NaiveDate,
    pub status: String,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub closed_by: Option<String>,
    pub closed_at: Option<NaiveDateTime>,
    pub close_note: Option<String>,
    pub reminder_sent_at: Option<NaiveDateTime>,
    pub overdue_notice_at: Option<NaiveDateTime>,
    pub escalated_at: Option<NaiveDateTime>,
    pub addresses_rationale: Option<String>,
    /// The exploitation meeting that agreed it, if one did.
    pub meeting_id: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(treat_none_as_null = true, table_name = context_links)]
pub struct ContextLinkRow {
    pub id: String,
    pub context_id: String,
    pub case_id: String,
    pub reason: String,
    pub information: String,
    pub linked_by: String,
    pub linked_at: NaiveDateTime,
    pub ended_at: Option<NaiveDateTime>,
    pub ended_by: Option<String>,
    pub end_reason: Option<String>,
}
