//! safeguard: drives cases of children at risk of sexual exploitation through the steps of the
//! Wales Safeguarding Procedures. See ARCHITECTURE.md for the map.
// The OpenAPI document is one large json! literal.
#![recursion_limit = "512"]

pub mod app;
pub mod config;
pub mod demo;
pub mod domain;
pub mod engine;
pub mod error;
pub mod follow_up;
pub mod http;
pub mod i18n;
pub mod identity;
pub mod jobs;
pub mod mail;
pub mod print;
pub mod reference;
pub mod shipped;
pub mod storage;
pub mod time;
pub mod web;
