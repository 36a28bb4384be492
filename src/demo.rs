//! A synthetic demo data set so that a new user has something to look at. Every name is
//! obviously invented ("Demo Child A"); no real people, no real-looking Welsh names.
use diesel::prelude::*;
use serde_json::json;

use crate::app::AppState;
use crate::domain::case::{create_case, ChildInput, NewCaseRequest};
use crate::domain::user::{add_user, NewUser};
use crate::engine::EventRequest;
use crate::error::AppError;
use crate::identity::Actor;
use crate::storage::schema::users;

const DEMO_CHAIR_EMAIL: &str = "demo.chair@example.invalid";

fn child(
    letter: &str,
    dob: &str,
    located: &str,
    residence: &str,
    looked_after: bool,
) -> ChildInput {
    ChildInput {
        name: format!("Demo Child {letter}"),
        date_of_birth: dob.into(),
        gender: "not recorded (demo)".into(),
        located_authority: located.into(),
        residence_authority: residence.into(),
        looked_after,
        existing_plan: "none".into(),
        in_secure_estate: false,
    }
}

fn report_facts() -> serde_json::Map<String, serde_json::Value> {
    let v = json!({
        "immediate_risk": false, "s130_harm": true, "s130_care_needs": true,
        "care_needs_parents_cannot_meet": true, "iaa_referral_consent": "given",
        "section47_grounds": "yes", "trafficking_suspected": false, "report_by_phone": true,
        "signs_physical": "none observed", "signs_emotional": "withdrawn at school (demo text)",
        "signs_material": "new phone, unexplained (demo text)", "signs_behavioural": "missing overnight twice (demo text)",
    });
    v.as_object().cloned().unwrap_or_default()
}

/// Loads the demo: a chair in Cardiff and three cases at different steps. Prints the token.
pub fn load(state: &AppState) -> Result<String, AppError> {
    let mut conn = state.pool.get()?;
    let existing: i64 = users::table
        .filter(users::email.eq(DEMO_CHAIR_EMAIL))
        .count()
        .get_result(&mut conn)?;
    if existing > 0 {
        return Ok(
            "demo data is already loaded; add a user with `safeguard user add` for a fresh token"
                .into(),
        );
    }
    let now = state.engine.now();
    let (chair_id, token) = add_user(
        &mut conn,
        &state.engine.agencies,
        NewUser {
            name: "Demo Chair",
            email: DEMO_CHAIR_EMAIL,
            role: "chair",
            team: "Demo safeguarding team",
            authority: "la-cardiff",
        },
        now.naive_utc(),
    )?;
    let actor = Actor {
        id: chair_id,
        name: "Demo Chair".into(),
        role: crate::identity::RoleName::Chair,
        team: "Demo safeguarding team".into(),
        authority: "la-cardiff".into(),
    };
    let today = state.engine.today();
    let years_ago = |y: i32, extra_days: i64| {
        (today - chrono::Duration::days(extra_days))
            .with_year_safe(chrono::Datelike::year(&today) - y)
            .to_string()
    };
    let engine = &state.engine;
    let a = create_case(
        engine,
        &mut conn,
        &actor,
        &NewCaseRequest {
            child: child("A", &years_ago(14, 40), "la-cardiff", "la-cardiff", false),
            facts: report_facts(),
            involvements: vec![],
        },
    )?;
    let b = create_case(
        engine,
        &mut conn,
        &actor,
        &NewCaseRequest {
            child: child("B", &years_ago(15, 100), "la-cardiff", "la-newport", false),
            facts: report_facts(),
            involvements: vec![],
        },
    )?;
    engine.apply_event(
        &mut conn,
        &actor,
        &b.id,
        &EventRequest {
            event: "accept_report".into(),
            workflow: None,
            expected_version: b.version,
            rationale: None,
            facts: Default::default(),
            agreed_actions: vec![],
            meeting_id: None,
        },
    )?;
    let c = create_case(
        engine,
        &mut conn,
        &actor,
        &NewCaseRequest {
            child: child("C", &years_ago(17, 220), "la-cardiff", "la-cardiff", true),
            facts: report_facts(),
            involvements: vec![],
        },
    )?;
    Ok(format!(
        "demo data loaded: cases {}, {}, {} (Demo Child A, B and C; all synthetic).\n\
         Demo Chair (Cardiff) token, shown once: {token}\n\
         try: curl -H 'Authorization: Bearer {token}' http://127.0.0.1:8080/api/cases",
        a.reference, b.reference, c.reference
    ))
}

trait WithYearSafe {
    fn with_year_safe(self, year: i32) -> chrono::NaiveDate;
}

impl WithYearSafe for chrono::NaiveDate {
    /// 29 February in a common year becomes 28 February.
    fn with_year_safe(self, year: i32) -> chrono::NaiveDate {
        chrono::Datelike::with_year(&self, year)
            .or_else(|| chrono::Datelike::with_year(&(self - chrono::Duration::days(1)), year))
            .unwrap_or(self)
    }
}
