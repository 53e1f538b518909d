//! The `investai` command line. Every command reads the same settings as `serve`.

use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::auth::jwt::parse_ttl;
use crate::auth::{password, JwtKeys};
use crate::config::{create_demo_key, Settings};
use crate::domain::merkle;
use crate::domain::roles::Role;
use crate::error::{AppError, AppResult};
use crate::seed;
use crate::startup::{self, open_database};
use crate::storage::{self, ledger, read_tx, running_amounts, write_tx, DbTarget};

/// The InvestAI demo data, built into the binary so `serve --demo` works from anywhere.
pub const DEMO_FIXTURE: &str = include_str!("../fixtures/investai.json");
/// Password of every demo user (demo mode only).
pub const DEMO_PASSWORD: &str = "investai-demo-2025";

#[derive(Parser)]
#[command(name = "investai", version, about = "Books of the EU InvestAI fund")]
struct Cli {
    /// TOML settings file (also INVESTAI_CONFIG).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start the HTTP server.
    Serve {
        /// SQLite demo: create the database, load the InvestAI demo data, generate a signing key.
        #[arg(long)]
        demo: bool,
        /// Address to listen on (overrides the `bind` setting).
        #[arg(long)]
        bind: Option<String>,
    },
    /// Apply pending database migrations.
    Migrate,
    /// Load a fixture file (same form as fixtures/investai.json).
    Seed { file: PathBuf },
    /// Manage users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Mint a JWT for scripts, signed with the server's settings, for an active user: it acts
    /// with the user's role (for their party) and ends when the user's access changes.
    Token {
        /// The user name.
        #[arg(long)]
        user: String,
        #[arg(long, default_value = "1h")]
        ttl: String,
    },
    /// Re-check every journal entry's balance and the hash chain, every capital total against the
    /// commitments and notices it sums, and every usage sum against the usage records it sums;
    /// non-zero exit on a fault.
    /// With `--checkpoint`, also prove that the journal extends a checkpoint kept elsewhere.
    Verify {
        /// A signed checkpoint (C2SP signed note) kept outside the database.
        #[arg(long)]
        checkpoint: Option<PathBuf>,
        /// The verifier key to check its signature with (`<origin>+<key id>+<base64>`); by
        /// default the one derived from this node's checkpoint signing key.
        #[arg(long)]
        key: Option<String>,
    },
    /// Check a `journal-proofs.jsonl` export offline, without the database: every entry's hash
    /// against its content and its inclusion proof against the export's signed checkpoint.
    VerifyExport {
        /// The export file.
        file: PathBuf,
        /// The verifier key of the checkpoints (`<origin>+<key id>+<base64>`).
        #[arg(long)]
        key: String,
        /// A checkpoint kept elsewhere that the export's must be.
        #[arg(long)]
        checkpoint: Option<PathBuf>,
    },
    /// Sign a checkpoint of the journal now, if it grew since the last; print it.
    Checkpoint,
    /// Make a checkpoint signing key for ORIGIN (e.g. `investai.example.eu/journal`): prints the
    /// secret signer key (for `INVESTAI_CHECKPOINT_SIGNING_KEY`) and the public verifier key.
    CheckpointKey {
        #[arg(long)]
        origin: String,
    },
    /// Compute grants.
    Grants {
        #[command(subcommand)]
        command: GrantsCommand,
    },
    /// Metered usage of facilities.
    Usage {
        #[command(subcommand)]
        command: UsageCommand,
    },
}

#[derive(Subcommand)]
enum UsageCommand {
    /// Count a facility's usage file: this service's CSV or Slurm's `sacct --parsable2` output
    /// (told apart by the header), each line answered as the upload page answers it. Running it
    /// again counts nothing twice. Exits 1 when a line was refused or malformed.
    Import {
        /// The facility the file comes from.
        #[arg(long)]
        facility: String,
        /// Print the whole report as JSON instead of a summary.
        #[arg(long)]
        json: bool,
        /// The file.
        file: PathBuf,
    },
}

#[derive(Subcommand)]
enum GrantsCommand {
    /// Lapse awards whose period ended more than 7 days (the days facilities have to report its
    /// usage) before the date: unused hours lapse, unused aid returns to the pool. Running it
    /// again changes nothing.
    Lapse {
        /// Calendar date (UTC), today when omitted; never in the future.
        #[arg(long, value_parser = crate::domain::calendar_date::parse_argument)]
        as_of: Option<chrono::NaiveDate>,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add a user; the password is read from standard input.
    Add {
        #[arg(long)]
        role: Role,
        #[arg(long)]
        name: String,
        /// Party id, for investor, sme and facility users.
        #[arg(long)]
        party: Option<String>,
    },
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let settings = match Settings::load(cli.config.as_deref()) {
        Ok(settings) => settings,
        Err(message) => {
            eprintln!("investai: {message}");
            return ExitCode::from(2);
        }
    };
    crate::telemetry::init(&settings.log_level, &settings.log_format);
    let outcome = match cli.command {
        Command::Serve { demo, bind } => serve(settings, demo, bind),
        Command::Migrate => migrate(&settings),
        Command::Seed { file } => seed_file(&settings, &file),
        Command::User { command: UserCommand::Add { role, name, party } } => add_user(&settings, role, &name, party),
        Command::Token { user, ttl } => mint_token(&settings, &user, &ttl),
        Command::Verify { checkpoint: None, .. } => return verify(&settings),
        Command::Verify { checkpoint: Some(file), key } => return verify_checkpoint(&settings, &file, key),
        Command::VerifyExport { file, key, checkpoint } => return verify_export(&file, &key, checkpoint.as_deref()),
        Command::Checkpoint => issue_checkpoint(&settings),
        Command::CheckpointKey { origin } => checkpoint_key(&origin),
        Command::Grants { command: GrantsCommand::Lapse { as_of } } => lapse(&settings, as_of),
        Command::Usage { command: UsageCommand::Import { facility, json, file } } => {
            return import_usage(&settings, &facility, json, &file)
        }
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("investai: {error}");
            ExitCode::FAILURE
        }
    }
}

/// The signing secret for `serve`: configured, or in demo mode the key beside the database.
fn serving_secret(settings: &Settings, demo: bool) -> AppResult<String> {
    if let Some(secret) = &settings.jwt_secret {
        return Ok(secret.clone());
    }
    if !demo {
        return Err(AppError::Unavailable(
            "refusing to start without a signing secret: set INVESTAI_JWT_SECRET (32+ random bytes, e.g. `openssl rand -hex 32`), or use --demo".into(),
        ));
    }
    let path = settings
        .demo_key_path()
        .ok_or_else(|| AppError::Unavailable("demo mode on PostgreSQL needs INVESTAI_JWT_SECRET".into()))?;
    match settings.signing_secret() {
        Some(secret) => Ok(secret),
        None => create_demo_key(&path).map_err(|e| AppError::internal(format!("cannot write {}: {e}", path.display()))),
    }
}

/// In demo mode without a configured checkpoint key, the demo's own beside the database.
fn ensure_demo_checkpoint_key(settings: &Settings) -> AppResult<()> {
    if settings.checkpoint_signer_key().is_some() {
        return Ok(());
    }
    let Some(path) = settings.demo_checkpoint_key_path() else { return Ok(()) };
    crate::config::create_demo_checkpoint_key(&path)
        .map(|_| ())
        .map_err(|e| AppError::internal(format!("cannot write {}: {e}", path.display())))
}

fn serve(settings: Settings, demo: bool, bind: Option<String>) -> AppResult<()> {
    let secret = serving_secret(&settings, demo)?;
    if demo {
        ensure_demo_checkpoint_key(&settings)?;
    }
    let address = bind.unwrap_or_else(|| settings.bind.clone());
    let listener =
        TcpListener::bind(&address).map_err(|e| AppError::Unavailable(format!("cannot listen on {address}: {e}")))?;
    let bound = listener.local_addr().map_err(AppError::internal)?;
    let database_url = storage::redact_url(&settings.database_url);
    actix_web::rt::System::new().block_on(async move {
        let app = startup::build(settings, secret, listener)?;
        if demo {
            load_demo(&app.state).await?;
        }
        let url = format!("http://{bound}");
        tracing::info!(%url, database = %database_url, "investai listening");
        if demo {
            print_demo_banner(&url);
        }
        app.server.await.map_err(AppError::internal)
    })
}

async fn load_demo(state: &crate::http::AppState) -> AppResult<()> {
    state
        .db(|conn| {
            if !crate::storage::funds::list_funds(conn)?.is_empty() {
                return Ok(());
            }
            let fixture: seed::Fixture = crate::http::extract::parse_json(DEMO_FIXTURE.as_bytes())?;
            let report = seed::load(conn, &fixture, false)?;
            tracing::info!(records = report.records, "demo data loaded");
            Ok(())
        })
        .await
}

/// Printed with errors ignored: a closed stdout must not take the server down.
fn print_demo_banner(url: &str) {
    use std::io::Write;
    let mut banner =
        format!("\nInvestAI demo is running at {url}\nSign in at {url}/login with password `{DEMO_PASSWORD}` as:\n");
    if let Ok(fixture) = crate::http::extract::parse_json::<seed::Fixture>(DEMO_FIXTURE.as_bytes()) {
        for user in &fixture.users {
            banner.push_str(&format!("  {:<10} {}\n", user.role.as_str(), user.username));
        }
    }
    banner.push_str(&format!("API reference: {url}/api/docs/   Health: {url}/healthz\n\n"));
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(banner.as_bytes());
    let _ = out.flush();
}

fn migrate(settings: &Settings) -> AppResult<()> {
    let target = settings.db_target().map_err(AppError::Unavailable)?;
    let pool = storage::build_pool(&target, 1)?;
    let applied = storage::run_migrations(&mut *pool.get()?)?;
    println!("{applied} migration(s) applied to the {} database", target.backend_name());
    Ok(())
}

fn seed_file(settings: &Settings, file: &std::path::Path) -> AppResult<()> {
    let fixture = seed::read_fixture(file)?;
    let (pool, _) = open_database(settings)?;
    let report = seed::load(&mut *pool.get()?, &fixture, true)?;
    println!("loaded {} records from {}", report.records, file.display());
    Ok(())
}

fn add_user(settings: &Settings, role: Role, name: &str, party: Option<String>) -> AppResult<()> {
    let mut input = String::new();
    std::io::stdin()
        .take(password::PASSWORD_BYTES_MAX as u64 + 2)
        .read_to_string(&mut input)
        .map_err(|e| AppError::internal(format!("cannot read the password from standard input: {e}")))?;
    let secret = input.trim_end_matches(['\n', '\r']);
    password::check_strength(secret).map_err(|reason| AppError::field("password", reason))?;
    let hash = password::hash(secret).map_err(AppError::internal)?;
    let (pool, _) = open_database(settings)?;
    let user = write_tx(&mut *pool.get()?, |conn| {
        storage::users::create_user(conn, name, role, party.as_deref(), hash.clone(), "system:cli")
    })?;
    println!("user {} added with role {}", user.username, user.role);
    Ok(())
}

fn mint_token(settings: &Settings, username: &str, ttl: &str) -> AppResult<()> {
    let ttl = parse_ttl(ttl).map_err(|reason| AppError::field("ttl", reason))?;
    let secret = settings.signing_secret().ok_or_else(|| {
        AppError::Unavailable(
            "no signing secret: set INVESTAI_JWT_SECRET, or start `serve --demo` once to create the demo key".into(),
        )
    })?;
    let keys = JwtKeys::from_settings(settings, &secret).map_err(AppError::Unavailable)?;
    let (pool, _) = open_database(settings)?;
    let user = storage::users::find_by_username(&mut *pool.get()?, username)?
        .ok_or_else(|| AppError::field("user", format!("no user {username}")))?;
    if user.disabled_at.is_some() {
        return Err(AppError::field("user", format!("user {username} is disabled")));
    }
    let (token, _) = keys
        .mint(user.role()?, &user.username, user.credentials_version, ttl)
        .map_err(|reason| AppError::field("ttl", reason))?;
    println!("{token}");
    Ok(())
}

fn lapse(settings: &Settings, as_of: Option<chrono::NaiveDate>) -> AppResult<()> {
    let today = chrono::Utc::now().date_naive();
    let as_of = as_of.unwrap_or(today);
    if as_of > today {
        return Err(AppError::field("as-of", "must not be in the future"));
    }
    let (pool, _) = open_database(settings)?;
    let done = storage::awards::lapse_due(&mut *pool.get()?, as_of, "cli:grants-lapse")?;
    for lapse in &done {
        println!(
            "award {} {}: {} GPU-hours lapsed, {} back to the pool",
            lapse.award_id, lapse.status, lapse.lapsed_gpu_hours, lapse.returned_to_pool
        );
    }
    println!("{} award(s) ended before {as_of}", done.len());
    Ok(())
}

fn import_usage(settings: &Settings, facility: &str, json: bool, file: &Path) -> ExitCode {
    let outcome = (|| -> AppResult<storage::usage_import::ImportReport> {
        let facility = crate::http::extract::parse_id("facility", facility)?;
        let bytes = std::fs::read(file).map_err(|e| AppError::field("file", format!("{}: {e}", file.display())))?;
        let (format, lines) = crate::http::api::usage::read_usage_file(&bytes)?;
        let name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let mut conn = existing_database(settings)?.get()?;
        let channel = (format, name.as_str(), storage::usage_import::Channel::Command);
        storage::write_tx(&mut conn, |c| {
            storage::usage_import::import(c, &facility, channel, &lines, "cli:usage-import")
        })
    })();
    let report = match outcome {
        Ok(report) => report,
        Err(error) => {
            eprintln!("investai: {error}");
            return ExitCode::FAILURE;
        }
    };
    if json {
        match serde_json::to_string_pretty(&report) {
            Ok(text) => println!("{text}"),
            Err(error) => eprintln!("investai: {error}"),
        }
    } else {
        print_import(&report);
    }
    let c = report.counts;
    if c.refused + c.malformed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn print_import(report: &storage::usage_import::ImportReport) {
    use crate::domain::usage_feeds::LineResult;
    for line in report.lines.iter().filter(|l| !matches!(l.result, LineResult::Counted | LineResult::Replayed)) {
        let what = [line.code.as_deref(), line.column.as_deref()].into_iter().flatten().collect::<Vec<_>>().join(" ");
        let reason = line.reason.as_ref().map(|r| r.english().to_string()).unwrap_or_default();
        let duplicate = line.duplicate_of_line.map(|l| format!("duplicate of line {l}")).unwrap_or_default();
        println!("line {}: {:?} {what} {reason}{duplicate}", line.line, line.result);
    }
    let c = report.counts;
    println!(
        "{} lines ({}): {} counted, {} replayed, {} duplicates, {} refused, {} skipped, {} malformed; {} GPU-hours counted; import {}",
        c.lines,
        report.file_format.code(),
        c.counted,
        c.replayed,
        c.duplicates,
        c.refused,
        c.skipped,
        c.malformed,
        report.gpu_hours,
        report.import_id
    );
}

/// A pool on an existing database, for the commands that must not create one.
fn existing_database(settings: &Settings) -> AppResult<storage::DbPool> {
    let target = settings.db_target().map_err(AppError::Unavailable)?;
    if let DbTarget::Sqlite(path) = &target {
        if !path.exists() {
            return Err(AppError::Unavailable(format!("no database at {}", path.display())));
        }
    }
    storage::build_pool(&target, 1)
}

/// `verify`: the hash chain, then every kept total against the rows it sums. Exit 1 on a fault,
/// 2 when it could not be checked.
fn verify(settings: &Settings) -> ExitCode {
    let outcome = (|| -> AppResult<_> {
        let mut conn = existing_database(settings)?.get()?;
        read_tx(&mut conn, |c| Ok((ledger::verify_chain(c)?, running_amounts::recount(c)?)))
    })();
    let (report, running_amounts::Recount { capital, usage, running }) = match outcome {
        Ok(found) => found,
        Err(error) => {
            eprintln!("investai: {error}");
            return ExitCode::from(2);
        }
    };
    if !report.ok {
        eprintln!(
            "LEDGER VERIFICATION FAILED after {} good entries: {}",
            report.entries_checked,
            report.first_fault.unwrap_or_default()
        );
        return ExitCode::from(1);
    }
    println!("ledger verified: {} entries, chain head {}", report.entries_checked, report.head_hash);
    for ((fund, tranche, kind, programme), kept, recounted) in &capital {
        eprintln!(
            "CAPITAL TOTAL DISAGREES: fund {fund}, tranche {tranche}, {kind}/{programme}: kept \
             {}/{}/{} committed/called/paid cents, the commitments and notices sum to {}/{}/{}",
            kept.committed, kept.called, kept.paid, recounted.committed, recounted.called, recounted.paid
        );
    }
    if capital.is_empty() {
        println!("capital totals verified: each equals the sum of its commitments and notices");
    }
    for ((table, key), kept, recounted) in &usage {
        eprintln!(
            "USAGE SUM DISAGREES: {table}, {key}: kept {}/{}/{} records/milli-GPU-hours/aid cents, the \
             usage records sum to {}/{}/{}",
            kept.records,
            kept.milli_hours,
            kept.subsidy_cents,
            recounted.records,
            recounted.milli_hours,
            recounted.subsidy_cents
        );
    }
    if usage.is_empty() {
        println!("usage sums verified: each equals the sum of its usage records");
    }
    let running_agree = report_running_amounts(&running);
    if capital.is_empty() && usage.is_empty() && running_agree {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// Names each running amount that differs from its records; true when none does.
fn report_running_amounts(found: &[(&running_amounts::Check, Vec<running_amounts::Disagreement>)]) -> bool {
    for (check, disagreements) in found {
        for (index, found) in disagreements.iter().enumerate() {
            if index == running_amounts::DISAGREEMENTS_PER_CHECK_MAX {
                eprintln!("RUNNING AMOUNT DISAGREES: more {} disagree than are named here", check.kept);
                break;
            }
            eprintln!(
                "RUNNING AMOUNT DISAGREES: {}, {}: kept {} cents, {} sum to {} cents",
                check.kept, found.item, found.kept, check.counted_from, found.counted
            );
        }
    }
    let agree = found.iter().all(|(_, disagreements)| disagreements.is_empty());
    if agree {
        println!(
            "running amounts verified: commitments, notices, tranches, daily account totals and the journal's \
             9000 and 1100 each equal the records they sum"
        );
    }
    agree
}

/// `verify --checkpoint`: the signature with the given (or this node's) verifier key, then the
/// journal against the checkpoint. Exit 1 on a fault, 2 when it could not be checked.
fn verify_checkpoint(settings: &Settings, file: &Path, key: Option<String>) -> ExitCode {
    let outcome = (|| -> AppResult<Result<String, String>> {
        let note =
            std::fs::read(file).map_err(|e| AppError::Unavailable(format!("cannot read {}: {e}", file.display())))?;
        let key = match key {
            Some(key) => key,
            None => settings.checkpoint_verifier_key_in_effect().map_err(AppError::Unavailable)?.ok_or_else(|| {
                AppError::Unavailable("no verifier key: pass --key, or set INVESTAI_CHECKPOINT_VERIFIER_KEY".into())
            })?,
        };
        let checkpoint = match merkle::open_checkpoint(&note, &key) {
            Ok(checkpoint) => checkpoint,
            Err(refusal) => return Ok(Err(format!("checkpoint {}: {refusal}", file.display()))),
        };
        let mut conn = existing_database(settings)?.get()?;
        let checked = read_tx(&mut conn, |c| ledger::verify_checkpoint(c, &checkpoint))?;
        Ok(checked.map(|report| {
            format!(
                "journal extends checkpoint {} of {} entries: {} entries verified, chain head {}",
                checkpoint.origin, checkpoint.size, report.entries_checked, report.head_hash
            )
        }))
    })();
    match outcome {
        Ok(Ok(message)) => {
            println!("{message}");
            ExitCode::SUCCESS
        }
        Ok(Err(fault)) => {
            eprintln!("CHECKPOINT VERIFICATION FAILED: {fault}");
            ExitCode::from(1)
        }
        Err(error) => {
            eprintln!("investai: {error}");
            ExitCode::from(2)
        }
    }
}

/// `checkpoint`: signs one now if the journal grew since the last, and prints the latest.
fn issue_checkpoint(settings: &Settings) -> AppResult<()> {
    let signer_key = settings.checkpoint_signer_key().ok_or_else(|| {
        AppError::Unavailable(
            "no checkpoint signing key: set INVESTAI_CHECKPOINT_SIGNING_KEY (see `investai checkpoint-key`)".into(),
        )
    })?;
    let job = crate::jobs::CheckpointJob::from_settings(settings, &signer_key).map_err(AppError::Unavailable)?;
    let (pool, _) = open_database(settings)?;
    job.run_once(&pool, true)?;
    let mut conn = pool.get()?;
    match storage::merkle::trusted_latest(&mut conn, Some(job.signer.verifier_key()))? {
        Some(row) => {
            print!("{}", row.note);
            Ok(())
        }
        None => Err(AppError::Unavailable("the journal is empty: nothing to sign".into())),
    }
}

/// `checkpoint-key`: a new key pair, the secret one first.
fn checkpoint_key(origin: &str) -> AppResult<()> {
    if !signed_note::is_key_name_valid(origin) {
        return Err(AppError::field("origin", "a key name: no spaces, no '+', not empty"));
    }
    let (signer_key, verifier_key) = merkle::generate_signer_key(origin);
    println!("signer key (secret; INVESTAI_CHECKPOINT_SIGNING_KEY): {signer_key}");
    println!("verifier key (public; publish it): {verifier_key}");
    Ok(())
}

/// `verify-export`: exit 0 when every entry of the file checks out, 1 with the first fault, 2
/// when a file could not be read.
fn verify_export(file: &Path, key: &str, checkpoint: Option<&Path>) -> ExitCode {
    let read = |path: &Path| std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()));
    let outcome = (|| -> Result<Result<merkle::ProvenExport, String>, String> {
        let text = read(file)?;
        let expected = match checkpoint {
            Some(path) => match merkle::open_checkpoint(read(path)?.as_bytes(), key) {
                Ok(checkpoint) => Some(checkpoint),
                Err(refusal) => return Ok(Err(format!("checkpoint {}: {refusal}", path.display()))),
            },
            None => None,
        };
        Ok(merkle::check_proven_export(&text, key, expected.as_ref()))
    })();
    match outcome {
        Ok(Ok(proven)) => {
            println!(
                "export verified: {} entries of fund {}, each in the signed checkpoint of {} entries",
                proven.entries, proven.fund_id, proven.tree_size
            );
            ExitCode::SUCCESS
        }
        Ok(Err(fault)) => {
            eprintln!("EXPORT VERIFICATION FAILED: {fault}");
            ExitCode::from(1)
        }
        Err(error) => {
            eprintln!("investai: {error}");
            ExitCode::from(2)
        }
    }
}
