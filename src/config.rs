//! Settings: defaults, then an optional TOML file, then `INVESTAI_*` environment variables
//! (and `DATABASE_URL`). Every command reads the same settings, so a token minted by
//! `investai token` is accepted by a server started with the same environment.

use std::path::{Path, PathBuf};

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};

use crate::storage::DbTarget;

/// Shortest HS256 secret accepted: 256 bits.
pub const JWT_SECRET_BYTES_MIN: usize = 32;
/// Suffix of the file that keeps the demo signing key beside the demo database.
pub const DEMO_KEY_SUFFIX: &str = ".demo-jwt-key";
/// Appended to the demo database's path for the demo's checkpoint signing key.
pub const DEMO_CHECKPOINT_KEY_SUFFIX: &str = ".demo-checkpoint-key";
/// The origin (log name) of the demo's checkpoints.
pub const DEMO_CHECKPOINT_ORIGIN: &str = "investai.demo/journal";

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// `sqlite://investai.db` or `postgres://user@host/db`.
    pub database_url: String,
    /// Address the server listens on.
    pub bind: String,
    /// HS256 signing secret for the service's own tokens (at least 32 bytes).
    pub jwt_secret: Option<String>,
    /// `iss` of the service's own tokens, and the issuer they must carry.
    pub jwt_issuer: String,
    /// `aud` every accepted token must carry.
    pub jwt_audience: String,
    /// Lifetime of tokens issued by login and `POST /api/v1/auth/token`.
    pub token_ttl_minutes: i64,
    /// PEM public key of an external identity provider (RS256 or EdDSA), if any.
    pub idp_public_key_file: Option<PathBuf>,
    /// `RS256` or `EdDSA`.
    pub idp_algorithm: Option<String>,
    /// `iss` of the external identity provider's tokens.
    pub idp_issuer: Option<String>,
    /// tracing filter, e.g. `info` or `investai=debug,actix_web=info`.
    pub log_level: String,
    /// `auto` (readable lines when standard error is a terminal, JSON otherwise), `json` (one
    /// object per line) or `pretty`.
    pub log_format: String,
    /// HTTP worker threads; 0 means one per core.
    pub workers: usize,
    /// Database connections per node.
    pub pool_size: u32,
    /// Largest JSON request body accepted, in bytes.
    pub body_limit_bytes: usize,
    /// Mark the session cookie `Secure`: `auto` (when the request came over TLS), `always`, `never`.
    pub cookie_secure: String,
    /// Seconds between the server's runs of the lapse job (ended awards); 0 turns it off.
    pub lapse_interval_seconds: u64,
    /// Bytes of derived views (fund metrics, fund overview) a node keeps while the books are
    /// unchanged; 0 computes them on every request.
    pub view_cache_bytes: u64,
    /// Threads that hash passwords (sign-ins, new users); 0 means one per core.
    pub password_hash_threads: usize,
    /// The header a trusted reverse proxy puts the client's address in (its rightmost value is
    /// taken), e.g. `X-Forwarded-For`; none uses the connection's peer address. Sign-in
    /// throttling counts per client address.
    pub client_ip_header: Option<String>,
    /// Seconds a node keeps what it read of a user before reading it again: a user disabled,
    /// reset, re-roled or signed out on another node is refused here within this time (on the
    /// node that made the change, at once). 1 to 60.
    pub standing_refresh_seconds: u64,
    /// Milliseconds a refused sign-in (throttled, or the hashing queue full) is held before it
    /// is answered, so that a flood's connections wait instead of asking again at once. 0 to
    /// 5,000; 0 answers at once.
    pub sign_in_refusal_hold_millis: u64,
    /// The key that signs the journal's checkpoints, a signed-note signer key
    /// (`PRIVATE+KEY+<origin>+<key id>+<base64>`, made by `investai checkpoint-key`). Secret.
    /// None: no checkpoints are issued (in demo mode, a key beside the database is made).
    pub checkpoint_signing_key: Option<String>,
    /// The verifier key of the checkpoints (`<origin>+<key id>+<base64>`, public), for a node
    /// that serves them without signing: it shows only the notes this key opens. A node with the
    /// signing key takes the key's own; both set must agree. None and no signing key: no
    /// checkpoint is shown, since none could be checked.
    pub checkpoint_verifier_key: Option<String>,
    /// A checkpoint is issued once this many entries were added since the last (and at least
    /// daily while the journal grows).
    pub checkpoint_every_entries: u64,
    /// Seconds between a node's looks at whether a checkpoint is due; 0 turns it off.
    pub checkpoint_interval_seconds: u64,
    /// A directory every issued checkpoint is also written to, outside the database
    /// (`<tree size>` and `latest`), for publishing (docs/ledger.md).
    pub checkpoint_publish_dir: Option<PathBuf>,
    /// The four-eyes principle (docs/four-eyes.md): distributions, capital calls, grant awards
    /// and rejections, waterfall terms, write-downs, manual entries, reversals and facility prices
    /// only through a proposal another staff user approves; their direct calls are refused
    /// (`four-eyes-required`). On unless turned off.
    pub four_eyes: bool,
    /// Hours a proposal waits for a decision before it expires, 1 to 720.
    pub proposal_lifetime_hours: i64,
    /// A PostgreSQL hot standby of the primary (`postgres://…`) that serves the reads which may
    /// be a little behind: dashboards, overviews, statements and exports (docs/scaling.md).
    /// None: every read goes to the primary.
    pub read_replica_url: Option<String>,
    /// Reads go to the primary while the standby may be more than this many milliseconds
    /// behind it. 0 to 600,000.
    pub replica_lag_max_millis: u64,
    /// Milliseconds between a node's checks of how far behind the standby is. 10 to 60,000.
    pub replica_check_interval_millis: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            database_url: "sqlite://investai.db".into(),
            bind: "127.0.0.1:8080".into(),
            jwt_secret: None,
            jwt_issuer: "investai".into(),
            jwt_audience: "investai".into(),
            token_ttl_minutes: 60,
            idp_public_key_file: None,
            idp_algorithm: None,
            idp_issuer: None,
            log_level: "info".into(),
            log_format: "auto".into(),
            workers: 0,
            pool_size: 10,
            body_limit_bytes: 4 * 1024 * 1024,
            cookie_secure: "auto".into(),
            lapse_interval_seconds: 3600,
            view_cache_bytes: 64 * 1024 * 1024,
            password_hash_threads: 0,
            client_ip_header: None,
            standing_refresh_seconds: 5,
            sign_in_refusal_hold_millis: 1_000,
            checkpoint_signing_key: None,
            checkpoint_verifier_key: None,
            checkpoint_every_entries: 1_000,
            checkpoint_interval_seconds: 60,
            checkpoint_publish_dir: None,
            four_eyes: true,
            proposal_lifetime_hours: crate::domain::proposals::PROPOSAL_LIFETIME_HOURS_DEFAULT,
            read_replica_url: None,
            replica_lag_max_millis: 2_000,
            replica_check_interval_millis: 200,
        }
    }
}

impl Settings {
    /// Reads defaults, the TOML file (`--config` or `INVESTAI_CONFIG`) and the environment.
    pub fn load(config_file: Option<&Path>) -> Result<Settings, String> {
        let mut figment = Figment::from(Serialized::defaults(Settings::default()));
        let file =
            config_file.map(Path::to_path_buf).or_else(|| std::env::var_os("INVESTAI_CONFIG").map(PathBuf::from));
        if let Some(file) = file {
            if !file.exists() {
                return Err(format!("configuration file {} does not exist", file.display()));
            }
            figment = figment.merge(Toml::file(file));
        }
        // Only variables naming a setting: other INVESTAI_* variables (test harnesses, scripts)
        // are none of the server's business, while a typo in the TOML file is still refused.
        let known = setting_names();
        let settings_env = Env::prefixed("INVESTAI_").filter(move |key| known.iter().any(|name| key == name.as_str()));
        figment = figment.merge(settings_env).merge(Env::raw().only(&["DATABASE_URL"]));
        let settings: Settings = figment.extract().map_err(|e| format!("invalid settings: {e}"))?;
        settings.validate()?;
        Ok(settings)
    }

    fn validate(&self) -> Result<(), String> {
        DbTarget::parse(&self.database_url)?;
        if !["auto", "json", "pretty"].contains(&self.log_format.as_str()) {
            return Err("log_format must be auto, json or pretty".into());
        }
        if !["auto", "always", "never"].contains(&self.cookie_secure.as_str()) {
            return Err("cookie_secure must be auto, always or never".into());
        }
        if !(1..=24 * 60).contains(&self.token_ttl_minutes) {
            return Err("token_ttl_minutes must be between 1 and 1440".into());
        }
        if !(1..=crate::auth::standing::STANDING_REFRESH_SECONDS_MAX).contains(&self.standing_refresh_seconds) {
            return Err("standing_refresh_seconds must be between 1 and 60".into());
        }
        if self.sign_in_refusal_hold_millis > crate::auth::refusal_hold::SIGN_IN_REFUSAL_HOLD_MILLIS_MAX {
            return Err("sign_in_refusal_hold_millis must be between 0 and 5000".into());
        }
        if !(1..=crate::domain::proposals::PROPOSAL_LIFETIME_HOURS_MAX).contains(&self.proposal_lifetime_hours) {
            return Err("proposal_lifetime_hours must be between 1 and 720".into());
        }
        self.validate_replica()?;
        if self.checkpoint_every_entries == 0 {
            return Err("checkpoint_every_entries must be at least 1".into());
        }
        if let Some(key) = &self.checkpoint_signing_key {
            crate::domain::merkle::CheckpointSigner::new(key)?;
        }
        if let Some(key) = &self.checkpoint_verifier_key {
            crate::domain::merkle::check_verifier_key(key)?;
            let signer = self.checkpoint_signing_key.as_deref().map(crate::domain::merkle::CheckpointSigner::new);
            if signer.transpose()?.is_some_and(|signer| signer.verifier_key() != key.trim()) {
                return Err("checkpoint_verifier_key is not the signing key's verifier key".into());
            }
        }
        if let Some(header) = &self.client_ip_header {
            actix_web::http::header::HeaderName::try_from(header.as_str())
                .map_err(|_| format!("client_ip_header {header:?} is not a header name"))?;
        }
        if self.pool_size == 0 || self.body_limit_bytes < 1024 {
            return Err("pool_size must be at least 1 and body_limit_bytes at least 1024".into());
        }
        if let Some(secret) = &self.jwt_secret {
            check_secret(secret)?;
        }
        match (&self.idp_public_key_file, self.idp_algorithm.as_deref()) {
            (None, None) => {}
            (Some(_), Some("RS256" | "EdDSA")) => {}
            _ => {
                return Err(
                    "an external identity provider needs idp_public_key_file and idp_algorithm RS256 or EdDSA".into()
                )
            }
        }
        Ok(())
    }

    fn validate_replica(&self) -> Result<(), String> {
        use crate::storage::replica::{
            REPLICA_CHECK_INTERVAL_MILLIS_MAX, REPLICA_CHECK_INTERVAL_MILLIS_MIN, REPLICA_LAG_MAX_MILLIS_MAX,
        };
        if self.replica_lag_max_millis > REPLICA_LAG_MAX_MILLIS_MAX {
            return Err(format!("replica_lag_max_millis must be between 0 and {REPLICA_LAG_MAX_MILLIS_MAX}"));
        }
        if !(REPLICA_CHECK_INTERVAL_MILLIS_MIN..=REPLICA_CHECK_INTERVAL_MILLIS_MAX)
            .contains(&self.replica_check_interval_millis)
        {
            return Err(format!(
                "replica_check_interval_millis must be between {REPLICA_CHECK_INTERVAL_MILLIS_MIN} and \
                 {REPLICA_CHECK_INTERVAL_MILLIS_MAX}"
            ));
        }
        let Some(url) = &self.read_replica_url else { return Ok(()) };
        match (DbTarget::parse(&self.database_url)?, DbTarget::parse(url)) {
            (DbTarget::Postgres(_), Ok(DbTarget::Postgres(_))) => Ok(()),
            (DbTarget::Postgres(_), _) => Err("read_replica_url must be a postgres:// URL".into()),
            _ => Err("read_replica_url needs the primary on PostgreSQL (database_url postgres://…)".into()),
        }
    }

    pub fn db_target(&self) -> Result<DbTarget, String> {
        DbTarget::parse(&self.database_url)
    }

    /// Where demo mode keeps its generated signing key: beside the SQLite file.
    pub fn demo_key_path(&self) -> Option<PathBuf> {
        self.beside_database(DEMO_KEY_SUFFIX)
    }

    /// Where demo mode keeps its checkpoint signing key: beside the SQLite database.
    pub fn demo_checkpoint_key_path(&self) -> Option<PathBuf> {
        self.beside_database(DEMO_CHECKPOINT_KEY_SUFFIX)
    }

    /// The SQLite file's path with `suffix` appended; none on PostgreSQL.
    fn beside_database(&self, suffix: &str) -> Option<PathBuf> {
        match self.db_target().ok()? {
            DbTarget::Sqlite(path) => {
                let mut name = path.into_os_string();
                name.push(suffix);
                Some(PathBuf::from(name))
            }
            DbTarget::Postgres(_) => None,
        }
    }

    /// The configured checkpoint signing key, or else the demo one beside the demo database.
    pub fn checkpoint_signer_key(&self) -> Option<String> {
        self.checkpoint_signing_key.clone().or_else(|| {
            let key = std::fs::read_to_string(self.demo_checkpoint_key_path()?).ok()?;
            Some(key.trim().to_string())
        })
    }

    /// The key checkpoints are checked with: the signing key's (the demo's included), which a
    /// configured verifier key must equal, or else the configured verifier key.
    pub fn checkpoint_verifier_key_in_effect(&self) -> Result<Option<String>, String> {
        let configured = self.checkpoint_verifier_key.as_deref().map(str::trim);
        let Some(signer_key) = self.checkpoint_signer_key() else {
            return Ok(configured.map(str::to_string));
        };
        let own = crate::domain::merkle::CheckpointSigner::new(&signer_key)?.verifier_key().to_string();
        match configured {
            Some(configured) if configured != own => {
                Err("INVESTAI_CHECKPOINT_VERIFIER_KEY is not the checkpoint signing key's verifier key".into())
            }
            _ => Ok(Some(own)),
        }
    }

    /// The configured secret, or else the demo key beside the demo database, if one exists.
    pub fn signing_secret(&self) -> Option<String> {
        self.jwt_secret.clone().or_else(|| {
            let path = self.demo_key_path()?;
            let key = std::fs::read_to_string(path).ok()?;
            let key = key.trim().to_string();
            check_secret(&key).ok().map(|_| key)
        })
    }
}

/// The names of every setting, as the TOML file and the environment spell them.
fn setting_names() -> Vec<String> {
    match serde_json::to_value(Settings::default()) {
        Ok(serde_json::Value::Object(map)) => map.keys().cloned().collect(),
        _ => Vec::new(),
    }
}

/// A secret must be long and must not be a placeholder.
pub fn check_secret(secret: &str) -> Result<(), String> {
    if secret.len() < JWT_SECRET_BYTES_MIN {
        return Err(format!("jwt_secret must be at least {JWT_SECRET_BYTES_MIN} bytes"));
    }
    let lowered = secret.to_ascii_lowercase();
    if ["changeme", "change-me", "secret", "password", "example"].iter().any(|p| lowered.contains(p)) {
        return Err("jwt_secret looks like a placeholder; generate one (e.g. `openssl rand -hex 32`)".into());
    }
    if secret.chars().collect::<std::collections::HashSet<_>>().len() < 8 {
        return Err("jwt_secret has too few distinct characters".into());
    }
    Ok(())
}

/// A fresh random secret for demo mode, kept in a file only the owner can read.
pub fn create_demo_key(path: &Path) -> std::io::Result<String> {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    write_private(path, hex::encode(bytes))
}

/// Makes the demo's checkpoint signing key at `path`; answers the signer key.
pub fn create_demo_checkpoint_key(path: &Path) -> std::io::Result<String> {
    let (signer_key, _) = crate::domain::merkle::generate_signer_key(DEMO_CHECKPOINT_ORIGIN);
    write_private(path, signer_key)
}

/// Writes a key readable by its owner only.
fn write_private(path: &Path, key: String) -> std::io::Result<String> {
    std::fs::write(path, &key)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_file_settings_are_read_and_checked() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("investai.toml");
        std::fs::write(&file, "log_format = \"pretty\"\ntoken_ttl_minutes = 15\npool_size = 3\n").unwrap();
        let settings = Settings::load(Some(&file)).unwrap();
        assert_eq!(settings.log_format, "pretty");
        assert_eq!(settings.token_ttl_minutes, 15);
        assert_eq!(settings.pool_size, 3);
        std::fs::write(&file, "colour = \"blue\"\n").unwrap();
        assert!(Settings::load(Some(&file)).unwrap_err().contains("colour"));
        std::fs::write(&file, "jwt_secret = \"changeme-changeme-changeme-changeme\"\n").unwrap();
        assert!(Settings::load(Some(&file)).unwrap_err().contains("placeholder"));
        assert!(Settings::load(Some(&dir.path().join("missing.toml"))).is_err());
        assert!(setting_names().contains(&"bind".to_string()));
    }

    #[test]
    fn a_checkpoint_verifier_key_must_be_one_and_agree_with_the_signing_key() {
        let (signer, verifier) = crate::domain::merkle::generate_signer_key("investai.test/journal");
        let (_, other) = crate::domain::merkle::generate_signer_key("investai.test/journal");
        let with = |signing: Option<&str>, verifying: &str| Settings {
            checkpoint_signing_key: signing.map(str::to_string),
            checkpoint_verifier_key: Some(verifying.to_string()),
            ..Settings::default()
        };
        assert_eq!(with(None, &verifier).validate(), Ok(()));
        assert_eq!(with(Some(&signer), &verifier).validate(), Ok(()));
        assert!(with(Some(&signer), &other).validate().unwrap_err().contains("not the signing key's"));
        assert!(with(None, "not a key").validate().unwrap_err().contains("verifier key"));
        assert_eq!(with(None, &verifier).checkpoint_verifier_key_in_effect(), Ok(Some(verifier.clone())));
        assert_eq!(with(Some(&signer), &verifier).checkpoint_verifier_key_in_effect(), Ok(Some(verifier.clone())));
        assert!(with(Some(&signer), &other).checkpoint_verifier_key_in_effect().is_err());
    }

    #[test]
    fn a_read_replica_needs_postgresql_on_both_sides_and_bounded_timings() {
        let on = |primary: &str, replica: &str| Settings {
            database_url: primary.into(),
            read_replica_url: Some(replica.into()),
            ..Settings::default()
        };
        assert_eq!(on("postgres://p/db", "postgres://r/db").validate(), Ok(()));
        assert!(on("sqlite://x.db", "postgres://r/db").validate().unwrap_err().contains("primary on PostgreSQL"));
        assert!(on("postgres://p/db", "sqlite://r.db").validate().unwrap_err().contains("postgres:// URL"));
        let lag = Settings { replica_lag_max_millis: 600_001, ..Settings::default() };
        assert!(lag.validate().unwrap_err().contains("replica_lag_max_millis"));
        let interval = Settings { replica_check_interval_millis: 9, ..Settings::default() };
        assert!(interval.validate().unwrap_err().contains("replica_check_interval_millis"));
    }

    #[test]
    fn demo_key_lives_beside_the_sqlite_file() {
        let settings = Settings { database_url: "sqlite://data/x.db".into(), ..Settings::default() };
        assert_eq!(settings.demo_key_path(), Some(PathBuf::from("data/x.db.demo-jwt-key")));
        let settings = Settings { database_url: "postgres://db/x".into(), ..Settings::default() };
        assert_eq!(settings.demo_key_path(), None);
    }
}
