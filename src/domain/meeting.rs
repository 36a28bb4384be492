//! Meetings: strategy discussions, strategy meetings, conferences and core groups, for one or
//! more children. Scheduling warns (and asks for a rationale) when a time is past the step's
//! deadline, not a working day, or outside working hours. Every change is written to each
//! child's audit trail and queues its emails in the same transaction.
use chrono::{DateTime, NaiveDateTime, NaiveTime, Timelike, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::domain::audit;
use crate::domain::case::visible_case;
use crate::engine::transition::MIN_RATIONALE;
use crate::engine::Engine;
use crate::error::AppError;
use crate::i18n::Language;
use crate::identity::Actor;
use crate::identity::RoleName;
use crate::mail::ics::{self, Method};
use crate::mail::links::Purpose;
use crate::mail::settings::ReminderOffset;
use crate::mail::{message, outbox, Mailer};
use crate::storage::models::{CaseRow, CaseWorkflowRow, InviteeRow, MeetingRow};
use crate::storage::schema::{
    case_workflows, cases, meeting_cases, meeting_invitees, meetings, users,
};
use crate::storage::{write_transaction, DbConn};
use crate::time::wales;
use crate::time::wales::london_date;
use crate::time::wales::london_to_utc;

/// (code, English, Welsh, the main-pathway step it belongs to)
pub const KINDS: &[(&str, &str, &str, Option<&str>)] = &[
    (
        "strategy_discussion",
        "strategy discussion",
        "trafodaeth strategaeth",
        Some("strategy_discussion"),
    ),
    (
        "strategy_meeting",
        "strategy meeting",
        "cyfarfod strategaeth",
        Some("strategy_meeting"),
    ),
    (
        "initial_child_protection_conference",
        "initial child protection conference",
        "cynhadledd amddiffyn plant gychwynnol",
        Some("plan_preparation"),
    ),
    (
        "core_group",
        "core group meeting",
        "cyfarfod grŵp craidd",
        None,
    ),
    (
        "review_conference",
        "review conference",
        "cynhadledd adolygu",
        Some("plan_active"),
    ),
];

fn kind_info(
    code: &str,
) -> Option<&'static (
    &'static str,
    &'static str,
    &'static str,
    Option<&'static str>,
)> {
    KINDS.iter().find(|k| k.0 == code)
}

pub fn kind_name(code: &str, lang: Language) -> String {
    kind_info(code)
        .map(|k| match lang {
            Language::English => k.1,
            Language::Welsh => k.2,
        })
        .unwrap_or(code)
        .to_string()
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct InviteeInput {
    pub name: String,
    pub email: String,
    pub agency: Option<String>,
    pub role: String,
    /// en or cy; emails carry both languages, this one first.
    #[serde(default = "english")]
    pub language: String,
    /// R9: whether they have direct knowledge of the child.
    #[serde(default)]
    pub direct_knowledge: bool,
}

fn english() -> String {
    "en".into()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeetingRequest {
    pub kind: String,
    /// Wales local time (2026-12-02T10:00) or a time with an offset.
    pub starts_at: String,
    pub ends_at: String,
    pub location: Option<String>,
    pub online_link: Option<String>,
    /// Case ids or references: one meeting may concern several children.
    pub cases: Vec<String>,
    pub invitees: Vec<InviteeInput>,
    /// Given when the chair confirms a time the service warned about.
    pub confirm_warnings_rationale: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RescheduleRequest {
    pub starts_at: String,
    pub ends_at: String,
    pub location: Option<String>,
    pub online_link: Option<String>,
    pub reason: String,
    pub confirm_warnings_rationale: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CancelRequest {
    pub reason: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttendanceInput {
    pub invitee_id: String,
    pub attended: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordRequest {
    /// The decisions and their basis, as sent to everyone invited. No child's name.
    pub summary: String,
    pub next_meeting_at: Option<String>,
    #[serde(default)]
    pub attendance: Vec<AttendanceInput>,
}

/// Text that goes into an email must not name any of the meeting's children.
fn refuse_child_names(text: &str, field: &str, case_rows: &[CaseRow]) -> Result<(), AppError> {
    if case_rows
        .iter()
        .any(|c| crate::domain::child::names_child(text, &c.child_name))
    {
        return Err(AppError::unprocessable(
            "child_named",
            field,
            format!("{field} contains the child's name; emails carry only the case reference"),
        ));
    }
    Ok(())
}

fn parse_time(raw: &str, field: &str) -> Result<DateTime<Utc>, AppError> {
    if let Ok(t) = DateTime::parse_from_rfc3339(raw) {
        return Ok(t.with_timezone(&Utc));
    }
    let local = NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S"))
        .map_err(|_| {
            AppError::bad_request(
                "invalid_datetime",
                field,
                format!("{field} must be a Wales local time such as 2026-12-02T10:00, or a time with an offset; got {raw:?}"),
            )
        })?;
    london_to_utc(local).map_err(|why| {
        AppError::unprocessable("ambiguous_local_time", field, format!("{field}: {why}"))
    })
}

fn check_reason(reason: &str, field: &str) -> Result<String, AppError> {
    let r = reason.trim();
    if r.chars().count() < MIN_RATIONALE {
        return Err(AppError::unprocessable(
            "reason_too_short",
            field,
            format!("{field} must say why, in at least {MIN_RATIONALE} characters"),
        ));
    }
    if r.chars().count() > 2000 {
        return Err(AppError::bad_request(
            "reason_too_long",
            field,
            format!("{field} is longer than 2000 characters"),
        ));
    }
    Ok(r.to_string())
}

struct Place {
    location: Option<String>,
    online_link: Option<String>,
}

fn check_place(location: &Option<String>, online_link: &Option<String>) -> Result<Place, AppError> {
    let location = location
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    let online_link = online_link
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    if location.is_none() && online_link.is_none() {
        return Err(AppError::bad_request(
            "place_required",
            "location",
            "give a location, an online_link, or both",
        ));
    }
    if location.as_ref().is_some_and(|l| l.chars().count() > 300) {
        return Err(AppError::bad_request(
            "too_long",
            "location",
            "location is longer than 300 characters",
        ));
    }
    if let Some(link) = &online_link {
        if !(link.starts_with("https://") || link.starts_with("http://"))
            || link.len() > 500
            || link.contains(char::is_whitespace)
        {
            return Err(AppError::bad_request(
                "invalid_link",
                "online_link",
                "online_link must be an https:// address",
            ));
        }
    }
    Ok(Place {
        location,
        online_link,
    })
}

fn check_times(
    engine: &Engine,
    starts_raw: &str,
    ends_raw: &str,
) -> Result<(DateTime<Utc>, DateTime<Utc>), AppError> {
    let starts = parse_time(starts_raw, "starts_at")?;
    let ends = parse_time(ends_raw, "ends_at")?;
    if ends <= starts {
        return Err(AppError::unprocessable(
            "end_before_start",
            "ends_at",
            "ends_at must be after starts_at",
        ));
    }
    if ends - starts > chrono::Duration::hours(12) {
        return Err(AppError::unprocessable(
            "too_long",
            "ends_at",
            "a meeting cannot last more than 12 hours",
        ));
    }
    if starts < engine.now() {
        return Err(AppError::unprocessable(
            "in_the_past",
            "starts_at",
            "starts_at is in the past",
        ));
    }
    Ok((starts, ends))
}

/// Reasons a chair should think twice about a time. Not refusals: the chair may confirm with a
/// rationale, which is recorded.
fn scheduling_warnings(
    engine: &Engine,
    conn: &mut DbConn,
    kind: &str,
    starts: DateTime<Utc>,
    ends: DateTime<Utc>,
    case_rows: &[CaseRow],
) -> Result<Vec<String>, AppError> {
    let mut warnings = Vec::new();
    let day = london_date(starts);
    if !engine.calendar.is_working_day(day) {
        let what = engine
            .calendar
            .holiday_name(day)
            .map(|h| format!("a bank holiday ({h})"))
            .unwrap_or_else(|| "a weekend".into());
        warnings.push(format!("{} is {what}", day.format("%A %-d %B %Y")));
    }
    let local_start = starts.with_timezone(&chrono_tz::Europe::London).time();
    let local_end = ends.with_timezone(&chrono_tz::Europe::London).time();
    let open = NaiveTime::from_hms_opt(8, 0, 0).unwrap_or(NaiveTime::MIN);
    let close = NaiveTime::from_hms_opt(18, 0, 0).unwrap_or(NaiveTime::MIN);
    if local_start < open || local_end > close || london_date(ends) != day {
        warnings.push(format!(
            "the meeting runs {}–{}, outside working hours (08:00–18:00)",
            local_start.format("%H:%M"),
            local_end.format("%H:%M")
        ));
    }
    if let Some(step) = kind_info(kind).and_then(|k| k.3) {
        let primary = engine.registry.primary();
        let ids: Vec<&str> = case_rows.iter().map(|c| c.id.as_str()).collect();
        let rows: Vec<CaseWorkflowRow> = case_workflows::table
            .filter(case_workflows::case_id.eq_any(&ids))
            .filter(case_workflows::workflow.eq(primary.name()))
            .select(CaseWorkflowRow::as_select())
            .load(conn)?;
        for cw in rows
            .iter()
            .filter(|cw| cw.state == step && cw.finished_at.is_none())
        {
            if let Some(due) = cw.due_at.map(|d| d.and_utc()).filter(|d| *d < starts) {
                let reference = case_rows
                    .iter()
                    .find(|c| c.id == cw.case_id)
                    .map(|c| c.reference.as_str())
                    .unwrap_or("");
                warnings.push(format!(
                    "{reference}: this step is due by {}; the meeting is after that deadline",
                    wales::date_time(due, Language::English)
                ));
            }
        }
    }
    Ok(warnings)
}

fn confirm(warnings: &[String], rationale: &Option<String>) -> Result<Option<String>, AppError> {
    if warnings.is_empty() {
        return Ok(rationale
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string));
    }
    match rationale
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        None => Err(AppError::Unprocessable {
            code: "scheduling_warnings",
            field: Some("starts_at".into()),
            message: format!(
                "please confirm this time with a rationale (confirm_warnings_rationale): {}",
                warnings.join("; ")
            ),
            details: Some(json!({ "warnings": warnings })),
        }),
        Some(r) => check_reason(r, "confirm_warnings_rationale").map(Some),
    }
}

fn check_invitees(engine: &Engine, invitees: &[InviteeInput]) -> Result<(), AppError> {
    if invitees.is_empty() || invitees.len() > 100 {
        return Err(AppError::bad_request(
            "invitees_required",
            "invitees",
            "invite between 1 and 100 people",
        ));
    }
    for (i, inv) in invitees.iter().enumerate() {
        let at = |f: &str| format!("invitees[{i}].{f}");
        if inv.name.trim().is_empty() || inv.name.chars().count() > 200 {
            return Err(AppError::bad_request(
                "invalid_name",
                at("name"),
                "name must be 1 to 200 characters",
            ));
        }
        if inv.email.trim().parse::<lettre::Address>().is_err() {
            return Err(AppError::bad_request(
                "invalid_email",
                at("email"),
                format!("{:?} is not an email address", inv.email),
            ));
        }
        if Language::parse(&inv.language).is_none() {
            return Err(AppError::bad_request(
                "invalid_language",
                at("language"),
                "language must be en or cy",
            ));
        }
        if inv.role.trim().is_empty() || inv.role.chars().count() > 100 {
            return Err(AppError::bad_request(
                "invalid_role",
                at("role"),
                "role must be 1 to 100 characters",
            ));
        }
        if let Some(a) = &inv.agency {
            if engine.agencies.get(a).is_none() {
                return Err(AppError::unprocessable(
                    "unknown_agency",
                    at("agency"),
                    format!("no agency has the code {a:?}"),
                ));
            }
        }
    }
    let mut emails: Vec<String> = invitees
        .iter()
        .map(|i| i.email.trim().to_lowercase())
        .collect();
    emails.sort();
    if emails.windows(2).any(|w| w[0] == w[1]) {
        return Err(AppError::bad_request(
            "duplicate_invitee",
            "invitees",
            "the same email address is invited twice",
        ));
    }
    Ok(())
}

/// "CSE-2026-000001, CSE-2026-000002": how emails and pages name the meeting's children.
fn joined_references(case_rows: &[CaseRow]) -> String {
    case_rows
        .iter()
        .map(|c| c.reference.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Another change to the meeting was saved between our read and our write.
fn meeting_moved_on() -> AppError {
    AppError::Conflict {
        code: "stale_version",
        message: "the meeting changed meanwhile; reload it".into(),
    }
}

/// Everything needed to write one meeting email.
struct MeetingContext<'a> {
    meeting: &'a MeetingRow,
    references: String,
    chair_name: String,
}

fn respond_url(mailer: &Mailer, invitee: &InviteeRow, meeting: &MeetingRow) -> String {
    let expires = meeting.ends_at.and_utc() + chrono::Duration::days(1);
    format!(
        "{}/respond/{}",
        mailer.public_url,
        mailer.links.sign(Purpose::Respond, &invitee.id, expires)
    )
}

#[allow(clippy::too_many_arguments)]
fn queue_email(
    conn: &mut DbConn,
    mailer: &Mailer,
    ctx: &MeetingContext<'_>,
    invitee: &InviteeRow,
    template: &'static str,
    calendar: Option<Method>,
    extra: Value,
    not_before: NaiveDateTime,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let m = ctx.meeting;
    let starts = m.starts_at.and_utc();
    let ends = m.ends_at.and_utc();
    let url = respond_url(mailer, invitee, m);
    let preferred = Language::parse(&invitee.language).unwrap_or(Language::English);
    let rendered = mailer.templates.render_bilingual(template, preferred, |lang| {
        let mut data = json!({
            "invitee_name": invitee.name, "kind": kind_name(&m.kind, lang), "references": ctx.references,
            "starts": wales::date_time(starts, lang), "ends_time": wales::time(ends),
            "location": m.location, "online_link": m.online_link, "chair_name": ctx.chair_name,
            "respond_url": url, "updated": m.sequence > 0, "reason": "",
        });
        // Extras may be per language ({"en": {...}, "cy": {...}}) or shared.
        let extra = extra.get(lang.code()).unwrap_or(&extra);
        if let (Some(d), Some(e)) = (data.as_object_mut(), extra.as_object()) {
            for (k, v) in e {
                if k != "en" && k != "cy" {
                    d.insert(k.clone(), v.clone());
                }
            }
        }
        data
    })?;
    let ics_text = calendar.map(|method| {
        let summary = format!(
            "{} ({})",
            kind_name(&m.kind, Language::English),
            ctx.references
        );
        let invite = ics::MeetingInvite {
            uid: &m.uid,
            sequence: m.sequence as u32,
            summary: &summary,
            starts,
            ends,
            location: m.location.as_deref(),
            online_link: m.online_link.as_deref(),
            organizer_name: &ctx.chair_name,
            organizer_email: mailer.from.email.as_ref(),
            attendee_name: &invitee.name,
            attendee_email: &invitee.email,
            stamp: now,
        };
        (ics::calendar(&invite, method), method)
    });
    let to: lettre::message::Mailbox = format!(
        "{} <{}>",
        invitee.name.replace(['<', '>', '"', ','], " "),
        invitee.email
    )
    .parse()
    .or_else(|_| invitee.email.parse())
    .map_err(|_| {
        AppError::Internal(format!(
            "stored invitee email {:?} does not parse",
            invitee.email
        ))
    })?;
    let id = uuid::Uuid::new_v4().to_string();
    let raw = message::build(
        &mailer.from,
        &to,
        &mailer.message_id(&id),
        &rendered,
        ics_text.as_ref().map(|(t, m)| (t.as_str(), *m)),
    )?;
    outbox::enqueue(
        conn,
        &id,
        outbox::NewEmail {
            kind: template,
            meeting_id: Some(&m.id),
            case_id: None,
            recipient: &invitee.email,
            sender: mailer.from.email.as_ref(),
            subject: &rendered.subject,
            raw,
            not_before,
        },
        now.naive_utc(),
    )
}

/// When each reminder goes: N working days before (at the same time of day), or N hours before.
fn reminder_times(
    engine: &Engine,
    offsets: &[ReminderOffset],
    starts: DateTime<Utc>,
) -> Vec<DateTime<Utc>> {
    offsets
        .iter()
        .filter_map(|o| match o {
            ReminderOffset::Hours(h) => Some(starts - chrono::Duration::hours(i64::from(*h))),
            ReminderOffset::WorkingDays(n) => {
                let local = starts.with_timezone(&chrono_tz::Europe::London);
                let mut day = local.date_naive();
                let mut left = *n;
                while left > 0 {
                    day = day.pred_opt()?;
                    if engine.calendar.is_working_day(day) {
                        left -= 1;
                    }
                }
                london_to_utc(day.and_time(local.time().with_second(0)?)).ok()
            }
        })
        .filter(|t| *t > engine.now())
        .collect()
}

fn queue_invitations(
    engine: &Engine,
    mailer: &Mailer,
    conn: &mut DbConn,
    ctx: &MeetingContext<'_>,
    invitees: &[InviteeRow],
) -> Result<(), AppError> {
    let now = engine.now();
    for inv in invitees {
        queue_email(
            conn,
            mailer,
            ctx,
            inv,
            "invitation",
            Some(Method::Request),
            json!({}),
            now.naive_utc(),
            now,
        )?;
        for at in reminder_times(engine, &mailer.reminders, ctx.meeting.starts_at.and_utc()) {
            queue_email(
                conn,
                mailer,
                ctx,
                inv,
                "reminder",
                None,
                json!({}),
                at.naive_utc(),
                now,
            )?;
        }
    }
    Ok(())
}

fn chair_name(conn: &mut DbConn, user_id: &str) -> Result<String, AppError> {
    Ok(users::table
        .find(user_id)
        .select(users::name)
        .get_result(conn)?)
}

/// The cases a meeting concerns, in reference order.
fn cases_of(conn: &mut DbConn, meeting_id: &str) -> Result<Vec<CaseRow>, AppError> {
    Ok(meeting_cases::table
        .inner_join(cases::table)
        .filter(meeting_cases::meeting_id.eq(meeting_id))
        .order(cases::reference)
        .select(CaseRow::as_select())
        .load(conn)?)
}

fn may_convene(actor: &Actor) -> Result<(), AppError> {
    if matches!(actor.role, RoleName::Chair | RoleName::TeamLead) {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "only a chair or team lead may convene or change a meeting".into(),
        ))
    }
}

pub fn schedule(
    engine: &Engine,
    mailer: &Mailer,
    conn: &mut DbConn,
    actor: &Actor,
    req: &MeetingRequest,
) -> Result<String, AppError> {
    may_convene(actor)?;
    if kind_info(&req.kind).is_none() {
        return Err(AppError::bad_request(
            "invalid_choice",
            "kind",
            format!(
                "kind must be one of {}",
                KINDS.iter().map(|k| k.0).collect::<Vec<_>>().join(", ")
            ),
        ));
    }
    let (starts, ends) = check_times(engine, &req.starts_at, &req.ends_at)?;
    let place = check_place(&req.location, &req.online_link)?;
    check_invitees(engine, &req.invitees)?;
    if req.cases.is_empty() || req.cases.len() > 30 {
        return Err(AppError::bad_request(
            "cases_required",
            "cases",
            "a meeting concerns between 1 and 30 children's cases",
        ));
    }
    let mut case_rows: Vec<CaseRow> = Vec::new();
    for key in &req.cases {
        let c = visible_case(conn, actor, key)?;
        if !case_rows.iter().any(|r| r.id == c.id) {
            case_rows.push(c);
        }
    }
    if let Some(l) = &place.location {
        refuse_child_names(l, "location", &case_rows)?;
    }
    let warnings = scheduling_warnings(engine, conn, &req.kind, starts, ends, &case_rows)?;
    let rationale = confirm(&warnings, &req.confirm_warnings_rationale)?;
    let now = engine.now();
    let naive_now = now.naive_utc();
    write_transaction(conn, |conn| {
        let id = uuid::Uuid::new_v4().to_string();
        let meeting = MeetingRow {
            id: id.clone(),
            kind: req.kind.clone(),
            starts_at: starts.naive_utc(),
            ends_at: ends.naive_utc(),
            location: place.location.clone(),
            online_link: place.online_link.clone(),
            chair_user_id: actor.id.clone(),
            status: "scheduled".into(),
            sequence: 0,
            uid: format!("{id}@safeguard"),
            warnings: json!(warnings).to_string(),
            warnings_rationale: rationale.clone(),
            cancel_reason: None,
            record_summary: None,
            next_meeting_at: None,
            created_at: naive_now,
            updated_at: naive_now,
        };
        diesel::insert_into(meetings::table)
            .values(&meeting)
            .execute(conn)?;
        for c in &case_rows {
            diesel::insert_into(meeting_cases::table)
                .values((
                    meeting_cases::meeting_id.eq(&id),
                    meeting_cases::case_id.eq(&c.id),
                ))
                .execute(conn)?;
        }
        let invitees: Vec<InviteeRow> = req
            .invitees
            .iter()
            .map(|i| InviteeRow {
                id: uuid::Uuid::new_v4().to_string(),
                meeting_id: id.clone(),
                name: i.name.trim().to_string(),
                email: i.email.trim().to_lowercase(),
                agency_code: i.agency.clone(),
                role: i.role.trim().to_string(),
                language: i.language.clone(),
                direct_knowledge: i.direct_knowledge,
                response: "pending".into(),
                response_reason: None,
                responded_at: None,
                attended: None,
            })
            .collect();
        for inv in &invitees {
            diesel::insert_into(meeting_invitees::table)
                .values(inv)
                .execute(conn)?;
        }
        let payload = json!({
            "meeting_id": id, "kind": req.kind, "starts_at": starts, "ends_at": ends,
            "location": place.location, "online_link": place.online_link,
            "other_cases": case_rows.len() - 1,
            "invitees": invitees.iter().map(|i| json!({"name": i.name, "agency": i.agency_code, "role": i.role, "direct_knowledge": i.direct_knowledge})).collect::<Vec<_>>(),
            "warnings": warnings, "warnings_rationale": rationale,
        });
        for c in &case_rows {
            audit::record_on_case(
                conn,
                &c.id,
                &actor.id,
                "meeting_scheduled",
                payload.clone(),
                naive_now,
            )?;
        }
        let ctx = MeetingContext {
            meeting: &meeting,
            references: joined_references(&case_rows),
            chair_name: actor.name.clone(),
        };
        queue_invitations(engine, mailer, conn, &ctx, &invitees)?;
        Ok(id)
    })
}

/// A meeting the actor may see: they can see at least one of its children's cases.
pub fn visible_meeting(
    conn: &mut DbConn,
    actor: &Actor,
    id: &str,
) -> Result<(MeetingRow, Vec<CaseRow>), AppError> {
    let meeting: MeetingRow = meetings::table
        .find(id)
        .select(MeetingRow::as_select())
        .get_result(conn)
        .optional()?
        .ok_or(AppError::NotFound("meeting"))?;
    let rows = cases_of(conn, id)?;
    let mut visible = Vec::new();
    for c in rows {
        if crate::domain::case::may_see(conn, actor, &c)? {
            visible.push(c);
        }
    }
    if visible.is_empty() {
        return Err(AppError::NotFound("meeting"));
    }
    Ok((meeting, visible))
}

fn changeable(
    conn: &mut DbConn,
    actor: &Actor,
    id: &str,
) -> Result<(MeetingRow, Vec<CaseRow>), AppError> {
    may_convene(actor)?;
    let (meeting, visible) = visible_meeting(conn, actor, id)?;
    let all = cases_of(conn, id)?;
    if visible.len() != all.len() {
        return Err(AppError::Forbidden(
            "this meeting includes children whose cases you cannot see; ask its chair".into(),
        ));
    }
    if meeting.status != "scheduled" {
        return Err(AppError::Conflict {
            code: "meeting_cancelled",
            message: format!("the meeting is {}; it cannot be changed", meeting.status),
        });
    }
    Ok((meeting, all))
}

fn invitees_of(conn: &mut DbConn, meeting_id: &str) -> Result<Vec<InviteeRow>, AppError> {
    Ok(meeting_invitees::table
        .filter(meeting_invitees::meeting_id.eq(meeting_id))
        .order(meeting_invitees::name)
        .select(InviteeRow::as_select())
        .load(conn)?)
}

pub fn reschedule(
    engine: &Engine,
    mailer: &Mailer,
    conn: &mut DbConn,
    actor: &Actor,
    id: &str,
    req: &RescheduleRequest,
) -> Result<(), AppError> {
    let (meeting, case_rows) = changeable(conn, actor, id)?;
    let reason = check_reason(&req.reason, "reason")?;
    refuse_child_names(&reason, "reason", &case_rows)?;
    let (starts, ends) = check_times(engine, &req.starts_at, &req.ends_at)?;
    let place = check_place(
        &req.location.clone().or(meeting.location.clone()),
        &req.online_link.clone().or(meeting.online_link.clone()),
    )?;
    let warnings = scheduling_warnings(engine, conn, &meeting.kind, starts, ends, &case_rows)?;
    let rationale = confirm(&warnings, &req.confirm_warnings_rationale)?;
    let now = engine.now();
    let naive_now = now.naive_utc();
    write_transaction(conn, |conn| {
        let updated = MeetingRow {
            starts_at: starts.naive_utc(),
            ends_at: ends.naive_utc(),
            location: place.location.clone(),
            online_link: place.online_link.clone(),
            sequence: meeting.sequence + 1,
            warnings: json!(warnings).to_string(),
            warnings_rationale: rationale.clone(),
            updated_at: naive_now,
            ..meeting.clone()
        };
        let changed = diesel::update(
            meetings::table
                .filter(meetings::id.eq(id))
                .filter(meetings::sequence.eq(meeting.sequence)),
        )
        .set((
            meetings::starts_at.eq(updated.starts_at),
            meetings::ends_at.eq(updated.ends_at),
            meetings::location.eq(&updated.location),
            meetings::online_link.eq(&updated.online_link),
            meetings::sequence.eq(updated.sequence),
            meetings::warnings.eq(&updated.warnings),
            meetings::warnings_rationale.eq(&updated.warnings_rationale),
            meetings::updated_at.eq(naive_now),
        ))
        .execute(conn)?;
        if changed != 1 {
            return Err(meeting_moved_on());
        }
        outbox::cancel_pending(conn, id, "reminder")?;
        let payload = json!({"meeting_id": id, "reason": reason, "from": meeting.starts_at.and_utc(), "starts_at": starts, "ends_at": ends,
            "sequence": updated.sequence, "warnings": warnings, "warnings_rationale": rationale});
        for c in &case_rows {
            audit::record_on_case(
                conn,
                &c.id,
                &actor.id,
                "meeting_rescheduled",
                payload.clone(),
                naive_now,
            )?;
        }
        let ctx = MeetingContext {
            meeting: &updated,
            references: joined_references(&case_rows),
            chair_name: chair_name(conn, &meeting.chair_user_id)?,
        };
        let invitees = invitees_of(conn, id)?;
        queue_invitations(engine, mailer, conn, &ctx, &invitees)
    })
}

pub fn cancel(
    engine: &Engine,
    mailer: &Mailer,
    conn: &mut DbConn,
    actor: &Actor,
    id: &str,
    req: &CancelRequest,
) -> Result<(), AppError> {
    let (meeting, case_rows) = changeable(conn, actor, id)?;
    let reason = check_reason(&req.reason, "reason")?;
    refuse_child_names(&reason, "reason", &case_rows)?;
    let now = engine.now();
    let naive_now = now.naive_utc();
    write_transaction(conn, |conn| {
        let cancelled = MeetingRow {
            status: "cancelled".into(),
            sequence: meeting.sequence + 1,
            cancel_reason: Some(reason.clone()),
            updated_at: naive_now,
            ..meeting.clone()
        };
        let changed = diesel::update(
            meetings::table
                .filter(meetings::id.eq(id))
                .filter(meetings::sequence.eq(meeting.sequence)),
        )
        .set((
            meetings::status.eq("cancelled"),
            meetings::sequence.eq(cancelled.sequence),
            meetings::cancel_reason.eq(Some(&reason)),
            meetings::updated_at.eq(naive_now),
        ))
        .execute(conn)?;
        if changed != 1 {
            return Err(meeting_moved_on());
        }
        outbox::cancel_pending(conn, id, "reminder")?;
        for c in &case_rows {
            audit::record_on_case(
                conn,
                &c.id,
                &actor.id,
                "meeting_cancelled",
                json!({"meeting_id": id, "reason": reason}),
                naive_now,
            )?;
        }
        let ctx = MeetingContext {
            meeting: &cancelled,
            references: joined_references(&case_rows),
            chair_name: chair_name(conn, &meeting.chair_user_id)?,
        };
        for inv in invitees_of(conn, id)? {
            queue_email(
                conn,
                mailer,
                &ctx,
                &inv,
                "cancellation",
                Some(Method::Cancel),
                json!({"reason": reason}),
                naive_now,
                now,
            )?;
        }
        Ok(())
    })
}

/// Records that the meeting was held: who attended, the summary of decisions and the next
/// date. The record goes into each child's case, and the summary to everyone invited (WSP:
/// within 5 working days; it is sent as soon as the chair records it).
pub fn record(
    engine: &Engine,
    mailer: &Mailer,
    conn: &mut DbConn,
    actor: &Actor,
    id: &str,
    req: &RecordRequest,
) -> Result<(), AppError> {
    let (meeting, case_rows) = changeable(conn, actor, id)?;
    if meeting.starts_at.and_utc() > engine.now() {
        return Err(AppError::unprocessable(
            "not_held_yet",
            "summary",
            "the meeting has not started yet",
        ));
    }
    let summary = req.summary.trim().to_string();
    if summary.chars().count() < MIN_RATIONALE || summary.chars().count() > 5000 {
        return Err(AppError::bad_request(
            "invalid_summary",
            "summary",
            format!("summary must be {MIN_RATIONALE} to 5000 characters"),
        ));
    }
    refuse_child_names(&summary, "summary", &case_rows)?;
    let next = match &req.next_meeting_at {
        Some(raw) => {
            let t = parse_time(raw, "next_meeting_at")?;
            if t <= engine.now() {
                return Err(AppError::unprocessable(
                    "in_the_past",
                    "next_meeting_at",
                    "next_meeting_at is in the past",
                ));
            }
            Some(t)
        }
        None => None,
    };
    let invitees = invitees_of(conn, id)?;
    for (i, a) in req.attendance.iter().enumerate() {
        if !invitees.iter().any(|inv| inv.id == a.invitee_id) {
            return Err(AppError::unprocessable(
                "unknown_invitee",
                format!("attendance[{i}].invitee_id"),
                "not an invitee of this meeting",
            ));
        }
    }
    let now = engine.now();
    let naive_now = now.naive_utc();
    write_transaction(conn, |conn| {
        let held = MeetingRow {
            status: "held".into(),
            record_summary: Some(summary.clone()),
            next_meeting_at: next.map(|t| t.naive_utc()),
            updated_at: naive_now,
            ..meeting.clone()
        };
        let changed = diesel::update(
            meetings::table
                .filter(meetings::id.eq(id))
                .filter(meetings::status.eq("scheduled")),
        )
        .set((
            meetings::status.eq("held"),
            meetings::record_summary.eq(&held.record_summary),
            meetings::next_meeting_at.eq(held.next_meeting_at),
            meetings::updated_at.eq(naive_now),
        ))
        .execute(conn)?;
        if changed != 1 {
            return Err(AppError::Conflict {
                code: "meeting_cancelled",
                message: "the meeting was changed meanwhile; reload it".into(),
            });
        }
        for a in &req.attendance {
            diesel::update(meeting_invitees::table.find(&a.invitee_id))
                .set(meeting_invitees::attended.eq(Some(a.attended)))
                .execute(conn)?;
        }
        outbox::cancel_pending(conn, id, "reminder")?;
        let attendance: Vec<Value> = invitees
            .iter()
            .map(|inv| {
                let attended = req.attendance.iter().find(|a| a.invitee_id == inv.id).map(|a| a.attended);
                json!({"name": inv.name, "agency": inv.agency_code, "role": inv.role, "direct_knowledge": inv.direct_knowledge, "attended": attended})
            })
            .collect();
        let payload = json!({"meeting_id": id, "kind": meeting.kind, "summary": summary, "attendance": attendance,
            "next_meeting_at": next, "children_in_meeting": case_rows.len()});
        for c in &case_rows {
            audit::record_on_case(
                conn,
                &c.id,
                &actor.id,
                "meeting_recorded",
                payload.clone(),
                naive_now,
            )?;
        }
        let ctx = MeetingContext {
            meeting: &held,
            references: joined_references(&case_rows),
            chair_name: chair_name(conn, &meeting.chair_user_id)?,
        };
        for inv in &invitees {
            let extra = |lang: Language| json!({"summary": summary, "next_meeting": next.map(|t| wales::date_time(t, lang))});
            queue_email(
                conn,
                mailer,
                &ctx,
                inv,
                "meeting_record",
                None,
                json!({"en": extra(Language::English), "cy": extra(Language::Welsh)}),
                naive_now,
                now,
            )?;
        }
        Ok(())
    })
}

/// The meeting as the API shows it: no child's name, only case references.
pub fn view(
    conn: &mut DbConn,
    meeting: &MeetingRow,
    visible: &[CaseRow],
) -> Result<Value, AppError> {
    let invitees = invitees_of(conn, &meeting.id)?;
    Ok(json!({
        "id": meeting.id, "kind": meeting.kind, "status": meeting.status, "sequence": meeting.sequence,
        "uid": meeting.uid,
        "starts_at": meeting.starts_at.and_utc(), "ends_at": meeting.ends_at.and_utc(),
        "starts_at_local": wales::date_time(meeting.starts_at.and_utc(), Language::English),
        "location": meeting.location, "online_link": meeting.online_link,
        "chair_user_id": meeting.chair_user_id,
        "cases": visible.iter().map(|c| json!({"id": c.id, "reference": c.reference})).collect::<Vec<_>>(),
        "warnings": serde_json::from_str::<Value>(&meeting.warnings).unwrap_or(Value::Null),
        "warnings_rationale": meeting.warnings_rationale, "cancel_reason": meeting.cancel_reason,
        "record_summary": meeting.record_summary, "next_meeting_at": meeting.next_meeting_at.map(|t| t.and_utc()),
        "invitees": invitees.iter().map(|i| json!({
            "id": i.id, "name": i.name, "email": i.email, "agency": i.agency_code, "role": i.role,
            "language": i.language, "direct_knowledge": i.direct_knowledge,
            "response": i.response, "response_reason": i.response_reason, "responded_at": i.responded_at.map(|t| t.and_utc()),
            "attended": i.attended,
        })).collect::<Vec<_>>(),
    }))
}

/// The invitee list a chair starts from (R6): both authorities when they differ, the agencies
/// that took part in the strategy discussion, and the people recorded as involved.
pub fn suggested_invitees(
    engine: &Engine,
    conn: &mut DbConn,
    case: &CaseRow,
) -> Result<Vec<Value>, AppError> {
    use crate::storage::models::InvolvementRow;
    use crate::storage::schema::case_involvements;
    let mut out: Vec<Value> = Vec::new();
    let mut agencies_listed: Vec<String> = Vec::new();
    let mut add_agency = |out: &mut Vec<Value>, code: &str, role: &str| {
        if !agencies_listed.iter().any(|a| a == code) {
            agencies_listed.push(code.to_string());
            let name = engine
                .agencies
                .get(code)
                .map(|a| a.name_en.clone())
                .unwrap_or_default();
            out.push(json!({"name": null, "email": null, "agency": code, "agency_name": name, "role": role, "language": "en", "direct_knowledge": false,
                "needs": "a named person and email address"}));
        }
    };
    let involved: Vec<InvolvementRow> = case_involvements::table
        .filter(case_involvements::case_id.eq(&case.id))
        .select(InvolvementRow::as_select())
        .load(conn)?;
    for i in involved.iter().filter(|i| i.person_email.is_some()) {
        out.push(json!({"name": i.person_name, "email": i.person_email, "agency": i.agency_code, "role": i.role, "language": "en", "direct_knowledge": false}));
    }
    add_agency(
        &mut out,
        &case.located_authority,
        "social services, authority where the child is located",
    );
    if case.residence_authority != case.located_authority {
        add_agency(
            &mut out,
            &case.residence_authority,
            "social services, authority where the child lives",
        );
    }
    let facts = crate::engine::transition::case_facts(case);
    let participants: Vec<String> = facts
        .get("participants")
        .and_then(Value::as_array)
        .map(|l| {
            l.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    for p in participants
        .iter()
        .chain(involved.iter().map(|i| &i.agency_code))
    {
        let role = match engine.agencies.kind_of(p) {
            Some("police") => "police",
            Some("health_board") => "health",
            Some("education") => "education",
            Some("youth_justice") => "youth offending service",
            Some("local_authority") => "social services",
            _ => "partner agency",
        };
        add_agency(&mut out, p, role);
    }
    Ok(out)
}

#[derive(Debug, Clone, Deserialize)]
pub struct Answer {
    pub answer: String,
    #[serde(default)]
    pub reason: Option<String>,
}

/// Records an invitee's answer given through their signed link. The link names the invitee.
pub fn record_answer(
    engine: &Engine,
    conn: &mut DbConn,
    invitee_id: &str,
    answer: &Answer,
) -> Result<(InviteeRow, MeetingRow), AppError> {
    if !matches!(answer.answer.as_str(), "accepted" | "declined") {
        return Err(AppError::bad_request(
            "invalid_choice",
            "answer",
            "answer must be accepted or declined",
        ));
    }
    let reason = answer
        .reason
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.chars().take(2000).collect::<String>());
    let now = engine.now().naive_utc();
    write_transaction(conn, |conn| {
        let (invitee, meeting) = invitee_and_meeting(conn, invitee_id)?;
        if meeting.status != "scheduled" {
            return Err(AppError::Conflict {
                code: "meeting_cancelled",
                message: "the meeting has been cancelled".into(),
            });
        }
        diesel::update(meeting_invitees::table.find(invitee_id))
            .set((
                meeting_invitees::response.eq(&answer.answer),
                meeting_invitees::response_reason.eq(&reason),
                meeting_invitees::responded_at.eq(Some(now)),
            ))
            .execute(conn)?;
        Ok((
            InviteeRow {
                response: answer.answer.clone(),
                response_reason: reason.clone(),
                responded_at: Some(now),
                ..invitee
            },
            meeting,
        ))
    })
}

pub fn invitee_and_meeting(
    conn: &mut DbConn,
    invitee_id: &str,
) -> Result<(InviteeRow, MeetingRow), AppError> {
    let invitee: InviteeRow = meeting_invitees::table
        .find(invitee_id)
        .select(InviteeRow::as_select())
        .get_result(conn)
        .optional()?
        .ok_or(AppError::NotFound("invitation"))?;
    let meeting: MeetingRow = meetings::table
        .find(&invitee.meeting_id)
        .select(MeetingRow::as_select())
        .get_result(conn)?;
    Ok((invitee, meeting))
}

/// Values for the public answer page: no child's name.
pub fn answer_page_data(
    conn: &mut DbConn,
    invitee: &InviteeRow,
    meeting: &MeetingRow,
    action: &str,
) -> Result<Value, AppError> {
    let references = joined_references(&cases_of(conn, &meeting.id)?);
    let starts = meeting.starts_at.and_utc();
    Ok(json!({
        "invitee_name": invitee.name, "kind_en": kind_name(&meeting.kind, Language::English),
        "kind_cy": kind_name(&meeting.kind, Language::Welsh), "references": references,
        "starts_en": wales::date_time(starts, Language::English), "starts_cy": wales::date_time(starts, Language::Welsh),
        "ends_time": wales::time(meeting.ends_at.and_utc()), "location": meeting.location,
        "cancelled": meeting.status == "cancelled",
        "response": if invitee.response == "pending" { Value::Null } else { Value::String(invitee.response.clone()) },
        "action": action,
    }))
}
