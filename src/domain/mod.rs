//! The safeguarding domain: one unit of work for each thing a person does (record a report,
//! apply an event, convene or record a meeting, agree or update an action, involve someone,
//! use a signed link), each loading what the engine needs, asking it to decide, and writing the
//! decision with its audit entry, access-log line, outbox rows and form token in one
//! transaction. Also who may see what, and what a reader is shown.
pub mod access_log;
pub mod account_invitation;
pub mod action;
pub mod addresses;
pub mod age18;
pub mod agency_register;
pub mod agreed_action;
pub mod api_token;
pub mod audit;
pub mod audit_verify;
pub mod case;
pub mod case_access;
pub mod checkpoint;
pub mod child;
pub mod child_correction;
pub mod child_record;
pub mod context;
pub mod context_action;
pub mod destruction;
pub mod disclosure;
pub mod exploitation_meeting;
pub mod form_token;
pub mod housekeeping;
pub mod input;
pub mod language_offer;
pub mod link_gate;
pub mod meeting;
pub mod missing_episode;
pub mod more_time;
pub mod partner_referral;
pub mod read_log;
pub mod referral_link;
pub mod report;
pub mod retention;
pub mod review;
pub mod risk_assessment;
pub mod risk_over_time;
pub mod risk_review;
pub mod second_factor;
pub mod security_event;
pub mod session;
pub mod sign_in;
pub mod single_sign_on;
pub mod staff;
pub mod transfer;
pub mod transition;
pub mod unit_of_work;
pub mod user;
pub mod workflow_migration;
pub mod workflow_store;

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};

use crate::engine::Engine;
use crate::mail::Mailer;
use crate::time::clock::Clock;
use crate::time::wales::london_date;
use audit::AuditKey;
use unit_of_work::Intent;

/// What every unit of work needs besides its connection: the engine that decides, the mailer
/// that composes what the decision sends, and the clock.
#[derive(Debug, Clone)]
pub struct Services {
    pub engine: Engine,
    pub mailer: Mailer,
    pub clock: Arc<dyn Clock>,
    /// Keys the audit trail, the access log and the security events.
    pub audit_key: Arc<AuditKey>,
    /// The signed checkpoints of the audit, kept outside the database.
    pub checkpoints: std::path::PathBuf,
    pub access: AccessRules,
    /// The message catalogue, for the few words units of work put on partners' pages.
    pub words: Arc<crate::i18n::catalogue::Catalogue>,
    /// How long closed cases are kept, by rule.
    pub retention: Arc<crate::reference::retention::RetentionRules>,
    /// The council's identity providers, when single sign-on is configured.
    pub single_sign_on: Option<Arc<crate::identity::oidc::Providers>>,
    /// Commits reads' access-log lines in groups.
    pub reads: read_log::ReadLog,
}

/// How long access lasts once given.
#[derive(Debug, Clone, Copy)]
pub struct AccessRules {
    pub sessions: session::SessionRules,
    pub links: link_gate::LinkRules,
    pub api_token_days: i64,
    pub break_glass: chrono::Duration,
    /// Whether local passwords sign in; when not, an invitation carries no link to set one.
    pub passwords: bool,
}

impl Services {
    /// What `who` is doing now, as a unit of work records it.
    pub fn intent<'a>(&'a self, who: &'a str, path: &'a str) -> Intent<'a> {
        self.intent_at(who, path, self.now())
    }

    /// As `intent`, at a moment the caller has already read from the clock.
    pub fn intent_at<'a>(&'a self, who: &'a str, path: &'a str, now: DateTime<Utc>) -> Intent<'a> {
        Intent {
            who,
            path,
            now,
            key: &self.audit_key,
            reads: &self.reads,
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    pub fn today(&self) -> NaiveDate {
        london_date(self.now())
    }
}
