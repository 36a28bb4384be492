//! Settings from an optional TOML file, then the environment, validated before anything starts.
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::AppError;
use crate::mail::settings::{parse_reminders, MailConfig};
use crate::storage::Backend;

#[derive(Clone)]
pub struct Config {
    pub data_dir: PathBuf,
    pub database_url: String,
    pub bind: SocketAddr,
    /// An operator's workflows over the shipped ones (none: the shipped ones alone).
    pub workflows_dir: Option<PathBuf>,
    pub bank_holidays: Option<PathBuf>,
    pub pool_size: u32,
    pub max_body_bytes: usize,
    pub transition_age_months: u32,
    /// How SQLite makes a commit durable: `normal` (survives a crash of the process) or `full`
    /// (survives a power cut too).
    pub sqlite_sync: crate::storage::SqliteSync,
    pub mail: MailConfig,
    pub jobs: JobsConfig,
    pub audit: AuditConfig,
    /// PostgreSQL: the owner role's URL, with which migrations run; the service then connects
    /// with `database_url`, a role that may only add to the audit and access log.
    pub migration_database_url: Option<String>,
    pub access: AccessConfig,
    /// The bearer token `/metrics` answers to; without it `/metrics` does not exist.
    pub metrics_token: Option<String>,
    /// Sign-in with the council's accounts (OpenID Connect); none: local passwords only.
    pub single_sign_on: Option<SingleSignOnConfig>,
    /// Whether local passwords sign in to the pages (off where everyone uses single sign-on).
    pub passwords: bool,
    /// Whether everyone signing in with a password must use a second step (an authenticator
    /// app's code); when not, each person may choose to.
    pub second_factor_required: bool,
}

pub use crate::identity::oidc::{SingleSignOnConfig, Tenant};

/// The single sign-on settings, if an issuer is set; refused with the setting's name when
/// incomplete, or when the issuer is a multi-tenant one that would let any organisation in.
fn single_sign_on(
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<SingleSignOnConfig>, AppError> {
    let Some(issuer) = env("SAFEGUARD_OIDC_ISSUER").filter(|i| !i.trim().is_empty()) else {
        return Ok(None);
    };
    let issuer = issuer.trim().trim_end_matches('/').to_string();
    for shared in ["/common", "/organizations", "/consumers"] {
        if issuer.contains(&format!("{shared}/")) || issuer.ends_with(shared) {
            return Err(AppError::Startup(format!(
                "SAFEGUARD_OIDC_ISSUER: {issuer:?} is a multi-tenant issuer; give the council's own tenant ({{tenant}} with SAFEGUARD_OIDC_TENANTS for several)"
            )));
        }
    }
    if !(issuer.starts_with("https://")
        || issuer.starts_with("http://127.0.0.1")
        || issuer.starts_with("http://localhost"))
    {
        return Err(AppError::Startup(format!(
            "SAFEGUARD_OIDC_ISSUER: {issuer:?} must be an https:// address"
        )));
    }
    let ids: Vec<String> = env("SAFEGUARD_OIDC_TENANTS")
        .unwrap_or_default()
        .split([' ', ','])
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .collect();
    let tenants = if ids.is_empty() {
        if issuer.contains("{tenant}") {
            return Err(AppError::Startup(
                "SAFEGUARD_OIDC_TENANTS: the issuer has {tenant} but no tenant is listed".into(),
            ));
        }
        vec![Tenant { id: None, issuer }]
    } else if ids.len() > 1 && !issuer.contains("{tenant}") {
        return Err(AppError::Startup(
            "SAFEGUARD_OIDC_ISSUER: several tenants need {tenant} in the issuer, so that each is checked against its own".into(),
        ));
    } else {
        ids.into_iter()
            .map(|id| Tenant {
                issuer: issuer.replace("{tenant}", &id),
                id: Some(id),
            })
            .collect()
    };
    let client_id = env("SAFEGUARD_OIDC_CLIENT_ID")
        .filter(|c| !c.trim().is_empty())
        .ok_or_else(|| {
            AppError::Startup(
                "SAFEGUARD_OIDC_CLIENT_ID must be set with SAFEGUARD_OIDC_ISSUER".into(),
            )
        })?;
    let client_secret = match (env("SAFEGUARD_OIDC_CLIENT_SECRET"), env("SAFEGUARD_OIDC_CLIENT_SECRET_FILE")) {
        (Some(s), _) if !s.is_empty() => s,
        (_, Some(path)) => std::fs::read_to_string(&path)
            .map(|s| s.trim().to_string())
            .map_err(|e| AppError::Startup(format!("SAFEGUARD_OIDC_CLIENT_SECRET_FILE {path}: {e}")))?,
        _ => {
            return Err(AppError::Startup(
                "SAFEGUARD_OIDC_CLIENT_SECRET or SAFEGUARD_OIDC_CLIENT_SECRET_FILE must be set with SAFEGUARD_OIDC_ISSUER".into(),
            ))
        }
    };
    Ok(Some(SingleSignOnConfig {
        tenants,
        client_id: client_id.trim().to_string(),
        client_secret,
        claim: match env("SAFEGUARD_OIDC_CLAIM").as_deref().map(str::trim) {
            None | Some("email") => "email".into(),
            Some("preferred_username") => "preferred_username".into(),
            Some(other) => {
                return Err(AppError::Startup(format!(
                    "SAFEGUARD_OIDC_CLAIM must be email or preferred_username; got {other:?}"
                )))
            }
        },
    }))
}

/// Written without any password or secret: the database URLs' passwords are starred, the
/// mail settings and the audit key redact themselves.
impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("data_dir", &self.data_dir)
            .field("database_url", &crate::storage::redact(&self.database_url))
            .field("bind", &self.bind)
            .field("workflows_dir", &self.workflows_dir)
            .field("bank_holidays", &self.bank_holidays)
            .field("pool_size", &self.pool_size)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("transition_age_months", &self.transition_age_months)
            .field("sqlite_sync", &self.sqlite_sync)
            .field("mail", &self.mail)
            .field("jobs", &self.jobs)
            .field("audit", &self.audit)
            .field(
                "migration_database_url",
                &self
                    .migration_database_url
                    .as_deref()
                    .map(crate::storage::redact),
            )
            .field("access", &self.access)
            .field("metrics_token", &self.metrics_token.as_ref().map(|_| "***"))
            .field("single_sign_on", &self.single_sign_on)
            .field("passwords", &self.passwords)
            .field("second_factor_required", &self.second_factor_required)
            .finish()
    }
}

/// Who is let in, for how long, and from where.
#[derive(Debug, Clone)]
pub struct AccessConfig {
    /// Reverse proxies whose `X-Forwarded-For` is believed; from anyone else it is ignored.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// A session not used for this long ends.
    pub session_idle_minutes: i64,
    /// A session ends this long after signing in, however busy.
    pub session_hours: i64,
    /// Sessions open at once per person; signing in again ends the oldest.
    pub sessions_per_person: i64,
    /// How long a new API token works.
    pub api_token_days: i64,
    /// How long break-glass access to a case lasts.
    pub break_glass_hours: i64,
    /// A signed link older than this asks for a one-time code (0: never by age alone).
    pub link_code_after_hours: i64,
    /// Whether a second browser opening a signed link asks for a one-time code.
    pub link_code_second_browser: bool,
}

/// Where the audit's key and checkpoints are kept: apart from the database.
#[derive(Clone)]
pub struct AuditConfig {
    pub key: Option<String>,
    pub key_file: Option<PathBuf>,
    pub checkpoints: PathBuf,
}

impl std::fmt::Debug for AuditConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditConfig")
            .field("key", &self.key.as_ref().map(|_| "<redacted>"))
            .field("key_file", &self.key_file)
            .field("checkpoints", &self.checkpoints)
            .finish()
    }
}

/// Periodic jobs and the follow-up of agreed actions.
#[derive(Debug, Clone)]
pub struct JobsConfig {
    pub schedules: std::sync::Arc<Vec<crate::jobs::JobSchedule>>,
    /// Off in tests, which run jobs themselves on an injected clock.
    pub enabled: bool,
    pub poll_seconds: u64,
    /// Owners are reminded this many working days before an action is due.
    pub reminder_working_days: u32,
    /// Team leads hear of an action this many working days after it fell due.
    pub escalation_working_days: u32,
    /// What only helps the service work for a while (sent email bodies and `.eml` files, form
    /// tokens, failed sign-ins, used one-time codes) is deleted after this many days.
    pub keep_days: i64,
}

/// The file form: every key optional; the environment wins over the file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    data_dir: Option<String>,
    database_url: Option<String>,
    bind: Option<String>,
    workflows_dir: Option<String>,
    bank_holidays: Option<String>,
    pool_size: Option<u32>,
    max_body_bytes: Option<usize>,
    transition_age_months: Option<u32>,
    sqlite_synchronous: Option<String>,
    migration_database_url: Option<String>,
    trusted_proxies: Option<String>,
    session_idle_minutes: Option<i64>,
    session_hours: Option<i64>,
    sessions_per_person: Option<i64>,
    api_token_days: Option<i64>,
    break_glass_hours: Option<i64>,
    link_code_after_hours: Option<i64>,
    link_code_second_browser: Option<String>,
    audit_key: Option<String>,
    audit_key_file: Option<String>,
    audit_checkpoints: Option<String>,
    smtp_url: Option<String>,
    mail_trial: Option<String>,
    mail_require_tls: Option<String>,
    mail_from: Option<String>,
    public_url: Option<String>,
    templates_dir: Option<String>,
    template_overrides: Option<String>,
    link_secret: Option<String>,
    reminders: Option<String>,
    outbox_poll_ms: Option<u64>,
    outbox_worker: Option<String>,
    outbox_lease_seconds: Option<i64>,
    mail_retry_hours: Option<i64>,
    subject_reference_prefix: Option<String>,
    /// Cron expressions by job name, such as `digest = "0 0 8 * * Mon-Fri"`.
    jobs: Option<std::collections::BTreeMap<String, String>>,
    scheduler: Option<String>,
    scheduler_poll_seconds: Option<u64>,
    action_reminder_working_days: Option<u32>,
    escalation_working_days: Option<u32>,
    keep_days: Option<i64>,
    metrics_token: Option<String>,
}

fn pick(env: &dyn Fn(&str) -> Option<String>, key: &str, file: Option<String>) -> Option<String> {
    env(key).filter(|v| !v.trim().is_empty()).or(file)
}

fn number<T: std::str::FromStr>(key: &str, raw: Option<String>, default: T) -> Result<T, AppError> {
    match raw {
        None => Ok(default),
        Some(v) => v
            .trim()
            .parse()
            .map_err(|_| AppError::Startup(format!("{key} must be a whole number; got {v:?}"))),
    }
}

/// A setting that is `on` (the default) or `off`.
fn on_off(key: &str, raw: Option<String>) -> Result<bool, AppError> {
    match raw.as_deref().map(str::trim) {
        None | Some("on") => Ok(true),
        Some("off") => Ok(false),
        Some(other) => Err(AppError::Startup(format!(
            "{key} must be on or off; got {other:?}"
        ))),
    }
}

/// Email sent through a real mail server reaches real people: its links must lead to the
/// service as they reach it, and its sender must be an address that exists. Refused otherwise,
/// naming the setting, unless `SAFEGUARD_MAIL_TRIAL=on` (tests and local trials).
fn real_mail_settings(public_url: Option<&str>, from: &str) -> Result<(), AppError> {
    const TRIAL: &str = "or set SAFEGUARD_MAIL_TRIAL=on for a local trial";
    let Some(url) = public_url else {
        return Err(AppError::Startup(format!(
            "SAFEGUARD_SMTP_URL is set but SAFEGUARD_PUBLIC_URL is not: the links in emails would lead to this \
             machine's own address. Set SAFEGUARD_PUBLIC_URL to the address people reach the service at \
             (https://…), {TRIAL}"
        )));
    };
    let host = url
        .split("://")
        .nth(1)
        .unwrap_or("")
        .split(['/', '?', '#'])
        .next()
        .unwrap_or("");
    let host = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => host.rsplit_once(':').map_or(host, |(h, _)| h),
    };
    let local = host.eq_ignore_ascii_case("localhost")
        || host.to_ascii_lowercase().ends_with(".localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback() || ip.is_unspecified());
    if local {
        return Err(AppError::Startup(format!(
            "SAFEGUARD_PUBLIC_URL is {url:?}, an address only this machine can reach: the links in emails \
             would lead nowhere. Set it to the address people reach the service at, {TRIAL}"
        )));
    }
    let domain = from
        .rsplit_once('@')
        .map(|(_, d)| d.trim_end_matches('>').trim().to_ascii_lowercase())
        .unwrap_or_default();
    // Names reserved never to exist (RFC 2606, RFC 6761): mail from them cannot be answered.
    let reserved = ["invalid", "test", "example", "localhost"]
        .iter()
        .any(|tld| domain == *tld || domain.ends_with(&format!(".{tld}")));
    if reserved {
        return Err(AppError::Startup(format!(
            "SAFEGUARD_MAIL_FROM is {from:?}, at a domain that cannot receive mail: replies and bounces \
             would be lost. Set it to the council's own address, {TRIAL}"
        )));
    }
    Ok(())
}

/// `SAFEGUARD_TRUSTED_PROXIES`: addresses or networks, separated by commas or spaces.
fn parse_proxies(raw: Option<&str>) -> Result<Vec<ipnet::IpNet>, AppError> {
    raw.unwrap_or("")
        .split([',', ' '])
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| {
            p.parse::<ipnet::IpNet>()
                .or_else(|_| p.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map_err(|_| {
                    AppError::Startup(format!(
                        "SAFEGUARD_TRUSTED_PROXIES: {p:?} is not an address or network such as 10.0.0.5 or 10.0.0.0/24"
                    ))
                })
        })
        .collect()
}

impl Config {
    /// Reads `SAFEGUARD_CONFIG` (or `config_path`) if given, then the environment.
    pub fn load(config_path: Option<&Path>) -> Result<Config, AppError> {
        Self::from_sources(config_path, &|k| std::env::var(k).ok())
    }

    pub fn from_sources(
        config_path: Option<&Path>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Config, AppError> {
        let path = config_path
            .map(Path::to_path_buf)
            .or_else(|| env("SAFEGUARD_CONFIG").map(PathBuf::from));
        let file = match &path {
            Some(p) => {
                let text = std::fs::read_to_string(p).map_err(|e| {
                    AppError::Startup(format!(
                        "cannot read configuration file {}: {e}",
                        p.display()
                    ))
                })?;
                toml::from_str::<ConfigFile>(&text)
                    .map_err(|e| AppError::Startup(format!("{}: {e}", p.display())))?
            }
            None => ConfigFile::default(),
        };

        let data_dir = PathBuf::from(
            pick(env, "SAFEGUARD_DATA_DIR", file.data_dir).unwrap_or_else(|| "data".into()),
        );
        let database_url = pick(env, "SAFEGUARD_DATABASE_URL", file.database_url)
            .unwrap_or_else(|| data_dir.join("safeguard.db").display().to_string());
        let bind_raw =
            pick(env, "SAFEGUARD_BIND", file.bind).unwrap_or_else(|| "127.0.0.1:8080".into());
        let bind: SocketAddr = bind_raw.trim().parse().map_err(|_| {
            AppError::Startup(format!(
                "SAFEGUARD_BIND must be an address and port such as 127.0.0.1:8080; got {bind_raw:?}"
            ))
        })?;
        // The shipped workflows are inside the binary; this folder adds to them or replaces one.
        let workflows_dir =
            pick(env, "SAFEGUARD_WORKFLOWS_DIR", file.workflows_dir).map(PathBuf::from);
        let bank_holidays =
            pick(env, "SAFEGUARD_BANK_HOLIDAYS", file.bank_holidays).map(PathBuf::from);
        let pool_size = number(
            "SAFEGUARD_POOL_SIZE",
            pick(
                env,
                "SAFEGUARD_POOL_SIZE",
                file.pool_size.map(|n| n.to_string()),
            ),
            8,
        )?;
        let max_body_bytes = number(
            "SAFEGUARD_MAX_BODY_BYTES",
            pick(
                env,
                "SAFEGUARD_MAX_BODY_BYTES",
                file.max_body_bytes.map(|n| n.to_string()),
            ),
            256 * 1024,
        )?;
        let transition_age_months = number(
            "SAFEGUARD_TRANSITION_AGE_MONTHS",
            pick(
                env,
                "SAFEGUARD_TRANSITION_AGE_MONTHS",
                file.transition_age_months.map(|n| n.to_string()),
            ),
            17 * 12 + 6,
        )?;

        let sqlite_sync = match pick(env, "SAFEGUARD_SQLITE_SYNCHRONOUS", file.sqlite_synchronous)
            .as_deref()
            .map(str::trim)
        {
            None | Some("normal") => crate::storage::SqliteSync::Normal,
            Some("full") => crate::storage::SqliteSync::Full,
            Some(other) => {
                return Err(AppError::Startup(format!(
                    "SAFEGUARD_SQLITE_SYNCHRONOUS must be normal or full; got {other:?}"
                )))
            }
        };
        let from_raw = pick(env, "SAFEGUARD_MAIL_FROM", file.mail_from)
            .unwrap_or_else(|| "Safeguarding service <no-reply@safeguard.invalid>".into());
        let from = from_raw.parse().map_err(|_| {
            AppError::Startup(format!(
                "SAFEGUARD_MAIL_FROM is not an email address: {from_raw:?}"
            ))
        })?;
        let public_url_set = pick(env, "SAFEGUARD_PUBLIC_URL", file.public_url.clone());
        let public_url = public_url_set
            .clone()
            .unwrap_or_else(|| format!("http://{bind}"))
            .trim_end_matches('/')
            .to_string();
        if !(public_url.starts_with("https://") || public_url.starts_with("http://")) {
            return Err(AppError::Startup(format!(
                "SAFEGUARD_PUBLIC_URL must start with https:// or http://; got {public_url:?}"
            )));
        }
        let smtp_url = pick(env, "SAFEGUARD_SMTP_URL", file.smtp_url);
        if let Some(u) = &smtp_url {
            if !(u.starts_with("smtp://") || u.starts_with("smtps://")) {
                return Err(AppError::Startup(format!(
                    "SAFEGUARD_SMTP_URL must start with smtp:// or smtps://; got {:?}",
                    crate::storage::redact(u)
                )));
            }
        }
        let trial_raw = pick(env, "SAFEGUARD_MAIL_TRIAL", file.mail_trial);
        let mail_trial = trial_raw.is_some() && on_off("SAFEGUARD_MAIL_TRIAL", trial_raw)?;
        if smtp_url.is_some() && !mail_trial {
            real_mail_settings(public_url_set.as_deref(), &from_raw)?;
        }
        // Mail about children crosses the network encrypted, unless the council says otherwise
        // (a relay inside its own network) or this is a trial.
        let tls_raw = pick(env, "SAFEGUARD_MAIL_REQUIRE_TLS", file.mail_require_tls);
        let require_tls = match tls_raw {
            None => !mail_trial,
            raw => on_off("SAFEGUARD_MAIL_REQUIRE_TLS", raw)?,
        };
        if let (Some(url), true) = (&smtp_url, require_tls) {
            let encrypted = url.starts_with("smtps://") || url.contains("tls=required");
            if !encrypted {
                return Err(AppError::Startup(format!(
                    "SAFEGUARD_SMTP_URL {:?} sends mail without TLS: use smtps:// or add ?tls=required, \
                     or set SAFEGUARD_MAIL_REQUIRE_TLS=off for a relay inside the council's own network",
                    crate::storage::redact(url)
                )));
            }
        }
        let link_secret = pick(env, "SAFEGUARD_LINK_SECRET", file.link_secret);
        if link_secret.as_ref().is_some_and(|s| s.len() < 32) {
            return Err(AppError::Startup(
                "SAFEGUARD_LINK_SECRET must be at least 32 characters".into(),
            ));
        }
        let mail = MailConfig {
            smtp_url,
            from,
            public_url,
            // The shipped templates are inside the binary; a folder here stands in for them.
            templates_dir: pick(env, "SAFEGUARD_TEMPLATES_DIR", file.templates_dir)
                .map(PathBuf::from),
            template_overrides: pick(env, "SAFEGUARD_TEMPLATE_OVERRIDES", file.template_overrides)
                .map(PathBuf::from),
            link_secret,
            reminders: parse_reminders(
                &pick(env, "SAFEGUARD_REMINDERS", file.reminders)
                    .unwrap_or_else(|| "2wd,2h".into()),
            )?,
            poll_interval_ms: number(
                "SAFEGUARD_OUTBOX_POLL_MS",
                pick(
                    env,
                    "SAFEGUARD_OUTBOX_POLL_MS",
                    file.outbox_poll_ms.map(|n| n.to_string()),
                ),
                1000,
            )?,
            worker: on_off(
                "SAFEGUARD_OUTBOX_WORKER",
                pick(env, "SAFEGUARD_OUTBOX_WORKER", file.outbox_worker),
            )?,
            lease_seconds: number(
                "SAFEGUARD_OUTBOX_LEASE_SECONDS",
                pick(
                    env,
                    "SAFEGUARD_OUTBOX_LEASE_SECONDS",
                    file.outbox_lease_seconds.map(|n| n.to_string()),
                ),
                60,
            )?,
            retry_hours: number(
                "SAFEGUARD_MAIL_RETRY_HOURS",
                pick(
                    env,
                    "SAFEGUARD_MAIL_RETRY_HOURS",
                    file.mail_retry_hours.map(|n| n.to_string()),
                ),
                72,
            )?,
            subject_reference_prefix: env("SAFEGUARD_SUBJECT_REFERENCE_PREFIX")
                .or(file.subject_reference_prefix)
                .unwrap_or_else(|| crate::reference::DEFAULT_SUBJECT_REFERENCE_PREFIX.into()),
        };

        let file_jobs = file.jobs.unwrap_or_default();
        for name in file_jobs.keys() {
            if crate::jobs::JobName::parse(name).is_none() {
                return Err(AppError::Startup(format!(
                    "jobs.{name}: no such job; jobs are {}",
                    crate::jobs::ALL
                        .iter()
                        .map(|j| j.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
        }
        let mut schedules = Vec::new();
        for job in crate::jobs::ALL {
            let key = job.env_key();
            let (expression, origin) = match env(&key).filter(|v| !v.trim().is_empty()) {
                Some(v) => (v, key.clone()),
                None => match file_jobs.get(job.as_str()) {
                    Some(v) => (v.clone(), format!("jobs.{}", job.as_str())),
                    None => (job.default_cron().to_string(), key.clone()),
                },
            };
            schedules.push(crate::jobs::JobSchedule::parse(
                *job,
                expression.trim(),
                &origin,
            )?);
        }
        let enabled = on_off(
            "SAFEGUARD_SCHEDULER",
            pick(env, "SAFEGUARD_SCHEDULER", file.scheduler),
        )?;
        let jobs = JobsConfig {
            schedules: std::sync::Arc::new(schedules),
            enabled,
            poll_seconds: number(
                "SAFEGUARD_SCHEDULER_POLL_SECONDS",
                pick(
                    env,
                    "SAFEGUARD_SCHEDULER_POLL_SECONDS",
                    file.scheduler_poll_seconds.map(|n| n.to_string()),
                ),
                30,
            )?,
            reminder_working_days: number(
                "SAFEGUARD_ACTION_REMINDER_WORKING_DAYS",
                pick(
                    env,
                    "SAFEGUARD_ACTION_REMINDER_WORKING_DAYS",
                    file.action_reminder_working_days.map(|n| n.to_string()),
                ),
                2,
            )?,
            escalation_working_days: number(
                "SAFEGUARD_ESCALATION_WORKING_DAYS",
                pick(
                    env,
                    "SAFEGUARD_ESCALATION_WORKING_DAYS",
                    file.escalation_working_days.map(|n| n.to_string()),
                ),
                3,
            )?,
            keep_days: number(
                "SAFEGUARD_KEEP_DAYS",
                pick(
                    env,
                    "SAFEGUARD_KEEP_DAYS",
                    file.keep_days.map(|n| n.to_string()),
                ),
                30,
            )?,
        };

        let audit = AuditConfig {
            key: pick(env, "SAFEGUARD_AUDIT_KEY", file.audit_key),
            key_file: pick(env, "SAFEGUARD_AUDIT_KEY_FILE", file.audit_key_file).map(PathBuf::from),
            checkpoints: pick(env, "SAFEGUARD_AUDIT_CHECKPOINTS", file.audit_checkpoints)
                .map(PathBuf::from)
                .unwrap_or_else(|| data_dir.join("audit-checkpoints.jsonl")),
        };
        let migration_database_url = pick(
            env,
            "SAFEGUARD_MIGRATION_DATABASE_URL",
            file.migration_database_url,
        );
        let access = AccessConfig {
            trusted_proxies: parse_proxies(
                pick(env, "SAFEGUARD_TRUSTED_PROXIES", file.trusted_proxies).as_deref(),
            )?,
            session_idle_minutes: number(
                "SAFEGUARD_SESSION_IDLE_MINUTES",
                pick(
                    env,
                    "SAFEGUARD_SESSION_IDLE_MINUTES",
                    file.session_idle_minutes.map(|n| n.to_string()),
                ),
                30,
            )?,
            session_hours: number(
                "SAFEGUARD_SESSION_HOURS",
                pick(
                    env,
                    "SAFEGUARD_SESSION_HOURS",
                    file.session_hours.map(|n| n.to_string()),
                ),
                10,
            )?,
            sessions_per_person: number(
                "SAFEGUARD_SESSIONS_PER_PERSON",
                pick(
                    env,
                    "SAFEGUARD_SESSIONS_PER_PERSON",
                    file.sessions_per_person.map(|n| n.to_string()),
                ),
                5,
            )?,
            api_token_days: number(
                "SAFEGUARD_API_TOKEN_DAYS",
                pick(
                    env,
                    "SAFEGUARD_API_TOKEN_DAYS",
                    file.api_token_days.map(|n| n.to_string()),
                ),
                90,
            )?,
            break_glass_hours: number(
                "SAFEGUARD_BREAK_GLASS_HOURS",
                pick(
                    env,
                    "SAFEGUARD_BREAK_GLASS_HOURS",
                    file.break_glass_hours.map(|n| n.to_string()),
                ),
                8,
            )?,
            link_code_after_hours: number(
                "SAFEGUARD_LINK_CODE_AFTER_HOURS",
                pick(
                    env,
                    "SAFEGUARD_LINK_CODE_AFTER_HOURS",
                    file.link_code_after_hours.map(|n| n.to_string()),
                ),
                24,
            )?,
            link_code_second_browser: on_off(
                "SAFEGUARD_LINK_CODE_SECOND_BROWSER",
                pick(
                    env,
                    "SAFEGUARD_LINK_CODE_SECOND_BROWSER",
                    file.link_code_second_browser,
                ),
            )?,
        };
        let metrics_token = pick(env, "SAFEGUARD_METRICS_TOKEN", file.metrics_token);
        if metrics_token.as_ref().is_some_and(|t| t.len() < 32) {
            return Err(AppError::Startup(
                "SAFEGUARD_METRICS_TOKEN must be at least 32 characters".into(),
            ));
        }
        let single_sign_on = single_sign_on(env)?;
        let passwords = on_off("SAFEGUARD_PASSWORDS", env("SAFEGUARD_PASSWORDS"))?;
        if !passwords && single_sign_on.is_none() {
            return Err(AppError::Startup(
                "SAFEGUARD_PASSWORDS=off needs single sign-on (SAFEGUARD_OIDC_ISSUER), or nobody could sign in".into(),
            ));
        }
        let second_factor_required = match env("SAFEGUARD_SECOND_FACTOR").as_deref().map(str::trim)
        {
            None | Some("optional") => false,
            Some("required") => true,
            Some(other) => {
                return Err(AppError::Startup(format!(
                    "SAFEGUARD_SECOND_FACTOR must be optional or required; got {other:?}"
                )))
            }
        };
        let config = Config {
            single_sign_on,
            passwords,
            second_factor_required,
            metrics_token,
            access,
            audit,
            migration_database_url,
            jobs,
            mail,
            data_dir,
            database_url,
            bind,
            workflows_dir,
            bank_holidays,
            pool_size,
            max_body_bytes,
            transition_age_months,
            sqlite_sync,
        };
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), AppError> {
        let a = &self.access;
        for (key, value, range) in [
            (
                "SAFEGUARD_SESSION_IDLE_MINUTES",
                a.session_idle_minutes,
                1..=24 * 60,
            ),
            ("SAFEGUARD_SESSION_HOURS", a.session_hours, 1..=24),
            (
                "SAFEGUARD_SESSIONS_PER_PERSON",
                a.sessions_per_person,
                1..=50,
            ),
            ("SAFEGUARD_API_TOKEN_DAYS", a.api_token_days, 1..=366),
            ("SAFEGUARD_BREAK_GLASS_HOURS", a.break_glass_hours, 1..=72),
            (
                "SAFEGUARD_LINK_CODE_AFTER_HOURS",
                a.link_code_after_hours,
                0..=24 * 60,
            ),
        ] {
            if !range.contains(&value) {
                return Err(AppError::Startup(format!(
                    "{key} must be between {} and {}; got {value}",
                    range.start(),
                    range.end()
                )));
            }
        }
        if self.audit.key.as_ref().is_some_and(|k| k.trim().len() < 32) {
            return Err(AppError::Startup(
                "SAFEGUARD_AUDIT_KEY must be at least 32 characters".into(),
            ));
        }
        if let Some(u) = &self.migration_database_url {
            if Backend::of_url(u) != Backend::Postgres || self.backend() != Backend::Postgres {
                return Err(AppError::Startup(
                    "SAFEGUARD_MIGRATION_DATABASE_URL is for PostgreSQL, beside a postgres:// SAFEGUARD_DATABASE_URL".into(),
                ));
            }
        }
        if !(1..=256).contains(&self.pool_size) {
            return Err(AppError::Startup(
                "SAFEGUARD_POOL_SIZE must be between 1 and 256".into(),
            ));
        }
        if !(1024..=16 * 1024 * 1024).contains(&self.max_body_bytes) {
            return Err(AppError::Startup(
                "SAFEGUARD_MAX_BODY_BYTES must be between 1024 and 16777216".into(),
            ));
        }
        if !(12 * 12..18 * 12).contains(&self.transition_age_months) {
            return Err(AppError::Startup(
                "SAFEGUARD_TRANSITION_AGE_MONTHS must be at least 144 (12 years) and under 216 (18 years)".into(),
            ));
        }
        if let Some(dir) = self.workflows_dir.as_ref().filter(|d| !d.is_dir()) {
            return Err(AppError::Startup(format!(
                "SAFEGUARD_WORKFLOWS_DIR names {}, which is not a folder",
                dir.display()
            )));
        }
        if let Some(dir) = self.mail.templates_dir.as_ref().filter(|d| !d.is_dir()) {
            return Err(AppError::Startup(format!(
                "SAFEGUARD_TEMPLATES_DIR names {}, which is not a folder",
                dir.display()
            )));
        }
        if let Some(p) = &self.mail.template_overrides {
            if !p.is_dir() {
                return Err(AppError::Startup(format!(
                    "SAFEGUARD_TEMPLATE_OVERRIDES names {}, which is not a folder",
                    p.display()
                )));
            }
        }
        let prefix = &self.mail.subject_reference_prefix;
        if prefix.chars().count() > 20 || prefix.chars().any(char::is_control) {
            return Err(AppError::Startup(
                "SAFEGUARD_SUBJECT_REFERENCE_PREFIX must be at most 20 characters on one line"
                    .into(),
            ));
        }
        if !(2..=3600).contains(&self.mail.lease_seconds) {
            return Err(AppError::Startup(
                "SAFEGUARD_OUTBOX_LEASE_SECONDS must be between 2 and 3600".into(),
            ));
        }
        if !(1..=24 * 30).contains(&self.mail.retry_hours) {
            return Err(AppError::Startup(
                "SAFEGUARD_MAIL_RETRY_HOURS must be between 1 and 720".into(),
            ));
        }
        if !(10..=60_000).contains(&self.mail.poll_interval_ms) {
            return Err(AppError::Startup(
                "SAFEGUARD_OUTBOX_POLL_MS must be between 10 and 60000".into(),
            ));
        }
        if !(1..=3600).contains(&self.jobs.poll_seconds) {
            return Err(AppError::Startup(
                "SAFEGUARD_SCHEDULER_POLL_SECONDS must be between 1 and 3600".into(),
            ));
        }
        if !(1..=20).contains(&self.jobs.reminder_working_days) {
            return Err(AppError::Startup(
                "SAFEGUARD_ACTION_REMINDER_WORKING_DAYS must be between 1 and 20".into(),
            ));
        }
        if !(1..=3650).contains(&self.jobs.keep_days) {
            return Err(AppError::Startup(
                "SAFEGUARD_KEEP_DAYS must be between 1 and 3650".into(),
            ));
        }
        if !(1..=60).contains(&self.jobs.escalation_working_days) {
            return Err(AppError::Startup(
                "SAFEGUARD_ESCALATION_WORKING_DAYS must be between 1 and 60".into(),
            ));
        }
        if let Some(p) = &self.bank_holidays {
            if !p.is_file() {
                return Err(AppError::Startup(format!(
                    "SAFEGUARD_BANK_HOLIDAYS names {}, which is not a file",
                    p.display()
                )));
            }
        }
        if Backend::of_url(&self.database_url) == Backend::Sqlite
            && self.database_url.contains("://")
            && !self.database_url.starts_with("sqlite://")
        {
            return Err(AppError::Startup(format!(
                "SAFEGUARD_DATABASE_URL must be postgres://… or a SQLite file path; got scheme {:?}",
                self.database_url.split("://").next().unwrap_or("")
            )));
        }
        Ok(())
    }

    pub fn backend(&self) -> Backend {
        Backend::of_url(&self.database_url)
    }

    /// The operator's additional agencies, if any.
    pub fn extra_agencies(&self) -> PathBuf {
        self.data_dir.join("agencies.toml")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mail::settings::ReminderOffset;
    use std::collections::HashMap;

    fn with(vars: &[(&str, &str)]) -> Result<Config, AppError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let mut all = map.clone();
        all.entry("SAFEGUARD_WORKFLOWS_DIR".into())
            .or_insert_with(|| concat!(env!("CARGO_MANIFEST_DIR"), "/workflows").into());
        all.entry("SAFEGUARD_TEMPLATES_DIR".into())
            .or_insert_with(|| concat!(env!("CARGO_MANIFEST_DIR"), "/templates").into());
        Config::from_sources(None, &move |k| all.get(k).cloned())
    }

    #[test]
    fn real_mail_needs_a_public_address_and_a_real_sender() {
        let smtp = (
            "SAFEGUARD_SMTP_URL",
            "smtp://mail.council.example:587?tls=required",
        );
        let e = with(&[smtp]).expect_err("no public URL");
        assert!(e.to_string().contains("SAFEGUARD_PUBLIC_URL is not"), "{e}");
        for local in [
            "http://127.0.0.1:8080",
            "http://localhost:8080/",
            "http://[::1]:8080",
            "http://0.0.0.0:8080",
        ] {
            let e = with(&[smtp, ("SAFEGUARD_PUBLIC_URL", local)]).expect_err("a loopback URL");
            assert!(
                e.to_string()
                    .contains("an address only this machine can reach"),
                "{local}: {e}"
            );
        }
        let public = (
            "SAFEGUARD_PUBLIC_URL",
            "https://safeguarding.council.example",
        );
        let e = with(&[smtp, public]).expect_err("the shipped sender");
        assert!(
            e.to_string().contains("SAFEGUARD_MAIL_FROM")
                && e.to_string().contains("safeguard.invalid"),
            "{e}"
        );
        let from = (
            "SAFEGUARD_MAIL_FROM",
            "Safeguarding hub <safeguarding@cardiff.gov.uk>",
        );
        with(&[smtp, public, from]).expect("a council's settings");
        // A trial on this machine says so, and may use them.
        with(&[smtp, ("SAFEGUARD_MAIL_TRIAL", "on")]).expect("a local trial");
        let e = with(&[smtp, ("SAFEGUARD_MAIL_TRIAL", "yes")]).expect_err("on or off");
        assert!(
            e.to_string()
                .contains("SAFEGUARD_MAIL_TRIAL must be on or off"),
            "{e}"
        );
        // Without a mail server, messages are files: nothing reaches anyone.
        with(&[]).expect("no SMTP");
        // A relay without TLS is refused unless the council says so.
        let plain = ("SAFEGUARD_SMTP_URL", "smtp://mail.council.example:25");
        let e = with(&[plain, public, from]).expect_err("no TLS");
        assert!(e.to_string().contains("without TLS"), "{e}");
        with(&[plain, public, from, ("SAFEGUARD_MAIL_REQUIRE_TLS", "off")]).expect("said so");
        // A trial needs no TLS, unless asked for.
        let sink = ("SAFEGUARD_SMTP_URL", "smtp://127.0.0.1:2525");
        with(&[sink, ("SAFEGUARD_MAIL_TRIAL", "on")]).expect("a trial's sink");
        let e = with(&[
            sink,
            ("SAFEGUARD_MAIL_TRIAL", "on"),
            ("SAFEGUARD_MAIL_REQUIRE_TLS", "on"),
        ])
        .expect_err("asked for");
        assert!(e.to_string().contains("without TLS"), "{e}");
    }

    #[test]
    fn defaults_put_sqlite_in_the_data_folder() {
        let c = with(&[]).expect("defaults are valid");
        assert_eq!(c.bind.to_string(), "127.0.0.1:8080");
        assert!(c.database_url.ends_with("safeguard.db"));
        assert_eq!(c.backend(), Backend::Sqlite);
    }

    #[test]
    fn debug_output_holds_no_password_or_secret() {
        let c = with(&[
            (
                "SAFEGUARD_DATABASE_URL",
                "postgres://service:db-pass-1@db/safeguard",
            ),
            (
                "SAFEGUARD_MIGRATION_DATABASE_URL",
                "postgres://owner:db-pass-2@db/safeguard",
            ),
            (
                "SAFEGUARD_SMTP_URL",
                "smtps://mailer:smtp-pass-3@mail.example:465",
            ),
            ("SAFEGUARD_MAIL_TRIAL", "on"),
            (
                "SAFEGUARD_LINK_SECRET",
                "link-secret-4-link-secret-4-link-secret-4",
            ),
            (
                "SAFEGUARD_AUDIT_KEY",
                "audit-key-5-audit-key-5-audit-key-5-audit",
            ),
        ])
        .expect("valid");
        let shown = format!("{c:?}");
        for secret in [
            "db-pass-1",
            "db-pass-2",
            "smtp-pass-3",
            "link-secret-4",
            "audit-key-5",
        ] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
        // The positive control: the settings themselves are there.
        assert!(
            shown.contains("postgres://service:***@db/safeguard") && shown.contains("mail.example"),
            "{shown}"
        );
    }

    #[test]
    fn bad_bind_is_named() {
        let e = with(&[("SAFEGUARD_BIND", "localhost")]).expect_err("invalid bind");
        assert!(e.to_string().contains("SAFEGUARD_BIND"), "{e}");
    }

    #[test]
    fn reminder_offsets_parse() {
        assert_eq!(
            parse_reminders("2wd, 2h").expect("valid"),
            vec![ReminderOffset::WorkingDays(2), ReminderOffset::Hours(2)]
        );
        let e = with(&[("SAFEGUARD_REMINDERS", "2 days")]).expect_err("invalid");
        assert!(e.to_string().contains("SAFEGUARD_REMINDERS"), "{e}");
    }

    #[test]
    fn a_job_schedule_that_does_not_parse_is_named() {
        let e = with(&[("SAFEGUARD_JOB_DIGEST", "every morning")]).expect_err("invalid cron");
        assert!(e.to_string().contains("SAFEGUARD_JOB_DIGEST"), "{e}");
        let c = with(&[("SAFEGUARD_JOB_DIGEST", "0 30 8 * * Mon-Fri")]).expect("valid cron");
        let digest = c
            .jobs
            .schedules
            .iter()
            .find(|s| s.job == crate::jobs::JobName::Digest)
            .expect("digest scheduled");
        assert_eq!(digest.expression, "0 30 8 * * Mon-Fri");
    }

    #[test]
    fn unknown_scheme_is_refused() {
        let e = with(&[("SAFEGUARD_DATABASE_URL", "mysql://x")]).expect_err("mysql refused");
        assert!(e.to_string().contains("SAFEGUARD_DATABASE_URL"), "{e}");
        let c = with(&[("SAFEGUARD_DATABASE_URL", "postgres://u@h/db")]).expect("postgres ok");
        assert_eq!(c.backend(), Backend::Postgres);
    }
}
