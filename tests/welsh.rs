//! Wholly bilingual, checked: every page a chair, team lead, administrator and partner meets,
//! rendered in Welsh, shows no text from the English catalogue or an English workflow field,
//! and every page in English none from the Welsh; a page with one English string planted
//! fails the same check. Emails and calendar files for a Welsh reader put Welsh first. Search
//! finds names whatever their accents; the printed record carries every Welsh letter.
//!
//! What counts as text: everything a reader sees (text, titles, labels, button values, what a
//! text input holds, alt and aria-label), outside any element marked with the other language's `lang` (the language
//! link, and the partner pages' second half, are marked so). Names, references and codes are
//! allowed: a string the two languages share is not counted.
mod support;

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, TimeZone, Utc};
use diesel::prelude::*;
use safeguard::jobs::scheduler::run_now;
use safeguard::jobs::JobName;
use serde_json::json;
use support::web::Web;
use support::*;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// The texts of one language: every catalogue message (and each variant of a plural) split
/// at its placeables, and every workflow text of that language.
fn texts(lang: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let dir = format!("{ROOT}/templates/i18n/{lang}");
    for entry in std::fs::read_dir(&dir).expect("catalogue folder") {
        let path = entry.expect("entry").path();
        let source = std::fs::read_to_string(&path).expect("catalogue file");
        let resource = fluent_syntax::parser::parse(source.as_str()).unwrap_or_else(|(r, _)| r);
        for e in &resource.body {
            if let fluent_syntax::ast::Entry::Message(m) = e {
                if let Some(p) = &m.value {
                    pattern_texts(p, &mut out);
                }
            }
        }
    }
    // The emails' own words: each template's text part, with its values taken out.
    for entry in std::fs::read_dir(format!("{ROOT}/templates/email")).expect("email folder") {
        let path = entry
            .expect("entry")
            .path()
            .join(format!("text.{lang}.hbs"));
        if let Ok(source) = std::fs::read_to_string(&path) {
            let mut rest = source.as_str();
            let mut plain = String::new();
            while let Some(i) = rest.find("{{") {
                plain.push_str(&rest[..i]);
                plain.push('\n');
                rest = rest[i..].find("}}").map_or("", |e| &rest[i + e + 2..]);
            }
            plain.push_str(rest);
            add(&plain, &mut out);
        }
    }
    for name in ["cse-strategy", "age18-transition"] {
        let source =
            std::fs::read_to_string(format!("{ROOT}/workflows/{name}.toml")).expect("workflow");
        let doc: toml::Value = toml::from_str(&source).expect("workflow toml");
        workflow_texts(&doc, lang, None, &mut out);
    }
    out
}

fn pattern_texts(p: &fluent_syntax::ast::Pattern<&str>, out: &mut BTreeSet<String>) {
    use fluent_syntax::ast::{Expression, InlineExpression, PatternElement};
    for el in &p.elements {
        match el {
            PatternElement::TextElement { value } => add(value, out),
            PatternElement::Placeable { expression } => match expression {
                Expression::Select { variants, .. } => {
                    for v in variants {
                        pattern_texts(&v.value, out);
                    }
                }
                Expression::Inline(InlineExpression::StringLiteral { value }) => add(value, out),
                Expression::Inline(_) => {}
            },
        }
    }
}

const TEXT_KEYS: &[&str] = &[
    "title",
    "description",
    "label",
    "guidance",
    "message",
    "source",
    "owner",
];

/// Strings under a text key, or under `option_labels` and `answers`; `_cy` keys are Welsh.
fn workflow_texts(
    v: &toml::Value,
    lang: &str,
    key: Option<(&str, bool)>,
    out: &mut BTreeSet<String>,
) {
    match v {
        toml::Value::String(s) => {
            if let Some((k, welsh)) = key {
                let base = k.trim_end_matches("_cy");
                if (welsh == (lang == "cy"))
                    && (TEXT_KEYS.contains(&base) || base == "option_labels" || base == "answers")
                {
                    add(s, out);
                }
            }
        }
        toml::Value::Array(items) => items.iter().for_each(|i| workflow_texts(i, lang, key, out)),
        toml::Value::Table(t) => {
            for (k, v) in t {
                // Inside option_labels(_cy) every value is a label; keep the table's own key.
                let inherited = key.filter(|(parent, _)| parent.starts_with("option_labels"));
                let next = inherited.unwrap_or((k.as_str(), k.ends_with("_cy")));
                workflow_texts(v, lang, Some(next), out);
            }
        }
        _ => {}
    }
}

fn add(text: &str, out: &mut BTreeSet<String>) {
    for line in text.lines() {
        let t = line.trim().trim_matches(|c: char| {
            c.is_ascii_punctuation() || c.is_whitespace() || c == '’' || c == '—' || c == '–'
        });
        // A fragment of a word or two letters says nothing about the language.
        if t.chars().filter(|c| c.is_alphabetic()).count() >= 4 {
            out.insert(t.to_string());
        }
    }
}

/// Texts only `lang` has: what a page in the other language must not show.
fn only(lang: &str, other: &str) -> Vec<String> {
    let theirs = texts(other);
    texts(lang)
        .into_iter()
        .filter(|t| !theirs.contains(t))
        .collect()
}

/// The text a reader of `lang` sees on a page: no tags, scripts or styles, nothing inside an
/// element marked with another language.
fn visible(html: &str, lang: &str) -> String {
    const VOID: &[&str] = &[
        "input", "br", "hr", "img", "meta", "link", "source", "col", "wbr", "area", "base",
        "!doctype",
    ];
    let mut out = String::new();
    let mut stack: Vec<(String, bool)> = Vec::new();
    let mut rest = html;
    let shown = |stack: &[(String, bool)]| stack.last().is_none_or(|(_, s)| *s);
    while let Some(open) = rest.find('<') {
        if shown(&stack) {
            out.push_str(&rest[..open]);
            out.push(' ');
        }
        rest = &rest[open..];
        if rest.starts_with("<!--") {
            rest = rest.find("-->").map_or("", |e| &rest[e + 3..]);
            continue;
        }
        let Some(close) = rest.find('>') else { break };
        let tag = &rest[1..close];
        rest = &rest[close + 1..];
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| !c.is_whitespace() && *c != '/')
            .collect::<String>()
            .to_lowercase();
        if tag.starts_with('/') {
            if let Some(i) = stack.iter().rposition(|(n, _)| *n == name) {
                stack.truncate(i);
            }
            continue;
        }
        // An identifier in `<code>` (an agency's code, "police-south-wales") is the same in
        // both languages: it is not a word of either.
        if name == "script" || name == "style" || name == "code" {
            let end = format!("</{name}");
            rest = rest.find(&end).map_or("", |e| &rest[e..]);
            continue;
        }
        let attr = |a: &str| {
            let key = format!(" {a}=\"");
            tag.find(&key).map(|i| {
                let v = &tag[i + key.len()..];
                v[..v.find('"').unwrap_or(v.len())].to_string()
            })
        };
        let here = match attr("lang") {
            Some(l) => l == lang,
            None => shown(&stack),
        };
        if here {
            for a in ["title", "alt", "aria-label", "placeholder"] {
                if let Some(v) = attr(a) {
                    out.push_str(&format!(" {v} "));
                }
            }
            // A button's words, and what a text input holds already, are read.
            let shown_value = !matches!(
                attr("type").as_deref(),
                Some("hidden" | "checkbox" | "radio" | "password")
            );
            if name == "input" && shown_value {
                out.push_str(&format!(" {} ", attr("value").unwrap_or_default()));
            }
        }
        if !VOID.contains(&name.as_str()) && !tag.ends_with('/') {
            stack.push((name, here));
        }
    }
    if shown(&stack) {
        out.push_str(rest);
    }
    let decoded = decode(&out);
    decoded.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn decode(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let Some(end) = rest.find(';').filter(|e| *e < 10) else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let entity = &rest[1..end];
        let c = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "nbsp" => Some(' '),
            "rsquo" => Some('’'),
            e if e.starts_with("#x") => u32::from_str_radix(&e[2..], 16)
                .ok()
                .and_then(char::from_u32),
            e if e.starts_with('#') => e[1..].parse().ok().and_then(char::from_u32),
            _ => None,
        };
        match c {
            Some(c) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The foreign texts found in `text`, whole words only.
fn foreign_in(text: &str, foreign: &[String]) -> Vec<String> {
    let boundary = |c: Option<char>| c.is_none_or(|c| !c.is_alphanumeric());
    foreign
        .iter()
        .filter(|f| {
            text.match_indices(f.as_str()).any(|(i, _)| {
                boundary(text[..i].chars().next_back())
                    && boundary(text[i + f.len()..].chars().next())
            })
        })
        .cloned()
        .collect()
}

/// The names, addresses and references a test typed: allowed on every page.
const TYPED: &[&str] = &[
    "Test Child Siân Ŵ",
    "Test Child Ŷw",
    "Chair Cymraeg",
    "Lead Cymraeg",
    "Admin Cymraeg",
    "Invitee Cymraeg",
    "Partner Owner",
    "Room 2, County Hall",
    "The meeting is no longer needed this month.",
    "The room is needed for a court hearing.",
    "Agreed: a safety plan, and a visit to the school.",
];

struct Check {
    lang: &'static str,
    foreign: Vec<String>,
    pages: BTreeMap<String, Vec<String>>,
}

impl Check {
    fn new(lang: &'static str) -> Check {
        let other = if lang == "cy" { "en" } else { "cy" };
        Check {
            lang,
            foreign: only(other, lang),
            pages: BTreeMap::new(),
        }
    }

    fn found(&self, html: &str) -> Vec<String> {
        let mut text = visible(html, self.lang);
        for t in TYPED {
            text = text.replace(t, " ");
        }
        foreign_in(&text, &self.foreign)
    }

    fn page(&mut self, name: &str, html: &str) {
        assert!(
            html.contains(&format!("<html lang=\"{}\"", self.lang)),
            "{name} is not a {} page: {html}",
            self.lang
        );
        let found = self.found(html);
        self.pages.insert(name.to_string(), found);
    }

    /// Prints the count for each page and fails on any.
    fn finish(self) {
        let other = if self.lang == "cy" {
            "English"
        } else {
            "Welsh"
        };
        for (page, found) in &self.pages {
            println!(
                "{:>2} {other} strings on the {} page {page}",
                found.len(),
                self.lang
            );
        }
        let bad: Vec<_> = self.pages.iter().filter(|(_, f)| !f.is_empty()).collect();
        assert!(
            bad.is_empty(),
            "{other} text on {} pages: {bad:#?}",
            self.lang
        );
        println!(
            "{} {} pages, {} {other} strings looked for",
            self.pages.len(),
            self.lang,
            self.foreign.len()
        );
    }
}

#[test]
fn the_check_finds_one_planted_string_and_passes_marked_text() {
    let check = Check::new("cy");
    let page = "<html lang=\"cy\"><body><h1>Fy achosion</h1><a lang=\"en\" href=\"/language/en\">English</a></body></html>";
    assert_eq!(check.found(page), Vec::<String>::new());
    // The English of the heading, planted once: found.
    let planted = page.replace("Fy achosion", "Fy achosion <span>My cases</span>");
    assert_eq!(check.found(&planted), vec!["My cases".to_string()]);
    // In an attribute a reader hears: found.
    let labelled = page.replace("<h1>", "<h1 aria-label=\"Agreed actions\">");
    assert_eq!(check.found(&labelled), vec!["Agreed actions".to_string()]);
    // A workflow's English step title: found.
    let step = page.replace("Fy achosion", "Report received: local authority decision");
    assert_eq!(
        check.found(&step),
        vec!["Report received: local authority decision".to_string()]
    );
    // The other way round.
    let english = Check::new("en");
    let page =
        "<html lang=\"en\"><body><h1>My cases</h1><p>Camau gweithredu a gytunwyd</p></body></html>";
    assert_eq!(
        english.found(page),
        vec!["Camau gweithredu a gytunwyd".to_string()]
    );
}

fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, 0)
        .single()
        .expect("valid time")
}

fn sixteen_and_a_half(app: &TestApp) -> String {
    let today = app.clock_now().date_naive();
    (today - chrono::Duration::days(17 * 365 + 220)).to_string()
}

/// Puts a running workflow of a case at `state`, as if it had got there: the pages render
/// what the workflow says of each step.
fn set_state(app: &TestApp, case_id: &str, workflow: &str, state: &str) {
    let mut conn = app.conn();
    diesel::sql_query(format!(
        "UPDATE case_workflows SET state = '{state}', finished_at = NULL WHERE case_id = '{case_id}' AND workflow = '{workflow}'"
    ))
    .execute(&mut *conn)
    .expect("set the step");
}

fn states(workflow: &str) -> Vec<String> {
    let source =
        std::fs::read_to_string(format!("{ROOT}/workflows/{workflow}.toml")).expect("workflow");
    let doc: toml::Value = toml::from_str(&source).expect("toml");
    doc["states"]
        .as_array()
        .expect("states")
        .iter()
        .map(|s| s["id"].as_str().expect("id").to_string())
        .collect()
}

/// The (event, workflow) pairs a case page offers.
fn offered(page: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = page;
    while let Some(i) = rest.find("name=\"event\" value=\"") {
        rest = &rest[i + 20..];
        let event = rest[..rest.find('"').unwrap_or(0)].to_string();
        let w = rest.find("name=\"workflow\" value=\"").map(|j| {
            let v = &rest[j + 23..];
            v[..v.find('"').unwrap_or(0)].to_string()
        });
        out.push((event, w.unwrap_or_default()));
    }
    out
}

fn outbox_to(app: &TestApp, email: &str) -> Vec<(String, String)> {
    use safeguard::storage::schema::outbox;
    let mut conn = app.conn();
    outbox::table
        .filter(outbox::recipient.eq(email))
        .order(outbox::created_at)
        .select((outbox::kind, outbox::raw))
        .load(&mut *conn)
        .expect("outbox")
}

/// Walks the day in `lang` and checks every page; returns the case reference it made.
fn walk(app: &TestApp, lang: &'static str) {
    let mut check = Check::new(lang);
    let chair = app.person("chair", "la-cardiff", "Test team", "Chair Cymraeg");
    let lead = app.person("team_lead", "la-cardiff", "Test team", "Lead Cymraeg");
    let admin = app.person("administrator", "la-cardiff", "Test team", "Admin Cymraeg");
    // The team lead reads Welsh whatever the pages under test: their emails are checked below.
    let lead_web = Web::new(app);
    lead_web.sign_in(&lead.email, TEST_PASSWORD);
    lead_web.get("/language/cy?back=/dashboard");
    let web = Web::new(app);
    web.get(&format!("/language/{lang}?back=/sign-in"));
    check.page("sign in", &web.get("/sign-in").body);
    web.sign_in(&chair.email, TEST_PASSWORD);
    web.get(&format!("/language/{lang}?back=/cases"));
    check.page("my cases, none yet", &web.get("/cases").body);
    let form = web.get("/cases/new").body;
    check.page("new report", &form);
    let (csrf, token) = (Web::hidden(&form, "csrf"), Web::hidden(&form, "form_token"));
    let base = |name: &str, dob: &str| -> Vec<(String, String)> {
        vec![
            ("csrf".into(), csrf.clone()),
            ("form_token".into(), token.clone()),
            ("child_name".into(), name.into()),
            (
                "date_of_birth-day".into(),
                dob.get(8..10).unwrap_or(dob).into(),
            ),
            (
                "date_of_birth-month".into(),
                dob.get(5..7).unwrap_or("").into(),
            ),
            (
                "date_of_birth-year".into(),
                dob.get(..4).unwrap_or("").into(),
            ),
            ("gender".into(), "female".into()),
            ("located_authority".into(), "la-cardiff".into()),
            ("residence_authority".into(), "la-cardiff".into()),
            ("language".into(), "cy".into()),
            ("family_language".into(), "both".into()),
            ("welsh_offer".into(), "accepted".into()),
        ]
    };
    let post = |f: &[(String, String)]| {
        let pairs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        web.post("/cases/new", &pairs)
    };
    // Each refusal of the report shows its error summary in the page's language.
    for (what, form) in [
        ("no name", base("", "2012-05-14")),
        (
            "a date in the wrong form",
            base("Test Child Siân Ŵ", "14/05/2012"),
        ),
        ("a date to come", base("Test Child Siân Ŵ", "2031-05-14")),
        ("an adult", base("Test Child Siân Ŵ", "1990-05-14")),
        ("a language not offered", {
            let mut f = base("Test Child Siân Ŵ", "2012-05-14");
            f[9].1 = "klingon".into();
            f
        }),
    ] {
        let a = post(&form);
        assert!(
            a.status >= 400 && a.body.contains("govuk-error-summary"),
            "{what}: {} {}",
            a.status,
            a.body
        );
        check.page(&format!("report refused: {what}"), &a.body);
    }
    // Recorded through the API with the facts; the child is close to 18, so both workflows run.
    let mut child = child();
    child["name"] = json!("Test Child Siân Ŵ");
    child["date_of_birth"] = json!(sixteen_and_a_half(app));
    child["language"] = json!("cy");
    child["welsh_offer"] = json!("accepted");
    let case = app.create_case(&chair.token, child, report_facts());
    let (id, reference) = (
        case["id"].as_str().expect("id").to_string(),
        case["reference"].as_str().expect("ref").to_string(),
    );
    let mut second = support::child();
    second["name"] = json!("Test Child Ŷw");
    app.create_case(&chair.token, second, report_facts());
    check.page("my cases", &web.get("/cases").body);
    let found = web.get("/cases?q=sian").body;
    assert!(
        found.contains(&reference)
            && found.contains("Test Child Siân Ŵ")
            && !found.contains("Test Child Ŷw"),
        "{found}"
    );
    check.page("my cases, searched", &found);
    check.page("my cases, nothing found", &web.get("/cases?q=nobody").body);

    // Every step of both workflows, and each event's refusal from it.
    for workflow in ["cse-strategy", "age18-transition"] {
        for state in states(workflow) {
            set_state(app, &id, workflow, &state);
            let page = web.get(&format!("/cases/{reference}")).body;
            check.page(&format!("case at {workflow}/{state}"), &page);
            for (event, wf) in offered(&page).into_iter().filter(|(_, w)| w == workflow) {
                let page = web.get(&format!("/cases/{reference}")).body;
                let version = Web::hidden(&page, "expected_version");
                let a = web.post(
                    &format!("/cases/{reference}/events"),
                    &[
                        ("csrf", &Web::hidden(&page, "csrf")),
                        ("event", &event),
                        ("workflow", &wf),
                        ("expected_version", &version),
                    ],
                );
                if a.status >= 400 {
                    assert!(
                        a.body.contains("govuk-error-summary"),
                        "{event}: {}",
                        a.body
                    );
                    check.page(&format!("{workflow}/{state}: {event} refused"), &a.body);
                }
                set_state(app, &id, workflow, &state);
            }
        }
    }
    set_state(app, &id, "cse-strategy", "strategy_meeting");
    set_state(app, &id, "age18-transition", &states("age18-transition")[0]);

    // A meeting with a partner who reads Welsh, and an action for them.
    check.page(
        "new meeting",
        &web.get(&format!("/cases/{reference}/meetings/new")).body,
    );
    let (s, m) = app.post(&chair.token, "/api/meetings", &json!({
        "kind": "strategy_meeting", "starts_at": "2026-12-02T10:00", "ends_at": "2026-12-02T11:30",
        "location": "Room 2, County Hall", "cases": [reference],
        "confirm_warnings_rationale": "The earliest date every agency can attend, agreed by phone.",
        "invitees": [{"name": "Invitee Cymraeg", "email": "dau@partner.example", "agency": "health-cardiff-and-vale",
                      "role": "health", "language": "cy", "direct_knowledge": false}]
    }));
    assert_eq!(s, 201, "{m}");
    let mid = m["id"].as_str().expect("id").to_string();
    // Its page: a role the service suggests, kept as the chair's form sent it ("health"),
    // reads in the reader's language.
    let meeting_page = web.get(&format!("/meetings/{mid}")).body;
    check.page("meeting", &meeting_page);
    if lang == "cy" {
        assert!(meeting_page.contains("iechyd"), "{meeting_page}");
    }
    check.page(
        "record a meeting",
        &web.get(&format!("/meetings/{mid}/record")).body,
    );
    let page = web.get(&format!("/meetings/{mid}/record")).body;
    let refused = web.post(
        &format!("/meetings/{mid}/record"),
        &[("csrf", &Web::hidden(&page, "csrf")), ("summary", "")],
    );
    assert!(refused.status >= 400, "{}", refused.body);
    check.page("meeting record refused", &refused.body);
    let (s, b) = app.post(&chair.token, &format!("/api/cases/{id}/actions"), &json!({
        "title": "Ymweld â’r ysgol: âêîôûŵŷ ÂÊÎÔÛŴŶ", "owner_name": "Invitee Cymraeg", "owner_email": "dau@partner.example",
        "agency": "health-cardiff-and-vale", "due_date": "2026-12-09"
    }));
    assert_eq!(s, 201, "{b}");
    check.page(
        "case with a meeting and an action",
        &web.get(&format!("/cases/{reference}")).body,
    );

    // Dates inside sentences take their preposition, and in Welsh its mutation, from the
    // service: "ar ddydd Mawrth", "erbyn dydd Mercher", never "ar Dydd".
    let case_page = web.get(&format!("/cases/{reference}")).body;
    if lang == "cy" {
        assert!(
            case_page.contains("Mae’r trywydd 18 oed yn dechrau ar ddydd "),
            "{case_page}"
        );
        assert!(case_page.contains("Erbyn dydd "), "{case_page}");
        for wrong in ["ar Dydd", "tan Dydd", "erbyn Dydd", "Erbyn Dydd", "am Dydd"] {
            assert!(!case_page.contains(wrong), "{wrong}: {case_page}");
        }
    } else {
        assert!(
            case_page.contains("The age-18 track starts on "),
            "{case_page}"
        );
        assert!(
            case_page.contains(" at 23:59: "),
            "a deadline in a sentence: {case_page}"
        );
    }

    // The printed record, in the page's language, with every Welsh letter read back.
    let pdf = web.get(&format!("/cases/{reference}/record.pdf"));
    assert_eq!(
        (
            pdf.status,
            pdf.headers.get("content-type").map(String::as_str)
        ),
        (200, Some("application/pdf"))
    );
    let text = pdf_extract::extract_text_from_mem(&pdf.bytes).expect("the PDF reads back");
    for letters in ["Test Child Siân Ŵ", "âêîôûŵŷ", "ÂÊÎÔÛŴŶ", &reference] {
        assert!(
            text.contains(letters),
            "{letters} not read back from the PDF: {text}"
        );
    }
    let heading = if lang == "cy" {
        "Camau gweithredu a gytunwyd"
    } else {
        "Agreed actions"
    };
    assert!(text.contains(heading), "{text}");
    println!(
        "{lang} PDF: {} bytes, {} characters read back",
        pdf.bytes.len(),
        text.chars().count()
    );

    check.page(
        "case record, step by step",
        &web.get(&format!("/cases/{reference}/chronology")).body,
    );
    // Preparing a disclosure: the form, a refusal, and the preview with its list of redactions.
    let disclosure = web.get(&format!("/cases/{reference}/disclosure")).body;
    check.page("disclosure", &disclosure);
    let url = format!("/cases/{reference}/disclosure");
    let csrf = Web::hidden(&disclosure, "csrf");
    let refused = web.post(&url, &[("csrf", csrf.as_str()), ("step", "preview")]);
    assert_eq!(refused.status, 400, "{}", refused.body);
    check.page("disclosure refused", &refused.body);
    let preview = web.post(
        &url,
        &[
            ("csrf", csrf.as_str()),
            ("step", "preview"),
            ("purpose", "child"),
            ("redact_persons_of_concern", "âêîôûŵŷ"),
        ],
    );
    assert_eq!(preview.status, 200, "{}", preview.body);
    check.page("disclosure preview", &preview.body);
    let marker = if lang == "cy" {
        "[Golygiad 1: person sy’n peri pryder]"
    } else {
        "[Redaction 1: a person of concern]"
    };
    assert!(
        preview.body.contains(marker),
        "the action's title is redacted in the page's language: {}",
        preview.body
    );

    // The partner's pages: their language first whichever page language the chair chose.
    app.drain_outbox();
    let mails = outbox_to(app, "dau@partner.example");
    let kinds: Vec<&str> = mails.iter().map(|(k, _)| k.as_str()).collect();
    assert!(
        kinds.contains(&"invitation") && kinds.contains(&"agreed_actions"),
        "{kinds:?}"
    );
    let link = |raw: &str, path: &str| {
        let m = mail_parser::MessageParser::default()
            .parse(raw.as_bytes())
            .expect("mime");
        let text = m.body_text(0).expect("text").to_string();
        let i = text
            .find(&format!("http://safeguard.test{path}"))
            .expect("a link");
        let l = &text[i + "http://safeguard.test".len()..];
        l[..l.find(char::is_whitespace).unwrap_or(l.len())].to_string()
    };
    let partner = Web::new(app);
    let respond = link(&mails[0].1, "/respond/");
    let welsh_first =
        |html: &str, a: &str, b: &str| html.find(a).is_some() && html.find(a) < html.find(b);
    let page = partner.get(&respond).body;
    assert!(
        welsh_first(&page, "Gwahoddiad i gyfarfod", "Meeting invitation"),
        "{page}"
    );
    partner_check(&page, "respond");
    // The same link in a second browser: the code page in their language first, and a code
    // emailed to them (checked with their other emails below).
    let code_page = Web::new(app).get(&respond).body;
    assert!(
        welsh_first(
            &code_page,
            "Teipiwch y cod a anfonwyd atoch",
            "Type the code we emailed you"
        ),
        "{code_page}"
    );
    partner_check(&code_page, "link code");
    let done = partner
        .post(&respond, &[("answer", "accepted"), ("reason", "")])
        .body;
    assert!(welsh_first(&done, "Diolch", "Thank you"), "{done}");
    partner_check(&done, "respond_done");
    let actions_mail = mails
        .iter()
        .find(|(k, _)| k == "agreed_actions")
        .expect("actions email");
    let actions = link(&actions_mail.1, "/actions/");
    let page = partner.get(&actions).body;
    assert!(
        welsh_first(&page, "Eich camau gweithredu", "Your agreed actions"),
        "{page}"
    );
    partner_check(&page, "actions");
    // Asking for more time: the request is worded in the partner's language, not stored English.
    let asked = partner
        .post(
            &actions,
            &[
                ("action_id", &Web::hidden(&page, "action_id")),
                ("note", "Mae’r ysgol ar gau tan ddydd Llun"),
                ("status", "more_time"),
            ],
        )
        .body;
    assert!(
        asked.contains("Yn gofyn am fwy o amser: Mae’r ysgol ar gau tan ddydd Llun"),
        "{asked}"
    );
    partner_check(&asked, "actions after asking for more time");
    let turned = partner.get(&format!("{actions}?lang=en")).body;
    assert!(
        welsh_first(&turned, "Your agreed actions", "Eich camau gweithredu"),
        "{turned}"
    );

    // The rest of the partner's emails: the record, a cancellation, the action's reminder and
    // overdue notice; and the team lead's escalation and digest, who also chose Welsh.
    app.clock.set(utc(2026, 12, 2, 11, 5));
    let invitee = m["invitees"][0]["id"]
        .as_str()
        .expect("invitee")
        .to_string();
    let (s, b) = app.post(&chair.token, &format!("/api/meetings/{mid}/record"), &json!({
        "summary": "Agreed: a safety plan, and a visit to the school.", "next_meeting_at": "2027-01-06T10:00",
        "attendees": [{"invitee_id": invitee, "attended": true}]
    }));
    assert_eq!(s, 200, "{b}");
    let (s, later) = app.post(&chair.token, "/api/meetings", &json!({
        "kind": "strategy_meeting", "starts_at": "2026-12-16T10:00", "ends_at": "2026-12-16T11:00",
        "location": "Room 2, County Hall", "cases": [reference],
        "confirm_warnings_rationale": "The earliest date every agency can attend, agreed by phone.",
        "invitees": [{"name": "Invitee Cymraeg", "email": "dau@partner.example", "agency": "health-cardiff-and-vale",
                      "role": "school nurse", "language": "cy", "direct_knowledge": false}]
    }));
    assert_eq!(s, 201, "{later}");
    // Moved first (the updated invitation), then cancelled.
    let (s, b) = app.post(
        &chair.token,
        &format!("/api/meetings/{}/reschedule", later["id"].as_str().expect("id")),
        &json!({"starts_at": "2026-12-17T10:00", "ends_at": "2026-12-17T11:00",
                "reason": "The room is needed for a court hearing.",
                "confirm_warnings_rationale": "The earliest date every agency can attend, agreed by phone."}),
    );
    assert_eq!(s, 200, "{b}");
    let (s, b) = app.post(
        &chair.token,
        &format!("/api/meetings/{}/cancel", later["id"].as_str().expect("id")),
        &json!({"reason": "The meeting is no longer needed this month."}),
    );
    assert_eq!(s, 200, "{b}");
    for (t, job) in [
        (utc(2026, 12, 7, 7, 0), JobName::ReminderScan),
        (utc(2026, 12, 10, 7, 15), JobName::OverdueScan),
        (utc(2026, 12, 15, 7, 30), JobName::Escalation),
        (utc(2026, 12, 15, 7, 45), JobName::Digest),
    ] {
        app.clock.set(t);
        run_now(&app.service.state, job)
            .expect("job runs")
            .expect("claimed");
    }
    app.drain_outbox();
    let mut mails = outbox_to(app, "dau@partner.example");
    mails.extend(outbox_to(app, &lead.email));
    let kinds: BTreeSet<&str> = mails.iter().map(|(k, _)| k.as_str()).collect();
    for kind in [
        "invitation",
        "reminder",
        "agreed_actions",
        "meeting_record",
        "cancellation",
        "action_reminder",
        "action_overdue",
        "action_escalation",
        "daily_digest",
        "link_code",
    ] {
        assert!(
            kinds.contains(kind),
            "no {kind} email to a Welsh reader: {kinds:?}"
        );
    }
    // Every email to the Welsh reader: Welsh first, then English, each half in its language.
    for (kind, raw) in &mails {
        let m = mail_parser::MessageParser::default()
            .parse(raw.as_bytes())
            .expect("mime");
        let text = m.body_text(0).expect("text").to_string();
        let (first, second) = text
            .split_once("----------------------------------------")
            .expect("two halves");
        assert_eq!(
            Check::new("cy").found(&format!("<html>{first}</html>")),
            Vec::<String>::new(),
            "{kind}: English in the Welsh half: {first}"
        );
        assert_eq!(
            Check::new("en").found(&format!("<html>{second}</html>")),
            Vec::<String>::new(),
            "{kind}: Welsh in the English half: {second}"
        );
        let subject = m.subject().unwrap_or("");
        let english_subject = Check::new("cy").found(subject.split(" / ").next().unwrap_or(""));
        assert!(english_subject.is_empty(), "{kind}: {subject}");
        let calendar = m
            .parts
            .iter()
            .filter_map(|p| p.text_contents())
            .find(|t| t.contains("BEGIN:VCALENDAR"));
        if kind == "invitation" || kind == "cancellation" {
            let cal = calendar.unwrap_or_else(|| panic!("{kind} has a calendar file"));
            assert!(
                cal.contains("SUMMARY;LANGUAGE=cy:Cyfarfod strategaeth"),
                "{kind}: {cal}"
            );
            assert!(
                cal.contains("DESCRIPTION:Cyfarfod strategaeth")
                    && cal.contains("\\nStrategy meeting"),
                "{kind}: {cal}"
            );
        }
        println!("email {kind} to a Welsh reader: Welsh first, each half in its own language");
    }

    // The team lead's and the administrator's pages, and the procedures. The clock has moved on
    // by days, so everyone signs in again; each person's language stays as they chose it.
    web.sign_in(&chair.email, TEST_PASSWORD);
    lead_web.sign_in(&lead.email, TEST_PASSWORD);
    check.page(
        "workflow cse-strategy",
        &web.get("/workflows/cse-strategy").body,
    );
    check.page(
        "workflow age18-transition",
        &web.get("/workflows/age18-transition").body,
    );
    check.page("account", &web.get("/account").body);
    check.page("no such case", &web.get("/cases/CSE-2026-999999").body);
    lead_web.get(&format!("/language/{lang}?back=/dashboard"));
    check.page("dashboard", &lead_web.get("/dashboard").body);
    let admin_web = Web::new(app);
    admin_web.sign_in(&admin.email, TEST_PASSWORD);
    admin_web.get(&format!("/language/{lang}?back=/admin"));
    check.page("administration", &admin_web.get("/admin").body);
    for (name, path) in [
        ("people", "/admin/people".to_string()),
        ("a person", format!("/admin/people/{}", chair.id)),
        ("agencies", "/admin/agencies".to_string()),
        ("retention", "/admin/retention".to_string()),
        ("referral links", "/admin/referral-links".to_string()),
    ] {
        let page = admin_web.get(&path);
        assert_eq!(page.status, 200, "{path}: {}", page.body);
        check.page(name, &page.body);
    }
    // A referral link issued on the page, and the partner's form in the reader's language:
    // the form, refused, sent, and the link once withdrawn.
    let form = admin_web.get("/admin/referral-links").body;
    // Days written as a word are refused on the field, in the reader's language, and come back
    // as typed; no link is issued for them.
    let issue = |days: &str| {
        admin_web.post(
            "/admin/referral-links",
            &[
                ("csrf", &Web::hidden(&form, "csrf")),
                ("agency", "police-south-wales"),
                ("days", days),
            ],
        )
    };
    let wordy = issue("thirty");
    assert_eq!(wordy.status, 400, "{}", wordy.body);
    assert!(
        wordy.body.contains("value=\"thirty\""),
        "typed back: {}",
        wordy.body
    );
    assert!(
        !wordy.body.contains("/refer/"),
        "no link issued: {}",
        wordy.body
    );
    check.page("referral link days refused", &wordy.body);
    let issued = issue("30");
    assert_eq!(issued.status, 201, "{}", issued.body);
    check.page("referral link issued", &issued.body);
    let start = issued.body.find("/refer/").expect("the link's address");
    let refer: String = issued.body[start..]
        .chars()
        .take_while(|c| *c != '<')
        .collect();
    let partner = Web::new(app);
    partner.get(&format!("/language/{lang}?back=/sign-in"));
    let page = partner.get(&refer);
    assert_eq!(page.status, 200, "{}", page.body);
    check.page("referral form", &page.body);
    let refused = partner.post(
        &refer,
        &[
            ("csrf", &Web::hidden(&page.body, "csrf")),
            ("form_token", &Web::hidden(&page.body, "form_token")),
        ],
    );
    assert_eq!(refused.status, 400, "{}", refused.body);
    check.page("referral form refused", &refused.body);
    let mut filled: Vec<(&str, String)> = vec![
        ("csrf", Web::hidden(&page.body, "csrf")),
        ("form_token", Web::hidden(&page.body, "form_token")),
        ("child_name", format!("Test Child Referral {lang}")),
        ("date_of_birth-day", "14".into()),
        ("date_of_birth-month", "5".into()),
        ("date_of_birth-year", "2012".into()),
        ("gender", "female".into()),
        ("located_authority", "la-cardiff".into()),
        ("fact:child_whereabouts", "At home".into()),
        ("fact:immediate_risk", "no".into()),
        ("reporter_name", "Rowan Reporter".into()),
        ("reporter_role", "Teacher".into()),
        ("reporter_email", "rowan@school.example".into()),
        ("reporter_phone", "029 2000 0000".into()),
    ];
    for group in ["physical", "emotional", "material", "behavioural"] {
        filled.push((
            ["fact:signs_", group].concat().leak(),
            "none observed".into(),
        ));
    }
    let pairs: Vec<(&str, &str)> = filled.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let sent = partner.post(&refer, &pairs);
    assert_eq!(sent.status, 200, "{}", sent.body);
    check.page("referral sent", &sent.body);
    let revoke = admin_web.get("/admin/referral-links").body;
    let at = revoke.find("/revoke").expect("a withdraw form");
    let action_start = revoke[..at]
        .rfind("/admin/referral-links/")
        .expect("its action");
    let action = &revoke[action_start..at + "/revoke".len()];
    let withdrawn = admin_web.post(action, &[("csrf", &Web::hidden(&revoke, "csrf"))]);
    assert_eq!(withdrawn.status, 303, "{}", withdrawn.body);
    check.page(
        "referral links, one withdrawn",
        &admin_web.get("/admin/referral-links?done=revoked").body,
    );
    let closed = partner.get(&refer);
    assert_eq!(closed.status, 410, "{}", closed.body);
    check.page("referral link withdrawn", &closed.body);
    check.finish();
}

/// A partner page is in both languages: each half, marked with its language, holds only that
/// language's texts.
fn partner_check(html: &str, name: &str) {
    for (lang, other) in [("cy", "en"), ("en", "cy")] {
        let mut text = visible(html, lang);
        for t in TYPED {
            text = text.replace(t, " ");
        }
        let found = foreign_in(&text, &only(other, lang));
        println!(
            "{:>2} {other} strings in the {lang} half of the partner page {name}",
            found.len()
        );
        assert!(found.is_empty(), "{name}: {found:?} in the {lang} half");
    }
}

#[test]
fn every_page_in_welsh_shows_no_english() {
    let app = TestApp::spawn(Backend::Sqlite);
    walk(&app, "cy");
}

#[test]
fn every_page_in_english_shows_no_welsh() {
    let app = TestApp::spawn(Backend::Sqlite);
    walk(&app, "en");
}

on_both_backends! {
    fn search_finds_a_name_whatever_its_accents(app) {
        let mut a = child();
        a["name"] = json!("Test Child Siân Ŵ");
        let case = app.create_case(&app.chair, a, report_facts());
        let mut b = child();
        b["name"] = json!("Test Child Ŷw");
        let other = app.create_case(&app.chair, b, report_facts());
        let refs = |q: &str| -> Vec<String> {
            let (s, list) = app.get(&app.chair, &format!("/api/cases?q={q}"));
            assert_eq!(s, 200, "{list}");
            list["cases"].as_array().expect("cases").iter().map(|c| c["reference"].as_str().unwrap_or("").to_string()).collect()
        };
        let (one, two) = (case["reference"].as_str().expect("ref").to_string(), other["reference"].as_str().expect("ref").to_string());
        for q in ["sian", "SIAN", "Si%C3%A2n", "n%20w", "n%20%C5%B4", "N%20%C5%B5"] {
            assert_eq!(refs(q), vec![one.clone()], "{q}");
        }
        for q in ["yw", "%C5%B6w", "%C5%B7W"] {
            assert_eq!(refs(q), vec![two.clone()], "{q}");
        }
        // A wildcard typed is a character, not a wildcard; a reference is found too.
        assert_eq!(refs("%25"), Vec::<String>::new());
        assert_eq!(refs("_"), Vec::<String>::new());
        assert_eq!(refs(&one[one.len() - 6..]), vec![one.clone()]);
        // Another authority's chair finds nothing by name.
        let swansea = app.person("chair", "la-swansea", "West team", "Chair Swansea");
        let (_, list) = app.get(&swansea.token, "/api/cases?q=sian");
        assert_eq!(list["cases"], json!([]));
    }
}

on_both_backends! {
    fn the_active_offer_and_languages_are_recorded_and_refused_when_unknown(app) {
        let mut c = child();
        c["language"] = json!("cy");
        c["family_language"] = json!("both");
        c["welsh_offer"] = json!("declined");
        let case = app.create_case(&app.chair, c, report_facts());
        let id = case["id"].as_str().expect("id");
        let (_, h) = app.get(&app.chair, &format!("/api/cases/{id}/history"));
        let child = &h["history"][0]["payload"]["child"];
        assert_eq!((child["language"].as_str(), child["family_language"].as_str(), child["welsh_offer"].as_str()), (Some("cy"), Some("both"), Some("declined")));
        let mut bad = support::child();
        bad["welsh_offer"] = json!("maybe");
        let (s, b) = app.post(&app.chair, "/api/cases", &json!({"child": bad, "facts": report_facts()}));
        assert_eq!((s, b["code"].as_str(), b["field"].as_str()), (400, Some("invalid_choice"), Some("child.welsh_offer")), "{b}");
        let web = Web::new(app);
        let person = app.person("chair", "la-cardiff", "Test team", "Chair Cymraeg");
        web.sign_in(&person.email, TEST_PASSWORD);
        web.get(&format!("/language/cy?back=/cases/{}", case["reference"].as_str().expect("ref")));
        let reference = case["reference"].as_str().expect("ref").to_string();
        let page = web.get(&format!("/cases/{reference}")).body;
        assert!(page.contains("Do, a dewison nhw beidio â defnyddio’r Gymraeg") && page.contains("Cymraeg a Saesneg"), "{page}");

        // Known only later: recorded on the case page, in its history with what it was before.
        let a = web.post(&format!("/cases/{reference}/languages"), &[
            ("csrf", &Web::hidden(&page, "csrf")), ("expected_version", &Web::hidden(&page, "expected_version")),
            ("language", "both"), ("family_language", "cy"), ("welsh_offer", "accepted"),
        ]);
        assert_eq!((a.status, a.location.as_str()), (303, format!("/cases/{reference}?done=languages_recorded#languages").as_str()), "{}", a.body);
        let page = web.get(&a.location).body;
        assert!(page.contains("Do, a dewison nhw’r Gymraeg"), "{page}");
        assert!(page.contains("Mae’r ieithoedd a’r cynnig rhagweithiol o’r Gymraeg wedi’u cofnodi."), "the confirmation, in Welsh");
        // A stale form is refused on the page, in Welsh, and changes nothing.
        let stale = web.post(&format!("/cases/{reference}/languages"), &[
            ("csrf", &Web::hidden(&page, "csrf")), ("expected_version", "1"),
            ("language", "en"), ("family_language", "en"), ("welsh_offer", "declined"),
        ]);
        assert_eq!(stale.status, 409, "{}", stale.body);
        assert!(stale.body.contains("govuk-error-summary") && stale.body.contains("#lang-language"), "{}", stale.body);
        // Through the API, a bad choice names its field.
        let (s, b) = app.post(&app.chair, &format!("/api/cases/{id}/languages"), &json!({"expected_version": 2, "language": "fr", "family_language": "cy", "welsh_offer": "accepted"}));
        assert_eq!((s, b["code"].as_str(), b["field"].as_str()), (400, Some("invalid_choice"), Some("language")), "{b}");
        let (_, view) = app.get(&app.chair, &format!("/api/cases/{id}"));
        assert_eq!((view["child"]["language"].as_str(), view["child"]["family_language"].as_str(), view["child"]["welsh_offer"].as_str()), (Some("both"), Some("cy"), Some("accepted")));
        let (_, h) = app.get(&app.chair, &format!("/api/cases/{id}/history"));
        let entry = h["history"].as_array().expect("history").iter().find(|e| e["kind"] == "languages_recorded").cloned().expect("entry");
        assert_eq!((entry["payload"]["welsh_offer"].as_str(), entry["payload"]["before"]["welsh_offer"].as_str()), (Some("accepted"), Some("declined")));
        // The trail explains the case as it now stands.
        let svc = &app.service.state.services;
        let report = safeguard::domain::audit_verify::verify(&mut app.conn(), &svc.audit_key, &svc.engine, &svc.checkpoints).expect("verify");
        assert_eq!(report.problems, Vec::<String>::new());
    }
}

on_both_backends! {
    /// The API's errors keep their code and field; their message follows `Accept-Language`,
    /// and without it the person's saved choice of language.
    fn api_errors_are_worded_in_the_readers_language(app) {
        let person = app.person("chair", "la-cardiff", "Test team", "Chair Cymraeg");
        let mut nameless = child();
        nameless["name"] = json!("");
        let body = json!({"child": nameless, "facts": report_facts()});
        let send = |lang: Option<&str>| {
            let mut req = ureq::post(&format!("{}/api/cases", app.base))
                .set("Authorization", &format!("Bearer {}", person.token));
            if let Some(l) = lang {
                req = req.set("Accept-Language", l);
            }
            let r = match req.send_json(body.clone()) {
                Ok(r) | Err(ureq::Error::Status(_, r)) => r,
                Err(e) => panic!("{e}"),
            };
            (r.status(), r.into_json::<serde_json::Value>().expect("json"))
        };
        let (s, english) = send(None);
        assert_eq!((s, english["code"].as_str(), english["field"].as_str()), (400, Some("required"), Some("child.name")), "{english}");
        let (s, welsh) = send(Some("cy-GB, cy;q=0.9, en;q=0.5"));
        assert_eq!((s, welsh["code"].as_str(), welsh["field"].as_str()), (400, Some("required"), Some("child.name")), "{welsh}");
        assert_eq!(welsh["message"], "Rhowch enw’r plentyn.", "{welsh}");
        assert_ne!(english["message"], welsh["message"]);
        // Chosen on the pages, Welsh holds for the API too when the request does not ask.
        let web = Web::new(app);
        web.sign_in(&person.email, TEST_PASSWORD);
        web.get("/language/cy?back=/cases");
        let (_, saved) = send(None);
        assert_eq!(saved["message"], "Rhowch enw’r plentyn.", "{saved}");
        let (_, asked) = send(Some("en"));
        assert_eq!(asked["message"], english["message"], "a request that asks for English gets it");
    }
}
