//! The pages in a real browser (headless Chromium through WebDriver) against the real server on
//! a random port, SQLite, and the loopback SMTP server, through the chair's day: a chair signs
//! in, records a report, decides, holds the strategy discussion, and convenes one meeting for
//! two children with five invitees (a row added without JavaScript); an invitee declines with a
//! reason and the chair sees it on the meeting's page; the chair moves the meeting and the
//! updated invitation arrives with SEQUENCE raised; the chair records the meeting on one page
//! with six attendees and four actions, two for each child; a partner opens the link from the
//! email, marks one done and asks for more time on the other; the chair sees the flag and grants
//! it; the chair corrects the date of birth and the age-18 date moves; the chronology PDF is
//! downloaded and read; once an action's date passes (injected clock) the team lead's dashboard
//! shows it overdue. Also: a decline
//! without rationale is refused on the page and keeps what was typed; another authority's chair
//! cannot open the case; a form without its CSRF token is refused. Every page is checked with
//! axe-core and photographed in English and Welsh under target/screenshots/.
mod support;

use icalendar::{Calendar, Component};
use mail_parser::{MessageParser, MimeHeaders};
use serde_json::json;
use support::browser::Browser;
use support::smtp::SmtpSink;
use support::*;

struct Ui<'a> {
    b: &'a Browser,
    base: &'a str,
}

impl Ui<'_> {
    fn open(&self, path: &str) {
        self.b.goto(&format!("{}{path}", self.base));
    }

    /// Checks the page with axe-core and photographs it in both languages.
    fn check(&self, name: &str) {
        let violations = self.b.accessibility_violations();
        assert!(
            violations.is_empty(),
            "{name}: accessibility violations:\n{}",
            violations.join("\n")
        );
        let lang = self
            .b
            .run("return document.documentElement.lang;", json!([]));
        let first = lang.as_str().unwrap_or("en").to_string();
        self.b.screenshot(&format!("{name}-{first}"));
        self.b.click_and_wait("a.sg-language");
        let violations = self.b.accessibility_violations();
        assert!(
            violations.is_empty(),
            "{name} (other language): accessibility violations:\n{}",
            violations.join("\n")
        );
        let other = self
            .b
            .run("return document.documentElement.lang;", json!([]));
        assert_ne!(other, lang, "{name}: the language link switches the page");
        self.b
            .screenshot(&format!("{name}-{}", other.as_str().unwrap_or("cy")));
        self.b.click_and_wait("a.sg-language");
    }

    fn sign_in(&self, email: &str, password: &str) {
        self.open("/sign-in");
        self.b.type_into("#email", email);
        self.b.type_into("#password", password);
        self.b
            .click_and_wait("form[action='/sign-in'] button[type=submit]");
        if password == TEST_PASSWORD {
            assert!(
                !self.b.current_url().contains("/sign-in"),
                "{email} is signed in; the page says: {}",
                self.b.text("main")
            );
        }
    }

    /// What the browser shows, for a message when something is not where it should be.
    fn shown(&self) -> String {
        format!(
            "{} ({}): {}",
            self.b.current_url(),
            self.b.title(),
            self.b.text("main")
        )
    }

    fn sign_out(&self) {
        self.b
            .click_and_wait("form[action='/sign-out'] button[type=submit]");
    }

    fn choose(&self, select: &str, value: &str) {
        self.b.click(&format!("{select} option[value='{value}']"));
    }

    /// Opens an event's form on the case page and returns the selector of its form.
    fn event_form(&self, event: &str) -> String {
        let form = format!("form:has(input[name=event][value={event}])");
        assert!(
            self.b.exists(&format!("#event-{event}")),
            "no {event} on {} ({}): {}",
            self.b.current_url(),
            self.b.title(),
            self.errors()
        );
        let open = self.b.run(
            &format!("return document.querySelector('details:has(#event-{event})').open;"),
            json!([]),
        );
        if open != json!(true) {
            self.b.click(&format!("#event-{event}"));
        }
        form
    }

    fn submit(&self, form: &str) {
        self.b
            .click_and_wait(&format!("{form} button[type=submit]"));
    }

    fn errors(&self) -> String {
        if self.b.exists(".govuk-error-summary") {
            self.b.text(".govuk-error-summary")
        } else {
            String::new()
        }
    }
}

/// Each message to `to` caught so far: its plain text and its calendar part, if any.
fn mail_to(sink: &SmtpSink, to: &str) -> Vec<(String, Option<Calendar>)> {
    sink.messages()
        .iter()
        .filter(|m| m.to.iter().any(|t| t == to))
        .map(|m| {
            let parsed = MessageParser::default().parse(&m.raw).expect("MIME");
            let calendar = parsed
                .parts
                .iter()
                .find(|p| {
                    p.content_type()
                        .is_some_and(|c| c.subtype() == Some("calendar"))
                })
                .and_then(|p| p.text_contents())
                .map(|t| t.parse::<Calendar>().expect("the calendar part parses"));
            (
                parsed
                    .body_text(0)
                    .map(|t| t.to_string())
                    .unwrap_or_default(),
                calendar,
            )
        })
        .collect()
}

fn event_prop(cal: &Calendar, key: &str) -> String {
    cal.components
        .iter()
        .find_map(|c| c.as_event())
        .and_then(|e| e.property_value(key))
        .unwrap_or_default()
        .to_string()
}

fn link_in(text: &str, path: &str) -> String {
    let start = text
        .find(&format!("http://safeguard.test{path}"))
        .unwrap_or_else(|| panic!("a {path} link in: {text}"));
    text[start + "http://safeguard.test".len()..]
        .chars()
        .take_while(|c| !c.is_whitespace())
        .collect()
}

#[test]
fn a_chair_a_partner_and_a_team_lead_use_the_pages() {
    let Some(browser) = Browser::start() else {
        return;
    };
    let sink = SmtpSink::start();
    let app = TestApp::spawn_with(Backend::Sqlite, &[("SAFEGUARD_SMTP_URL", sink.url())]);
    let chair = app.person("chair", "la-cardiff", "Test team", "Chair One");
    let lead = app.person("team_lead", "la-cardiff", "Test team", "Team Lead One");
    let swansea = app.person("chair", "la-swansea", "West team", "Chair Two");
    let admin = app.person(
        "administrator",
        "la-cardiff",
        "Digital services",
        "Admin One",
    );
    let ui = Ui {
        b: &browser,
        base: &app.base,
    };

    // Signing in: a page that asks, a wrong password refused, then in.
    ui.open("/cases");
    assert!(
        browser.current_url().contains("/sign-in"),
        "{}",
        browser.current_url()
    );
    ui.check("01-sign-in");
    ui.sign_in(&chair.email, "not the password at all");
    assert!(ui.errors().contains("not right"), "{}", ui.errors());
    assert_eq!(
        browser.value("#email"),
        chair.email,
        "the email typed is kept"
    );
    ui.sign_in(&chair.email, TEST_PASSWORD);
    assert!(
        browser.current_url().ends_with("/cases"),
        "{}",
        browser.current_url()
    );
    ui.check("02-my-cases");

    // A new report: a date in the wrong format is refused and what was typed stays.
    ui.open("/cases/new");
    ui.check("03-new-report");
    browser.type_into("#child_name", "Test Child Foxtrot");
    // A date of birth that does not exist: 31 February.
    browser.type_into("#date_of_birth", "31");
    browser.type_into("#date_of_birth-month", "2");
    browser.type_into("#date_of_birth-year", "2012");
    browser.type_into("#gender", "female");
    ui.choose("#located_authority", "la-cardiff");
    ui.choose("#residence_authority", "la-cardiff");
    for (id, answer) in [
        ("immediate_risk", "-no"),
        ("s130_harm", ""),
        ("s130_care_needs", ""),
        ("care_needs_parents_cannot_meet", "-no"),
        ("trafficking_suspected", "-no"),
    ] {
        browser.click(&format!("#f-report-{id}{answer}"));
    }
    browser.click("#f-report-section47_grounds");
    for sign in ["physical", "emotional", "material", "behavioural"] {
        browser.type_into(&format!("#f-report-signs_{sign}"), "none observed");
    }
    browser.type_into(
        "#f-report-signs_material",
        "<script>alert('x')</script> new phone",
    );
    ui.submit("form[action='/cases/new']");
    assert!(
        ui.errors()
            .contains("Date of birth must be a real date, for example 27 3 2012"),
        "{}",
        ui.errors()
    );
    assert_eq!(browser.value("#child_name"), "Test Child Foxtrot");
    assert!(
        browser
            .value("#f-report-signs_material")
            .contains("<script>"),
        "typed text is kept as typed"
    );
    assert!(
        !browser.source().contains("<script>alert"),
        "and never put into the page as markup"
    );
    browser.type_into("#date_of_birth", "14");
    browser.type_into("#date_of_birth-month", "5");
    ui.submit("form[action='/cases/new']");
    assert!(
        browser
            .source()
            .contains("The report is recorded. What happens next is below."),
        "{}",
        ui.shown()
    );
    let case_url = browser
        .current_url()
        .split('?')
        .next()
        .unwrap_or_default()
        .to_string();
    assert!(case_url.contains("/cases/CSE-2026-"), "{case_url}");
    let reference = case_url.rsplit('/').next().unwrap_or_default().to_string();
    ui.check("04-case-report-received");

    // A decline without its rationale is refused on the page; nothing is recorded.
    let decline = ui.event_form("decline_report");
    browser.type_into(&format!("{decline} textarea[name=rationale]"), "too short");
    ui.submit(&decline);
    assert!(ui.errors().contains("rationale"), "{}", ui.errors());
    assert_eq!(
        browser.value("#rationale-decline_report"),
        "too short",
        "what was typed stays"
    );
    ui.check("05-decline-refused");
    let (_, case) = app.get(&chair.token, &format!("/api/cases/{reference}"));
    assert_eq!(case["workflows"][0]["state"], "report_received");

    // Decide, then hold the strategy discussion. The decision asks for the child's own needs
    // (R25): she uses British Sign Language, so each meeting with her says to book an
    // interpreter.
    let accept = ui.event_form("accept_report");
    browser.click("#f-accept_report-communication_needs-british_sign_language");
    ui.submit(&accept);
    assert_eq!(ui.errors(), "");
    let discussion = ui.event_form("convene_strategy_meeting");
    // When it was held: a date in three boxes and a time beside them.
    let held = "#f-convene_strategy_meeting-discussion_held_at";
    browser.type_into(held, "25");
    browser.type_into(&format!("{held}-month"), "11");
    browser.type_into(&format!("{held}-year"), "2026");
    browser.type_into(&format!("{held}-time"), "09:30");
    for agency in ["la-cardiff", "police-south-wales"] {
        browser.click(&format!(
            "input[name='fact:participants'][value='{agency}']"
        ));
    }
    browser.click("#f-convene_strategy_meeting-youth_justice_involved-no");
    // What was shared is recorded disclosure by disclosure (R24): what, with whom, the
    // lawful basis from the workflow's list, and who decided.
    let shared = "#f-convene_strategy_meeting-information_shared";
    browser.type_into(
        shared,
        "Police intelligence about an adult seen with the child",
    );
    browser.type_into(&format!("{shared}-0-with"), "Cardiff social services");
    ui.choose(&format!("{shared}-0-basis"), "prevent_serious_harm");
    browser.type_into(
        &format!("{shared}-0-decided"),
        "The detective sergeant on duty",
    );
    ui.submit(&discussion);
    assert_eq!(ui.errors(), "", "the strategy discussion is recorded");
    ui.check("06-case-strategy-meeting");

    // A second child, Golf, brought by the same chair to the same step (the same pages as
    // above, taken through the API here to keep the test short): the meeting is about both.
    let golf_ref = {
        let mut c = child();
        c["name"] = json!("Test Child Golf");
        let case = app.create_case(&chair.token, c, report_facts());
        let id = case["id"].as_str().expect("id").to_string();
        for body in [
            json!({"event": "accept_report"}),
            json!({"event": "convene_strategy_meeting", "facts": discussion_facts()}),
        ] {
            let (s, b) = app.event(&chair.token, &id, body);
            assert_eq!(s, 200, "{b}");
        }
        case["reference"].as_str().expect("reference").to_string()
    };

    // The chair convenes the meeting: the invitees start from the case (both authorities'
    // social services, the police and the health board); a Saturday is warned about and kept
    // as typed; a Friday goes through and the invitations arrive.
    browser.click_and_wait("a[href$='/meetings/new']");
    ui.check("07-convene-meeting");
    assert!(
        browser.source().contains("Test Child Golf"),
        "the chair's other child at this step is offered: {}",
        ui.shown()
    );
    browser.click("#m-also-0");
    assert_eq!(browser.value("#inv-1-agency"), "police-south-wales");
    assert_eq!(browser.value("#inv-2-agency"), "health-cardiff-and-vale");
    for (i, name, email) in [
        (0, "Social Worker Sample", "sw.sample@cardiff.example"),
        (1, "Sergeant Sample", "sergeant.sample@police.example"),
        (2, "Health Visitor Sample", "hv.sample@health.example"),
    ] {
        browser.click(&format!("#inv-{i}-include"));
        browser.type_into(&format!("#inv-{i}-name"), name);
        browser.type_into(&format!("#inv-{i}-email"), email);
    }
    let rows = browser.run(
        "return document.querySelectorAll('input[name$=\":include\"]').length;",
        json!([]),
    );
    let extra = rows.as_u64().unwrap_or(1) - 1;
    assert!(extra >= 1, "suggested rows then blank ones");
    // Saturday 28 November, in three boxes, with the times beside them.
    browser.type_into("#m-date", "28");
    browser.type_into("#m-date-month", "11");
    browser.type_into("#m-date-year", "2026");
    browser.type_into("#m-starts_time", "10:00");
    browser.type_into("#m-ends_time", "11:00");
    browser.type_into("#m-location", "Room 2, County Hall");
    browser.click(&format!("#inv-{extra}-include"));
    browser.type_into(&format!("#inv-{extra}-name"), "Partner Worker");
    browser.type_into(&format!("#inv-{extra}-email"), "partner@partner.example");
    ui.choose(&format!("#inv-{extra}-agency"), "police-south-wales");
    browser.type_into(&format!("#inv-{extra}-role"), "detective constable");
    browser.click(&format!("#inv-{extra}-direct"));
    // One person more than the rows: a row is added, and what was typed stays.
    browser.click_and_wait("button[name=add][value=invitee]");
    let nurse_row = extra + 1;
    assert!(
        browser.exists(&format!("#inv-{nurse_row}-name")),
        "a row more"
    );
    assert_eq!(
        browser.value(&format!("#inv-{extra}-email")),
        "partner@partner.example"
    );
    assert_eq!(
        browser.run(
            "return document.querySelector('#m-also-0').checked;",
            json!([])
        ),
        json!(true),
        "the other child stays chosen"
    );
    browser.click(&format!("#inv-{nurse_row}-include"));
    browser.type_into(&format!("#inv-{nurse_row}-name"), "Nurse Sample");
    browser.type_into(
        &format!("#inv-{nurse_row}-email"),
        "nurse.sample@health.example",
    );
    ui.choose(
        &format!("#inv-{nurse_row}-agency"),
        "health-cardiff-and-vale",
    );
    browser.type_into(&format!("#inv-{nurse_row}-role"), "school nurse");
    browser.click_and_wait("#convene-submit");
    assert!(
        ui.errors().to_lowercase().contains("weekend"),
        "{}",
        ui.errors()
    );
    assert_eq!(
        browser.value(&format!("#inv-{extra}-email")),
        "partner@partner.example",
        "typed invitees kept"
    );
    browser.type_into("#m-date", "27");
    browser.click_and_wait("#convene-submit");
    assert_eq!(ui.errors(), "", "the meeting is convened");
    assert!(browser.current_url().contains(&reference));
    assert!(
        browser
            .source()
            .contains("The meeting is arranged, and everyone invited has an invitation"),
        "{}",
        ui.shown()
    );
    app.drain_outbox();
    let invitation = sink.messages();
    assert!(
        invitation
            .iter()
            .any(|m| m.to.iter().any(|t| t == "partner@partner.example")),
        "the invitation arrives"
    );
    assert_eq!(
        invitation.len(),
        5,
        "one invitation to each of the five invited"
    );

    // The nurse cannot come and says why, through the link in her invitation.
    let to_nurse = mail_to(&sink, "nurse.sample@health.example");
    let respond = link_in(&to_nurse[0].0, "/respond/");
    browser.goto(&format!("{}{respond}", app.base));
    browser.type_into(
        "#reason",
        "Clinic all day; the health visitor will bring our notes",
    );
    browser.click_and_wait("button[name=answer][value=declined]");
    // The chair sees it on the meeting's page, with her reason.
    browser.goto(&case_url);
    browser.click_and_wait("a[href^='/meetings/']:not([href$='/record'])");
    let meeting_url = browser.current_url();
    assert!(
        browser.source().contains("1 not attending")
            && browser
                .source()
                .contains("Clinic all day; the health visitor will bring our notes"),
        "{}",
        ui.shown()
    );
    assert!(
        browser.exists(&format!("#to-book-{reference}"))
            && browser
                .source()
                .contains("book a registered BSL interpreter"),
        "the meeting says what to book for the child: {}",
        ui.shown()
    );
    ui.check("07b-meeting-answers");
    // The chair moves it to Thursday afternoon, with the reason; everyone invited is told.
    browser.click("#move-summary");
    browser.type_into("#move-date", "26");
    browser.type_into("#move-date-month", "11");
    browser.type_into("#move-date-year", "2026");
    browser.type_into("#move-starts_time", "14:00");
    browser.type_into("#move-ends_time", "15:00");
    browser.type_into(
        "#move-reason",
        "The detective constable is at court on Friday.",
    );
    ui.submit("form[action$='/reschedule']");
    assert_eq!(ui.errors(), "", "the meeting is moved");
    assert!(
        browser.source().contains("Thursday 26 November 2026"),
        "{}",
        ui.shown()
    );
    app.drain_outbox();
    let to_partner = mail_to(&sink, "partner@partner.example");
    let (moved_text, moved) = to_partner.last().expect("the updated invitation");
    let moved = moved.as_ref().expect("with its calendar file");
    assert_eq!(
        event_prop(moved, "SEQUENCE"),
        "1",
        "the calendar updates the meeting"
    );
    assert_eq!(event_prop(moved, "DTSTART"), "20261126T140000Z");
    assert!(
        moved_text.contains("The detective constable is at court on Friday."),
        "the reason is in the email: {moved_text}"
    );
    assert!(
        !moved_text.contains("Foxtrot") && !moved_text.contains("Golf"),
        "no child's name"
    );

    // After the meeting: its record (who came, the decisions, no child's name) ...
    app.clock.set(
        chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 11, 27, 11, 30, 0)
            .single()
            .expect("time"),
    );
    // Two days on, Wednesday's session has ended: sign in again.
    browser.goto(&case_url);
    assert!(
        browser.current_url().contains("/sign-in"),
        "sessions last a working day"
    );
    ui.sign_in(&chair.email, TEST_PASSWORD);
    browser.goto(&meeting_url);
    browser.goto(&case_url);
    browser.click_and_wait("a[href$='/record']");
    ui.check("08-record-meeting");
    let page = browser.source();
    let (first, second) = (
        page.find(&format!("Decisions for {reference}")),
        page.find(&format!("Decisions for {golf_ref}")),
    );
    assert!(
        matches!((first, second), (Some(a), Some(b)) if a < b),
        "a part for each child, this one first: {}",
        ui.shown()
    );
    browser.type_into(
        "#m-summary",
        "Agreed: Foxtrot to be seen weekly at school by the nurse.",
    );
    // ... and on the same page, the outcome for the child with two actions for the partner.
    // Who attended starts from the invitees: nobody types them again.
    // Four of the five invited came (not the nurse), and two more who were not invited.
    browser.run(
        "document.querySelectorAll(\"input[id^='att-']\").forEach(e => {
           e.checked = !e.closest('tr').textContent.includes('Nurse Sample'); });",
        json!([]),
    );
    browser.type_into("#other-0-name", "Advocate Sample");
    ui.choose("#other-0-agency", "la-cardiff");
    browser.click_and_wait("button[name=add][value=other]");
    browser.type_into("#other-1-name", "Youth Worker Sample");
    ui.choose("#other-1-agency", "la-cardiff");
    browser.click("#event-c0");
    browser.type_into("#f-c0-child_views", "Feels safer at school");
    browser.click("#f-c0-child_seen_alone");
    browser.click("#f-c0-child_told_about_support");
    browser.click("#f-c0-icpc_needed-no");
    browser.click("#f-c0-plan_kind-care_and_support");
    browser.click("#f-c0-disability_or_sensory_impairment-no");
    browser.click("#f-c0-unaccompanied_asylum_seeking-no");
    browser.type_into(
        "#f-c0-communication_needs_met",
        "A registered BSL interpreter sat beside her throughout",
    );
    browser.type_into(
        "#f-c0-contexts_considered",
        "The school, and the park beside it after dark",
    );
    browser.click("#f-c0-harm_by_peer-no");
    for (i, (title, due)) in [
        ("Return-home interview", "2"),
        ("Disruption notice for the address", "4"),
    ]
    .iter()
    .enumerate()
    {
        browser.type_into(&format!("#a-c0-{i}-title"), title);
        browser.type_into(&format!("#a-c0-{i}-owner_name"), "Partner Worker");
        browser.type_into(&format!("#a-c0-{i}-owner_email"), "partner@partner.example");
        browser.type_into(&format!("#a-c0-{i}-due_date"), due);
        browser.type_into(&format!("#a-c0-{i}-due_date-month"), "12");
        browser.type_into(&format!("#a-c0-{i}-due_date-year"), "2026");
    }
    // The second child's own outcome and actions.
    browser.click("#event-c1");
    browser.type_into("#f-c1-child_views", "Wants to keep seeing the youth worker");
    browser.click("#f-c1-child_seen_alone");
    browser.click("#f-c1-child_told_about_support");
    browser.click("#f-c1-icpc_needed-no");
    browser.click("#f-c1-plan_kind-care_and_support");
    browser.click("#f-c1-disability_or_sensory_impairment-no");
    browser.click("#f-c1-unaccompanied_asylum_seeking-no");
    browser.type_into(
        "#f-c1-contexts_considered",
        "The youth club and the friends the child meets there",
    );
    browser.click("#f-c1-harm_by_peer-no");
    for (i, (title, due)) in [
        ("School safety plan", "4"),
        ("Weekly youth-club check-in", "11"),
    ]
    .iter()
    .enumerate()
    {
        browser.type_into(&format!("#a-c1-{i}-title"), title);
        browser.type_into(&format!("#a-c1-{i}-owner_name"), "Social Worker Sample");
        browser.type_into(
            &format!("#a-c1-{i}-owner_email"),
            "sw.sample@cardiff.example",
        );
        browser.type_into(&format!("#a-c1-{i}-due_date"), due);
        browser.type_into(&format!("#a-c1-{i}-due_date-month"), "12");
        browser.type_into(&format!("#a-c1-{i}-due_date-year"), "2026");
    }
    // A third row, added without JavaScript: what was typed stays.
    browser.click_and_wait("button[name=add][value=c0]");
    assert_eq!(
        browser.value("#a-c0-1-title"),
        "Disruption notice for the address"
    );
    assert!(browser.exists("#a-c0-2-title"), "a row more");
    browser.click_and_wait("#record-submit");
    assert!(
        ui.errors().contains("name"),
        "a summary naming the child is refused: {}",
        ui.errors()
    );
    assert_eq!(
        browser.value("#a-c0-0-title"),
        "Return-home interview",
        "everything typed is kept"
    );
    browser.type_into(
        "#m-summary",
        "Agreed: return-home interview and a disruption notice; review in one month.",
    );
    browser.click_and_wait("#record-submit");
    assert_eq!(ui.errors(), "", "the meeting and its outcome are recorded");
    assert!(
        browser
            .source()
            .contains("The meeting is recorded, each child’s case has moved on"),
        "confirmed"
    );
    ui.check("09-case-plan-preparation");
    assert_eq!(
        app.state_of(&chair.token, &golf_ref, "cse-strategy"),
        "plan_preparation",
        "the other child's case has moved on too"
    );
    let (_, golf_actions) = app.get(&chair.token, &format!("/api/cases/{golf_ref}/actions"));
    let (_, foxtrot_actions) = app.get(&chair.token, &format!("/api/cases/{reference}/actions"));
    let titles = |v: &serde_json::Value| -> Vec<String> {
        v["actions"]
            .as_array()
            .expect("actions")
            .iter()
            .filter_map(|a| a["title"].as_str().map(str::to_string))
            .collect()
    };
    assert_eq!(
        titles(&foxtrot_actions),
        vec!["Return-home interview", "Disruption notice for the address"]
    );
    assert_eq!(
        titles(&golf_actions),
        vec!["School safety plan", "Weekly youth-club check-in"]
    );
    // The record, step by step, with what the meeting recorded.
    ui.open(&format!("/cases/{reference}/chronology"));
    assert!(
        browser.source().contains("Feels safer at school"),
        "the chronology: {}",
        ui.shown()
    );
    let chronology = browser.source();
    for attendee in [
        "Social Worker Sample",
        "Sergeant Sample",
        "Health Visitor Sample",
        "Partner Worker",
        "Advocate Sample",
        "Youth Worker Sample",
    ] {
        assert!(
            chronology.contains(attendee),
            "{attendee} attended: {}",
            ui.shown()
        );
    }
    assert!(
        !chronology.contains("Wants to keep seeing the youth worker"),
        "nothing of the other child's part"
    );
    ui.check("09b-chronology");

    // The partner opens the link in the email about their actions and marks one done.
    app.drain_outbox();
    let actions_mail = mail_to(&sink, "partner@partner.example")
        .into_iter()
        .map(|(text, _)| text)
        .find(|t| t.contains("/actions/"))
        .expect("the actions email");
    let start = actions_mail
        .find("http://safeguard.test/actions/")
        .expect("link");
    let link: String = actions_mail[start..]
        .chars()
        .take_while(|c| !c.is_whitespace())
        .collect();
    ui.sign_out();
    browser.goto(&link.replace("http://safeguard.test", &app.base));
    assert!(
        browser.source().contains("Return-home interview"),
        "the partner's actions: {}",
        ui.shown()
    );
    browser.type_into("textarea[name=note]", "Interview held on Monday");
    browser.click_and_wait("button[name=status][value=done]");
    assert!(
        browser.source().contains("done"),
        "the action is marked done"
    );
    // For the other, they ask for more time, with the reason.
    browser.type_into(
        "textarea[name=note]",
        "The address changed; we need a week more",
    );
    browser.click_and_wait("button[name=status][value=more_time]");
    assert!(
        browser
            .source()
            .contains("Asks for more time: The address changed"),
        "the request is shown"
    );
    let violations = browser.accessibility_violations();
    assert!(
        violations.is_empty(),
        "attendee page: {}",
        violations.join("\n")
    );
    browser.screenshot("10-attendee-actions");
    let (_, history) = app.get(&chair.token, &format!("/api/cases/{reference}/history"));
    assert!(
        history["history"]
            .as_array()
            .expect("history")
            .iter()
            .any(|e| e["kind"] == "action_more_time_asked"),
        "the request is in the audit trail"
    );

    // The chair sees the request flagged on the case page and gives more time, with the
    // date in three boxes; a day that does not exist is explained at its field first.
    ui.sign_in(&chair.email, TEST_PASSWORD);
    browser.goto(&case_url);
    assert!(
        browser.source().contains("More time asked"),
        "flagged: {}",
        ui.shown()
    );
    ui.check("10b-more-time-flagged");
    let answer = "form:has(input[name=answering])";
    let day = format!("{answer} input[name='due_date-day']");
    browser.type_into(&day, "31");
    browser.type_into(&format!("{answer} input[name='due_date-month']"), "11");
    browser.type_into(&format!("{answer} input[name='due_date-year']"), "2026");
    browser.type_into(
        &format!("{answer} textarea[name=note]"),
        "Agreed: the new address needs a fresh visit.",
    );
    ui.submit(answer);
    assert!(
        ui.errors()
            .contains("Due date must be a real date, for example 27 3 2027"),
        "{}",
        ui.errors()
    );
    assert_eq!(browser.value(&day), "31", "what was typed is kept");
    // The check turns the page's language and back, which loads it afresh: typed again.
    ui.check("10c-more-time-bad-date");
    // Wednesday 9 December: overdue by the team lead's Monday below.
    browser.type_into(&day, "9");
    browser.type_into(&format!("{answer} input[name='due_date-month']"), "12");
    browser.type_into(&format!("{answer} input[name='due_date-year']"), "2026");
    browser.type_into(
        &format!("{answer} textarea[name=note]"),
        "Agreed: the new address needs a fresh visit.",
    );
    ui.submit(answer);
    assert_eq!(ui.errors(), "");
    assert!(browser
        .source()
        .contains("Your answer is saved, and the owner has been emailed."));
    assert!(browser.source().contains("More time given"));
    assert!(
        !browser.exists(answer)
            && !browser
                .source()
                .contains("govuk-tag--yellow\">More time asked"),
        "the request is answered, so no longer flagged: {}",
        ui.shown()
    );
    ui.check("10d-more-time-given");

    // The date of birth was wrong: the chair corrects it, with the reason, and the age-18 date
    // moves (14 May 2030 as first recorded).
    browser.goto(&case_url);
    assert!(browser.source().contains("Tuesday 14 May 2030"));
    browser.click("#fix-summary");
    browser.type_into("#fix-date_of_birth-year", "2009");
    browser.type_into(
        "#fix-reason",
        "The birth certificate seen at school shows 2009.",
    );
    ui.submit("form[action$='/child']");
    assert_eq!(ui.errors(), "");
    assert!(
        browser
            .source()
            .contains("The child’s details are corrected.")
            && browser.source().contains("Friday 14 May 2027"),
        "the age-18 date moves: {}",
        ui.shown()
    );
    ui.check("10e-child-corrected");

    // She went missing overnight: the chair records the episode on the risk page, and the risk
    // review comes forward (to Friday 4 December, five working days on).
    browser.click_and_wait("#risk-link");
    browser.click("#new-episode-summary");
    browser.type_into("#ep-went", "27");
    browser.type_into("#ep-went-month", "11");
    browser.type_into("#ep-went-year", "2026");
    browser.type_into("#ep-went-time", "02:00");
    ui.submit("form[action$='/risk/missing-episodes']");
    assert!(
        ui.errors().contains("Reported by must not be empty."),
        "{}",
        ui.errors()
    );
    browser.type_into("#ep-reported_by", "Police control room");
    ui.submit("form[action$='/risk/missing-episodes']");
    assert_eq!(ui.errors(), "");
    assert!(
        browser
            .text("#risk-review")
            .contains("Friday 4 December 2026")
            && browser
                .text("#risk-review")
                .contains("brought forward by a missing episode"),
        "{}",
        ui.shown()
    );
    assert!(browser.source().contains("Friday 27 November 2026, 02:00"));
    ui.check("10f-missing-episode");

    // The place she was seen at goes on record as a context, and she is linked to it.
    ui.open("/contexts");
    browser.click("#new-context-summary");
    browser.click("#new-kind");
    browser.type_into("#new-name", "The arcade on Queen Street");
    browser.type_into(
        "#new-description",
        "Older men seen offering children lifts from outside.",
    );
    ui.submit("form[action='/contexts']");
    assert_eq!(ui.errors(), "");
    let context_url = browser.current_url();
    let context_url = context_url.split('?').next().unwrap_or("").to_string();
    browser.click("#link-summary");
    browser.type_into("#link-case", &reference);
    browser.type_into(
        "#link-reason",
        "Seen there with older men twice this month.",
    );
    browser.type_into(
        "#link-information",
        "School attendance officer, 20 November",
    );
    ui.submit("form[action$='/links']");
    assert_eq!(ui.errors(), "");
    assert!(
        browser.exists(&format!(".govuk-summary-card a[href='/cases/{reference}']"))
            && browser
                .source()
                .contains("Seen there with older men twice this month."),
        "{}",
        ui.shown()
    );
    ui.check("10g-context");

    // The police and partners meet about the arcade: an exploitation meeting convened from its
    // page, with the child linked to it on the agenda.
    browser.click_and_wait("a[href$='/meetings/new']");
    assert!(
        browser.exists("input[name=kind][value=exploitation_meeting]:checked")
            && !browser.exists("input[name=kind][value=strategy_meeting]"),
        "only the kind held about contexts: {}",
        ui.shown()
    );
    browser.type_into("#m-date", "2");
    browser.type_into("#m-date-month", "12");
    browser.type_into("#m-date-year", "2026");
    browser.type_into("#m-starts_time", "14:00");
    browser.type_into("#m-ends_time", "15:30");
    browser.type_into("#m-location", "Room 4, County Hall");
    browser.click("#inv-0-include");
    browser.type_into("#inv-0-name", "Sergeant Sample");
    browser.type_into("#inv-0-email", "sergeant.sample@police.example");
    ui.choose("#inv-0-agency", "police-south-wales");
    browser.type_into("#inv-0-role", "exploitation lead");
    browser.click_and_wait("#convene-submit");
    assert_eq!(ui.errors(), "", "the meeting is convened");
    assert!(
        browser.current_url().starts_with(&context_url)
            && browser.source().contains("The meeting is arranged"),
        "{}",
        ui.shown()
    );
    browser.click_and_wait("#meetings + p + .govuk-summary-card a[href^='/meetings/']");
    assert!(
        browser.source().contains(&format!(
            "<a class=\"govuk-link\" href=\"/cases/{reference}\">{reference}</a>: Seen there with older men twice this month."
        )),
        "the child's line on the agenda: {}",
        ui.shown()
    );
    ui.check("10h-exploitation-meeting");

    // The police take a disruption action on the place, agreed on its page.
    browser.goto(&context_url);
    browser.click("#action-summary");
    browser.type_into("#action-title", "Ask the licensing team to visit the owner");
    browser.click("#action-disruption");
    browser.type_into("#action-owner_name", "Sergeant Sample");
    browser.type_into("#action-owner_email", "sergeant.sample@police.example");
    ui.choose("#action-agency", "police-south-wales");
    ui.submit("form[action$='/actions']");
    assert_eq!(ui.errors(), "");
    assert!(
        browser
            .text("#actions ~ .govuk-summary-card")
            .contains("Ask the licensing team to visit the owner")
            && browser
                .text("#actions ~ .govuk-summary-card")
                .contains("Disruption"),
        "{}",
        ui.shown()
    );
    ui.check("10i-context-action");

    // The chronology for a conference or court, as the service's own PDF, read back.
    let pdf = browser.download(&format!("{}/cases/{reference}/record.pdf", app.base));
    let text = pdf_extract::extract_text_from_mem(&pdf).expect("the PDF reads back");
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    for expected in [
        reference.as_str(),
        "Case record, step by step",
        "Feels safer at school",
        "Partner Worker (South Wales Police): has direct knowledge of the child",
        "Return-home interview",
        "The birth certificate seen at school shows 2009.",
    ] {
        assert!(flat.contains(expected), "{expected} in the PDF: {flat}");
    }
    assert!(
        !flat.contains("Wants to keep seeing the youth worker"),
        "nothing of the other child"
    );
    ui.sign_out();

    // A second user of another authority cannot open the case.
    ui.sign_in(&swansea.email, TEST_PASSWORD);
    browser.goto(&case_url);
    assert!(
        browser.title().contains("Page not found") || browser.title().contains("Heb ddod o hyd"),
        "{}",
        browser.title()
    );
    ui.check("11-other-authority-not-found");
    // Nor the place her case is linked to: it is Cardiff's, and none of its children is hers.
    browser.goto(&context_url);
    assert!(
        browser.title().contains("Page not found") || browser.title().contains("Heb ddod o hyd"),
        "{}",
        browser.title()
    );
    // Break-glass is for a case of one's own authority: this one answers as no case at all.
    ui.open("/cases");
    browser.click("details summary");
    browser.type_into("#bg-reference", &reference);
    browser.type_into(
        "#bg-reason",
        "Police call overnight: the child is missing from home.",
    );
    ui.submit("form[action='/break-glass']");
    assert!(
        ui.errors()
            .contains("No case of your authority has that reference"),
        "{}",
        ui.errors()
    );
    ui.check("11b-break-glass-refused");
    ui.sign_out();

    // Three children in two authorities at the arcade (set up through the API): another
    // Cardiff team's child, and a Swansea child her chair links once she is involved in the
    // first; and a person of concern the Cardiff chair, given the role, records and links.
    let context_ref = context_url.rsplit('/').next().unwrap_or("").to_string();
    let link = |token: &str, context: &str, case: &str| {
        let (s, l) = app.post(token, &format!("/api/contexts/{context}/links"), &json!({
            "case": case, "reason": "Seen at the arcade late on school nights.", "information": "Police patrol, 26 November"}));
        assert_eq!(s, 201, "{l}");
    };
    let other_team = app.person("chair", "la-cardiff", "North team", "Chair Three");
    let bravo = app.create_case(
        &other_team.token,
        merge(child(), json!({"name": "Test Child Bravo"})),
        report_facts(),
    );
    let bravo_ref = bravo["reference"].as_str().expect("reference").to_string();
    link(&other_team.token, &context_ref, &bravo_ref);
    let version = app.get(&chair.token, &format!("/api/cases/{reference}")).1["version"].clone();
    let (s, r) = app.post(&chair.token, &format!("/api/cases/{reference}/involvements"),
        &json!({"expected_version": version, "agency": "la-swansea", "role": "chair", "user_email": swansea.email}));
    assert_eq!(s, 201, "{r}");
    let charlie = app.create_case(
        &swansea.token,
        merge(
            child(),
            json!({"name": "Test Child Charlie",
        "located_authority": "la-swansea", "residence_authority": "la-swansea"}),
        ),
        report_facts(),
    );
    let charlie_ref = charlie["reference"]
        .as_str()
        .expect("reference")
        .to_string();
    link(&swansea.token, &context_ref, &charlie_ref);
    let grant = |email: &str| {
        let svc = &app.service.state.services;
        safeguard::domain::context::set_persons_of_concern(
            &mut app.conn(),
            &svc.audit_key,
            email,
            true,
            "test administrator",
            app.clock_now().naive_utc(),
        )
        .expect("the role");
    };
    grant(&chair.email);
    let (s, person) = app.post(&chair.token, "/api/contexts", &json!({"kind": "person_of_concern",
        "name": "A man known as Uncle Tee", "description": "Drives a grey van; gives children vapes."}));
    assert_eq!(s, 201, "{person}");
    let person_ref = person["reference"].as_str().expect("reference").to_string();
    link(&chair.token, &person_ref, &reference);
    // The Swansea chair sees on the place's page her own child and the Cardiff child she is
    // involved in; of the other Cardiff team's child, nothing, not even a count.
    ui.sign_in(&swansea.email, TEST_PASSWORD);
    browser.goto(&context_url);
    let page = browser.source();
    assert!(
        page.contains(&format!("href=\"/cases/{charlie_ref}\""))
            && page.contains(&format!("href=\"/cases/{reference}\""))
            && !page.contains(&bravo_ref)
            && !page.contains("Bravo"),
        "{}",
        ui.shown()
    );
    assert_eq!(
        browser.run("return document.querySelectorAll('#children ~ .govuk-summary-card[id^=link-]').length;", json!([])),
        json!(2),
        "two children's cards, no more"
    );
    ui.check("11c-place-across-authorities");
    // The person of concern answers as not found until an administrator gives her the role.
    let person_url = format!("{}/contexts/{person_ref}", app.base);
    browser.goto(&person_url);
    assert!(
        browser.title().contains("Page not found") || browser.title().contains("Heb ddod o hyd"),
        "{}",
        browser.title()
    );
    grant(&swansea.email);
    browser.goto(&person_url);
    assert!(
        browser.source().contains("A man known as Uncle Tee")
            && browser
                .source()
                .contains(&format!("href=\"/cases/{reference}\"")),
        "{}",
        ui.shown()
    );
    ui.check("11d-person-of-concern-with-the-role");
    ui.sign_out();

    // The team lead's dashboard shows the other action overdue once its date has passed.
    app.clock.set(
        chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 12, 14, 9, 0, 0)
            .single()
            .expect("time"),
    );
    ui.sign_in(&lead.email, TEST_PASSWORD);
    ui.open("/dashboard");
    let page = browser.source();
    assert!(
        page.contains("Disruption notice for the address"),
        "the undone action is overdue: {}",
        ui.shown()
    );
    assert!(
        !page.contains("Return-home interview"),
        "the one done is not"
    );
    assert!(
        browser.exists("svg.sg-chart") || page.contains("Timeliness"),
        "timeliness is shown"
    );
    assert!(
        browser.text("#risk-reviews-due + ul").contains(&reference)
            && browser.text("#risk-reviews-due + ul").contains("Overdue"),
        "the late risk review is chased on the dashboard: {}",
        ui.shown()
    );
    assert!(
        browser
            .text("#missing-episodes-begun")
            .contains("1 missing episode began"),
        "{}",
        ui.shown()
    );
    ui.check("12-dashboard");
    ui.open("/workflows/cse-strategy");
    assert!(browser.exists("svg.sg-diagram"));
    ui.check("13-workflow");

    // A form sent without its CSRF token is refused, and nothing changes.
    browser.goto(&case_url);
    let before = app.get(&lead.token, &format!("/api/cases/{reference}")).1["version"].clone();
    let agree = ui.event_form("agree_plan");
    browser.run(
        &format!("document.querySelector(\"{agree} input[name=csrf]\").remove();"),
        json!([]),
    );
    ui.submit(&agree);
    assert!(
        browser.title().contains("expired") || browser.title().contains("dod i ben"),
        "{}",
        browser.title()
    );
    assert_eq!(
        app.get(&lead.token, &format!("/api/cases/{reference}")).1["version"],
        before
    );

    // The team lead restricts the case from its page, with a rationale; it says so.
    browser.goto(&case_url);
    browser.click("#access ~ details summary");
    ui.submit("form[action$='/restriction']");
    assert!(
        ui.errors().contains("at least 20 characters"),
        "a rationale is needed: {}",
        ui.errors()
    );
    browser.click("#access ~ details summary");
    browser.type_into(
        "#access-rationale",
        "The child is the relative of a member of the team's staff.",
    );
    ui.submit("form[action$='/restriction']");
    assert_eq!(ui.errors(), "");
    assert!(browser
        .source()
        .contains("only the people named below may open it"));
    ui.check("14-case-restricted");
    ui.open("/account");
    assert!(
        browser.source().contains("Sign out everywhere"),
        "the account page: {}",
        ui.shown()
    );
    ui.check("15-account");
    ui.sign_out();

    // The administrator's page: tokens to revoke, mail, security events; no case.
    ui.sign_in(&admin.email, TEST_PASSWORD);
    assert!(
        browser.current_url().ends_with("/admin"),
        "{}",
        browser.current_url()
    );
    assert!(browser.source().contains("Revoke") && browser.source().contains("sign_in_failed"));
    assert!(
        !browser.source().contains(&reference),
        "no case on the administration page"
    );
    ui.check("16-administration");
    // People: an invitation refused with every problem at its input, then sent.
    browser.click_and_wait("a[href='/admin/people']");
    ui.check("17-people");
    browser.type_into("#invite-email", "not an address");
    browser.click_and_wait("form[action='/admin/people'] button[type=submit]");
    assert!(
        browser.exists("a[href='#invite-name']") && browser.exists("a[href='#invite-team']"),
        "{}",
        ui.shown()
    );
    ui.check("18-people-refused");
    browser.type_into("#invite-name", "Browser Invitee");
    browser.type_into("#invite-email", "browser.invitee@example.invalid");
    ui.choose("#invite-role", "practitioner");
    browser.type_into("#invite-team", "Test team");
    ui.choose("#invite-authority", "la-cardiff");
    browser.click_and_wait("form[action='/admin/people'] button[type=submit]");
    assert!(
        browser.source().contains("The invitation is on its way."),
        "{}",
        ui.shown()
    );
    browser.click_and_wait("a[href='/admin']");
    browser.click_and_wait("a[href='/admin/agencies']");
    assert!(browser.source().contains("South Wales Police"));
    ui.check("19-agencies");
    browser.click_and_wait("a[href='/admin']");
    browser.click_and_wait("a[href='/admin/retention']");
    assert!(
        browser
            .source()
            .contains("Place a legal hold on a closed case"),
        "{}",
        ui.shown()
    );
    ui.check("20-retention");
    ui.sign_out();
}

/// A partner's referral through its link, in the browser (R3, WSP c2 p18): an administrator
/// issues the link on the page; the partner, without an account, opens it, is told of every
/// problem at once, sends the report and sees its reference; the receipt arrives without the
/// child's name; Cardiff's team lead acknowledges it on the case page and gives it to a team;
/// the chair decides on the page, and the partner's decision email says it was accepted and
/// nothing more. The pages are checked with axe-core in both languages.
#[test]
fn a_partner_reports_a_child_through_their_referral_link() {
    let Some(browser) = Browser::start() else {
        return;
    };
    let sink = SmtpSink::start();
    let app = TestApp::spawn_with(Backend::Sqlite, &[("SAFEGUARD_SMTP_URL", sink.url())]);
    let chair = app.person("chair", "la-cardiff", "Test team", "Chair One");
    let lead = app.person("team_lead", "la-cardiff", "Test team", "Team Lead One");
    let admin = app.person(
        "administrator",
        "la-cardiff",
        "Digital services",
        "Admin One",
    );
    let ui = Ui {
        b: &browser,
        base: &app.base,
    };

    // The administrator issues a link to a named officer of the police.
    ui.sign_in(&admin.email, TEST_PASSWORD);
    ui.open("/admin/referral-links");
    ui.check("40-referral-links");
    ui.choose("#issue-agency", "police-south-wales");
    browser.type_into("#issue-person_name", "Sergeant Sample");
    browser.type_into("#issue-person_email", "sergeant.sample@police.example");
    browser.click_and_wait("form[action='/admin/referral-links'] button[type=submit]");
    let url = browser.text("#issued-url");
    assert!(
        url.starts_with("http://safeguard.test/refer/"),
        "{}",
        ui.shown()
    );
    ui.sign_out();

    // The partner opens it: no sign-in, the agency named, 999 first.
    let path = url.trim_start_matches("http://safeguard.test").to_string();
    ui.open(&path);
    assert!(
        browser.text("main").contains("South Wales Police") && browser.text("main").contains("999"),
        "{}",
        ui.shown()
    );
    ui.check("41-referral-form");
    // Sent with nothing filled in, every problem is listed at once.
    browser.click_and_wait("form[action^='/refer/'] button[type=submit]");
    let errors = ui.errors();
    for said in [
        "Enter the child’s name",
        "Enter an email address",
        "Physical signs",
    ] {
        assert!(errors.contains(said), "{said}: {errors}");
    }
    browser.type_into("#child_name", "Test Child Referral");
    browser.type_into("#date_of_birth", "14");
    browser.type_into("#date_of_birth-month", "5");
    browser.type_into("#date_of_birth-year", "2012");
    browser.type_into("#gender", "female");
    ui.choose("#located_authority", "la-cardiff");
    browser.type_into(
        "#f-refer-child_whereabouts",
        "At a friend's house near the station",
    );
    browser.click("input[name='fact:immediate_risk'][value='no']");
    for (group, seen) in [
        ("physical", "none observed"),
        ("emotional", "withdrawn in lessons"),
        ("material", "a new phone she will not explain"),
        ("behavioural", "leaves school at lunchtime"),
    ] {
        browser.type_into(&format!("#f-refer-signs_{group}"), seen);
    }
    browser.type_into("#f-refer-reporter-name", "Sergeant Sample");
    browser.type_into("#f-refer-reporter-role", "Detective sergeant");
    browser.type_into("#f-refer-reporter-email", "sergeant.sample@police.example");
    browser.type_into("#f-refer-reporter-phone", "029 2000 0001");
    browser.click_and_wait("form[action^='/refer/'] button[type=submit]");
    assert_eq!(ui.errors(), "", "the report is sent: {}", ui.shown());
    let reference = browser.text(".govuk-panel__body strong");
    assert!(reference.starts_with("CSE-"), "{}", ui.shown());
    ui.check("42-referral-sent");

    app.drain_outbox();
    let receipts = mail_to(&sink, "sergeant.sample@police.example");
    let receipt = receipts
        .iter()
        .find(|(t, _)| t.contains(&reference))
        .unwrap_or_else(|| panic!("a receipt naming {reference}: {receipts:?}"));
    assert!(
        !receipt.0.contains("Test Child Referral"),
        "no child's name: {}",
        receipt.0
    );

    // Cardiff's team lead finds it, acknowledges it, and gives it to a team.
    ui.sign_in(&lead.email, TEST_PASSWORD);
    ui.open(&format!("/cases/{reference}"));
    assert!(
        browser.text("#referral").contains("Not yet acknowledged"),
        "{}",
        ui.shown()
    );
    browser.click_and_wait("#referral-acknowledge");
    assert!(
        browser.text("#referral").contains("Team Lead One"),
        "{}",
        ui.shown()
    );
    assert!(
        !browser.exists("#referral-acknowledge"),
        "acknowledged once"
    );
    ui.check("43-referral-acknowledged");
    browser.click("#access summary, details:has(#access-team) summary");
    browser.type_into("#access-team", "Test team");
    browser.click_and_wait("form[action$='/team'] button[type=submit]");
    ui.sign_out();

    // The chair decides on the page, answering what the partner could not.
    ui.sign_in(&chair.email, TEST_PASSWORD);
    ui.open(&format!("/cases/{reference}"));
    let accept = ui.event_form("accept_report");
    for (fact, value) in [
        ("s130_harm", "yes"),
        ("s130_care_needs", "yes"),
        ("care_needs_parents_cannot_meet", "no"),
        ("section47_grounds", "yes"),
        ("trafficking_suspected", "no"),
    ] {
        browser.click(&format!(
            "{accept} input[name='fact:{fact}'][value='{value}']"
        ));
    }
    ui.submit(&accept);
    assert_eq!(ui.errors(), "", "the report is accepted");
    let case = app.get(&chair.token, &format!("/api/cases/{reference}")).1;
    assert_eq!(
        case["workflows"][0]["state"], "strategy_discussion",
        "{case}"
    );
    app.drain_outbox();
    let told: Vec<String> = mail_to(&sink, "sergeant.sample@police.example")
        .into_iter()
        .map(|(t, _)| t)
        .filter(|t| t.contains("has decided on the report"))
        .collect();
    assert_eq!(told.len(), 1, "{told:?}");
    assert!(
        told[0].contains("It has been accepted") && !told[0].contains("Test Child"),
        "{}",
        told[0]
    );
}
