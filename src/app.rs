//! Putting the service together: database, reference data, workflows, engine, HTTP server.
use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::{Server, ServerHandle};

use crate::config::Config;
use crate::domain::Services;
use crate::engine::{Engine, EngineSettings, WorkflowRegistry};
use crate::error::AppError;
use crate::mail::worker::{Delivery, OutboxWorker, Pacing};
use crate::mail::Mailer;
use crate::reference::agencies::{Agencies, AgencyDirectory};
use crate::reference::calendar::WorkingCalendar;
use crate::storage::{self, DbPool};
use crate::time::clock::Clock;

/// Shared by every request handler.
#[derive(Clone)]
pub struct AppState {
    pub pool: DbPool,
    /// The engine, mailer and clock every unit of work uses.
    pub services: Services,
    pub config: Arc<Config>,
    /// The pages people sign in to.
    pub pages: Arc<crate::web::Pages>,
}

/// Opens and migrates the database, stores reference data, loads and records the workflows.
/// Fails, with the reason, on anything invalid: the service does not start half-configured.
pub fn prepare(config: Config, clock: Arc<dyn Clock>) -> Result<AppState, AppError> {
    if config.backend() == storage::Backend::Sqlite {
        let path = std::path::Path::new(storage::sqlite_path(&config.database_url));
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| {
                AppError::Startup(format!(
                    "cannot create data folder {}: {e}",
                    parent.display()
                ))
            })?;
        }
    }
    let calendar = WorkingCalendar::load(config.bank_holidays.as_deref())?;
    let (audit_key, key_warning) = crate::domain::audit::AuditKey::load(
        config.audit.key.as_deref(),
        config.audit.key_file.as_deref(),
        &config.data_dir,
    )?;
    if let Some(w) = key_warning {
        tracing::warn!("{w}");
    }
    let mailer = Mailer::from_config(&config.mail, &config.data_dir)?;
    let templates = config.mail.templates();
    let catalogue = Arc::new(crate::i18n::catalogue::Catalogue::load(&templates)?);
    let pages = Arc::new(crate::web::Pages::load(&templates, catalogue.clone())?);
    let files = AgencyDirectory::load(Some(&config.extra_agencies()))?;
    let agencies = Agencies::new(files.clone());
    let mut registry = WorkflowRegistry::load(&crate::shipped::Folder::workflows(
        None,
        config.workflows_dir.as_deref(),
    ))?;
    let pool = storage::connect_pool(&config.database_url, config.pool_size, config.sqlite_sync)?;
    match &config.migration_database_url {
        // The owner migrates; the service's role may then only add to the audit and logs.
        Some(owner_url) => {
            let owner = storage::connect_pool(owner_url, 1, config.sqlite_sync)?;
            let mut conn = owner.get().map_err(|e| {
                AppError::Startup(format!("cannot connect as the database owner: {e}"))
            })?;
            storage::run_migrations(&mut conn)?;
            storage::grant_service_role(&mut conn, &storage::user_of(&config.database_url)?)?;
        }
        None => {
            let mut conn = pool
                .get()
                .map_err(|e| AppError::Startup(format!("cannot connect to the database: {e}")))?;
            storage::run_migrations(&mut conn)?;
        }
    }
    {
        let mut conn = pool
            .get()
            .map_err(|e| AppError::Startup(format!("cannot connect to the database: {e}")))?;
        if storage::owns_the_audit(&mut conn)? {
            tracing::warn!(
                "the service's database role owns the tables, and so could truncate the audit; set SAFEGUARD_MIGRATION_DATABASE_URL to an owner role and give the service a role of its own"
            );
        }
    }
    {
        let mut conn = pool
            .get()
            .map_err(|e| AppError::Startup(format!("cannot connect to the database: {e}")))?;
        storage::reference::store_agencies(&mut conn, &files)?;
        agencies.set_added(storage::reference::added_agencies(&mut conn)?);
        crate::domain::workflow_store::sync_with_database(
            &mut registry,
            &mut conn,
            clock.now().naive_utc(),
        )?;
    }
    let engine = Engine {
        registry: Arc::new(registry),
        calendar: Arc::new(calendar),
        agencies: Arc::new(agencies),
        settings: EngineSettings {
            transition_age_months: config.transition_age_months,
        },
    };
    let reads = crate::domain::read_log::ReadLog::start(&config.database_url, config.sqlite_sync)?;
    Ok(AppState {
        pool,
        services: Services {
            reads,
            engine,
            mailer,
            clock,
            audit_key: Arc::new(audit_key),
            checkpoints: config.audit.checkpoints.clone(),
            words: catalogue.clone(),
            retention: Arc::new(crate::reference::retention::RetentionRules::shipped()?),
            single_sign_on: match &config.single_sign_on {
                Some(sso) => Some(Arc::new(
                    crate::identity::oidc::Providers::new(
                        sso.clone(),
                        &format!(
                            "{}/sign-in/oidc/callback",
                            config.mail.public_url.trim_end_matches('/')
                        ),
                    )
                    .map_err(|e| AppError::Startup(format!("SAFEGUARD_PUBLIC_URL: {e}")))?,
                )),
                None => None,
            },
            access: crate::domain::AccessRules {
                sessions: crate::domain::session::SessionRules {
                    idle: chrono::Duration::minutes(config.access.session_idle_minutes),
                    longest: chrono::Duration::hours(config.access.session_hours),
                    per_person: config.access.sessions_per_person,
                },
                links: crate::domain::link_gate::LinkRules {
                    code_after: (config.access.link_code_after_hours > 0)
                        .then(|| chrono::Duration::hours(config.access.link_code_after_hours)),
                    second_browser: config.access.link_code_second_browser,
                },
                api_token_days: config.access.api_token_days,
                passwords: config.passwords,
                break_glass: chrono::Duration::hours(config.access.break_glass_hours),
            },
        },
        config: Arc::new(config),
        pages,
    })
}

/// Starts the HTTP server on an already-bound listener (port 0 in tests).
pub fn serve(state: AppState, listener: TcpListener) -> Result<Server, AppError> {
    let https = state.config.mail.public_url.starts_with("https://");
    let server = actix_web::HttpServer::new(move || {
        actix_web::App::new()
            .wrap(actix_web::middleware::from_fn(
                crate::http::input::refuse_control_characters,
            ))
            .wrap(actix_web::middleware::from_fn(
                crate::http::language::localise_errors,
            ))
            .wrap(crate::web::security_headers(https))
            // The id is set inside the request log, so that the log line can name it.
            .wrap(actix_web::middleware::from_fn(
                crate::http::request_log::request_id,
            ))
            .wrap(crate::http::request_log::logger())
            .wrap(actix_web::middleware::from_fn(
                crate::http::metrics::count_requests,
            ))
            .configure(|cfg| crate::http::configure(cfg, state.clone()))
    })
    .listen(listener)
    .map_err(|e| AppError::Startup(format!("cannot listen: {e}")))?
    .run();
    Ok(server)
}

/// How this service delivers email: through SMTP, or into `.eml` files.
pub fn delivery(state: &AppState) -> Result<Delivery, AppError> {
    Delivery::from_config(
        state.config.mail.smtp_url.as_deref(),
        &state.config.data_dir,
    )
}

/// How the outbox worker paces itself, with the configured retry period.
pub fn pacing(state: &AppState) -> Pacing {
    Pacing {
        lease: chrono::Duration::seconds(state.config.mail.lease_seconds),
        retry_for: chrono::Duration::hours(state.config.mail.retry_hours),
        ..Pacing::default()
    }
}

/// Starts the outbox worker that delivers queued email, unless configuration turns it off.
pub fn start_outbox_worker(state: &AppState) -> Result<Option<OutboxWorker>, AppError> {
    if !state.config.mail.worker {
        return Ok(None);
    }
    Ok(Some(OutboxWorker::spawn(
        state.pool.clone(),
        state.services.clock.clone(),
        delivery(state)?,
        std::time::Duration::from_millis(state.config.mail.poll_interval_ms),
        pacing(state),
    )))
}

/// Starts the periodic jobs, unless configuration turns them off.
pub fn start_job_scheduler(state: &AppState) -> Option<crate::jobs::scheduler::JobScheduler> {
    state.config.jobs.enabled.then(|| {
        crate::jobs::scheduler::JobScheduler::spawn(
            state.clone(),
            std::time::Duration::from_secs(state.config.jobs.poll_seconds),
        )
    })
}

/// A running service in its own thread, with its outbox worker: what the tests start.
pub struct RunningService {
    pub state: AppState,
    pub port: u16,
    handle: ServerHandle,
    thread: Option<std::thread::JoinHandle<()>>,
    worker: Option<OutboxWorker>,
    jobs: Option<crate::jobs::scheduler::JobScheduler>,
    wal: Option<crate::storage::wal::WalKeeper>,
}

impl RunningService {
    pub fn start(state: AppState, bind: &str) -> Result<RunningService, AppError> {
        let listener = TcpListener::bind(bind)
            .map_err(|e| AppError::Startup(format!("cannot bind {bind}: {e}")))?;
        let port = listener
            .local_addr()
            .map_err(|e| AppError::Startup(e.to_string()))?
            .port();
        let (tx, rx) = std::sync::mpsc::channel();
        let for_server = state.clone();
        let thread = std::thread::spawn(move || {
            let system = actix_web::rt::System::new();
            system.block_on(async move {
                match serve(for_server, listener) {
                    Ok(server) => {
                        let _ = tx.send(Ok(server.handle()));
                        let _ = server.await;
                    }
                    Err(e) => {
                        let _ = tx.send(Err(e));
                    }
                }
            });
        });
        let handle = rx
            .recv()
            .map_err(|_| AppError::Startup("server thread ended early".into()))??;
        let worker = start_outbox_worker(&state)?;
        let jobs = start_job_scheduler(&state);
        let wal = Some(crate::storage::wal::WalKeeper::spawn(state.pool.clone()));
        Ok(RunningService {
            state,
            port,
            handle,
            thread: Some(thread),
            worker,
            jobs,
            wal,
        })
    }

    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl RunningService {
    /// Stops the outbox worker and the server; dropping does the same.
    pub fn stop(&mut self) {
        drop(self.jobs.take());
        drop(self.worker.take());
        drop(self.wal.take());
        let handle = self.handle.clone();
        std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(handle.stop(false));
        })
        .join()
        .ok();
        if let Some(t) = self.thread.take() {
            t.join().ok();
        }
    }
}

impl Drop for RunningService {
    fn drop(&mut self) {
        self.stop();
    }
}
