//! Settings from an optional TOML file, then the environment, validated before anything starts.
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::db::Backend;
use crate::error::AppError;

#[derive(Debug, Clone)]
pub struct Config {
    pub data_dir: PathBuf,
    pub database_url: String,
    pub bind: SocketAddr,
    pub workflows_dir: PathBuf,
    pub bank_holidays: Option<PathBuf>,
    pub pool_size: u32,
    pub max_body_bytes: usize,
    pub transition_age_months: u32,
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
        let workflows_dir = PathBuf::from(
            pick(env, "SAFEGUARD_WORKFLOWS_DIR", file.workflows_dir)
                .unwrap_or_else(|| "workflows".into()),
        );
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

        let config = Config {
            data_dir,
            database_url,
            bind,
            workflows_dir,
            bank_holidays,
            pool_size,
            max_body_bytes,
            transition_age_months,
        };
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), AppError> {
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
        if !self.workflows_dir.is_dir() {
            return Err(AppError::Startup(format!(
                "workflow folder {} does not exist; run from the project folder or set SAFEGUARD_WORKFLOWS_DIR",
                self.workflows_dir.display()
            )));
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
    use std::collections::HashMap;

    fn with(vars: &[(&str, &str)]) -> Result<Config, AppError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let mut all = map.clone();
        all.entry("SAFEGUARD_WORKFLOWS_DIR".into())
            .or_insert_with(|| concat!(env!("CARGO_MANIFEST_DIR"), "/workflows").into());
        Config::from_sources(None, &move |k| all.get(k).cloned())
    }

    #[test]
    fn defaults_put_sqlite_in_the_data_folder() {
        let c = with(&[]).expect("defaults are valid");
        assert_eq!(c.bind.to_string(), "127.0.0.1:8080");
        assert!(c.database_url.ends_with("safeguard.db"));
        assert_eq!(c.backend(), Backend::Sqlite);
    }

    #[test]
    fn bad_bind_is_named() {
        let e = with(&[("SAFEGUARD_BIND", "localhost")]).expect_err("invalid bind");
        assert!(e.to_string().contains("SAFEGUARD_BIND"), "{e}");
    }

    #[test]
    fn unknown_scheme_is_refused() {
        let e = with(&[("SAFEGUARD_DATABASE_URL", "mysql://x")]).expect_err("mysql refused");
        assert!(e.to_string().contains("SAFEGUARD_DATABASE_URL"), "{e}");
        let c = with(&[("SAFEGUARD_DATABASE_URL", "postgres://u@h/db")]).expect("postgres ok");
        assert_eq!(c.backend(), Backend::Postgres);
    }
}
