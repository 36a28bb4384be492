//! The figures Wales reports, checked against a data set made by hand through the API on the
//! test clock, on SQLite and PostgreSQL. The answers were worked out on paper first; the
//! workings are below, beside each step.
//!
//! Working days leave out weekends and the England and Wales bank holidays (25 and 28 December
//! 2026 and 1 January 2027 fall in the period, but no count below crosses them).
//!
//! | case | child (name, born)      | report  | decided | conference due | outcome at        | ended   |
//! |------|-------------------------|---------|---------|----------------|-------------------|---------|
//! | A    | Alpha, 2012-05-14       | 25 Nov  | 25 Nov  | 16 Dec         | 10 Dec registered | 10 Mar  |
//! | B    | Bravo, 2011-02-03       | 25 Nov  | 30 Nov  | 21 Dec         | 1 Dec registered  | 11 Dec  |
//! | C    | Charlie, 2013-07-21     | 25 Nov  | 26 Nov  | 17 Dec         | 18 Dec registered | 18 Jan  |
//! | E    | Charlie, 2013-07-21     | 18 Jan  | 18 Jan  | 8 Feb          | 1 Feb registered  | -       |
//! | D    | Alpha, 2010-01-01       | 10 Mar  | 10 Mar  | 31 Mar         | 11 Mar registered | -       |
//! | G    | (Newport) Golf          | 25 Nov  | 25 Nov  | -              | -                 | -       |
//!
//! Period 1 November 2026 to 31 March 2027, for Cardiff:
//! - reports decided: A, B, C, E, D = 5; within one working day: A (0), C (1), E (0), D (0) = 4;
//!   B took 3 (Thu 26, Fri 27, Mon 30). G is Newport's.
//! - initial conferences: 5; within timescale: all but C (18 Dec, due 17 Dec) = 4.
//! - registrations: 5; re-registrations within 12 months: E only (C, the same child, came off
//!   on 18 January, 14 days before; the chair confirms on E's report that it is C's child). D
//!   is not one: Alpha's name, another date of birth, and no one confirmed a match.
//! - came off the register: B 10 days (1 to 11 Dec), C 31 days (18 Dec to 18 Jan), A 90 days
//!   (10 Dec to 10 Mar: 21 + 31 + 28 + 10) = 3; mean 131 / 3 = 43.7; median 31.
//!
//! Period 1 January to 31 March 2027: reports E and D, both within (2 of 2); conferences E and D,
//! both within (2 of 2); registrations E and D, one re-registration (E); came off: C 31 and A
//! 90, mean and median 60.5.
mod support;

use serde_json::{json, Value};
use support::*;

fn at(y: i32, m: u32, d: u32, h: u32) -> chrono::DateTime<chrono::Utc> {
    chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, y, m, d, h, 0, 0)
        .single()
        .expect("time")
}

struct Pathway<'a> {
    app: &'a TestApp,
    chair: String,
}

impl Pathway<'_> {
    fn at(&mut self, when: chrono::DateTime<chrono::Utc>) {
        self.app.clock.set(when);
        // Tokens expire after 90 days; the chair is given a new one as the clock moves on.
        self.chair = self.app.renewed_token(&self.chair);
    }

    fn ok(&self, id: &str, body: Value) {
        let (s, b) = self.app.event(&self.chair, id, body);
        assert_eq!(s, 200, "{b}");
    }

    fn report(&self, name: &str, born: &str, authority: &str) -> String {
        let mut c = child();
        c["name"] = json!(name);
        c["date_of_birth"] = json!(born);
        c["located_authority"] = json!(authority);
        c["residence_authority"] = json!(authority);
        self.app.create_case(&self.chair, c, report_facts())["id"]
            .as_str()
            .expect("id")
            .to_string()
    }

    /// The decision, the discussion, a strategy meeting held `held_on` that starts enquiries,
    /// and their outcome: a conference is needed.
    fn to_conference(&self, id: &str, held_on: &str) {
        self.ok(id, json!({"event": "accept_report"}));
        self.ok(
            id,
            json!({"event": "convene_strategy_meeting", "facts": discussion_facts()}),
        );
        let mut facts = meeting_facts();
        let m = facts.as_object_mut().expect("facts");
        m.remove("icpc_needed");
        m.remove("plan_kind");
        m.insert("strategy_meeting_held_on".into(), json!(held_on));
        self.ok(id, json!({"event": "start_section47_enquiry", "facts": facts, "agreed_actions": one_action()}));
        self.ok(id, json!({"event": "s47_conference_needed", "facts": {"advocacy_active_offer_made": true}}));
    }

    /// The chair confirms that two cases are one child's (the case page suggests it).
    fn same_child(&self, id: &str, other: &str) {
        let (s, b) = self.app.post(&self.chair, &format!("/api/cases/{id}/same-child"),
            &json!({"other": other, "reason": "The same child: the same name, date of birth and school."}));
        assert_eq!(s, 200, "{b}");
    }

    fn register(&self, id: &str, on: &str) {
        self.ok(id, json!({"event": "register_child", "facts": {"conference_held_on": on, "plan_agreed_on": on, "child_involvement_in_plan": "Chose the goals of the plan with their social worker", "family_work": "Weekly sessions with the parents on keeping safe online", "registration_category": "sexual_abuse"}}));
    }

    fn deregister(&self, id: &str) {
        self.ok(id, json!({"event": "end_plan", "rationale": "Taken off the register at the review conference: the risk has reduced.", "facts": {"plan_end_reason": "deregistered_at_review"}}));
    }
}

fn figures(app: &TestApp, lead: &str, from: &str, to: &str) -> Value {
    let (s, d) = app.get(lead, &format!("/api/dashboard?from={from}&to={to}"));
    assert_eq!(s, 200, "{d}");
    d["wales_figures"].clone()
}

on_both_backends! {
    fn the_figures_wales_reports_match_a_data_set_worked_by_hand(app) {
        let mut p = Pathway { app, chair: app.chair.clone() };
        let (a, b, c) = (
            p.report("Test Child Alpha", "2012-05-14", "la-cardiff"),
            p.report("Test Child Bravo", "2011-02-03", "la-cardiff"),
            p.report("Test Child Charlie", "2013-07-21", "la-cardiff"),
        );
        let newport = app.user("chair", "la-newport");
        let mut g = child();
        g["name"] = json!("Test Child Golf");
        g["located_authority"] = json!("la-newport");
        g["residence_authority"] = json!("la-newport");
        let g = app.create_case(&newport, g, report_facts())["id"].as_str().expect("id").to_string();
        let (s, body) = app.event(&newport, &g, json!({"event": "accept_report"}));
        assert_eq!(s, 200, "{body}");
        p.to_conference(&a, "2026-11-25");
        p.at(at(2026, 11, 26, 10));
        p.to_conference(&c, "2026-11-26");
        p.at(at(2026, 11, 30, 10));
        p.to_conference(&b, "2026-11-30");
        p.at(at(2026, 12, 1, 10));
        p.register(&b, "2026-12-01");
        p.at(at(2026, 12, 10, 10));
        p.register(&a, "2026-12-10");
        p.at(at(2026, 12, 11, 10));
        p.deregister(&b);
        p.at(at(2026, 12, 18, 10));
        p.register(&c, "2026-12-18");
        p.at(at(2027, 1, 18, 10));
        p.deregister(&c);
        p.at(at(2027, 1, 18, 11));
        let e = p.report("Test Child Charlie", "2013-07-21", "la-cardiff");
        p.same_child(&e, &c);
        p.to_conference(&e, "2027-01-18");
        p.at(at(2027, 2, 1, 10));
        p.register(&e, "2027-02-01");
        p.at(at(2027, 3, 10, 10));
        p.deregister(&a);
        p.at(at(2027, 3, 10, 11));
        let d = p.report("Test Child Alpha", "2010-01-01", "la-cardiff");
        p.to_conference(&d, "2027-03-10");
        p.at(at(2027, 3, 11, 10));
        p.register(&d, "2027-03-11");
        p.at(at(2027, 4, 1, 10));

        let lead = app.renewed_token(&app.user("team_lead", "la-cardiff"));
        assert_eq!(figures(app, &lead, "2026-11-01", "2027-03-31"), json!({
            "reports_decided": 5, "reports_decided_within_one_working_day": 4,
            "initial_conferences": 5, "initial_conferences_within_timescale": 4,
            "registrations": 5, "re_registrations_within_12_months": 1,
            "deregistrations": 3, "mean_days_on_register": 131.0 / 3.0, "median_days_on_register": 31.0,
        }));
        assert_eq!(figures(app, &lead, "2027-01-01", "2027-03-31"), json!({
            "reports_decided": 2, "reports_decided_within_one_working_day": 2,
            "initial_conferences": 2, "initial_conferences_within_timescale": 2,
            "registrations": 2, "re_registrations_within_12_months": 1,
            "deregistrations": 2, "mean_days_on_register": 60.5, "median_days_on_register": 60.5,
        }));
        // Newport's team lead sees Newport's one report and nothing of Cardiff's.
        let newport_lead = app.renewed_token(&app.user("team_lead", "la-newport"));
        let n = figures(app, &newport_lead, "2026-11-01", "2027-03-31");
        assert_eq!((n["reports_decided"].as_u64(), n["registrations"].as_u64()), (Some(1), Some(0)), "{n}");

        // The same figures as CSV, for the returns.
        let (s, csv) = app.get(&lead, "/api/dashboard/wales_figures.csv?from=2026-11-01&to=2027-03-31");
        assert_eq!(s, 200, "{csv}");
        assert_eq!(csv.as_str().unwrap_or_default(), "period_from,period_to,figure,count,out_of,mean_days,median_days\n\
            2026-11-01,2027-03-31,reports_decided_within_one_working_day,4,5,,\n\
            2026-11-01,2027-03-31,initial_conferences_within_timescale,4,5,,\n\
            2026-11-01,2027-03-31,re_registrations_within_12_months,1,5,,\n\
            2026-11-01,2027-03-31,time_on_register_of_those_deregistered,3,,43.7,31.0\n");

        // On the dashboard, each figure beside its definition, in both languages.
        let person = app.person("team_lead", "la-cardiff", "Test team", "Lead Two");
        let web = support::web::Web::new(app);
        web.sign_in(&person.email, TEST_PASSWORD);
        let page = web.get("/dashboard?from=2026-11-01&to=2027-03-31").body;
        let row = |id: &str, page: &str| {
            let start = page.find(&format!("id=\"{id}\"")).unwrap_or_else(|| panic!("{id}: {page}"));
            page[start..start + page[start..].find("</tr>").expect("row end")].to_string()
        };
        assert!(row("figure-reports", &page).contains("4 / 5 80%") && row("figure-reports", &page).contains("the next working day"), "{}", row("figure-reports", &page));
        assert!(row("figure-conferences", &page).contains("4 / 5 80%") && row("figure-conferences", &page).contains("15 working days from the strategy meeting"), "{page}");
        assert!(row("figure-register", &page).contains("3: average days 43.7, median days 31.0"), "{}", row("figure-register", &page));
        assert!(row("figure-re-registrations", &page).contains("1 / 5 20%") && row("figure-re-registrations", &page).contains("confirmed are one child"), "{page}");
        web.get("/language/cy?back=/dashboard");
        let page = web.get("/dashboard?from=2026-11-01&to=2027-03-31").body;
        assert!(row("figure-register", &page).contains("3: diwrnodau ar gyfartaledd 43.7, diwrnodau canolrif 31.0") && page.contains("Ffigurau y mae Cymru yn adrodd arnynt"), "{page}");
    }
}
