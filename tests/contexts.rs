//! Contexts (issue 14, part 1), on both backends: three children in two authorities linked to
//! one place and one person of concern. Each reader is shown only the children they may see,
//! with no count of the others; another authority's chair who sees none of them is answered as
//! if the place did not exist; the person of concern is seen only with the role an
//! administrator gives, and the case's history keeps no word of them for its other readers.
//! A link says who, when, why and on what information, brings the child's risk review
//! forward, can be ended and stays in the record; every view is in the access log.
mod support;

use diesel::prelude::*;
use serde_json::{json, Value};
use support::web::{error_at_field, Web};
use support::*;

fn references(view: &Value) -> Vec<String> {
    view["children"]
        .as_array()
        .expect("children")
        .iter()
        .map(|c| c["reference"].as_str().expect("reference").to_string())
        .collect()
}

fn reference_of(case: &Value) -> String {
    case["reference"].as_str().expect("reference").to_string()
}

on_both_backends! {
    fn each_reader_sees_only_the_children_they_may_see_and_persons_of_concern_need_the_role(app) {
        let chair = app.person("chair", "la-cardiff", "Team North", "Chair North");
        let other_team = app.person("chair", "la-cardiff", "Team South", "Chair South");
        let lead = app.person("team_lead", "la-cardiff", "Team North", "Lead North");
        let swansea = app.person("chair", "la-swansea", "Team West", "Chair West");
        let stranger = app.person("chair", "la-swansea", "Team East", "Chair East");
        let a = app.create_case(&chair.token, child(), report_facts());
        let b = app.create_case(&other_team.token, merge(child(), json!({"name": "Test Child Bravo"})), report_facts());
        let c = app.create_case(&swansea.token, merge(child(), json!({"name": "Test Child Charlie", "located_authority": "la-swansea", "residence_authority": "la-swansea"})), report_facts());
        let (ra, rb, rc) = (reference_of(&a), reference_of(&b), reference_of(&c));

        // The Cardiff chair records the place; bad input is named by its field.
        let (s, e) = app.post(&chair.token, "/api/contexts", &json!({"kind": "pub", "name": "x", "description": "y"}));
        assert_eq!((s, e["code"].as_str(), e["field"].as_str()), (400, Some("invalid_choice"), Some("kind")), "{e}");
        let (s, place) = app.post(&chair.token, "/api/contexts",
            &json!({"kind": "place", "name": "The arcade on Queen Street", "description": "Older men seen offering children lifts from outside."}));
        assert_eq!(s, 201, "{place}");
        let p = place["reference"].as_str().expect("reference").to_string();
        let link = |who: &Person, case: &str| app.post(&who.token, &format!("/api/contexts/{p}/links"),
            &json!({"case": case, "reason": "Seen there with older men twice this month.", "information": "School attendance officer, 20 November"}));
        let (s, e) = app.post(&chair.token, &format!("/api/contexts/{p}/links"), &json!({"case": ra, "reason": "seen", "information": "x"}));
        assert_eq!((s, e["code"].as_str()), (422, Some("rationale_required")), "{e}");
        assert_eq!(link(&chair, &ra).0, 201);
        assert_eq!(link(&chair, &ra).1["code"], "already_linked_to_context");
        // Another team of the same authority sees the authority's place, and links its child;
        // the first chair may not open that child, so cannot link it either.
        let (s, e) = link(&chair, &rb);
        assert_eq!((s, e["code"].as_str()), (422, Some("unknown_case")), "{e}");
        assert_eq!(link(&other_team, &rb).0, 201);
        // A Swansea chair involved in Cardiff's child sees the place through her, and links a
        // Swansea child.
        let (s, r) = app.post(&chair.token, &format!("/api/cases/{ra}/involvements"),
            &json!({"expected_version": app.get(&chair.token, &format!("/api/cases/{ra}")).1["version"], "agency": "la-swansea", "role": "chair", "user_email": swansea.email}));
        assert_eq!(s, 201, "{r}");
        assert_eq!(link(&swansea, &rc).0, 201);

        // Each reader: only their own children, and nothing of the others, not even a count.
        let view = |who: &Person| app.get(&who.token, &format!("/api/contexts/{p}"));
        let (s, v) = view(&chair);
        assert_eq!(s, 200);
        assert_eq!(references(&v), vec![ra.clone()]);
        let text = v.to_string();
        for hidden in [&rb, &rc, "Bravo", "Charlie"] {
            assert!(!text.contains(hidden), "the chair is shown {hidden}: {text}");
        }
        assert_eq!(references(&view(&other_team).1), vec![rb.clone()]);
        let mut seen = references(&view(&swansea).1);
        seen.sort();
        let mut expected = vec![ra.clone(), rc.clone()];
        expected.sort();
        assert_eq!(seen, expected);
        assert_eq!(references(&view(&lead).1).len(), 2, "the team lead sees the authority's two");
        // The Swansea chair who sees none of them: as if the place did not exist.
        let (s, hidden) = view(&stranger);
        let (s2, missing) = app.get(&stranger.token, "/api/contexts/CTX-2099-DEADBEEF");
        assert_eq!((s, &hidden), (s2, &missing));
        assert_eq!(s, 404);
        let (_, listed) = app.get(&stranger.token, "/api/contexts");
        assert!(!listed.to_string().contains(&p), "{listed}");
        let (_, listed) = app.get(&swansea.token, "/api/contexts");
        assert!(listed.to_string().contains(&p), "seen through the child she may open: {listed}");

        // A view is in the access log: a line for the place and one for each child it names.
        {
            use safeguard::storage::schema::access_log;
            let mut conn = app.conn();
            let place_id = place["id"].as_str().expect("id");
            let lines: Vec<(String, String)> = access_log::table
                .filter(access_log::user_id.eq(&chair.id))
                .filter(access_log::case_id.eq_any([place_id, a["id"].as_str().expect("id")]))
                .filter(access_log::path.eq(format!("/api/contexts/{p}")))
                .select((access_log::case_id, access_log::action))
                .load(&mut conn)
                .expect("log");
            assert!(lines.contains(&(place_id.to_string(), "read".to_string())), "{lines:?}");
            assert!(lines.contains(&(a["id"].as_str().expect("id").to_string(), "list".to_string())), "{lines:?}");
        }

        // The new context brought the child's risk review forward.
        let (_, risk) = app.get(&chair.token, &format!("/api/cases/{ra}/risk"));
        assert_eq!(risk["risk"]["review"]["reason"], "context_link", "{risk}");

        // A person of concern needs the role an administrator gives (a security event).
        let grant = |email: &str| {
            let svc = &app.service.state.services;
            safeguard::domain::context::set_persons_of_concern(&mut app.conn(), &svc.audit_key, email, true, "test administrator", app.clock_now().naive_utc())
                .expect("role");
        };
        let person = json!({"kind": "person_of_concern", "name": "A man known as Uncle Tee", "description": "Drives a grey van; gives children vapes."});
        assert_eq!(app.post(&chair.token, "/api/contexts", &person).0, 403);
        grant(&chair.email);
        let (s, poc) = app.post(&chair.token, "/api/contexts", &person);
        assert_eq!(s, 201, "{poc}");
        let x = poc["reference"].as_str().expect("reference").to_string();
        let (s, _) = app.post(&chair.token, &format!("/api/contexts/{x}/links"),
            &json!({"case": ra, "reason": "The child named him to the school nurse.", "information": "School nurse, 25 November"}));
        assert_eq!(s, 201);
        // The team lead sees the child, not the person, until given the role.
        assert_eq!(app.get(&lead.token, &format!("/api/contexts/{x}")).0, 404);
        let (_, listed) = app.get(&lead.token, "/api/contexts");
        assert!(!listed.to_string().contains("Uncle Tee"), "{listed}");
        let (_, history) = app.get(&lead.token, &format!("/api/cases/{ra}/history"));
        let linked: Vec<&Value> = history["history"].as_array().expect("history").iter().filter(|e| e["kind"] == "context_linked").collect();
        assert_eq!(linked.len(), 2, "both links are in the child's history");
        assert!(!history.to_string().contains("Uncle Tee") && !history.to_string().contains("school nurse"),
            "the history keeps no word of the person for those without the role: {history}");
        assert!(linked.iter().any(|e| e["payload"]["context"].as_str().is_some_and(|c| c.starts_with("The arcade on Queen Street"))), "a place is named in it");
        let shape = |e: &Value| e["payload"].as_object().map(|o| o.keys().cloned().collect::<Vec<_>>());
        assert_eq!(shape(linked[0]), shape(linked[1]), "a person's entry has the same shape as a place's");
        // The administrator gives the team lead the role on the person's page.
        let admin = app.person("administrator", "la-cardiff", "Admin", "Admin Person");
        let web = Web::new(app);
        web.sign_in(&admin.email, TEST_PASSWORD);
        let page = web.get(&format!("/admin/people/{}", lead.id)).body;
        assert!(page.contains("Sees persons of concern") && !page.contains("name=\"persons_of_concern\" type=\"checkbox\" value=\"yes\" checked"), "not yet given");
        let csrf = Web::hidden(&page, "csrf");
        let done = web.post(&format!("/admin/people/{}", lead.id), &[("csrf", &csrf), ("name", "Lead North"), ("role", "team_lead"),
            ("team", "Team North"), ("authority", "la-cardiff"), ("persons_of_concern", "yes")]);
        assert_eq!(done.status, 303, "{}", done.body);
        assert_eq!(security_events(app, "account_changed"), 2, "giving the role, by the command and by the page, is a security event each time");
        let (s, v) = app.get(&lead.token, &format!("/api/contexts/{x}"));
        assert_eq!((s, v["name"].as_str()), (200, Some("A man known as Uncle Tee")));
        let person_link = v["children"][0]["link_id"].as_str().expect("link").to_string();
        let (s, _) = app.post(&lead.token, &format!("/api/contexts/{x}/links/{person_link}/end"),
            &json!({"reason": "Police say Uncle Tee has left Wales for good."}));
        assert_eq!(s, 200);
        let (_, history) = app.get(&chair.token, &format!("/api/cases/{ra}/history"));
        assert!(history["history"].as_array().expect("history").iter().any(|e| e["kind"] == "context_link_ended"));
        assert!(!history.to_string().contains("Uncle Tee"), "nor the reason the link ended: {history}");

        // A link ends with a reason, and stays in the record; the child may be linked again.
        let link_id = view(&chair).1["children"][0]["link_id"].as_str().expect("link").to_string();
        let (s, e) = app.post(&chair.token, &format!("/api/contexts/{p}/links/{link_id}/end"), &json!({"reason": "moved"}));
        assert_eq!((s, e["code"].as_str()), (422, Some("rationale_required")));
        let (s, _) = app.post(&chair.token, &format!("/api/contexts/{p}/links/{link_id}/end"), &json!({"reason": "The family moved to the other side of the city."}));
        assert_eq!(s, 200);
        let (_, v) = view(&chair);
        assert_eq!(v["children"][0]["end_reason"], "The family moved to the other side of the city.");
        assert!(v["children"][0]["ended_at"].is_string());
        assert_eq!(link(&chair, &ra).0, 201, "linked again after the end");

        // The trail still verifies with the new kinds of entry.
        let svc = &app.service.state.services;
        let mut conn = app.conn();
        let report = safeguard::domain::audit_verify::verify(&mut conn, &svc.audit_key, &svc.engine, &svc.checkpoints)
            .expect("verify");
        assert_eq!(report.problems, Vec::<String>::new());
    }
}

on_both_backends! {
    fn the_pages_record_a_place_and_link_a_child_with_the_message_at_its_field(app) {
        let chair = app.person("chair", "la-cardiff", "Test team", "Chair Person Seven");
        let case = app.create_case(&chair.token, child(), report_facts());
        let reference = reference_of(&case);
        let web = Web::new(app);
        web.sign_in(&chair.email, TEST_PASSWORD);
        let page = web.get("/contexts").body;
        let csrf = Web::hidden(&page, "csrf");
        let refused = web.post("/contexts", &[("csrf", &csrf), ("kind", "place"), ("name", ""), ("description", "By the station")]);
        assert_eq!(refused.status, 400, "{}", refused.body);
        assert_eq!(error_at_field(&refused.body), "Enter the name of the place, group or person.");
        let done = web.post("/contexts", &[("csrf", &csrf), ("kind", "place"), ("name", "The station car park"), ("description", "By the station")]);
        assert_eq!(done.status, 303, "{}", done.body);
        assert!(done.location.starts_with("/contexts/CTX-") && done.location.ends_with("?done=context_recorded"), "{}", done.location);
        let at = done.location.split('?').next().expect("path").to_string();
        let refused = web.post(&format!("{at}/links"), &[("csrf", &csrf), ("case", &reference), ("reason", "too short"), ("information", "A neighbour")]);
        assert_eq!(refused.status, 422);
        assert_eq!(error_at_field(&refused.body), "Enter a rationale of at least 20 characters saying why.");
        assert!(refused.body.contains("A neighbour"), "what was typed is kept");
        let done = web.post(&format!("{at}/links"), &[("csrf", &csrf), ("case", &reference), ("reason", "Seen getting into cars here at night."), ("information", "A neighbour, 30 November")]);
        assert_eq!((done.status, done.location.as_str()), (303, format!("{at}?done=context_linked").as_str()));
        let page = web.get(&format!("{at}?done=context_linked")).body;
        assert!(page.contains(&reference) && page.contains("Seen getting into cars here at night."), "{page}");
        let case_page = web.get(&format!("/cases/{reference}")).body;
        assert!(case_page.contains("The station car park") && case_page.contains(&format!("href=\"{at}\"")), "the case page lists the context");
        // Naming the context on the case page is a view of it, in the access log.
        {
            use safeguard::storage::schema::{access_log, contexts};
            let mut conn = app.conn();
            let context_id: String = contexts::table
                .filter(contexts::name.eq("The station car park"))
                .select(contexts::id)
                .get_result(&mut conn)
                .expect("context");
            let actions: Vec<String> = access_log::table
                .filter(access_log::case_id.eq(&context_id))
                .filter(access_log::path.eq(format!("/cases/{reference}")))
                .select(access_log::action)
                .load(&mut conn)
                .expect("log");
            assert_eq!(actions, vec!["list".to_string()]);
        }
        // The context's own actions: agreed on its page, refused at the field that names it.
        let page = web.get(&at).body;
        let token = Web::hidden(&page, "form_token");
        let post_action = |title: &str| web.post(&format!("{at}/actions"), &[("csrf", &csrf), ("form_token", &token), ("title", title),
            ("disruption", "yes"), ("owner_name", "PC Officer"), ("owner_email", "pc.officer@police.example"), ("agency", "police-south-wales")]);
        let refused = post_action("Move people on from the station car park");
        assert_eq!(refused.status, 422, "{}", refused.body);
        assert_eq!(error_at_field(&refused.body), "This names a place, group or person recorded as a context, and it goes into emails. Say it without naming them: the context’s reference is sent with it.");
        assert!(refused.body.contains("pc.officer@police.example"), "what was typed is kept");
        let done = post_action("Patrol at night and move adults on");
        assert_eq!((done.status, done.location.as_str()), (303, format!("{at}?done=context_action_agreed").as_str()), "{}", done.body);
        let again = post_action("Patrol at night and move adults on");
        assert_eq!(again.location, format!("{at}?done=form_already_sent"), "a second send records nothing twice");
        let page = web.get(&format!("{at}?done=context_action_agreed")).body;
        assert!(page.contains("Patrol at night and move adults on") && page.contains("govuk-tag--purple\">Disruption</strong>") && page.contains("PC Officer"), "{page}");
        assert_eq!(page.matches("Patrol at night and move adults on").count(), 1, "one action, not two");
        let action_id = {
            use safeguard::storage::schema::context_actions;
            context_actions::table.select(context_actions::id).get_result::<String>(&mut app.conn()).expect("one action")
        };
        let close = format!("{at}/actions/{action_id}/close");
        let refused = web.post(&close, &[("csrf", &csrf), ("status", "cancelled"), ("note", "no need")]);
        assert_eq!(refused.status, 422);
        assert_eq!(error_at_field(&refused.body), "Enter a rationale of at least 20 characters saying why.");
        let done = web.post(&close, &[("csrf", &csrf), ("status", "done"), ("note", "Patrols ran for two weeks.")]);
        assert_eq!((done.status, done.location.as_str()), (303, format!("{at}?done=context_action_closed").as_str()));
        let page = web.get(&at).body;
        assert!(page.contains("Patrols ran for two weeks.") && !page.contains(&format!("/actions/{action_id}/close")), "closed, with nothing left to close");

        // An exploitation meeting convened from the place's page: the form offers only the
        // kinds held about contexts, and the child linked to it joins the meeting.
        let form = web.get(&format!("{at}/meetings/new"));
        assert_eq!(form.status, 200, "{}", form.body);
        assert!(form.body.contains("value=\"exploitation_meeting\"") && !form.body.contains("value=\"strategy_meeting\""), "{}", form.body);
        let token = Web::hidden(&form.body, "form_token");
        let convened = web.post(&format!("{at}/meetings"), &[("csrf", &csrf), ("form_token", &token), ("kind", "exploitation_meeting"),
            ("date-day", "2"), ("date-month", "12"), ("date-year", "2026"), ("starts_time", "10:00"), ("ends_time", "11:30"),
            ("location", "Room 4, County Hall"), ("inv:0:include", "on"), ("inv:0:name", "Officer Police"),
            ("inv:0:email", "officer@police.example"), ("inv:0:agency", "police-south-wales"), ("inv:0:role", "detective sergeant")]);
        assert_eq!((convened.status, convened.location.as_str()), (303, format!("{at}?done=meeting_convened").as_str()), "{}", convened.body);
        let page = web.get(&at).body;
        let meeting_at = page.split("href=\"/meetings/").nth(1).and_then(|r| r.split('"').next()).expect("the meeting is listed").to_string();
        let meeting_page = web.get(&format!("/meetings/{meeting_at}")).body;
        assert!(meeting_page.contains("Multi-agency child exploitation meeting") && meeting_page.contains(&format!("href=\"/cases/{reference}\">{reference}</a>: Seen getting into cars here at night.")),
            "the agenda: the place and the child's line: {meeting_page}");
        // Recorded on its page once held: back to the place, whose page keeps the record.
        app.clock.set(chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 12, 2, 15, 0, 0).single().expect("time"));
        web.sign_in(&chair.email, TEST_PASSWORD);
        let record_page = web.get(&format!("/meetings/{meeting_at}/record")).body;
        let csrf = Web::hidden(&record_page, "csrf");
        let case_id = case["id"].as_str().expect("id");
        let recorded = web.post(&format!("/meetings/{meeting_at}/record"), &[("csrf", &csrf), ("form_token", &Web::hidden(&record_page, "form_token")),
            ("summary", "Agreed patrols at the car park and a word with the station's managers."),
            (&format!("section:{case_id}"), "Offer the youth service's detached team.")]);
        assert_eq!((recorded.status, recorded.location.as_str()), (303, format!("{at}?done=exploitation_meeting_recorded").as_str()), "{}", recorded.body);
        let page = web.get(&recorded.location).body;
        assert!(page.contains("The meeting is recorded: its record is on this page") && page.contains("Agreed patrols at the car park"), "{page}");

        web.get(&format!("/language/cy?back={at}"));
        let page = web.get(&at).body;
        assert!(page.contains("Plant sydd wedi’u cysylltu ag ef"), "the page in Welsh");
        assert!(page.contains("Camau gweithredu ar y cyd-destun hwn") && page.contains("govuk-tag--purple\">Tarfu</strong>"), "its actions in Welsh");
        // A practitioner who may see the place links children, but does not convene: told so.
        let practitioner = app.person("practitioner", "la-cardiff", "Test team", "Practitioner Seven");
        let other = Web::new(app);
        other.sign_in(&practitioner.email, TEST_PASSWORD);
        assert_eq!(other.get(&at).status, 200);
        let refused = other.get(&format!("{at}/meetings/new"));
        assert_eq!(refused.status, 403, "{}", refused.body);
        assert!(refused.body.contains("Your role does not give you this page."), "{}", refused.body);
    }
}

on_both_backends! {
    fn an_exploitation_meeting_is_held_about_a_place_with_each_readers_own_children_on_its_agenda(app) {
        let north = app.person("chair", "la-cardiff", "Team North", "Chair North");
        let south = app.person("chair", "la-cardiff", "Team South", "Chair South");
        let lead = app.person("team_lead", "la-cardiff", "Team North", "Lead North");
        let stranger = app.person("chair", "la-swansea", "Team East", "Chair East");
        let a = app.create_case(&north.token, child(), report_facts());
        let b = app.create_case(&south.token, merge(child(), json!({"name": "Test Child Bravo"})), report_facts());
        let (ra, rb) = (reference_of(&a), reference_of(&b));
        let (_, place) = app.post(&north.token, "/api/contexts",
            &json!({"kind": "place", "name": "The arcade on Queen Street", "description": "Older men seen offering children lifts from outside."}));
        let p = place["reference"].as_str().expect("reference").to_string();
        for (who, case, reason) in [(&north, &ra, "Seen there with older men twice this month."), (&south, &rb, "Picked up outside it by a car after school.")] {
            let (s, l) = app.post(&who.token, &format!("/api/contexts/{p}/links"), &json!({"case": case, "reason": reason, "information": "Attendance officer, 20 November"}));
            assert_eq!(s, 201, "{l}");
        }
        let meeting = |who: &Person, kind: &str, contexts: Value| app.post(&who.token, "/api/meetings", &json!({
            "kind": kind, "starts_at": "2026-12-02T10:00", "ends_at": "2026-12-02T11:30", "location": "Room 4, County Hall",
            "contexts": contexts, "invitees": [{"name": "Officer Police", "email": "officer@police.example", "agency": "police-south-wales", "role": "detective sergeant"}]}));
        let (s, e) = meeting(&lead, "exploitation_meeting", json!([]));
        assert_eq!((s, e["code"].as_str(), e["field"].as_str()), (400, Some("contexts_required"), Some("contexts")), "{e}");
        let (s, e) = meeting(&lead, "strategy_meeting", json!([p]));
        assert_eq!((s, e["code"].as_str()), (400, Some("contexts_not_for_kind")), "{e}");
        let (s, e) = meeting(&stranger, "exploitation_meeting", json!([p]));
        let (s2, missing) = meeting(&stranger, "exploitation_meeting", json!(["CTX-2099-DEADBEEF"]));
        assert_eq!((s, &e), (s2, &missing), "a context out of reach answers as a missing one");
        assert_eq!(s, 404);

        // The team lead sees both Cardiff children, so both join the meeting.
        let (s, m) = meeting(&lead, "exploitation_meeting", json!([p]));
        assert_eq!(s, 201, "{m}");
        let mid = m["id"].as_str().expect("id").to_string();
        let lines = |v: &Value| -> Vec<String> {
            v["agenda"][0]["children"].as_array().expect("children").iter()
                .map(|c| format!("{}: {}", c["reference"].as_str().unwrap_or(""), c["reason"].as_str().unwrap_or(""))).collect()
        };
        let (_, seen) = app.get(&lead.token, &format!("/api/meetings/{mid}"));
        assert_eq!(seen["agenda"][0]["reference"], p.as_str(), "{seen}");
        assert_eq!(lines(&seen), vec![format!("{ra}: Seen there with older men twice this month."), format!("{rb}: Picked up outside it by a car after school.")]);
        // A chair of one team sees the place and only their own child's line: nothing of the other.
        let (s, seen) = app.get(&north.token, &format!("/api/meetings/{mid}"));
        assert_eq!(s, 200, "{seen}");
        assert_eq!(lines(&seen), vec![format!("{ra}: Seen there with older men twice this month.")]);
        let text = seen.to_string();
        assert!(!text.contains(&rb) && !text.contains("Picked up outside"), "the other team's child: {text}");
        // Viewing the agenda is a read of the place, in the access log.
        {
            use safeguard::storage::schema::access_log;
            let n: i64 = access_log::table
                .filter(access_log::user_id.eq(&north.id))
                .filter(access_log::case_id.eq(place["id"].as_str().expect("id")))
                .filter(access_log::path.eq(format!("/api/meetings/{mid}")))
                .count()
                .get_result(&mut app.conn())
                .expect("log");
            assert_eq!(n, 1);
        }

        // Held and recorded: the common part to everyone, a section to each child, and the
        // place's actions agreed with the record (their owner emailed the title only).
        app.clock.set(chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 12, 2, 11, 45, 0).single().expect("time"));
        let record = |actions: Value| app.post(&lead.token, &format!("/api/meetings/{mid}/record"), &json!({
            "summary": "Agreed a joint disruption plan for the arcade and return-home interviews for each child.",
            "sections": [{"case": ra, "text": "Refer to the youth service's detached team."}, {"case": rb, "text": "Sexual health appointment with the school nurse."}],
            "context_actions": actions}));
        let (s, e) = app.post(&lead.token, &format!("/api/meetings/{mid}/record"), &json!({
            "summary": "Agreed patrols around the arcade on Queen Street for the month."}));
        assert_eq!((s, e["code"].as_str(), e["field"].as_str()), (422, Some("context_named"), Some("summary")),
            "the record goes to everyone invited: it may not name the place: {e}");
        let (s, e) = record(json!([{"context": p, "action": {"title": "Patrol at night", "owner_user_id": stranger.id, "owner_name": ""}}]));
        assert_eq!((s, e["code"].as_str(), e["field"].as_str()), (422, Some("owner_cannot_see_context"), Some("context_actions[0].action.owner_user_id")), "{e}");
        let (s, e) = record(json!([{"context": p, "action": {"title": "Patrol at night", "owner_name": "PC Officer", "owner_email": "pc.officer@police.example", "colour": "red"}}]));
        assert_eq!(s, 400, "a field no action has is refused: {e}");
        let (s, e) = record(json!([{"context": p, "action": {"title": "Close the arcade on Queen Street at night", "owner_name": "PC Officer", "owner_email": "pc.officer@police.example"}}]));
        assert_eq!((s, e["code"].as_str(), e["field"].as_str()), (422, Some("context_named"), Some("context_actions[0].action.title")), "{e}");
        assert_eq!(app.get(&lead.token, &format!("/api/meetings/{mid}")).1["status"], "scheduled", "a refused action leaves nothing of the record written");
        let (s, e) = record(json!([{"context": p, "action": {"title": "Patrol the area at night", "disruption": true, "owner_name": "PC Officer", "owner_email": "pc.officer@police.example"}}]));
        assert_eq!(s, 200, "{e}");
        let (_, v) = app.get(&lead.token, &format!("/api/contexts/{p}"));
        assert_eq!((v["meetings"][0]["id"].as_str(), v["meetings"][0]["status"].as_str()), (Some(mid.as_str()), Some("held")), "{v}");
        assert!(v["meetings"][0]["record_summary"].as_str().is_some_and(|t| t.contains("joint disruption plan")), "the record goes to the context");
        // A chair of the authority who sees the place, but no child of the meeting, is not shown it.
        let east = app.person("chair", "la-cardiff", "Team East", "Chair East Cardiff");
        let (s, v) = app.get(&east.token, &format!("/api/contexts/{p}"));
        assert_eq!((s, v["meetings"].as_array().map(Vec::len)), (200, Some(0)), "{v}");
        assert_eq!(v["actions"][0]["title"], "Patrol the area at night");
        let (_, seen) = app.get(&north.token, &format!("/api/meetings/{mid}"));
        assert_eq!(seen["agenda"][0]["actions"][0]["title"], "Patrol the area at night", "the agenda shows what the meeting agreed on the place");
        let (_, history) = app.get(&north.token, &format!("/api/cases/{ra}/history"));
        let text = history.to_string();
        assert!(text.contains("detached team") && !text.contains("Sexual health appointment"), "each child's case keeps its own section only");
    }
}
