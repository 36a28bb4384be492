//! The safeguarding domain: cases, children, agencies, users, the audit trail and access log.
pub mod access_log;
pub mod action;
pub mod agreed_action;
pub mod audit;
pub mod case;
pub mod child;
pub mod meeting;
pub mod review;
pub mod user;
