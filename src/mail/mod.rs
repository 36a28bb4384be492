//! Email: bilingual templates, calendar invitations, signed links, and the durable outbox that
//! delivers them.
pub mod ics;
pub mod links;
pub mod message;
pub mod outbox;
pub mod relay;
pub mod settings;
pub mod templates;
pub mod worker;

use std::sync::Arc;

use lettre::message::Mailbox;

use crate::error::AppError;
use links::LinkSigner;
use settings::{MailConfig, ReminderOffset};
use templates::Templates;

/// What the parts of the service that send email share.
#[derive(Debug, Clone)]
pub struct Mailer {
    pub templates: Arc<Templates>,
    pub links: LinkSigner,
    pub from: Mailbox,
    pub public_url: String,
    pub reminders: Vec<ReminderOffset>,
}

impl Mailer {
    pub fn from_config(
        config: &MailConfig,
        data_dir: &std::path::Path,
    ) -> Result<Mailer, AppError> {
        Ok(Mailer {
            templates: Arc::new(
                Templates::load(&config.templates())?
                    .with_subject_prefix(&config.subject_reference_prefix),
            ),
            links: LinkSigner::from_config(config.link_secret.as_deref(), data_dir)?,
            from: config.from.clone(),
            public_url: config.public_url.clone(),
            reminders: config.reminders.clone(),
        })
    }

    /// Renders `template` in both languages (the reader's first) and queues it for one
    /// recipient, in the caller's transaction. Used by the emails without a calendar part.
    #[allow(clippy::too_many_arguments)]
    pub fn queue(
        &self,
        conn: &mut crate::storage::DbConn,
        template: &str,
        case_id: Option<&str>,
        recipient: &str,
        preferred: crate::i18n::Language,
        data_for: impl Fn(crate::i18n::Language) -> serde_json::Value,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), AppError> {
        let rendered = self
            .templates
            .render_bilingual(template, preferred, data_for)?;
        let to: Mailbox = recipient.parse().map_err(|_| {
            AppError::Internal(format!("stored address {recipient:?} does not parse"))
        })?;
        let id = uuid::Uuid::new_v4().to_string();
        let raw = message::build(&self.from, &to, &self.message_id(&id), &rendered, None)?;
        outbox::enqueue(
            conn,
            &id,
            outbox::NewEmail {
                kind: template,
                meeting_id: None,
                case_id,
                recipient,
                sender: self.from.email.as_ref(),
                subject: &rendered.subject,
                raw,
                not_before: now.naive_utc(),
            },
            now.naive_utc(),
        )
    }

    /// A Message-ID unique to one queued email, on the sender's domain.
    pub fn message_id(&self, outbox_id: &str) -> String {
        format!("<{outbox_id}@{}>", self.from.email.domain())
    }
}
