//! A synthetic demo data set so that a new user has something to look at. Every name is
//! obviously invented ("Demo Child A"); no real people, no real-looking Welsh names.
use diesel::prelude::*;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::app::AppState;
use crate::domain::report::{self, ChildInput, NewCaseRequest};
use crate::domain::transition::{self, EventRequest};
use crate::domain::user::{add_user, NewUser};
use crate::error::AppError;
use crate::identity::Actor;
use crate::storage::schema::users;

const DEMO_CHAIR_EMAIL: &str = "demo.chair@example.invalid";
const DEMO: &str = include_str!("../reference/demo.toml");

#[derive(Deserialize)]
struct Demo {
    report_facts: Map<String, Value>,
    cases: Vec<DemoCase>,
}

#[derive(Deserialize)]
struct DemoCase {
    letter: String,
    age_years: i32,
    extra_days: i64,
    located: String,
    residence: String,
    looked_after: bool,
    events: Vec<String>,
}

/// Loads the demo: a chair in Cardiff and three cases at different steps. Prints the token.
pub fn load(state: &AppState) -> Result<String, AppError> {
    let demo: Demo = toml::from_str(DEMO)
        .map_err(|e| AppError::Internal(format!("reference/demo.toml: {e}")))?;
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
    let svc = &state.services;
    let now = svc.now();
    let (chair_id, token) = add_user(
        &mut conn,
        &svc.engine.agencies.current(),
        NewUser {
            name: "Demo Chair",
            email: DEMO_CHAIR_EMAIL,
            role: "chair",
            team: "Demo safeguarding team",
            authority: "la-cardiff",
        },
        crate::domain::user::FirstToken {
            key: &svc.audit_key,
            days: svc.access.api_token_days,
        },
        now.naive_utc(),
    )?;
    let actor = Actor {
        id: chair_id,
        name: "Demo Chair".into(),
        role: crate::identity::RoleName::Chair,
        team: "Demo safeguarding team".into(),
        authority: "la-cardiff".into(),
        broken_glass: Vec::new(),
        language: crate::i18n::Language::English,
    };
    let intent = svc.intent(&actor.id, "cli:demo");
    let today = svc.today();
    let mut references = Vec::new();
    for c in &demo.cases {
        let dob = (today - chrono::Duration::days(c.extra_days))
            .with_year_safe(chrono::Datelike::year(&today) - c.age_years);
        let case = report::record(
            svc,
            &mut conn,
            &intent,
            &actor,
            &NewCaseRequest {
                child: ChildInput {
                    name: format!("Demo Child {}", c.letter),
                    date_of_birth: dob.to_string(),
                    gender: "not recorded (demo)".into(),
                    located_authority: c.located.clone(),
                    residence_authority: c.residence.clone(),
                    looked_after: c.looked_after,
                    existing_plan: "none".into(),
                    in_secure_estate: false,
                    language: "not_known".into(),
                    family_language: "not_known".into(),
                    welsh_offer: "not_made".into(),
                },
                facts: demo.report_facts.clone(),
                involvements: vec![],
            },
            None,
        )?;
        let mut version = case.version;
        for event in &c.events {
            version = transition::apply(
                svc,
                &mut conn,
                &intent,
                &actor,
                &case.id,
                &EventRequest {
                    event: event.clone(),
                    workflow: None,
                    expected_version: version,
                    rationale: None,
                    facts: Default::default(),
                    agreed_actions: vec![],
                    meeting_id: None,
                    confirm_addresses_rationale: None,
                },
            )?
            .version;
        }
        references.push(case.reference);
    }
    Ok(format!(
        "demo data loaded: cases {} (Demo Child A, B and C; all synthetic).\n\
         Demo Chair (Cardiff) token, shown once: {token}\n\
         try: curl -H 'Authorization: Bearer {token}' http://127.0.0.1:8080/api/cases",
        references.join(", ")
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
