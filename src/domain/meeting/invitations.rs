//! The emails and calendar files a meeting sends: invitations (iCalendar REQUEST, one UID a
//! meeting, SEQUENCE raised on every change), reminders, cancellations and the record, each in
//! the invitee's language first, with a signed link to answer. Composed and queued in the
//! meeting's own transaction.
use chrono::{DateTime, NaiveDateTime, Timelike, Utc};
use diesel::prelude::*;
use serde_json::{json, Value};

use crate::domain::Services;
use crate::error::AppError;
use crate::i18n::Language;
use crate::mail::ics::{self, Method};
use crate::mail::links::Purpose;
use crate::mail::settings::ReminderOffset;
use crate::mail::{message, outbox, Mailer};
use crate::storage::models::{CaseRow, InviteeRow, MeetingRow};
use crate::storage::schema::users;
use crate::storage::DbConn;
use crate::time::wales::{self, london_to_utc};

/// "CSE-2026-000001, CSE-2026-000002": how emails and pages name the meeting's children.
pub(super) fn joined_references(case_rows: &[CaseRow]) -> String {
    case_rows
        .iter()
        .map(|c| c.reference.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Everything needed to write one meeting email.
pub(super) struct MeetingContext<'a> {
    pub meeting: &'a MeetingRow,
    pub references: String,
    pub chair_name: String,
    /// Where replies and questions go: the chair's own address, not the service's no-reply.
    pub chair_email: String,
    /// For an updated invitation: when it was, and the chair's reason for the change.
    pub moved: Option<(DateTime<Utc>, String)>,
}

/// The invitee's answer link, issued when its email goes (a reminder's link is as new as the
/// reminder, for the one-time-code rule).
pub(super) fn respond_url(
    mailer: &Mailer,
    invitee: &InviteeRow,
    meeting: &MeetingRow,
    issued: DateTime<Utc>,
) -> String {
    let expires = meeting.ends_at.and_utc() + chrono::Duration::days(1);
    format!(
        "{}/respond/{}",
        mailer.public_url,
        mailer
            .links
            .sign_at(Purpose::Respond, &invitee.id, issued, expires)
    )
}

#[allow(clippy::too_many_arguments)]
pub(super) fn queue_email(
    conn: &mut DbConn,
    svc: &Services,
    ctx: &MeetingContext<'_>,
    invitee: &InviteeRow,
    template: &'static str,
    calendar: Option<Method>,
    extra: Value,
    not_before: NaiveDateTime,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let mailer = &svc.mailer;
    let m = ctx.meeting;
    let starts = m.starts_at.and_utc();
    let ends = m.ends_at.and_utc();
    let url = respond_url(mailer, invitee, m, now.max(not_before.and_utc()));
    let preferred = Language::parse(&invitee.language).unwrap_or(Language::English);
    let rendered = mailer.templates.render_bilingual(template, preferred, |lang| {
        let mut data = json!({
            "invitee_name": invitee.name, "kind": super::kinds::kind_name(&svc.engine, &m.kind, lang), "references": ctx.references,
            "starts": wales::date_time(starts, lang), "ends_time": wales::time(ends),
            "starts_on": wales::date_time_in_sentence(starts, wales::Before::On, lang),
            "location": m.location, "online_link": m.online_link, "chair_name": ctx.chair_name,
            "chair_email": ctx.chair_email,
            "respond_url": url, "updated": m.sequence > 0, "reason": "",
            "was": ctx.moved.as_ref().map(|(was, _)| wales::date_time(*was, lang)),
            "change_reason": ctx.moved.as_ref().map(|(_, why)| why.clone()),
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
        // The calendar shows one summary: the invitee's language, the other below it.
        let summary_in = |lang| {
            let kind = super::kinds::kind_name(&svc.engine, &m.kind, lang);
            let mut kind = kind.chars();
            let kind: String = kind
                .next()
                .map(|c| c.to_uppercase().chain(kind).collect())
                .unwrap_or_default();
            format!("{kind} ({})", ctx.references)
        };
        let summary = summary_in(preferred);
        // What the meeting is for, whom to ask and where to answer, in both languages, the
        // invitee's first: the calendar entry is often all that is read on the day.
        let described = |lang| {
            use crate::i18n::catalogue::Arg;
            let words = |key: &str| {
                svc.words.format(
                    lang,
                    key,
                    &[
                        ("name", Arg::Text(&ctx.chair_name)),
                        ("value", Arg::Text(&ctx.chair_email)),
                    ],
                )
            };
            format!(
                "{}\n{}\n{}\n{}\n{url}",
                summary_in(lang),
                words("ics_purpose"),
                words("ics_chair"),
                words("ics_answer"),
            )
        };
        let description = format!(
            "{}\n\n{}",
            described(preferred),
            described(preferred.other())
        );
        let invite = ics::MeetingInvite {
            uid: &m.uid,
            sequence: m.sequence as u32,
            summary: &summary,
            language: preferred.code(),
            description: &description,
            starts,
            ends,
            location: m.location.as_deref(),
            online_link: m.online_link.as_deref(),
            organizer_name: &ctx.chair_name,
            organizer_email: &ctx.chair_email,
            attendee_name: &invitee.name,
            attendee_email: &invitee.email,
            stamp: now,
        };
        (ics::calendar(&invite, method), method)
    });
    // lettre quotes and encodes the display name itself; nothing that ends a header line is
    // kept (the name was refused with one, so this is only a second guard).
    let name: String = invitee.name.chars().filter(|c| !c.is_control()).collect();
    let to = invitee
        .email
        .parse::<lettre::Address>()
        .map(|address| lettre::message::Mailbox::new(Some(name), address))
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
    svc: &Services,
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
                    if svc.engine.calendar.is_working_day(day) {
                        left -= 1;
                    }
                }
                london_to_utc(day.and_time(local.time().with_second(0)?)).ok()
            }
        })
        .filter(|t| *t > svc.now())
        .collect()
}

pub(super) fn queue_invitations(
    svc: &Services,
    conn: &mut DbConn,
    ctx: &MeetingContext<'_>,
    invitees: &[InviteeRow],
) -> Result<(), AppError> {
    let now = svc.now();
    let mailer = &svc.mailer;
    for inv in invitees {
        queue_email(
            conn,
            svc,
            ctx,
            inv,
            "invitation",
            Some(Method::Request),
            json!({}),
            now.naive_utc(),
            now,
        )?;
        for at in reminder_times(svc, &mailer.reminders, ctx.meeting.starts_at.and_utc()) {
            queue_email(
                conn,
                svc,
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

/// The chair's name and address, as invitations give them.
pub(super) fn chair(conn: &mut DbConn, user_id: &str) -> Result<(String, String), AppError> {
    Ok(users::table
        .find(user_id)
        .select((users::name, users::email))
        .get_result(conn)?)
}
