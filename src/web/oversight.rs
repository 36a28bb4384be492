//! The team lead's dashboard page (with CSV downloads) and the workflow pages: each workflow
//! drawn as a diagram, with each step's guidance and deadline.
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use super::{message_page, signed_in, svg};
use crate::app::AppState;
use crate::error::AppError;
use crate::follow_up::dashboard::Period;
use crate::i18n::catalogue::Arg;
use crate::i18n::Language;
use crate::time::wales;

pub async fn dashboard(
    state: web::Data<AppState>,
    req: HttpRequest,
    period: web::Query<Period>,
) -> Result<HttpResponse, AppError> {
    let user = match signed_in(&req, &state).await {
        Ok(u) => u,
        Err(r) => return Ok(r),
    };
    let page = user.page(&req);
    let lang = if page.lang == "cy" {
        Language::Welsh
    } else {
        Language::English
    };
    let actor = user.actor.clone();
    let path = req.path().to_string();
    let period = period.into_inner();
    let typed = json!({"from": period.from.clone().unwrap_or_default(), "to": period.to.clone().unwrap_or_default()});
    let built =
        crate::http::follow_up::dashboard_for(&state, actor.clone(), path.clone(), period).await;
    // A period that is not one (a date mistyped, or the end before the start) shows the usual
    // three months, with the error at the field and what was typed kept.
    let (built, errors, status) = match built {
        Err(e @ AppError::BadRequest { .. }) => {
            let id = match e.field() {
                Some("to") => "period-to",
                _ => "period-from",
            };
            let errors = json!([{"id": id, "message": super::error_text(&state, &page.lang, &e)}]);
            let again =
                crate::http::follow_up::dashboard_for(&state, actor, path, Period::default()).await;
            (again, errors, StatusCode::BAD_REQUEST)
        }
        other => (other, json!([]), StatusCode::OK),
    };
    let d = match built {
        Ok(d) => d,
        Err(AppError::Forbidden(_)) => {
            return Ok(message_page(
                &state,
                &page,
                StatusCode::FORBIDDEN,
                "forbidden_heading",
                "forbidden_body",
            ))
        }
        Err(e) => return Err(e),
    };
    let chart_title = state.pages.word(&page.lang, "chart_share_title");
    // An authority's row is named as the reader names it, not by its code.
    let authority_name = |code: &str| {
        state
            .services
            .engine
            .agencies
            .current()
            .get(code)
            .map_or(code.to_string(), |a| {
                if lang == Language::Welsh {
                    a.name_cy.clone()
                } else {
                    a.name_en.clone()
                }
            })
    };
    let group = |t: &crate::follow_up::dashboard::Timeliness, grouping: &str| {
        if grouping == "authority" {
            authority_name(&t.group)
        } else {
            t.group.clone()
        }
    };
    let groups = || {
        d.timeliness_by_team
            .iter()
            .map(|t| (t, "team"))
            .chain(d.timeliness_by_authority.iter().map(|t| (t, "authority")))
    };
    let bars: Vec<(String, f64)> = groups()
        .filter_map(|(t, g)| t.share_within_timescale.map(|s| (group(t, g), s)))
        .collect();
    let when = |t: chrono::DateTime<chrono::Utc>| wales::date_time(t, lang);
    let day = |d: chrono::NaiveDate| crate::time::wales::long_date(d, lang);
    let data = json!({
        "title": state.pages.word(&page.lang, "dashboard"),
        "period_from": d.period_from.to_string(), "period_to": d.period_to.to_string(),
        "overdue_steps": d.lists.overdue_steps.iter().map(|s| json!({"reference": s.reference, "step": if lang == Language::Welsh { &s.step_cy } else { &s.step }, "due": when(s.due_at), "days": s.working_days_overdue})).collect::<Vec<_>>(),
        "overdue_actions": d.lists.overdue_actions.iter().map(|a| json!({"reference": a.reference, "title": state.services.engine.action_title(a.kind.as_deref(), &a.title, lang), "owner": a.owner_name, "due": day(a.due_date), "days": a.working_days_overdue, "escalated": a.escalated})).collect::<Vec<_>>(),
        "overdue_context_actions": d.lists.overdue_context_actions.iter().map(|a| json!({"reference": a.reference, "title": a.title, "disruption": a.disruption, "owner": a.owner_name, "due": day(a.due_date), "days": a.working_days_overdue, "escalated": a.escalated})).collect::<Vec<_>>(),
        "reviews_due": d.lists.reviews_due.iter().map(|r| json!({"reference": r.reference, "review": if lang == Language::Welsh { &r.review_cy } else { &r.review }, "due": when(r.due_at), "overdue": r.overdue})).collect::<Vec<_>>(),
        "undelivered": d.lists.undelivered.iter().map(|u| json!({"reference": u.reference, "kind": state.services.mailer.templates.kind_title(&u.kind, lang), "recipient": u.recipient, "failed": u.failed})).collect::<Vec<_>>(),
        "unacknowledged_referrals": d.lists.unacknowledged_referrals.iter().map(|r| json!({
            "reference": r.reference,
            "agency": state.services.engine.agencies.current().get(&r.agency).map_or(r.agency.clone(), |a| if lang == Language::Welsh { a.name_cy.clone() } else { a.name_en.clone() }),
            "received": when(r.submitted_at), "by": r.acknowledge_by.map(when), "overdue": r.overdue})).collect::<Vec<_>>(),
        "turning_18": d.lists.turning_18.iter().map(|t| json!({"reference": t.reference, "birthday": day(t.birthday)})).collect::<Vec<_>>(),
        "risk_reviews_due": d.lists.risk_reviews_due.iter().map(|r| json!({"reference": r.reference, "due": day(r.due_on), "reason": state.pages.word(&page.lang, &format!("risk_review_reason_{}", r.reason)), "overdue": r.overdue})).collect::<Vec<_>>(),
        "return_interviews_due": d.lists.return_interviews_due.iter().map(|r| json!({"reference": r.reference, "due": when(r.due_at), "offered": r.offered, "overdue": r.overdue})).collect::<Vec<_>>(),
        "missing_episodes_begun": d.missing_episodes_begun,
        "timeliness": groups().map(|(t, g)| json!({
            "group": group(t, g), "grouping": g, "decisions": t.decisions,
            "median_decision": t.median_working_days_to_decision, "median_discussion": t.median_working_days_to_strategy_discussion,
            "within": t.steps_within_timescale, "with_timescale": t.steps_with_timescale,
            "share": t.share_within_timescale.map(|s| format!("{:.0}%", s * 100.0)),
        })).collect::<Vec<_>>(),
        "chart": if bars.is_empty() { String::new() } else { svg::share_bars(&chart_title, &bars) },
        "wales_figures": wales_figures(&d.wales_figures),
        "period": typed, "errors": errors,
    });
    Ok(super::page_response(
        &state,
        "dashboard",
        &page,
        status,
        data,
    ))
}

pub async fn dashboard_csv(
    state: web::Data<AppState>,
    req: HttpRequest,
    list: web::Path<String>,
    period: web::Query<Period>,
) -> Result<HttpResponse, AppError> {
    let user = match signed_in(&req, &state).await {
        Ok(u) => u,
        Err(r) => return Ok(r),
    };
    crate::http::follow_up::csv_download(
        &state,
        user.actor,
        req.path().to_string(),
        &list,
        period.into_inner(),
    )
    .await
}

pub async fn workflow(
    state: web::Data<AppState>,
    req: HttpRequest,
    name: web::Path<String>,
) -> HttpResponse {
    let user = match signed_in(&req, &state).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    let page = user.page(&req);
    let Some(wf) = state.services.engine.registry.latest(&name) else {
        return super::not_found_page(&state, &page);
    };
    let lang = if page.lang == "cy" {
        Language::Welsh
    } else {
        Language::English
    };
    let count = |key: &str, n: u32| {
        state
            .pages
            .words_with(&page.lang, key, &[("count", Arg::Number(i64::from(n)))])
    };
    let deadline = |d: &crate::engine::definition::DeadlineSpec| {
        let amount = d
            .working_days
            .map(|n| count("working_days", n))
            .or(d.hours.map(|n| count("hours", n)))
            .or(d.months.map(|n| count("months", n)))
            .unwrap_or_default();
        json!({"amount": amount, "source": d.source_in(lang)})
    };
    let data = json!({
        "title": wf.def.title_in(lang), "name": wf.name(), "version": wf.version(), "description": wf.def.description_in(lang),
        "diagram": svg::workflow(&wf, wf.def.title_in(lang), lang),
        "states": wf.def.states.iter().map(|s| json!({
            "title": s.title_in(lang), "guidance": s.guidance_in(lang), "rules": s.rules.join(", "), "terminal": s.terminal,
            "deadline": s.deadline.as_ref().map(deadline),
            "events": wf.transitions_from(&s.id).map(|t| json!({"title": t.title_in(lang), "to": wf.state(&t.to).map(|x| x.title_in(lang).to_string()), "decline": t.decline})).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    });
    super::page_response(&state, "workflow", &page, StatusCode::OK, data)
}

/// The figures Wales reports, as the dashboard shows them: each figure's count out of its whole,
/// or its days; the definitions are the catalogue's.
fn wales_figures(f: &crate::follow_up::wales_figures::WalesFigures) -> serde_json::Value {
    let share =
        |n: usize, of: usize| (of > 0).then(|| format!("{:.0}%", n as f64 * 100.0 / of as f64));
    let days = |d: Option<f64>| d.map(|d| format!("{d:.1}"));
    json!({
        "reports": {"count": f.reports_decided_within_one_working_day, "of": f.reports_decided, "share": share(f.reports_decided_within_one_working_day, f.reports_decided)},
        "conferences": {"count": f.initial_conferences_within_timescale, "of": f.initial_conferences, "share": share(f.initial_conferences_within_timescale, f.initial_conferences)},
        "re_registrations": {"count": f.re_registrations_within_12_months, "of": f.registrations, "share": share(f.re_registrations_within_12_months, f.registrations)},
        "register": {"count": f.deregistrations, "mean": days(f.mean_days_on_register), "median": days(f.median_days_on_register)},
    })
}
