//! The team leads' morning email: what is overdue or coming up in their authority, sent only
//! when there is something to report, and not on bank holidays (nobody reads it; the next
//! working day's covers the same ground).
use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde_json::json;

use super::dashboard::{lists, Lists};
use super::overdue::Scope;
use crate::domain::access_log::{self, Access};
use crate::domain::Services;
use crate::error::AppError;
use crate::i18n::Language;
use crate::storage::models::UserRow;
use crate::storage::schema::{outbox, users};
use crate::storage::{write_transaction, DbConn};
use crate::time::wales;
use crate::time::wales::london_date;
use crate::time::wales::{long_date, month_year};

pub fn run(svc: &Services, conn: &mut DbConn, now: DateTime<Utc>) -> Result<String, AppError> {
    let today = london_date(now);
    if !svc.engine.calendar.is_working_day(today) {
        return Ok(format!("{today} is not a working day; no digest"));
    }
    let leads: Vec<UserRow> = users::table
        .filter(users::role.eq("team_lead"))
        .filter(users::active.eq(true))
        .order((users::authority_code, users::name))
        .select(UserRow::as_select())
        .load(conn)?;
    let mut by_authority: BTreeMap<String, Lists> = BTreeMap::new();
    let (mut sent, mut quiet, mut failed, mut already) = (0, 0, 0, 0);
    // One digest a day each: a run by hand after the morning's (or a second replica's run under
    // another schedule) sends nothing twice.
    let start_of_today =
        crate::time::wales::end_of_london_day(today - chrono::Duration::days(1)).naive_utc();
    let sent_today: Vec<String> = outbox::table
        .filter(outbox::kind.eq("daily_digest"))
        .filter(outbox::created_at.gt(start_of_today))
        .select(outbox::recipient)
        .load(conn)?;
    for lead in &leads {
        if sent_today.contains(&lead.email) {
            already += 1;
            continue;
        }
        if !by_authority.contains_key(&lead.authority_code) {
            let found = lists(
                conn,
                &svc.engine,
                &Scope::Authority(lead.authority_code.clone()),
                now,
            )?;
            by_authority.insert(lead.authority_code.clone(), found);
        }
        let Some(l) = by_authority.get(&lead.authority_code) else {
            continue;
        };
        if l.is_empty() {
            quiet += 1;
            continue;
        }
        let case_ids = l.digest_case_ids();
        let queued = write_transaction(conn, |conn| {
            svc.mailer.queue(
                conn,
                "daily_digest",
                None,
                &lead.email,
                Language::parse(&lead.language).unwrap_or(Language::English),
                |lang| {
                    json!({
                        "team_lead_name": lead.name, "date": long_date(today, lang),
                        "dashboard_url": format!("{}/dashboard", svc.mailer.public_url),
                        "overdue_steps": l.overdue_steps.iter().map(|s| json!({"reference": s.reference, "step": if lang == Language::Welsh { &s.step_cy } else { &s.step }, "due": wales::date_time(s.due_at, lang), "due_by": wales::date_time_in_sentence(s.due_at, wales::Before::By, lang)})).collect::<Vec<_>>(),
                        "overdue_actions": l.overdue_actions.iter().map(|a| json!({"reference": a.reference, "title": svc.engine.action_title(a.kind.as_deref(), &a.title, lang), "owner_name": a.owner_name, "due": long_date(a.due_date, lang), "due_by": wales::date_in_sentence(a.due_date, wales::Before::By, lang)})).collect::<Vec<_>>(),
                        "reviews_due": l.reviews_due.iter().map(|r| json!({"reference": r.reference, "review": if lang == Language::Welsh { &r.review_cy } else { &r.review }, "due": wales::date_time(r.due_at, lang), "due_by": wales::date_time_in_sentence(r.due_at, wales::Before::By, lang)})).collect::<Vec<_>>(),
                        // Only that a review is due: why (a missing episode, say) stays on the dashboard.
                        "risk_reviews_due": l.risk_reviews_due.iter().map(|r| json!({"reference": r.reference, "overdue": r.overdue, "due": long_date(r.due_on, lang), "due_by": wales::date_in_sentence(r.due_on, wales::Before::By, lang)})).collect::<Vec<_>>(),
                        "count_risk_reviews_due": l.risk_reviews_due.len(),
                        "turning_18": l.turning_18.iter().map(|t| json!({"reference": t.reference, "birthday_month": month_year(t.birthday, lang)})).collect::<Vec<_>>(),
                        "undelivered": l.undelivered.iter().map(|u| json!({"reference": u.reference, "kind": svc.mailer.templates.kind_title(&u.kind, lang), "recipient": u.recipient, "failed": u.failed})).collect::<Vec<_>>(),
                        "count_undelivered": l.undelivered.len(),
                        "count_overdue_steps": l.overdue_steps.len(), "count_overdue_actions": l.overdue_actions.len(),
                        "count_reviews_due": l.reviews_due.len(), "count_turning_18": l.turning_18.len(),
                    })
                },
                now,
            )?;
            // The digest names cases to a person: that is a read of each.
            access_log::record(
                conn,
                &svc.audit_key,
                &lead.id,
                &case_ids,
                Access::List,
                "digest",
                now.naive_utc(),
            )
        });
        match queued {
            Ok(()) => sent += 1,
            Err(e) => {
                failed += 1;
                tracing::error!(user = %lead.id, error = %e, "could not queue this team lead's digest");
            }
        }
    }
    let already = if already > 0 {
        format!("; {already} already had today's")
    } else {
        String::new()
    };
    Ok(format!(
        "{sent} digests queued; {quiet} team leads had nothing to report{already}{}",
        super::action_notices::failures(failed)
    ))
}
