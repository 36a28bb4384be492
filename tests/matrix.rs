//! The authorisation matrix, generated from the router: every route the source registers
//! (`src/http/mod.rs`, `src/web/mod.rs`), each called by every kind of caller (no token, each
//! role of the child's authority, another team, another authority, a user involved from
//! elsewhere, the chair of a shared meeting), against its expected status. Every answer's body
//! is searched for the references and names of the cases the caller may not see, and every
//! answer about a hidden case is compared with the answer about a case that does not exist.
//! A route the policy below does not know fails the test, so a new route cannot be forgotten.
//! Positive controls: the body search finds a planted reference, and the visible case's own
//! reference is found where it should be.
mod support;

use std::collections::BTreeMap;

use serde_json::{json, Value};
use support::web::Web;
use support::*;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Route {
    method: String,
    path: String,
}

/// The routes as the source registers them: `.route("path", web::method()...)`, with the
/// `/api` scope's prefix for those inside it.
fn routes_in_source() -> Vec<Route> {
    let mut routes = Vec::new();
    for (file, scoped) in [("src/http/mod.rs", true), ("src/web/mod.rs", false)] {
        let text = std::fs::read_to_string(format!("{}/{file}", env!("CARGO_MANIFEST_DIR")))
            .expect("router source");
        let text = &text[..text.find("#[cfg(test)]").unwrap_or(text.len())];
        // The `/api` scope: from `web::scope("/api")` to the close of the `.service(` holding it.
        let scope = scoped.then(|| {
            let start = text.find("web::scope(\"/api\")").expect("the /api scope");
            let open = text[..start].rfind(".service(").expect("its service") + ".service".len();
            let mut depth = 0;
            let mut end = open;
            for (i, c) in text[open..].char_indices() {
                match c {
                    '(' => depth += 1,
                    ')' => {
                        depth -= 1;
                        if depth == 0 {
                            end = open + i;
                            break;
                        }
                    }
                    _ => {}
                }
            }
            (start, end)
        });
        let mut at = 0;
        while let Some(found) = text[at..].find(".route(") {
            let pos = at + found;
            let rest = &text[pos..];
            let q1 = rest.find('"').expect("a path") + 1;
            let q2 = q1 + rest[q1..].find('"').expect("its end");
            let path = &rest[q1..q2];
            let m = rest.find("web::").expect("a method") + "web::".len();
            let method: String = rest[m..]
                .chars()
                .take_while(|c| c.is_ascii_alphabetic())
                .collect();
            let prefix = match scope {
                Some((s, e)) if pos > s && pos < e => "/api",
                _ => "",
            };
            routes.push(Route {
                method: method.to_uppercase(),
                path: format!("{prefix}{path}"),
            });
            at = pos + 1;
        }
    }
    routes.sort();
    routes.dedup();
    routes
}

/// Who calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Caller {
    Anonymous,
    /// Chair of the Cardiff child's team, who recorded the report.
    Chair,
    Practitioner,
    TeamLead,
    SeniorManager,
    Administrator,
    /// A Cardiff chair of another team: the Cardiff case is not theirs.
    OtherTeam,
    /// A Swansea chair involved in the Cardiff case, who convened the shared meeting.
    Involved,
    /// A Swansea chair neither involved nor invited: both cases are hidden, or only Swansea's seen.
    OtherAuthority,
}

const CALLERS: &[Caller] = &[
    Caller::Anonymous,
    Caller::Chair,
    Caller::Practitioner,
    Caller::TeamLead,
    Caller::SeniorManager,
    Caller::Administrator,
    Caller::OtherTeam,
    Caller::Involved,
    Caller::OtherAuthority,
];

struct Fixture {
    people: BTreeMap<Caller, Person>,
    cardiff_ref: String,
    swansea_ref: String,
    meeting: String,
    involvement: String,
    action: String,
    episode: String,
    context: String,
}

impl Fixture {
    /// Whether the caller may see the Cardiff case (A) and the Swansea case (B).
    fn sees(&self, c: Caller) -> (bool, bool) {
        match c {
            Caller::Chair | Caller::Practitioner | Caller::TeamLead | Caller::SeniorManager => {
                (true, false)
            }
            Caller::Involved => (true, true),
            Caller::OtherAuthority => (false, true),
            _ => (false, false),
        }
    }

    /// Whether the caller may see the Cardiff place linked to case A: Cardiff's staff (their
    /// authority's context) and those who see case A.
    fn sees_context(&self, c: Caller) -> bool {
        matches!(
            c,
            Caller::Chair
                | Caller::Practitioner
                | Caller::TeamLead
                | Caller::SeniorManager
                | Caller::OtherTeam
                | Caller::Involved
        )
    }

    /// What the caller must never be shown: the references and child names of hidden cases.
    fn hidden(&self, c: Caller) -> Vec<String> {
        let (a, b) = self.sees(c);
        let mut out = Vec::new();
        if !a {
            out.extend([self.cardiff_ref.clone(), "Test Child Cardiff".into()]);
        }
        if !b {
            out.extend([self.swansea_ref.clone(), "Test Child Swansea".into()]);
        }
        out
    }
}

fn build(app: &TestApp) -> Fixture {
    let mut people = BTreeMap::new();
    people.insert(
        Caller::Chair,
        app.person("chair", "la-cardiff", "Team A", "Chair A"),
    );
    people.insert(
        Caller::Practitioner,
        app.person("practitioner", "la-cardiff", "Team A", "Practitioner A"),
    );
    people.insert(
        Caller::TeamLead,
        app.person("team_lead", "la-cardiff", "Team A", "Lead A"),
    );
    people.insert(
        Caller::SeniorManager,
        app.person(
            "senior_manager",
            "la-cardiff",
            "Children's services",
            "Manager A",
        ),
    );
    people.insert(
        Caller::Administrator,
        app.person("administrator", "la-cardiff", "Digital services", "Admin A"),
    );
    people.insert(
        Caller::OtherTeam,
        app.person("chair", "la-cardiff", "Team B", "Chair B"),
    );
    people.insert(
        Caller::Involved,
        app.person("chair", "la-swansea", "Team S", "Chair S"),
    );
    people.insert(
        Caller::OtherAuthority,
        app.person("chair", "la-swansea", "Team S", "Chair T"),
    );
    let child_of = |name: &str, la: &str| json!({"name": name, "date_of_birth": "2012-05-14", "gender": "female", "located_authority": la, "residence_authority": la});
    let a = app.create_case(
        &people[&Caller::Chair].token,
        child_of("Test Child Cardiff", "la-cardiff"),
        report_facts(),
    );
    let b = app.create_case(
        &people[&Caller::Involved].token,
        child_of("Test Child Swansea", "la-swansea"),
        report_facts(),
    );
    let (a_id, b_id) = (
        a["id"].as_str().expect("id").to_string(),
        b["id"].as_str().expect("id").to_string(),
    );
    let (s, r) = app.post(&people[&Caller::Chair].token, &format!("/api/cases/{a_id}/involvements"),
        &json!({"expected_version": a["version"], "agency": "la-swansea", "role": "chair", "user_email": people[&Caller::Involved].email}));
    assert_eq!(s, 201, "{r}");
    let (s, m) = app.post(&people[&Caller::Involved].token, "/api/meetings", &json!({
        "kind": "strategy_meeting", "starts_at": "2026-11-26T10:00", "ends_at": "2026-11-26T11:00", "location": "Room 1",
        "cases": [a_id, b_id], "invitees": [{"name": "Officer One", "email": "officer@police.example", "agency": "police-south-wales", "role": "detective sergeant"}]}));
    assert_eq!(s, 201, "{m}");
    let (s, act) = app.post(&people[&Caller::Chair].token, &format!("/api/cases/{a_id}/actions"),
        &json!({"title": "Return-home interview", "owner_name": "Officer One", "owner_email": "officer@police.example", "due_working_days": 5}));
    assert_eq!(s, 201, "{act}");
    let (s, episode) = app.post(
        &people[&Caller::Chair].token,
        &format!("/api/cases/{a_id}/missing-episodes"),
        &json!({"went_missing_at": "2026-11-24T22:00", "reported_by": "Foster carer"}),
    );
    assert_eq!(s, 201, "{episode}");
    let (s, place) = app.post(&people[&Caller::Chair].token, "/api/contexts",
        &json!({"kind": "place", "name": "The arcade on Queen Street", "description": "Older men seen giving children lifts from here."}));
    assert_eq!(s, 201, "{place}");
    let (s, place_link) = app.post(&people[&Caller::Chair].token, &format!("/api/contexts/{}/links", place["reference"].as_str().expect("reference")),
        &json!({"case": a_id, "reason": "Seen there twice by the school's attendance officer.", "information": "Attendance officer, 20 November"}));
    assert_eq!(s, 201, "{place_link}");
    let involvement = {
        use diesel::prelude::*;
        use safeguard::storage::schema::case_involvements;
        case_involvements::table
            .filter(case_involvements::case_id.eq(&a_id))
            .filter(case_involvements::user_id.eq(&people[&Caller::Involved].id))
            .select(case_involvements::id)
            .get_result::<String>(&mut app.conn())
            .expect("involvement")
    };
    Fixture {
        cardiff_ref: a["reference"].as_str().expect("ref").into(),
        swansea_ref: b["reference"].as_str().expect("ref").into(),
        meeting: m["id"].as_str().expect("id").into(),
        involvement,
        action: act["id"].as_str().expect("id").into(),
        episode: episode["id"].as_str().expect("id").into(),
        context: place["reference"].as_str().expect("reference").into(),
        people,
    }
}

/// The route with its parameters filled: the Cardiff case, the shared meeting, or (`missing`)
/// ones that do not exist.
fn concrete(route: &Route, f: &Fixture, missing: bool) -> String {
    let (case, meeting) = if missing {
        (
            "CSE-2099-999999".to_string(),
            "00000000-0000-0000-0000-000000000000".to_string(),
        )
    } else {
        (f.cardiff_ref.clone(), f.meeting.clone())
    };
    route
        .path
        .replace("{key}", &case)
        .replace("{id}", &meeting)
        .replace("{involvement_id}", &f.involvement)
        .replace("{action_id}", &f.action)
        .replace("{episode_id}", &f.episode)
        .replace(
            "{context}",
            if missing {
                "CTX-2099-DEADBEEF"
            } else {
                &f.context
            },
        )
        // A link that is not the fixture's: ending it must not end the one the others see by.
        .replace("{link_id}", "00000000-0000-0000-0000-000000000000")
        .replace(
            "{context_action_id}",
            "00000000-0000-0000-0000-000000000000",
        )
        .replace("{list}", "overdue_steps")
        .replace(
            "{name}",
            if route.path.starts_with("/static") {
                "app.css"
            } else {
                "cse-strategy"
            },
        )
        .replace("{token}", "not-a-real-link")
        .replace("{purpose}", "respond")
        .replace("{code}", "cy")
}

/// Which family a route belongs to, for the policy; a route in none fails the test.
#[derive(Debug, PartialEq, Eq)]
enum Family {
    Health,
    Reference,
    CaseList,
    Case,
    Meeting,
    Dashboard,
    Admin,
    BreakGlass,
    NewCase,
    Link,
    Page,
    Metrics,
    Context,
}

fn family(route: &Route) -> Option<Family> {
    let p = route.path.as_str();
    Some(if p == "/healthz" || p == "/readyz" {
        Family::Health
    } else if p == "/metrics" {
        Family::Metrics
    } else if p.starts_with("/api/") {
        match p {
            "/api/me" | "/api/agencies" | "/api/openapi.json" => Family::Reference,
            _ if p.starts_with("/api/workflows") => Family::Reference,
            "/api/cases" if route.method == "GET" => Family::CaseList,
            "/api/cases" => Family::NewCase,
            _ if p.starts_with("/api/cases/{key}") => Family::Case,
            "/api/meetings" => Family::NewCase,
            _ if p.starts_with("/api/meetings/{id}") => Family::Meeting,
            _ if p.starts_with("/api/dashboard") => Family::Dashboard,
            _ if p.starts_with("/api/admin/") => Family::Admin,
            _ if p.starts_with("/api/contexts") => Family::Context,
            "/api/break-glass" => Family::BreakGlass,
            _ => return None,
        }
    } else if p.starts_with("/respond/")
        || p.starts_with("/actions/")
        || p.starts_with("/link-code/")
    {
        Family::Link
    } else {
        Family::Page
    })
}

/// Bodies that get past input checks, so that the answer is the authorisation's.
fn body(route: &Route) -> Value {
    match route.path.as_str() {
        "/api/cases/{key}/events" => json!({"event": "accept_report", "expected_version": 1}),
        "/api/cases/{key}/involvements" => {
            json!({"expected_version": 1, "agency": "la-cardiff", "role": "social worker"})
        }
        "/api/cases/{key}/involvements/{involvement_id}/remove" => {
            json!({"expected_version": 1, "rationale": "No longer involved with the family at all."})
        }
        "/api/cases/{key}/actions" => {
            json!({"title": "Visit", "owner_name": "Someone", "owner_email": "someone@example.invalid"})
        }
        "/api/cases/{key}/actions/{action_id}/updates" => json!({"note": "Visited on Monday"}),
        "/api/cases/{key}/departures" => {
            json!({"rationale": "The family were away; the visit was a week late.", "workflow": "cse-strategy"})
        }
        "/api/cases/{key}/team" => json!({"expected_version": 1, "team": "Team B"}),
        "/api/cases/{key}/child" => {
            json!({"expected_version": 1, "name": "Test Child Alpha", "date_of_birth": "2012-05-15", "gender": "female",
                   "reason": "The school records show the day after."})
        }
        "/api/cases/{key}/languages" => {
            json!({"expected_version": 1, "language": "cy", "family_language": "both", "welsh_offer": "accepted"})
        }
        "/api/cases/{key}/restriction" => {
            json!({"expected_version": 1, "restricted": true, "rationale": "A member of staff's relative, as checked."})
        }
        "/api/cases/{key}/named" => {
            json!({"expected_version": 1, "user_email": "nobody@example.invalid", "named": true})
        }
        "/api/meetings/{id}/reschedule" => {
            json!({"starts_at": "2026-11-27T10:00", "ends_at": "2026-11-27T11:00", "reason": "The room is not free that morning at all."})
        }
        "/api/meetings/{id}/cancel" => {
            json!({"reason": "Everyone agreed to meet next week instead."})
        }
        "/api/meetings/{id}/record" => {
            json!({"summary": "Agreed a safety plan and return-home interviews."})
        }
        "/api/break-glass" => {
            json!({"reference": "CSE-2099-999999", "reason": "A night call from the police about a child."})
        }
        "/api/admin/referral-links" => json!({"agency": "police-south-wales"}),
        "/api/cases/{key}/same-child" | "/api/cases/{key}/siblings" => {
            json!({"other": "CSE-2099-999999", "reason": "The same school and the same date of birth."})
        }
        "/api/contexts" => {
            json!({"kind": "peer_group", "name": "Year 10 group chat", "description": "Named by two children."})
        }
        "/api/contexts/{context}/links" => {
            json!({"case": "CSE-2099-999999", "reason": "Named by another child as a friend.", "information": "Youth worker, 1 December"})
        }
        "/api/contexts/{context}/links/{link_id}/end" => {
            json!({"reason": "The family has moved away from the area."})
        }
        "/api/contexts/{context}/actions" => {
            json!({"title": "Ask the licensing team to visit", "disruption": true, "owner_name": "Officer Two",
                   "owner_email": "officer.two@police.example", "agency": "police-south-wales"})
        }
        "/api/contexts/{context}/actions/{context_action_id}/close" => {
            json!({"status": "done", "note": "Visited on Monday."})
        }
        "/api/cases/{key}/significant-changes" => {
            json!({"reason": "disclosure", "note": "Told her teacher about the man in the van."})
        }
        "/api/cases/{key}/risk-assessments" => {
            json!({"answers": {}, "category": "concern", "rationale": "Signs seen by the school this week."})
        }
        "/api/cases/{key}/missing-episodes" => {
            json!({"went_missing_at": "2026-11-27T10:00", "reported_by": "Police control room"})
        }
        "/api/cases/{key}/missing-episodes/{episode_id}" => {
            json!({"returned_at": "2026-11-27T18:00"})
        }
        "/api/cases/{key}/siblings/end" => {
            json!({"link": "none", "reason": "Recorded in error, as the family has said."})
        }
        _ => json!({}),
    }
}

struct Answer {
    status: u16,
    body: String,
}

fn call(app: &TestApp, token: Option<&str>, method: &str, path: &str, body: &Value) -> Answer {
    let agent = ureq::AgentBuilder::new().redirects(0).build();
    let mut req = agent.request(method, &format!("{}{path}", app.base));
    if let Some(t) = token {
        req = req.set("Authorization", &format!("Bearer {t}"));
    }
    // The signed-link pages take forms, as a browser sends them; the API takes JSON.
    let result = if method == "GET" {
        req.call()
    } else if path.starts_with("/api/") {
        req.send_json(body.clone())
    } else {
        req.send_form(&[
            ("answer", "accepted"),
            ("token", "not-a-real-link"),
            ("code", "123456"),
            ("action_id", "x"),
            ("note", "x"),
            ("status", "done"),
        ])
    };
    let r = match result {
        Ok(r) | Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("{method} {path}: {e}"),
    };
    Answer {
        status: r.status(),
        body: r.into_string().unwrap_or_default(),
    }
}

/// The status the policy expects, or None where it allows any answer but a leak (a write the
/// caller may make, whose outcome depends on the case's state).
fn expected(route: &Route, c: Caller, f: &Fixture) -> Option<Vec<u16>> {
    use Caller::*;
    let fam = family(route)?;
    let get = route.method == "GET";
    let (sees_a, sees_b) = f.sees(c);
    Some(match (fam, c) {
        (Family::Health, _) => vec![200],
        // Only the metrics token opens it, which these tests do not set: it does not exist.
        (Family::Metrics, _) => vec![404],
        (Family::Link, _) => vec![400],
        (Family::Page, _) => return Some(vec![]), // pages are checked with sessions below
        (_, Anonymous) => vec![401],
        (Family::Reference, _) | (Family::CaseList, _) => vec![200],
        (Family::NewCase, _) => vec![400],
        // The access log is refused alike to everyone but the overseers, seen case or not.
        (Family::Case, _) if route.path.ends_with("/access-log") => match (c, sees_a) {
            (TeamLead | SeniorManager, true) => vec![200],
            (TeamLead | SeniorManager, false) => vec![404],
            _ => vec![403],
        },
        (Family::Case, Administrator) => vec![404],
        (Family::Case, _) if !sees_a => vec![404],
        (Family::Case, _) if get => vec![200],
        (Family::Case, _) => return None,
        (Family::Meeting, Administrator) | (Family::Meeting, OtherTeam) => vec![404],
        (Family::Meeting, _) if get => {
            if sees_a || sees_b {
                vec![200]
            } else {
                vec![404]
            }
        }
        // Only the convening chair, or a team lead or senior manager of their authority, may
        // change a meeting; anyone else who sees it is refused without a word about the rest.
        (Family::Meeting, Involved) => return None,
        (Family::Meeting, _) => {
            if sees_a || sees_b {
                vec![403]
            } else {
                vec![404]
            }
        }
        (Family::Dashboard, TeamLead) | (Family::Dashboard, SeniorManager) => vec![200],
        (Family::Dashboard, _) => vec![403],
        (Family::Admin, Administrator) => {
            if get {
                vec![200]
            } else {
                // Issuing a referral link makes one.
                vec![200, 201, 404]
            }
        }
        (Family::Admin, _) => vec![403],
        (Family::Context, _) if route.path == "/api/contexts" => match (get, c) {
            (true, _) => vec![200],
            (false, Administrator) => vec![403],
            (false, _) => vec![201],
        },
        (Family::Context, _) if !f.sees_context(c) => vec![404],
        (Family::Context, _) if get => vec![200],
        (Family::Context, _) => return None,
        (Family::BreakGlass, Administrator) => vec![404],
        (Family::BreakGlass, _) => vec![404],
    })
}

fn leaks(body: &str, hidden: &[String]) -> Vec<String> {
    hidden
        .iter()
        .filter(|h| body.contains(h.as_str()))
        .cloned()
        .collect()
}

/// A page's links back to where it was asked for (the language switch) repeat the reference or
/// meeting id the caller typed: that tells them nothing they did not send, so it is set aside
/// before the body is searched. Whether anything more was told is what comparing the hidden
/// case's answer with a missing case's shows.
fn without_echo(body: &str, f: &Fixture, missing: bool) -> String {
    let (case, meeting) = if missing {
        ("CSE-2099-999999", "00000000-0000-0000-0000-000000000000")
    } else {
        (f.cardiff_ref.as_str(), f.meeting.as_str())
    };
    body.replace(case, "<the case asked for>")
        .replace(meeting, "<the meeting asked for>")
}

on_both_backends! {
    fn every_route_for_every_caller_answers_as_the_policy_says_and_leaks_nothing(app) {
        let routes = routes_in_source();
        let unknown: Vec<&Route> = routes.iter().filter(|r| family(r).is_none()).collect();
        assert!(unknown.is_empty(), "routes the matrix has no policy for: {unknown:?}");
        // The hand-kept list the OpenAPI test uses is the router's, no more and no less.
        let listed: Vec<Route> = {
            let mut l: Vec<Route> = safeguard::http::ROUTES.iter().map(|(m, p)| Route { method: m.to_string(), path: p.to_string() }).collect();
            l.sort();
            l
        };
        let api_routes: Vec<Route> = routes.iter().filter(|r| family(r) != Some(Family::Page)).cloned().collect();
        assert_eq!(api_routes, listed, "safeguard::http::ROUTES and the router differ");

        let f = build(app);
        // Positive controls: the body search finds what is there.
        assert_eq!(leaks(&format!("planted {}", f.swansea_ref), &f.hidden(Caller::Chair)), vec![f.swansea_ref.clone()]);
        let own = call(app, Some(&f.people[&Caller::Chair].token), "GET", &format!("/api/cases/{}", f.cardiff_ref), &json!({}));
        assert!(own.body.contains(&f.cardiff_ref) && own.body.contains("Test Child Cardiff"), "the chair sees their own case");
        // ...and comparing with a missing case tells a seen case apart.
        let missing = call(app, Some(&f.people[&Caller::Chair].token), "GET", "/api/cases/CSE-2099-999999", &json!({}));
        assert_ne!((own.status, &own.body), (missing.status, &missing.body));

        let (mut requests, mut compared) = (0, 0);
        let mut failures = Vec::new();
        for route in routes.iter().filter(|r| family(r) != Some(Family::Page)) {
            for &caller in CALLERS {
                let token = f.people.get(&caller).map(|p| p.token.as_str());
                let path = concrete(route, &f, false);
                let answer = call(app, token, &route.method, &path, &body(route));
                requests += 1;
                let found = leaks(&answer.body, &f.hidden(caller));
                if !found.is_empty() {
                    failures.push(format!("{} {path} as {caller:?}: shows {found:?}", route.method));
                }
                if let Some(allowed) = expected(route, caller, &f) {
                    if !allowed.is_empty() && !allowed.contains(&answer.status) {
                        failures.push(format!("{} {path} as {caller:?}: {} (expected {allowed:?}): {}", route.method, answer.status, answer.body.chars().take(200).collect::<String>()));
                    }
                }
                // A hidden case (or a meeting none of whose children the caller sees) answers
                // exactly as a missing one, whatever the answer is.
                let (sees_a, sees_b) = f.sees(caller);
                let hidden_here = (route.path.contains("{key}") && !sees_a)
                    || (route.path.contains("{id}") && route.path.starts_with("/api/meetings") && !sees_a && !sees_b)
                    || (route.path.contains("{context}") && !f.sees_context(caller));
                let by_context = route.path.contains("{context}");
                if caller != Caller::Anonymous && ((answer.status == 404 && !by_context) || hidden_here) && (route.path.contains("{key}") || route.path.contains("{id}") || by_context) {
                    let missing = call(app, token, &route.method, &concrete(route, &f, true), &body(route));
                    compared += 1;
                    if (missing.status, &missing.body) != (answer.status, &answer.body) {
                        failures.push(format!("{} {path} as {caller:?}: hidden answers {} {}, missing answers {} {}", route.method, answer.status, answer.body, missing.status, missing.body));
                    }
                }
            }
        }

        // The pages, with a session per caller: GET each page; a hidden case's page is the
        // not-found page, word for word.
        let pages: Vec<&Route> = routes.iter().filter(|r| family(r) == Some(Family::Page) && r.method == "GET").collect();
        let mut browsers: BTreeMap<Caller, Web> = BTreeMap::new();
        for &caller in CALLERS {
            let web = Web::new(app);
            if let Some(p) = f.people.get(&caller) {
                assert_eq!(web.sign_in(&p.email, TEST_PASSWORD).status, 303);
            }
            browsers.insert(caller, web);
        }
        for route in &pages {
            for &caller in CALLERS {
                let web = &browsers[&caller];
                let path = concrete(route, &f, false);
                let mut answer = web.get(&path);
                answer.body = without_echo(&answer.body, &f, false);
                requests += 1;
                let found = leaks(&answer.body, &f.hidden(caller));
                if !found.is_empty() {
                    failures.push(format!("GET {path} as {caller:?} (page): shows {found:?}"));
                }
                let public = ["/sign-in", "/sign-in/second-step", "/sign-in/oidc", "/sign-in/oidc/callback", "/static/{name}", "/language/{code}", "/welcome/{token}", "/refer/{token}"].contains(&route.path.as_str());
                if caller == Caller::Anonymous && !public && !(answer.status == 303 && answer.location.starts_with("/sign-in")) {
                    failures.push(format!("GET {path} anonymously: {} to {:?}", answer.status, answer.location));
                }
                if route.path.contains("{key}") || route.path.contains("{id}") {
                    if answer.status == 404 {
                        let missing_path = concrete(route, &f, true);
                        let mut missing = web.get(&missing_path);
                        missing.body = without_echo(&missing.body, &f, true);
                        compared += 1;
                        if (missing.status, &missing.body) != (answer.status, &answer.body) {
                            failures.push(format!("GET {path} as {caller:?} (page): hidden and missing differ"));
                        }
                    } else if caller != Caller::Anonymous && !f.sees(caller).0 && route.path.starts_with("/cases/{key}") {
                        failures.push(format!("GET {path} as {caller:?} (page): {} for a hidden case", answer.status));
                    }
                }
            }
        }
        // And each page form, posted without its CSRF token, changes nothing.
        for route in routes.iter().filter(|r| family(r) == Some(Family::Page) && r.method == "POST") {
            for &caller in CALLERS {
                let path = concrete(route, &f, false);
                let mut answer = browsers[&caller].post(&path, &[("csrf", "not the token")]);
                answer.body = without_echo(&answer.body, &f, false);
                requests += 1;
                if !f.sees(caller).0 && route.path.contains("{key}") {
                    let mut missing = browsers[&caller].post(&concrete(route, &f, true), &[("csrf", "not the token")]);
                    missing.body = without_echo(&missing.body, &f, true);
                    compared += 1;
                    if (missing.status, &missing.body) != (answer.status, &answer.body) {
                        failures.push(format!("POST {path} as {caller:?} (page): hidden and missing differ"));
                    }
                }
                if !(answer.status == 403 || (answer.status == 303 && answer.location.starts_with("/sign-in"))) {
                    failures.push(format!("POST {path} as {caller:?} without its CSRF token: {}", answer.status));
                }
                let found = leaks(&answer.body, &f.hidden(caller));
                if !found.is_empty() {
                    failures.push(format!("POST {path} as {caller:?} (page): shows {found:?}"));
                }
            }
        }
        println!(
            "authorisation matrix: {} routes ({} API, {} pages) x {} callers: {requests} requests, {compared} hidden-vs-missing comparisons, {} failures",
            routes.len(), api_routes.len(), routes.len() - api_routes.len(), CALLERS.len(), failures.len()
        );
        assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
    }
}
