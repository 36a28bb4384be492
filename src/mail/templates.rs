//! Email and page templates: handlebars in strict mode, loaded from `templates/` with any file
//! in the operator's override folder taking the place of the shipped one. Every template is
//! rendered with sample data at start-up, so a broken one stops the service instead of an email.
use crate::shipped::Folder;

use handlebars::Handlebars;
use serde_json::{json, Value};

use crate::error::AppError;
use crate::i18n::Language;

pub const EMAILS: &[&str] = &[
    "invitation",
    "cancellation",
    "reminder",
    "agreed_actions",
    "meeting_record",
    "action_reminder",
    "action_overdue",
    "action_escalation",
    "action_news",
    "action_more_time",
    "daily_digest",
    "age18_started",
    "age18_handover",
    "transfer_notice",
    "break_glass",
    "link_code",
    "account_invitation",
    "referral_receipt",
    "referral_decision",
    "referral_unacknowledged",
    "referral_escalation",
    "referral_link",
    "context_action",
    "context_action_escalation",
];
pub const PAGES: &[&str] = &[
    "respond",
    "respond_done",
    "link_invalid",
    "actions",
    "link_code",
];
/// Both languages of one message, the reader's first; the head of every partner page.
const PAGE_PARTIALS: &[&str] = &["both", "partner_head", "plain_head"];
const PARTS: &[&str] = &["subject", "text", "html"];
const LANGUAGES: &[Language] = &[Language::English, Language::Welsh];

#[derive(Debug)]
pub struct Templates {
    /// HTML parts and pages: values are HTML-escaped.
    html: Handlebars<'static>,
    /// Subjects and plain text: no escaping, values appear as typed.
    plain: Handlebars<'static>,
    /// What stands for a case reference's prefix in subject lines.
    subject_prefix: String,
    /// The message catalogue, for the words that are not whole templates.
    catalogue: std::sync::Arc<crate::i18n::catalogue::Catalogue>,
}

#[derive(Debug, Clone)]
pub struct RenderedEmail {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// Sample values with every key a template may use, for the start-up check and the tests.
pub fn sample(name: &str, lang: Language) -> Value {
    let (kind, starts, day) = match lang {
        Language::English => (
            "strategy meeting",
            "Wednesday 2 December 2026, 10:00",
            "Wednesday 2 December 2026",
        ),
        Language::Welsh => (
            "cyfarfod strategaeth",
            "Dydd Mercher 2 Rhagfyr 2026, 10:00",
            "Dydd Mercher 2 Rhagfyr 2026",
        ),
    };
    let (by, until, on) = match lang {
        Language::English => (
            "by Wednesday 2 December 2026",
            "until Wednesday 2 December 2026",
            "on Wednesday 2 December 2026 at 10:00",
        ),
        Language::Welsh => (
            "erbyn dydd Mercher 2 Rhagfyr 2026",
            "tan ddydd Mercher 2 Rhagfyr 2026",
            "ar ddydd Mercher 2 Rhagfyr 2026 am 10:00",
        ),
    };
    let (step, review) = match lang {
        Language::English => ("Strategy discussion", "First review conference"),
        Language::Welsh => ("Trafodaeth strategaeth", "Cynhadledd adolygu gyntaf"),
    };
    match name {
        "respond" => json!({
            "invitee_name": "Sample Invitee", "kind_en": "strategy meeting", "kind_cy": "cyfarfod strategaeth",
            "references": "CSE-2026-000001", "starts_en": "Wednesday 2 December 2026, 10:00",
            "starts_cy": "Dydd Mercher 2 Rhagfyr 2026, 10:00", "ends_time": "11:00", "location": "Room 1",
            "cancelled": false, "response": null, "response_en": "Awaiting an answer", "response_cy": "Yn aros am ateb",
            "action": "/respond/sample",
            "first": lang.code(), "second": lang.other().code(), "welsh_first": lang == Language::Welsh,
        }),
        "respond_done" => json!({
            "answer_en": "attending", "answer_cy": "yn bresennol", "references": "CSE-2026-000001",
            "first": lang.code(), "second": lang.other().code(), "welsh_first": lang == Language::Welsh,
        }),
        "link_invalid" => {
            json!({"expired": false, "first": "en", "second": "cy", "welsh_first": false, "error": false})
        }
        "account_invitation" => {
            json!({"name": "Sample Invitee", "link": "https://safeguarding.example/welcome/sample",
                                       "days": 7, "role": "chair"})
        }
        // The email and the page share the name: one sample serves both.
        "link_code" => json!({"code": "123456", "sent_to": "jo•••@police.example", "minutes": 15,
                              "action": "/link-code/respond", "token": "sample", "error": false, "too_many": false,
                              "first": "en", "second": "cy", "welsh_first": false}),
        "actions" => json!({
            "reference": "CSE-2026-000001", "owner_name": "Sample Owner", "message": null, "action": "/actions/sample",
            "first": lang.code(), "second": lang.other().code(), "welsh_first": lang == Language::Welsh,
            "actions": [{"id": "a1", "title_en": "Return-home interview", "title_cy": "Cyfweliad dychwelyd adref",
                         "due_en": "2 December 2026", "due_cy": "2 Rhagfyr 2026", "status_en": "Open", "status_cy": "Ar agor",
                         "open": true,
                         "updates": [{"at_en": "1 December 2026, 09:00", "at_cy": "1 Rhagfyr 2026, 09:00", "note": "Booked", "more_time": true}]}],
        }),
        "agreed_actions" => json!({
            "owner_name": "Sample Invitee", "passed": false, "contact_name": "Sample Chair", "contact_email": "chair@council.example",
            "references": "CSE-2026-000001",
            "actions": [{"title": "Return-home interview", "due": starts, "due_by": by}],
            "actions_url": "https://safeguard.example/actions/sample", "link_expires": starts, "link_until": until,
        }),
        "action_reminder" => json!({
            "owner_name": "Sample Invitee", "reference": "CSE-2026-000001",
            "title": "Return-home interview", "due": day, "due_by": by,
            "actions_url": "https://safeguard.example/actions/sample",
        }),
        "action_overdue" => json!({
            "owner_name": "Sample Invitee", "reference": "CSE-2026-000001",
            "title": "Return-home interview", "due": day, "due_by": by,
            "actions_url": "https://safeguard.example/actions/sample",
        }),
        "action_escalation" => json!({
            "team_lead_name": "Sample Invitee", "reference": "CSE-2026-000001",
            "title": "Return-home interview", "owner_name": "Sample Owner", "owner_email": "owner@police.example",
            "agency": "Sample Police", "due": day, "working_days_overdue": 5,
            "case_url": "https://safeguard.example/cases/sample",
        }),
        "context_action" => json!({
            "owner_name": "Sample Invitee", "reference": "CTX-2026-00000001", "title": "Visit the hotel's manager",
            "disruption": true, "due": day, "due_by": by, "agreed": true, "reminder": false, "overdue": false,
            "contact_name": "Sample Chair", "contact_email": "chair@council.example", "context_url": null,
        }),
        "context_action_escalation" => json!({
            "team_lead_name": "Sample Invitee", "reference": "CTX-2026-00000001", "title": "Visit the hotel's manager",
            "disruption": true, "owner_name": "Sample Owner", "owner_email": "owner@police.example",
            "agency": "Sample Police", "due": day, "working_days_overdue": 5,
            "context_url": "https://safeguard.example/contexts/CTX-2026-00000001",
        }),
        "action_news" => json!({
            "chair_name": "Sample Invitee", "reference": "CSE-2026-000001", "title": "Return-home interview",
            "owner_name": "Sample Owner", "more_time": true, "due": day,
            "case_url": "https://safeguard.example/cases/sample#actions",
        }),
        "action_more_time" => json!({
            "owner_name": "Sample Invitee", "reference": "CSE-2026-000001", "title": "Return-home interview",
            "granted": false, "reason": "The interview must happen before the review conference.",
            "due": day, "due_by": by, "actions_url": "https://safeguard.example/actions/sample", "link_until": until,
        }),
        "daily_digest" => json!({
            "team_lead_name": "Sample Invitee", "date": day,
            "dashboard_url": "https://safeguard.example/dashboard",
            "overdue_steps": [
                {"reference": "CSE-2026-000001", "step": step, "due": day, "due_by": by},
                {"reference": "CSE-2026-000002", "step": step, "due": day, "due_by": by},
            ],
            "overdue_actions": [{
                "reference": "CSE-2026-000001", "title": "Return-home interview",
                "owner_name": "Sample Owner", "due": day, "due_by": by,
            }],
            "reviews_due": [{"reference": "CSE-2026-000003", "review": review, "due": day, "due_by": by}],
            "turning_18": [{"reference": "CSE-2026-000004", "birthday_month": "May 2027"}],
            "undelivered": [{"reference": "CSE-2026-000001", "kind": "meeting invitation", "recipient": "officer@police.example", "failed": true}],
            "count_undelivered": 1,
            "count_overdue_steps": 2, "count_overdue_actions": 1,
            "count_reviews_due": 1, "count_turning_18": 1,
        }),
        "age18_started" => json!({
            "recipient_name": "Sample Invitee", "reference": "CSE-2026-000001", "birthday_month": "May 2027",
            "actions": [
                {"title": "Refer to adult services ahead of the 18th birthday", "due": day, "due_by": by},
                {"title": "Tell the young person about the support open to them", "due": day, "due_by": by},
            ],
            "case_url": "https://safeguard.example/cases/sample",
        }),
        "referral_receipt" => json!({
            "recipient_name": "Sample Invitee", "reference": "CSE-2026-000001", "authority": "Sample Council",
            "acknowledge_by": by,
        }),
        "referral_decision" => json!({
            "recipient_name": "Sample Invitee", "reference": "CSE-2026-000001", "authority": "Sample Council",
            "accepted": true,
        }),
        "referral_unacknowledged" => json!({
            "recipient_name": "Sample Invitee", "reference": "CSE-2026-000001", "submitted_on": on,
            "case_url": "https://safeguard.example/cases/sample",
        }),
        "referral_escalation" => json!({
            "recipient_name": "Sample Invitee", "reference": "CSE-2026-000001", "authority": "Sample Council",
            "submitted_on": on,
        }),
        "referral_link" => json!({
            "recipient_name": "Sample Invitee", "agency": "Sample Police", "expires": until,
            "url": "https://safeguard.example/refer/sample",
        }),
        "transfer_notice" => json!({
            "recipient_name": "Sample Invitee", "reference": "CSE-2026-000001", "from_authority": "Sample Council",
            "due": day, "due_by": by, "case_url": "https://safeguard.example/cases/sample",
        }),
        "break_glass" => json!({
            "team_lead_name": "Sample Invitee", "reference": "CSE-2026-000001", "person_name": "Sample Chair",
            "until": starts, "ends_on": on, "case_url": "https://safeguard.example/cases/sample",
        }),
        "age18_handover" => json!({
            "recipient_name": "Sample Invitee", "reference": "CSE-2026-000001", "birthday_month": "May 2027",
            "handed_over": false, "open_actions": 2,
            "meetings_after": [{"kind": kind, "starts": starts}],
            "case_url": "https://safeguard.example/cases/sample",
        }),
        _ => json!({
            "invitee_name": "Sample Invitee", "kind": kind, "references": "CSE-2026-000001",
            "starts": starts, "starts_on": on, "ends_time": "11:00", "location": "Room 1, County Hall",
            "online_link": "https://meet.example/abc", "chair_name": "Sample Chair", "chair_email": "chair@council.example",
            "respond_url": "https://safeguard.example/respond/sample", "updated": true,
            "was": starts, "change_reason": "The police officer is at court that day.",
            "reason": "The chair is unwell; a new date will follow.",
            "summary": "Agreed: safety plan; return-home interviews after each missing episode.",
            "sections": [{"reference": "CSE-2026-000002", "text": "Offer advocacy before the review."}],
            "attendees": ["Sample Chair", "Sample Invitee"],
            "actions": [{"title": "Return-home interview", "due_by": by}],
            "next_meeting": starts,
        }),
    }
}

impl Templates {
    /// Loads the templates with the catalogue from the same folders (for `{{tr …}}`, counted
    /// words such as "2 ddiwrnod gwaith").
    pub fn load(folder: &Folder) -> Result<Templates, AppError> {
        let catalogue = std::sync::Arc::new(crate::i18n::catalogue::Catalogue::load(folder)?);
        Self::load_with(folder, catalogue)
    }

    pub fn load_with(
        folder: &Folder,
        catalogue: std::sync::Arc<crate::i18n::catalogue::Catalogue>,
    ) -> Result<Templates, AppError> {
        let mut html = Handlebars::new();
        let mut plain = Handlebars::new();
        html.register_helper(
            "tr",
            Box::new(crate::i18n::catalogue::Translate(catalogue.clone(), true)),
        );
        plain.register_helper(
            "tr",
            Box::new(crate::i18n::catalogue::Translate(catalogue.clone(), false)),
        );
        html.set_strict_mode(true);
        plain.set_strict_mode(true);
        plain.register_escape_fn(handlebars::no_escape);
        let register = |reg: &mut Handlebars<'static>,
                        key: String,
                        relative: String|
         -> Result<(), AppError> {
            let file = folder.read(&relative)?;
            reg.register_template_string(&key, file.text)
                .map_err(|e| AppError::Startup(format!("template {}: {e}", file.origin)))
        };
        for name in EMAILS {
            for part in PARTS {
                for lang in LANGUAGES {
                    let relative = format!("email/{name}/{part}.{}.hbs", lang.code());
                    let key = format!("{name}/{part}.{}", lang.code());
                    if *part == "html" {
                        register(&mut html, key, relative)?;
                    } else {
                        register(&mut plain, key, relative)?;
                    }
                }
            }
        }
        for page in PAGES {
            register(
                &mut html,
                format!("page/{page}"),
                format!("pages/{page}.hbs"),
            )?;
        }
        // The pieces the partner pages share, used as `{{> partials/both key="…"}}`.
        for partial in PAGE_PARTIALS {
            register(
                &mut html,
                format!("partials/{partial}"),
                format!("pages/partials/{partial}.hbs"),
            )?;
        }
        let templates = Templates {
            html,
            plain,
            subject_prefix: crate::reference::DEFAULT_SUBJECT_REFERENCE_PREFIX.to_string(),
            catalogue,
        };
        templates.check()?;
        Ok(templates)
    }

    /// What kind of email it is, in the reader's words (the catalogue's `email_kind_<kind>`).
    pub fn kind_title(&self, kind: &str, lang: Language) -> String {
        let key = format!("email_kind_{kind}");
        if self.catalogue.has(&key) {
            self.catalogue.get(lang, &key)
        } else {
            kind.to_string()
        }
    }

    /// Subject lines put `prefix` where a case reference's own prefix would be.
    pub fn with_subject_prefix(mut self, prefix: &str) -> Templates {
        self.subject_prefix = prefix.to_string();
        self
    }

    /// Renders every template in both languages with sample data.
    pub fn check(&self) -> Result<(), AppError> {
        for name in EMAILS {
            for lang in LANGUAGES {
                self.render_one(name, *lang, &sample(name, *lang))
                    .map_err(|e| {
                        AppError::Startup(format!(
                            "template {name} ({}) does not render: {e}",
                            lang.code()
                        ))
                    })?;
            }
        }
        for page in PAGES {
            self.page(page, &sample(page, Language::English))
                .map_err(|e| {
                    AppError::Startup(format!("page template {page} does not render: {e}"))
                })?;
        }
        Ok(())
    }

    pub fn render_one(
        &self,
        name: &str,
        lang: Language,
        data: &Value,
    ) -> Result<RenderedEmail, AppError> {
        let key = |part: &str| format!("{name}/{part}.{}", lang.code());
        let err = |e: handlebars::RenderError| AppError::Internal(format!("template {name}: {e}"));
        // `{{tr …}}` reads the language from the data.
        let mut data = data.clone();
        if let Value::Object(map) = &mut data {
            map.insert("lang".into(), json!(lang.code()));
        }
        let data = &data;
        let subject = self.plain.render(&key("subject"), data).map_err(err)?;
        Ok(RenderedEmail {
            subject: crate::reference::neutral_references(subject.trim(), &self.subject_prefix)
                .replace(['\r', '\n'], " "),
            text: self.plain.render(&key("text"), data).map_err(err)?,
            html: self.html.render(&key("html"), data).map_err(err)?,
        })
    }

    /// Both languages in one email, the reader's preferred one first: Welsh public bodies write
    /// to the public in both.
    pub fn render_bilingual(
        &self,
        name: &str,
        preferred: Language,
        data_for: impl Fn(Language) -> Value,
    ) -> Result<RenderedEmail, AppError> {
        let first = self.render_one(name, preferred, &data_for(preferred))?;
        let second = self.render_one(name, preferred.other(), &data_for(preferred.other()))?;
        Ok(RenderedEmail {
            subject: format!("{} / {}", first.subject, second.subject),
            text: format!("{}\n\n----------------------------------------\n\n{}", first.text.trim_end(), second.text.trim_end()),
            html: format!(
                "<!DOCTYPE html><html><body><div lang=\"{}\">{}</div><hr><div lang=\"{}\">{}</div></body></html>",
                preferred.code(),
                first.html,
                preferred.other().code(),
                second.html
            ),
        })
    }

    pub fn page(&self, name: &str, data: &Value) -> Result<String, AppError> {
        self.html
            .render(&format!("page/{name}"), data)
            .map_err(|e| AppError::Internal(format!("page {name}: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shipped() -> Templates {
        Templates::load(&Folder::templates(None, None)).expect("templates load")
    }

    #[test]
    fn every_email_renders_in_english_and_welsh() {
        let t = shipped();
        for name in EMAILS {
            let en = t
                .render_one(name, Language::English, &sample(name, Language::English))
                .expect("en");
            let cy = t
                .render_one(name, Language::Welsh, &sample(name, Language::Welsh))
                .expect("cy");
            // A one-time code greets nobody: whoever opened the link may not be its person.
            if *name == "link_code" {
                assert!(en.text.contains("123456") && cy.text.contains("123456"));
                continue;
            }
            assert!(
                en.text.contains("Dear Sample Invitee"),
                "{name} en: {}",
                en.text
            );
            assert!(
                cy.text.contains("Annwyl Sample Invitee"),
                "{name} cy: {}",
                cy.text
            );
            assert_ne!(
                en.subject, cy.subject,
                "{name}: subjects must differ by language"
            );
            // An invitation to an account, and a partner's referral link, are about no case.
            // A context's action is about no one child: its emails give the context's reference.
            let about_a_context = name.starts_with("context_action");
            assert_eq!(
                en.html.contains("CTX-2026-00000001") && cy.html.contains("CTX-2026-00000001"),
                about_a_context,
                "{name}"
            );
            let about_a_case =
                !["account_invitation", "referral_link"].contains(name) && !about_a_context;
            assert_eq!(
                en.html.contains("CSE-2026-000001") && cy.html.contains("CSE-2026-000001"),
                about_a_case,
                "{name}"
            );
        }
    }

    #[test]
    fn strict_mode_refuses_a_missing_value() {
        let t = shipped();
        let mut data = sample("invitation", Language::English);
        data.as_object_mut().expect("object").remove("chair_name");
        assert!(t
            .render_one("invitation", Language::English, &data)
            .is_err());
    }

    #[test]
    fn an_override_that_does_not_render_stops_start_up() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir_all(dir.path().join("email/reminder")).expect("mkdir");
        std::fs::write(
            dir.path().join("email/reminder/text.cy.hbs"),
            "Annwyl {{invitee_nam}}",
        )
        .expect("write");
        let err = Templates::load(&Folder::templates(None, Some(dir.path()))).expect_err("refused");
        assert!(
            err.to_string()
                .contains("template reminder (cy) does not render"),
            "{err}"
        );
        std::fs::write(
            dir.path().join("email/reminder/text.cy.hbs"),
            "Annwyl {{invitee_name}} (local wording)",
        )
        .expect("write");
        let t = Templates::load(&Folder::templates(None, Some(dir.path()))).expect("loads");
        let r = t
            .render_one(
                "reminder",
                Language::Welsh,
                &sample("reminder", Language::Welsh),
            )
            .expect("renders");
        assert_eq!(r.text, "Annwyl Sample Invitee (local wording)");
    }

    #[test]
    fn html_escapes_what_people_typed() {
        let t = shipped();
        let mut data = sample("cancellation", Language::English);
        data["reason"] = json!("<script>alert(1)</script>");
        let r = t
            .render_one("cancellation", Language::English, &data)
            .expect("renders");
        assert!(!r.html.contains("<script>"));
        assert!(
            r.text.contains("<script>"),
            "plain text shows the words as typed"
        );
    }
}
