use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};

use safeguard::app;
use safeguard::config::Config;
use safeguard::domain::user::{add_user, NewUser};
use safeguard::engine::{graph, WorkflowRegistry};
use safeguard::error::AppError;
use safeguard::time::clock::{Clock, SystemClock};

/// Strategy meetings for children at risk of sexual exploitation, under the Wales Safeguarding
/// Procedures.
#[derive(Parser)]
#[command(name = "safeguard", version, about)]
struct Cli {
    /// Configuration file (TOML); environment variables SAFEGUARD_* override it.
    #[arg(long, global = true, env = "SAFEGUARD_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the service (HTTP on SAFEGUARD_BIND, default 127.0.0.1:8080).
    Serve,
    /// Create or update the database schema, then exit.
    Migrate,
    /// Write a consistent copy of the SQLite database to PATH while the service runs, and
    /// check it (PostgreSQL: use pg_dump, as the README says).
    Backup { path: PathBuf },
    /// Put a copy made by `backup` in place of the SQLite database, with the service stopped;
    /// the database it replaces is kept beside it.
    Restore {
        path: PathBuf,
        /// Replace a database that is there already.
        #[arg(long)]
        replace: bool,
    },
    /// Check or draw workflow definitions.
    Workflows {
        #[command(subcommand)]
        command: WorkflowCommand,
    },
    /// Manage users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Load a synthetic demo data set (no real people) and print a token to explore it with.
    Demo,
    /// Audit trail tools.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Email outbox tools.
    Outbox {
        #[command(subcommand)]
        command: OutboxCommand,
    },
    /// Periodic jobs (reminders, overdue notices, escalation, digest, age 18, checkpoints).
    Jobs {
        #[command(subcommand)]
        command: JobsCommand,
    },
    /// Every text in both languages as one CSV, for a translator to review and return.
    I18n {
        #[command(subcommand)]
        command: I18nCommand,
    },
    /// Case records as a whole: destruction under a retention rule.
    Case {
        #[command(subcommand)]
        command: CaseCommand,
    },
}

#[derive(Subcommand)]
enum I18nCommand {
    /// Write every text as CSV (key, english, welsh, where_used, reviewed), to --out or to
    /// standard output.
    Export {
        #[arg(long)]
        out: Option<PathBuf>,
        #[command(flatten)]
        folders: TextFolders,
    },
    /// Read a returned CSV and write its Welsh back where each text lives. Every row is checked
    /// first, and the result loaded as the service would load it; if anything is refused,
    /// nothing is written.
    Import {
        file: PathBuf,
        /// Check and report, but write nothing.
        #[arg(long)]
        dry_run: bool,
        #[command(flatten)]
        folders: TextFolders,
    },
    /// Rewrite templates/i18n/UNREVIEWED.md from the reviews kept in templates/i18n/reviewed.csv
    /// (after adding or changing a text by hand).
    Unreviewed {
        #[command(flatten)]
        folders: TextFolders,
    },
}

/// The folders whose texts are exported and imported.
#[derive(clap::Args)]
struct TextFolders {
    /// The templates folder (default: SAFEGUARD_TEMPLATES_DIR, else ./templates).
    #[arg(long)]
    templates: Option<PathBuf>,
    /// The workflows folder (default: SAFEGUARD_WORKFLOWS_DIR, else ./workflows).
    #[arg(long)]
    workflows: Option<PathBuf>,
}

impl TextFolders {
    fn resolve(self) -> (PathBuf, PathBuf) {
        let templates = self
            .templates
            .or_else(|| {
                std::env::var("SAFEGUARD_TEMPLATES_DIR")
                    .ok()
                    .map(PathBuf::from)
            })
            .unwrap_or_else(|| PathBuf::from("templates"));
        (templates, workflows_dir(self.workflows))
    }
}

/// The database owner's connections, with which destruction runs (the service's own role may
/// not delete from the audit on PostgreSQL); the service's pool where no owner is set.
fn owner_pool(
    state: &safeguard::app::AppState,
) -> Result<safeguard::storage::DbPool, safeguard::error::AppError> {
    match &state.config.migration_database_url {
        Some(owner) => safeguard::storage::connect_pool(owner, 1, state.config.sqlite_sync),
        None => Ok(state.pool.clone()),
    }
}

#[derive(Subcommand)]
enum CaseCommand {
    /// Destroy a closed case whose retention period is over and that is under no legal hold:
    /// its tombstone (reference, dates, who authorised it, the rule that applies) goes to the
    /// audit checkpoints first. Runs as the database owner (SAFEGUARD_MIGRATION_DATABASE_URL on
    /// PostgreSQL).
    Destroy {
        #[arg(long)]
        reference: String,
        /// Who authorised the destruction, as the council's records name them.
        #[arg(long)]
        authorised_by: String,
    },
    /// Destroy every case whose destruction an administrator approved on the retention page
    /// and that is still past its retention period and under no legal hold; each tombstone
    /// names who approved it and the rule. Runs as the database owner.
    DestroyApproved,
}

#[derive(Subcommand)]
enum JobsCommand {
    /// Each job with its schedule (Wales time), next run and last outcome.
    List,
    /// Run one job now, outside its schedule: age-trigger, reminder-scan, overdue-scan,
    /// escalation or digest.
    Run { name: String },
}

#[derive(Subcommand)]
enum OutboxCommand {
    /// List email that could not be delivered, with the mail server's answer.
    Failed,
    /// Put failed email back in the queue, to be sent now: one message by its id, or --all.
    Retry {
        id: Option<String>,
        #[arg(long, conflicts_with = "id")]
        all: bool,
    },
}

#[derive(Subcommand)]
enum WorkflowCommand {
    /// Validate the workflows the service would load: those shipped inside the binary, with
    /// the files of DIR (default: SAFEGUARD_WORKFLOWS_DIR) over them.
    Check { dir: Option<PathBuf> },
    /// Print a workflow as a diagram.
    Graph {
        name: String,
        /// mermaid or dot
        #[arg(long, default_value = "mermaid")]
        format: String,
        /// A folder of workflows over the shipped ones (default: SAFEGUARD_WORKFLOWS_DIR).
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Move the running cases of WORKFLOW from one version to a newer one. Shows the plan and
    /// writes nothing unless --commit is given; each case moved gets an audit entry.
    Migrate {
        workflow: String,
        #[arg(long)]
        from: u32,
        #[arg(long)]
        to: u32,
        /// OLD=NEW: a step of the old version that the new one names differently (repeatable).
        #[arg(long = "map")]
        map: Vec<String>,
        /// Why the cases move, for their audit trail (20 characters or more; with --commit).
        #[arg(long)]
        reason: Option<String>,
        #[arg(long)]
        commit: bool,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add a user and print their API token once.
    Add {
        #[arg(long)]
        name: String,
        #[arg(long)]
        email: String,
        /// chair, practitioner, team_lead, senior_manager or administrator
        #[arg(long)]
        role: String,
        #[arg(long)]
        team: String,
        /// Agency code of the user's authority, e.g. la-cardiff
        #[arg(long)]
        authority: String,
        /// Read a password for the pages from standard input (first line), so that it is not
        /// left in the shell's history.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Set or reset a user's password for the pages (an administrator's reset); the password
    /// is read from standard input (first line).
    SetPassword {
        #[arg(long)]
        email: String,
    },
    /// Give a person the role that shows persons of concern (`--allow`), or take it away.
    PersonsOfConcern {
        #[arg(long)]
        email: String,
        /// Give the role; without it, the role is taken away.
        #[arg(long)]
        allow: bool,
    },
    /// A person's API tokens: list them, make one, or revoke one.
    Tokens {
        #[command(subcommand)]
        command: TokenCommand,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Every token of the person, with its label, expiry, last use, and whether it is revoked.
    List {
        #[arg(long)]
        email: String,
    },
    /// Make a token and print it once.
    Add {
        #[arg(long)]
        email: String,
        /// What the token is for ("case system import", "Chair One's laptop").
        #[arg(long)]
        label: String,
        /// How long it works (default SAFEGUARD_API_TOKEN_DAYS, 90).
        #[arg(long)]
        days: Option<i64>,
    },
    /// Revoke a token at once, by its id (from `list`).
    Revoke { id: String },
}

fn password_from_stdin() -> Result<String, AppError> {
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).map_err(|e| {
        AppError::Startup(format!("cannot read the password from standard input: {e}"))
    })?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Recompute every case's keyed chain, replay each trail against its case, check the access
    /// log and security events, and compare everything with the signed checkpoints.
    Verify {
        /// A copy of the checkpoint file kept elsewhere: the host's file must agree with it.
        #[arg(long)]
        copy: Option<PathBuf>,
    },
    /// Sign every chain's head and seal the finished days of the logs, in the checkpoint file.
    Checkpoint,
}

fn main() -> ExitCode {
    let logs = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SAFEGUARD_LOG")
                .unwrap_or_else(|_| "info,actix_server=warn".into()),
        )
        .with_writer(std::io::stderr);
    // One JSON object a line for a log collector, with each request's id in its span.
    match std::env::var("SAFEGUARD_LOG_FORMAT").as_deref() {
        Ok("json") => logs.json().with_current_span(true).init(),
        Ok("text") | Err(_) => logs.init(),
        Ok(other) => {
            eprintln!("safeguard: SAFEGUARD_LOG_FORMAT must be text or json; got {other:?}");
            return ExitCode::FAILURE;
        }
    }
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("safeguard: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The folder of workflow files the translation commands read and write: a source checkout's.
fn workflows_dir(dir: Option<PathBuf>) -> PathBuf {
    dir.or_else(|| {
        std::env::var("SAFEGUARD_WORKFLOWS_DIR")
            .ok()
            .map(PathBuf::from)
    })
    .unwrap_or_else(|| PathBuf::from("workflows"))
}

/// The workflows the service would load: the shipped ones, with `dir` (else
/// SAFEGUARD_WORKFLOWS_DIR) over them.
fn workflows(dir: Option<PathBuf>) -> Result<WorkflowRegistry, AppError> {
    let over = dir.or_else(|| {
        std::env::var("SAFEGUARD_WORKFLOWS_DIR")
            .ok()
            .map(PathBuf::from)
    });
    WorkflowRegistry::load(&safeguard::shipped::Folder::workflows(
        None,
        over.as_deref(),
    ))
}

fn run(cli: Cli) -> Result<ExitCode, AppError> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    match cli.command {
        Command::Workflows {
            command: command @ WorkflowCommand::Migrate { .. },
        } => {
            let config = Config::load(cli.config.as_deref())?;
            run_with_database(Command::Workflows { command }, config, clock)
        }
        Command::Workflows { command } => match command {
            WorkflowCommand::Migrate { .. } => unreachable!("handled above"),
            WorkflowCommand::Check { dir } => {
                let registry = workflows(dir)?;
                for wf in registry.latest_all() {
                    println!(
                        "ok  {} v{}  {} states, {} transitions  ({})",
                        wf.name(),
                        wf.version(),
                        wf.def.states.len(),
                        wf.def.transitions.len(),
                        wf.origin
                    );
                }
                Ok(ExitCode::SUCCESS)
            }
            WorkflowCommand::Graph { name, format, dir } => {
                let registry = workflows(dir)?;
                let wf = registry
                    .latest(&name)
                    .ok_or_else(|| AppError::Startup(format!("no workflow called {name:?}")))?;
                match format.as_str() {
                    "mermaid" => print!("{}", graph::mermaid(&wf)),
                    "dot" => print!("{}", graph::dot(&wf)),
                    _ => return Err(AppError::Startup("--format must be mermaid or dot".into())),
                }
                Ok(ExitCode::SUCCESS)
            }
        },
        Command::I18n { command } => translation(command),
        Command::Restore { path, replace } => {
            let config = Config::load(cli.config.as_deref())?;
            if config.backend() != safeguard::storage::Backend::Sqlite {
                return Err(AppError::Startup(
                    "this database is PostgreSQL: restore it with pg_restore (README, \"Backup and restore\")".into(),
                ));
            }
            let database = PathBuf::from(safeguard::storage::sqlite_path(&config.database_url));
            let r =
                safeguard::storage::backup::restore(&path, &database, &config.data_dir, replace)?;
            println!(
                "restored {} to {}: {} cases, {} audit entries, {} migrations, {} bytes",
                path.display(),
                database.display(),
                r.copy.cases,
                r.copy.audit_entries,
                r.copy.migrations,
                r.copy.bytes
            );
            if let Some(kept) = r.kept {
                println!("the database that was there is kept at {}", kept.display());
            }
            println!("next: `safeguard audit verify` on the restored copy, then start the service");
            Ok(ExitCode::SUCCESS)
        }
        command => {
            let config = Config::load(cli.config.as_deref())?;
            run_with_database(command, config, clock)
        }
    }
}

fn translation(command: I18nCommand) -> Result<ExitCode, AppError> {
    use safeguard::i18n::review;
    match command {
        I18nCommand::Export { out, folders } => {
            let (templates, workflows) = folders.resolve();
            let rows = review::rows(&templates, &workflows)?;
            match out {
                Some(path) => {
                    let file = std::fs::File::create(&path)
                        .map_err(|e| AppError::Startup(format!("{}: {e}", path.display())))?;
                    review::write_csv(&rows, file)?;
                    let unreviewed = rows.iter().filter(|r| r.reviewed != "yes").count();
                    eprintln!(
                        "{} texts written to {} ({unreviewed} not yet reviewed)",
                        rows.len(),
                        path.display()
                    );
                }
                None => review::write_csv(&rows, std::io::stdout().lock())?,
            }
            Ok(ExitCode::SUCCESS)
        }
        I18nCommand::Unreviewed { folders } => {
            let (templates, workflows) = folders.resolve();
            let list = review::unreviewed_list(&templates, &workflows)?;
            let path = templates.join(review::UNREVIEWED);
            std::fs::write(&path, &list)
                .map_err(|e| AppError::Startup(format!("{}: {e}", path.display())))?;
            println!("wrote {}", path.display());
            Ok(ExitCode::SUCCESS)
        }
        I18nCommand::Import {
            file,
            dry_run,
            folders,
        } => {
            let (templates, workflows) = folders.resolve();
            let input = std::fs::File::open(&file)
                .map_err(|e| AppError::Startup(format!("{}: {e}", file.display())))?;
            let rows = review::read_csv(input)?;
            let changes = review::apply(&rows, &templates, &workflows)?;
            check_staged(&changes, &templates, &workflows)?;
            println!(
                "{} rows read; {} Welsh texts changed; {} newly reviewed; {} still unreviewed",
                rows.len(),
                changes.changed,
                changes.newly_reviewed,
                changes.still_unreviewed
            );
            if dry_run {
                println!("dry run: nothing written");
                return Ok(ExitCode::SUCCESS);
            }
            for (path, text) in &changes.files {
                std::fs::write(path, text)
                    .map_err(|e| AppError::Startup(format!("{}: {e}", path.display())))?;
                println!("wrote {}", path.display());
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Loads the imported texts as the service would, from a copy of the folders with the
/// changes in place: a message that does not format, a template that does not render or a
/// workflow `workflows check` refuses stops the import before anything is written.
fn check_staged(
    changes: &safeguard::i18n::review::Changes,
    templates: &std::path::Path,
    workflows: &std::path::Path,
) -> Result<(), AppError> {
    let stage = std::env::temp_dir().join(format!("safeguard-import-{}", uuid::Uuid::new_v4()));
    let (staged_templates, staged_workflows) = (stage.join("templates"), stage.join("workflows"));
    let result = (|| {
        copy_dir(templates, &staged_templates)?;
        copy_dir(workflows, &staged_workflows)?;
        for (path, text) in &changes.files {
            let staged = if let Ok(rest) = path.strip_prefix(templates) {
                staged_templates.join(rest)
            } else if let Ok(rest) = path.strip_prefix(workflows) {
                staged_workflows.join(rest)
            } else {
                return Err(AppError::Startup(format!(
                    "{} is outside the folders",
                    path.display()
                )));
            };
            std::fs::write(&staged, text)
                .map_err(|e| AppError::Startup(format!("{}: {e}", staged.display())))?;
        }
        safeguard::mail::templates::Templates::load(&safeguard::shipped::Folder::templates(
            Some(&staged_templates),
            None,
        ))?
        .check()?;
        WorkflowRegistry::load_dir(&staged_workflows)?;
        Ok(())
    })();
    let _ = std::fs::remove_dir_all(&stage);
    result.map_err(|e| AppError::Startup(format!("nothing imported: {e}")))
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) -> Result<(), AppError> {
    let io = |e: std::io::Error| AppError::Startup(format!("{}: {e}", from.display()));
    std::fs::create_dir_all(to).map_err(io)?;
    for entry in std::fs::read_dir(from).map_err(io)? {
        let path = entry.map_err(io)?.path();
        let target = to.join(path.file_name().unwrap_or_default());
        if path.is_dir() {
            copy_dir(&path, &target)?;
        } else {
            std::fs::copy(&path, &target).map_err(io)?;
        }
    }
    Ok(())
}

fn run_with_database(
    command: Command,
    config: Config,
    clock: Arc<dyn Clock>,
) -> Result<ExitCode, AppError> {
    let bind = config.bind;
    let url = safeguard::storage::redact(&config.database_url);
    // A running service marks its data folder, so that nobody restores a database under it.
    let _in_use = match command {
        Command::Serve => Some(safeguard::storage::backup::hold_in_use(&config.data_dir)?),
        _ => None,
    };
    let state = app::prepare(config, clock.clone())?;
    match command {
        Command::Serve => {
            let listener = std::net::TcpListener::bind(bind)
                .map_err(|e| AppError::Startup(format!("cannot bind {bind}: {e}")))?;
            tracing::info!(%bind, database = %url, "safeguard listening");
            let _worker = app::start_outbox_worker(&state)?;
            let _jobs = app::start_job_scheduler(&state);
            let _wal = safeguard::storage::wal::WalKeeper::spawn(state.pool.clone());
            actix_web::rt::System::new()
                .block_on(app::serve(state, listener)?)
                .map_err(|e| AppError::Startup(format!("server stopped: {e}")))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Migrate => {
            println!("database {url} is migrated");
            Ok(ExitCode::SUCCESS)
        }
        Command::Workflows {
            command:
                WorkflowCommand::Migrate {
                    workflow,
                    from,
                    to,
                    map,
                    reason,
                    commit,
                },
        } => {
            let mut mapping = std::collections::BTreeMap::new();
            for m in &map {
                let (a, b) = m.split_once('=').ok_or_else(|| {
                    AppError::Startup(format!("--map {m:?}: write it as OLD=NEW"))
                })?;
                mapping.insert(a.trim().to_string(), b.trim().to_string());
            }
            let mut conn = state.pool.get()?;
            let svc = &state.services;
            let plan = safeguard::domain::workflow_migration::plan(
                &svc.engine,
                &mut conn,
                &workflow,
                from,
                to,
                &mapping,
            )?;
            for m in &plan.moves {
                if m.from_state == m.to_state {
                    println!("{}  {}  stays at {}", m.reference, workflow, m.from_state);
                } else {
                    println!(
                        "{}  {}  {} -> {}",
                        m.reference, workflow, m.from_state, m.to_state
                    );
                }
            }
            if !commit {
                println!(
                    "{} running case(s) of {workflow} v{from} would move to v{to}; nothing is written until you add --commit --reason \"…\"",
                    plan.moves.len()
                );
                return Ok(ExitCode::SUCCESS);
            }
            let reason = reason.unwrap_or_default();
            let moved = safeguard::domain::workflow_migration::commit(
                svc, &mut conn, &plan, "cli", &reason,
            )?;
            println!("{moved} running case(s) of {workflow} moved from v{from} to v{to}, each with an audit entry");
            Ok(ExitCode::SUCCESS)
        }
        Command::Backup { path } => {
            let mut conn = state.pool.get()?;
            let r = safeguard::storage::backup::backup(&mut conn, &path)?;
            println!(
                "backup written to {}: {} cases, {} audit entries, {} bytes; SQLite's integrity check passed",
                path.display(),
                r.cases,
                r.audit_entries,
                r.bytes
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::User {
            command:
                UserCommand::Add {
                    name,
                    email,
                    role,
                    team,
                    authority,
                    password_stdin,
                },
        } => {
            let password = if password_stdin {
                let p = password_from_stdin()?;
                safeguard::identity::password::check_policy(&p)?;
                Some(p)
            } else {
                None
            };
            let mut conn = state.pool.get()?;
            let (id, token) = add_user(
                &mut conn,
                &state.services.engine.agencies.current(),
                NewUser {
                    name: &name,
                    email: &email,
                    role: &role,
                    team: &team,
                    authority: &authority,
                },
                safeguard::domain::user::FirstToken {
                    key: &state.services.audit_key,
                    days: state.services.access.api_token_days,
                },
                clock.now().naive_utc(),
            )?;
            if let Some(p) = password {
                safeguard::domain::user::set_password(&mut conn, &email, &p)?;
                println!("password set: {email} can sign in to the pages.");
            }
            println!("user {id} added.\ntoken (shown once, keep it safe): {token}");
            Ok(ExitCode::SUCCESS)
        }
        Command::User {
            command: UserCommand::SetPassword { email },
        } => {
            let p = password_from_stdin()?;
            let mut conn = state.pool.get()?;
            safeguard::domain::user::set_password(&mut conn, &email, &p)?;
            println!("password set for {email}");
            Ok(ExitCode::SUCCESS)
        }
        Command::User {
            command: UserCommand::PersonsOfConcern { email, allow },
        } => {
            let mut conn = state.pool.get()?;
            safeguard::domain::context::set_persons_of_concern(
                &mut conn,
                &state.services.audit_key,
                &email,
                allow,
                "command line",
                state.services.now().naive_utc(),
            )?;
            println!(
                "{email} {} persons of concern",
                if allow { "now sees" } else { "no longer sees" }
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::User {
            command: UserCommand::Tokens { command },
        } => {
            use safeguard::domain::api_token;
            let mut conn = state.pool.get()?;
            let svc = &state.services;
            let now = svc.now().naive_utc();
            match command {
                TokenCommand::List { email } => {
                    let user = safeguard::domain::user::find_by_email(&mut conn, &email)?;
                    let tokens = api_token::of_user(&mut conn, &user.id)?;
                    if tokens.is_empty() {
                        println!("{} has no tokens", user.email);
                    }
                    for t in tokens {
                        let standing = match t.revoked_at {
                            Some(r) => format!("revoked {}", r.format("%Y-%m-%d %H:%M UTC")),
                            None if t.expires_at <= now => "expired".to_string(),
                            None => "working".to_string(),
                        };
                        println!(
                            "{}  {:<30}  made {}  expires {}  last used {}  {standing}",
                            t.id,
                            t.label,
                            t.created_at.format("%Y-%m-%d"),
                            t.expires_at.format("%Y-%m-%d"),
                            t.last_used_at
                                .map(|u| u.format("%Y-%m-%d %H:%M UTC").to_string())
                                .unwrap_or_else(|| "never".into()),
                        );
                    }
                }
                TokenCommand::Add { email, label, days } => {
                    let user = safeguard::domain::user::find_by_email(&mut conn, &email)?;
                    let days = days.unwrap_or(svc.access.api_token_days);
                    let (id, token) = safeguard::storage::write_transaction(&mut conn, |conn| {
                        api_token::issue(conn, &svc.audit_key, &user, &label, days, "cli", now)
                    })?;
                    println!("token {id} made for {}, working for {days} days.\ntoken (shown once, keep it safe): {token}", user.email);
                }
                TokenCommand::Revoke { id } => {
                    let t = api_token::revoke(&mut conn, &svc.audit_key, &id, "cli", now)?;
                    println!("token {} ({}) is revoked", t.id, t.label);
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Demo => {
            let report = safeguard::demo::load(&state)?;
            println!("{report}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Audit {
            command: AuditCommand::Verify { copy },
        } => {
            let mut conn = state.pool.get()?;
            let svc = &state.services;
            let mut report = safeguard::domain::audit_verify::verify(
                &mut conn,
                &svc.audit_key,
                &svc.engine,
                &svc.checkpoints,
            )?;
            if let Some(copy) = &copy {
                report
                    .problems
                    .extend(safeguard::domain::checkpoint::compare_with_copy(
                        &svc.checkpoints,
                        copy,
                    )?);
            }
            let summary = format!(
                "{} cases, {} entries ({} unkeyed, covered by a checkpoint), {} access-log lines, {} security events, {} checkpoint lines, {} destroyed cases with tombstones",
                report.cases,
                report.entries,
                report.legacy_entries,
                report.access_lines,
                report.security_events,
                report.checkpoint_lines,
                report.tombstones
            );
            if report.problems.is_empty() {
                println!("audit trail intact: {summary}");
                if report.checkpoint_lines == 0 {
                    println!("no checkpoint yet: run `safeguard audit checkpoint`, and keep copies of {} elsewhere", svc.checkpoints.display());
                }
                Ok(ExitCode::SUCCESS)
            } else {
                for p in &report.problems {
                    println!("TAMPERED  {p}");
                }
                println!(
                    "audit trail BROKEN: {} problem(s); {summary}",
                    report.problems.len()
                );
                Ok(ExitCode::from(2))
            }
        }
        Command::Audit {
            command: AuditCommand::Checkpoint,
        } => {
            let mut conn = state.pool.get()?;
            let svc = &state.services;
            let w = safeguard::domain::checkpoint::write(
                &mut conn,
                &svc.audit_key,
                &svc.checkpoints,
                svc.now(),
            )?;
            println!(
                "checkpoint line {} written to {}: {} of {} cases moved on since the last, {} days sealed",
                w.line,
                svc.checkpoints.display(),
                w.cases_changed,
                w.cases,
                w.days_sealed
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Case {
            command: CaseCommand::DestroyApproved,
        } => {
            let mut conn = owner_pool(&state)?.get()?;
            let done = safeguard::domain::retention::destroy_approved(
                &state.services,
                &mut conn,
                state.services.today(),
            )?;
            for t in &done {
                println!(
                    "{} destroyed under rule {} ({})",
                    t.reference, t.rule, t.authorised_by
                );
            }
            println!(
                "{} cases destroyed; their tombstones are in {}",
                done.len(),
                state.services.checkpoints.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Case {
            command:
                CaseCommand::Destroy {
                    reference,
                    authorised_by,
                },
        } => {
            let mut conn = owner_pool(&state)?.get()?;
            let t = safeguard::domain::destruction::destroy(
                &state.services,
                &mut conn,
                &safeguard::domain::destruction::Destruction {
                    reference: &reference,
                    authorised_by: &authorised_by,
                },
            )?;
            println!(
                "{} destroyed ({} audit entries); its tombstone is in {}",
                t.reference,
                t.entries,
                state.services.checkpoints.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Outbox {
            command: OutboxCommand::Failed,
        } => {
            let mut conn = state.pool.get()?;
            let rows = safeguard::mail::outbox::failed(&mut conn)?;
            if rows.is_empty() {
                println!("no failed mail");
            }
            for r in rows {
                println!(
                    "{}  {}  {}  to {}  after {} attempt(s): {}",
                    r.id,
                    r.created_at.format("%Y-%m-%d %H:%M"),
                    r.kind,
                    r.recipient,
                    r.attempts,
                    r.last_error.unwrap_or_default()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Outbox {
            command: OutboxCommand::Retry { id, all },
        } => {
            if id.is_none() && !all {
                return Err(AppError::Startup(
                    "give the id of a failed message (see `safeguard outbox failed`), or --all"
                        .into(),
                ));
            }
            let mut conn = state.pool.get()?;
            let n = safeguard::mail::outbox::retry_failed(
                &mut conn,
                id.as_deref(),
                state.services.now().naive_utc(),
            )?;
            println!("{n} message(s) back in the queue");
            Ok(if n == 0 && id.is_some() {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            })
        }
        Command::Jobs {
            command: JobsCommand::List,
        } => {
            for j in safeguard::jobs::scheduler::status(&state)? {
                let when = |t: Option<chrono::DateTime<chrono::Utc>>| {
                    t.map(|t| {
                        t.with_timezone(&chrono_tz::Europe::London)
                            .format("%a %Y-%m-%d %H:%M %Z")
                            .to_string()
                    })
                    .unwrap_or_else(|| "never".into())
                };
                println!(
                    "{:<14} {:<22} next {:<26} last {} {}\n               {}",
                    j.job,
                    j.schedule,
                    when(j.next_run),
                    when(j.last_run),
                    j.last_outcome.map(|o| format!("({o})")).unwrap_or_default(),
                    j.description
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Jobs {
            command: JobsCommand::Run { name },
        } => {
            let job = safeguard::jobs::JobName::parse(&name).ok_or_else(|| {
                AppError::Startup(format!(
                    "no job called {name:?}; jobs are {}",
                    safeguard::jobs::ALL
                        .iter()
                        .map(|j| j.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })?;
            match safeguard::jobs::scheduler::run_now(&state, job)? {
                Some(report) => println!("{}: {}", report.job, report.outcome),
                None => println!("{name}: another replica is running it at this moment"),
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Workflows { .. } | Command::I18n { .. } | Command::Restore { .. } => Err(
            AppError::Internal("workflow commands need no database".into()),
        ),
    }
}
