//! Recording a meeting on one page: who attended (started from the invitees, with direct
//! knowledge beside each, and anyone else who came), the summary of the decisions (sent to
//! everyone invited, so never a child's name), the next date, and for each child whose case is
//! at the step this meeting holds, what was decided: the outcome (the workflow's own events,
//! such as "plan needed" or "no plan, because"), the questions it asks, and the agreed actions,
//! as many rows as needed, added without JavaScript. Sent once, it records the meeting and
//! applies each child's event in one unit of work (`meeting::record_with_outcomes`).
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use serde_json::{json, Value};

use super::forms::{self, first, Prefill, Submitted};
use super::{see_other, signed_in, PageContext, WebUser};
use crate::app::AppState;
use crate::domain::case;
use crate::domain::meeting::{
    self, AttendanceInput, ChildOutcome, OtherAttendee, RecordRequest, SectionInput,
};
use crate::domain::transition::{self, case_facts};
use crate::engine::contract::FactTag;
use crate::engine::definition::FactType;
use crate::error::AppError;
use crate::http::cases::with_conn;
use crate::i18n::Language;
use crate::storage::DbConn;
use crate::time::wales;

fn language(lang: &str) -> Language {
    Language::parse(lang).unwrap_or(Language::English)
}

/// The inputs of child `i` are named `c{i}/...`; their ids carry `c{i}`.
fn prefix(i: usize) -> String {
    format!("c{i}/")
}

/// One child of the meeting, as the page shows their part.
struct Child {
    case: crate::storage::models::CaseRow,
    /// The workflow whose current step holds this kind of meeting, and its events there.
    step: Option<(String, Vec<crate::engine::decide::AllowedEvent>)>,
}

fn children(
    state: &AppState,
    conn: &mut DbConn,
    user: &WebUser,
    view: &Value,
) -> Result<Vec<Child>, AppError> {
    let kind = view["kind"].as_str().unwrap_or("");
    let mut out = Vec::new();
    for c in view["cases"].as_array().into_iter().flatten() {
        let Some(id) = c["id"].as_str() else {
            continue;
        };
        let row = case::by_id(conn, id)?;
        let running = case::view_case(&state.services, conn, &row, Language::English)?.workflows;
        let allowed = transition::allowed_events(&state.services, conn, &row, user.actor.role)?;
        let step = running
            .iter()
            .filter(|w| !w.finished)
            .find(|w| {
                meeting::step_kind(
                    &state.services.engine,
                    &w.workflow,
                    w.workflow_version as u32,
                    &w.state,
                )
                .as_deref()
                    == Some(kind)
            })
            .map(|w| {
                let events = allowed
                    .iter()
                    .filter(|a| a.workflow == w.workflow && a.permitted_for_you)
                    .cloned()
                    .collect::<Vec<_>>();
                (w.workflow.clone(), events)
            })
            .filter(|(_, events)| !events.is_empty());
        out.push(Child { case: row, step });
    }
    Ok(out)
}

/// Errors by the id of the input they belong to.
#[allow(clippy::too_many_arguments)]
fn page_data(
    state: &AppState,
    conn: &mut DbConn,
    user: &WebUser,
    page_lang: &str,
    view: &Value,
    typed: Option<&Submitted>,
    adding: Option<&str>,
    errors: Value,
) -> Result<Value, AppError> {
    let lang = language(page_lang);
    let welsh = lang == Language::Welsh;
    let engine = &state.services.engine;
    let word = |k: &str| state.pages.word(page_lang, k);
    let get = |k: &str| typed.and_then(|f| first(f, k)).unwrap_or("").to_string();
    let starts = view["starts_at"]
        .as_str()
        .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&chrono::Utc));
    let mut agencies: Vec<(String, String)> = engine
        .agencies
        .current()
        .all()
        .map(|a| {
            (
                a.code.clone(),
                if welsh {
                    a.name_cy.clone()
                } else {
                    a.name_en.clone()
                },
            )
        })
        .collect();
    agencies.sort_by(|a, b| a.1.cmp(&b.1));
    let agency_choices = |chosen: &str| -> Vec<Value> {
        agencies
            .iter()
            .map(|(code, name)| json!({"value": code, "label": name, "checked": code == chosen}))
            .collect()
    };
    let invitees: Vec<Value> = view["invitees"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|i| {
            let id = i["id"].as_str().unwrap_or("");
            let agency = i["agency"]
                .as_str()
                .and_then(|c| engine.agencies.current().get(c).map(|a| if welsh { a.name_cy.clone() } else { a.name_en.clone() }));
            json!({"id": id, "name": i["name"], "role": super::meeting_pages::role_in(state, lang.code(), i["role"].as_str().unwrap_or("")), "agency": agency,
                   "answer": word(&format!("status_{}", i["response"].as_str().unwrap_or("pending"))),
                   "attended": match typed { Some(f) => first(f, &format!("attended:{id}")).is_some(), None => i["response"] == "accepted" },
                   "direct": match typed { Some(f) => first(f, &format!("direct:{id}")).is_some(), None => i["direct_knowledge"] == true }})
        })
        .collect();
    let other_rows = typed
        .map(|f| {
            f.iter()
                .filter_map(|(k, _)| {
                    k.strip_prefix("other:")?
                        .split(':')
                        .next()?
                        .parse::<usize>()
                        .ok()
                })
                .filter(|i| *i < 30)
                .max()
                .map_or(1, |m| m + 1)
        })
        .unwrap_or(1)
        .min(30)
        + usize::from(adding == Some("other"));
    let others: Vec<Value> = (0..other_rows)
        .map(|n| {
            let part = |p: &str| get(&format!("other:{n}:{p}"));
            json!({"index": n, "name": part("name"), "agencies": agency_choices(&part("agency")),
                   "direct": !part("direct").is_empty()})
        })
        .collect();
    let kids = children(state, conn, user, view)?;
    let several = kids.len() > 1;
    let mut child_parts = Vec::new();
    for (i, child) in kids.iter().enumerate() {
        let p = prefix(i);
        let mine = typed.map(|f| forms::part(f, &p));
        let ids = format!("c{i}");
        let mut part = json!({
            "index": i, "prefix": p, "reference": child.case.reference,
            "section": get(&format!("section:{}", child.case.id)), "case_id": child.case.id,
            "outcome": Value::Null,
        });
        if let Some((workflow, events)) = &child.step {
            let (Some(running), Some(wf)) = (
                case::view_case(&state.services, conn, &child.case, Language::English)?
                    .workflows
                    .into_iter()
                    .find(|w| &w.workflow == workflow),
                engine.registry.latest(workflow),
            ) else {
                continue;
            };
            let wf = engine
                .registry
                .get(workflow, running.workflow_version as u32)
                .unwrap_or(wf);
            let attendance = wf.def.fact_tagged(FactTag::MeetingAttendance);
            // The questions of every outcome, once each, in the order the outcomes ask them;
            // attendance is the meeting's own, above.
            let mut names: Vec<String> = Vec::new();
            for e in events {
                if let Some(t) = wf.transition(&running.state, &e.event) {
                    for n in forms::facts_for(&wf, t) {
                        if !names.contains(&n) && Some(n.as_str()) != attendance {
                            names.push(n);
                        }
                    }
                }
            }
            let recorded = case_facts(&child.case);
            let prefill = match &mine {
                Some(f) => Prefill::Typed(f),
                None => Prefill::Recorded(&recorded),
            };
            let fields: Vec<Value> = forms::specs(&wf, &names)
                .values()
                .filter(|(_, spec)| spec.kind != FactType::Attendance)
                .map(|(name, spec)| {
                    let mut f = forms::field(
                        &ids,
                        name,
                        spec,
                        &prefill,
                        &engine.agencies.current(),
                        welsh,
                    );
                    f.name = format!("{p}{}", f.name);
                    f.error = forms::message_at(&errors, &f.id);
                    serde_json::to_value(f).unwrap_or(Value::Null)
                })
                .collect();
            let chosen = mine
                .as_ref()
                .and_then(|f| first(f, "event"))
                .unwrap_or("")
                .to_string();
            let n = mine
                .as_ref()
                .map(forms::action_row_count)
                .unwrap_or(0)
                .max(2)
                + usize::from(adding == Some(ids.as_str()));
            let takes_actions = events.iter().any(|e| {
                wf.transition(&running.state, &e.event)
                    .is_some_and(forms::takes_actions)
            });
            part["outcome"] = json!({
                "workflow": workflow,
                "events": events.iter().enumerate().map(|(k, e)| json!({
                    "value": e.event, "label": if welsh { &e.title_cy } else { &e.title },
                    "decline": e.decline, "checked": chosen == e.event,
                    "id": if k == 0 { format!("event-{ids}") } else { format!("event-{ids}-{}", e.event) },
                })).collect::<Vec<_>>(),
                "event_error": forms::message_at(&errors, &format!("event-{ids}")),
                "fields": fields,
                "takes_actions": takes_actions,
                "actions": forms::action_rows_n(&wf, &ids, mine.as_ref(), lang, n.min(100)),
                "actions_error": forms::message_at(&errors, &format!("a-{ids}-0-title")),
                "rationale": mine.as_ref().and_then(|f| first(f, "rationale")).unwrap_or(""),
                "rationale_error": forms::message_at(&errors, &format!("rationale-{ids}")),
            });
        }
        child_parts.push(part);
    }
    let mut next = forms::date_parts(typed, "next", None);
    next["id"] = json!("m-next");
    next["name"] = json!("next");
    next["legend"] = json!(format!(
        "{} {}",
        word("next_meeting_date"),
        word("optional")
    ));
    next["error"] = json!(forms::message_at(&errors, "m-next"));
    Ok(json!({
        "title": word("record_meeting"),
        "id": view["id"], "kind": meeting::kind_name(engine, view["kind"].as_str().unwrap_or(""), lang),
        "starts": starts.map(|t| wales::date_time(t, lang)),
        "cases": view["cases"], "several": several,
        "invitees": invitees, "others": others,
        "summary": get("summary"), "summary_error": forms::message_at(&errors, "m-summary"),
        "children": child_parts,
        "next": next, "next_time": get("next_time"), "next_time_error": forms::message_at(&errors, "m-next_time"),
        "form_token": typed.and_then(|f| first(f, "form_token")).filter(|t| t.len() == 64)
            .map(str::to_string).unwrap_or_else(super::session::random_token),
        "errors": errors,
    }))
}

fn render(state: &AppState, page: &PageContext, status: StatusCode, data: Value) -> HttpResponse {
    super::page_response(state, "meeting_record", page, status, data)
}

pub async fn record_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let user = match signed_in(&req, &state).await {
        Ok(u) => u,
        Err(r) => return Ok(r),
    };
    let page = user.page(&req);
    let lang = page.lang.clone();
    let path = req.path().to_string();
    let found = with_conn(&state, move |s, conn| {
        let intent = s.services.intent(&user.actor.id, &path);
        match meeting::read(&s.services.engine, conn, &intent, &user.actor, &id) {
            Ok(view) => page_data(s, conn, &user, &lang, &view, None, None, json!([])).map(Some),
            Err(AppError::NotFound(_)) => Ok(None),
            Err(e) => Err(e),
        }
    })
    .await?;
    Ok(match found {
        Some(data) => render(&state, &page, StatusCode::OK, data),
        None => super::not_found_page(&state, &page),
    })
}

/// What the form asks to be recorded.
fn request_from(
    state: &AppState,
    conn: &mut DbConn,
    user: &WebUser,
    view: &Value,
    form: &Submitted,
) -> Result<(RecordRequest, Vec<OtherAttendee>, Vec<ChildOutcome>), AppError> {
    let get = |k: &str| first(form, k).unwrap_or("").trim().to_string();
    let attendees = view["invitees"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|i| i["id"].as_str())
        .map(|iid| AttendanceInput {
            invitee_id: iid.to_string(),
            attended: first(form, &format!("attended:{iid}")).is_some(),
            direct_knowledge: Some(first(form, &format!("direct:{iid}")).is_some()),
        })
        .collect();
    let others: Vec<OtherAttendee> = (0..30)
        .filter_map(|n| {
            let part = |p: &str| get(&format!("other:{n}:{p}"));
            let name = part("name");
            (!name.is_empty()).then(|| OtherAttendee {
                name,
                agency: part("agency"),
                direct_knowledge: !part("direct").is_empty(),
            })
        })
        .collect();
    // Every answer that cannot be read, for the meeting and for each child, at once.
    let mut unread: Vec<AppError> = Vec::new();
    let next_meeting_at =
        match forms::date_from(form, "next", "next_meeting_at").unwrap_or_else(|e| {
            unread.push(e);
            None
        }) {
            Some(day) => {
                let raw = get("next_time").replace('.', ":");
                let at = chrono::NaiveTime::parse_from_str(&raw, "%H:%M")
                    .map_err(|_| {
                        AppError::bad_request(
                            "invalid_time",
                            "next_time",
                            "the next meeting needs a time such as 14:30",
                        )
                    })
                    .and_then(|time| {
                        wales::local_to_utc(day.and_time(time)).map_err(|change| {
                            AppError::unprocessable(
                                match change {
                                    wales::ClockChange::Skipped => "time_skipped",
                                    wales::ClockChange::Repeated => "time_repeated",
                                },
                                "next_time",
                                "that time is in a clock change",
                            )
                        })
                    });
                match at {
                    Ok(t) => Some(t.to_rfc3339()),
                    Err(e) => {
                        unread.push(e);
                        None
                    }
                }
            }
            None => None,
        };
    let kids = children(state, conn, user, view)?;
    let mut outcomes = Vec::new();
    let mut sections = Vec::new();
    for (i, child) in kids.iter().enumerate() {
        let text = get(&format!("section:{}", child.case.id));
        if !text.is_empty() {
            sections.push(SectionInput {
                case: child.case.id.clone(),
                text,
            });
        }
        let Some((workflow, _)) = &child.step else {
            continue;
        };
        let mine = forms::part(form, &prefix(i));
        let event = first(&mine, "event").unwrap_or("").to_string();
        if event.is_empty() {
            unread.push(AppError::unprocessable(
                "outcome_required",
                format!("children[{i}].event"),
                "choose what the meeting decided for this child",
            ));
            continue;
        }
        let running = case::view_case(&state.services, conn, &child.case, Language::English)?
            .workflows
            .into_iter()
            .find(|w| &w.workflow == workflow)
            .ok_or(AppError::NotFound("workflow"))?;
        let wf = state
            .services
            .engine
            .registry
            .get(workflow, running.workflow_version as u32)
            .ok_or(AppError::NotFound("workflow"))?;
        let Some(t) = wf.transition(&running.state, &event) else {
            unread.push(AppError::unprocessable(
                "event_not_allowed",
                format!("children[{i}].event"),
                "that outcome is not open for this child now",
            ));
            continue;
        };
        let (facts, bad) = forms::facts_and_errors(&wf, &forms::facts_for(&wf, t), &mine);
        unread.extend(bad.into_iter().map(|e| {
            AppError::bad_request(
                "invalid_fact",
                format!("children[{i}].{}", e.field().unwrap_or("")),
                e.to_string(),
            )
        }));
        outcomes.push(ChildOutcome {
            page_index: i,
            case_id: child.case.id.clone(),
            workflow: workflow.clone(),
            event,
            facts,
            agreed_actions: if forms::takes_actions(t) {
                forms::actions_from(&mine)
            } else {
                Vec::new()
            },
            rationale: Some(get(&format!("{}rationale", prefix(i)))).filter(|r| !r.is_empty()),
        });
    }
    if let Some(refused) = AppError::all_of(unread) {
        return Err(refused);
    }
    Ok((
        RecordRequest {
            summary: get("summary"),
            sections,
            next_meeting_at,
            attendees,
            // A meeting about contexts agrees their actions on each context's page.
            context_actions: Vec::new(),
        },
        others,
        outcomes,
    ))
}

/// The error summary for a refusal: each child's problems (their inputs prefixed), or the
/// meeting's.
fn errors_for(state: &AppState, lang: &str, view: &Value, e: &AppError) -> Value {
    Value::Array(
        e.each()
            .into_iter()
            .flat_map(|one| {
                one_error_for(state, lang, view, one)
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
            })
            .collect(),
    )
}

fn one_error_for(state: &AppState, lang: &str, view: &Value, e: &AppError) -> Value {
    let field = e.field().unwrap_or("");
    if let Some(rest) = field.strip_prefix("children[") {
        let (i, inner) = rest.split_once(']').unwrap_or((rest, ""));
        let inner = inner.trim_start_matches('.');
        let ids = format!("c{i}");
        let reference = view["cases"]
            .get(i.parse::<usize>().unwrap_or(usize::MAX))
            .and_then(|c| c["reference"].as_str())
            .unwrap_or("")
            .to_string();
        let items = match inner {
            "event" | ""
                if !matches!(
                    e,
                    AppError::Unprocessable {
                        details: Some(_),
                        ..
                    }
                ) =>
            {
                json!([{"id": format!("event-{ids}"), "message": super::error_text(state, lang, e)}])
            }
            _ => super::case_pages::error_items(state, lang, &ids, Some(inner), e),
        };
        // Each message says which child it is about.
        return Value::Array(
            items
                .as_array()
                .into_iter()
                .flatten()
                .map(|item| {
                    json!({"id": item["id"], "message": format!("{reference}: {}", item["message"].as_str().unwrap_or(""))})
                })
                .collect(),
        );
    }
    let id = match field {
        "next_meeting_at" => "m-next",
        "next_time" => "m-next_time",
        f if f.starts_with("sections[") => "m-summary",
        _ => "m-summary",
    };
    json!([{"id": id, "message": super::error_text(state, lang, e)}])
}

pub async fn record(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    form: crate::http::input::Form,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let id = id.into_inner();
    let back = format!("/meetings/{id}/record");
    let (user, page) = match super::signed_in_post(&req, &state, &form, back).await {
        Ok(signed) => signed,
        Err(refused) => return Ok(refused),
    };
    if first(&form, "form_token").is_none_or(|t| t.len() != 64) {
        return Ok(super::refused_csrf(&state, &page));
    }
    let path = req.path().to_string();
    let lang = page.lang.clone();
    let outcome = with_conn(&state, move |s, conn| {
        // Read as the page reads it: logged, and "not found" for a meeting out of reach.
        let read_intent = s.services.intent(&user.actor.id, &path);
        let view = match meeting::read(&s.services.engine, conn, &read_intent, &user.actor, &id) {
            Ok(view) => view,
            Err(AppError::NotFound(_)) => return Ok(None),
            Err(e) => return Err(e),
        };
        // "Add another": the same page, a row more, nothing saved.
        if let Some(target) = first(&form, "add") {
            let data = page_data(
                s,
                conn,
                &user,
                &lang,
                &view,
                Some(&form),
                Some(target),
                json!([]),
            )?;
            return Ok(Some(Err((StatusCode::OK, data))));
        }
        let token = first(&form, "form_token").unwrap_or("").to_string();
        let intent = s.services.intent(&user.actor.id, &path);
        let attempt =
            request_from(s, conn, &user, &view, &form).and_then(|(request, others, outcomes)| {
                meeting::record_with_outcomes(
                    &s.services,
                    conn,
                    &intent,
                    &user.actor,
                    &id,
                    &request,
                    &others,
                    &outcomes,
                    Some(&token),
                )
            });
        match attempt {
            Ok(())
            | Err(AppError::Conflict {
                code: "form_already_sent",
                ..
            }) => Ok(Some(Ok(
                match view["agenda"].as_array().and_then(|a| a.first()) {
                    // A meeting about contexts goes back to its first context, whose page has
                    // the record and where its actions are agreed.
                    Some(context) => format!(
                        "/contexts/{}?done=exploitation_meeting_recorded",
                        context["reference"].as_str().unwrap_or_default()
                    ),
                    None => view["cases"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .find(|c| c["id"].is_string())
                        .and_then(|c| c["reference"].as_str())
                        .map(|r| format!("/cases/{r}?done=meeting_recorded"))
                        .unwrap_or_default(),
                },
            ))),
            Err(e) => {
                let errors = errors_for(s, &lang, &view, &e);
                let data = page_data(s, conn, &user, &lang, &view, Some(&form), None, errors)?;
                Ok(Some(Err((e.status_code(), data))))
            }
        }
    })
    .await?;
    Ok(match outcome {
        Some(Ok(back)) if back.is_empty() => see_other(&format!(
            "/meetings/{}",
            req.match_info().get("id").unwrap_or("")
        )),
        Some(Ok(back)) => see_other(&back),
        Some(Err((status, data))) => render(&state, &page, status, data),
        None => super::not_found_page(&state, &page),
    })
}
