//! Settings: compiled defaults < `tollgate.toml` < `TOLLGATE_*` < flags.
//!
//! Each value remembers where it came from, so that a bad one stops start-up
//! with a message naming both the setting and its source.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::TimeDelta;
use serde::Deserialize;
use url::Url;

use crate::domain::SecretString;
use crate::secrets::KeyEncryptionKey;

/// Flags that override the file and the environment (global on the CLI).
#[derive(clap::Args, Clone, Debug, Default)]
pub struct SettingsArgs {
    /// Configuration file [default: ./tollgate.toml when present]
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Database URL (env TOLLGATE_DATABASE_URL) [default: sqlite://tollgate.db?mode=rwc]
    #[arg(long, global = true, value_name = "URL")]
    pub database_url: Option<String>,
    /// Address to listen on (env TOLLGATE_BIND) [default: 127.0.0.1:8080]
    #[arg(long, global = true, value_name = "ADDR")]
    pub bind: Option<String>,
    /// Public base URL, the `iss` of every token (env TOLLGATE_ISSUER)
    #[arg(long, global = true, value_name = "URL")]
    pub issuer: Option<String>,
    /// Access token lifetime (env TOLLGATE_ACCESS_TOKEN_TTL) [default: 15m]
    #[arg(long, global = true, value_name = "DURATION")]
    pub access_token_ttl: Option<String>,
    /// Refresh token lifetime (env TOLLGATE_REFRESH_TOKEN_TTL) [default: 30d]
    #[arg(long, global = true, value_name = "DURATION")]
    pub refresh_token_ttl: Option<String>,
    /// Authorization code lifetime (env TOLLGATE_CODE_TTL) [default: 60s]
    #[arg(long, global = true, value_name = "DURATION")]
    pub code_ttl: Option<String>,
    /// Browser session lifetime (env TOLLGATE_SESSION_TTL) [default: 12h]
    #[arg(long, global = true, value_name = "DURATION")]
    pub session_ttl: Option<String>,
    /// Tracing filter (env TOLLGATE_LOG) [default: info]
    #[arg(long, global = true, value_name = "FILTER")]
    pub log: Option<String>,
    /// Password checks run at once, 19 MiB each (env TOLLGATE_PASSWORD_WORKERS) [default: CPU count]
    #[arg(long, global = true, value_name = "N")]
    pub password_workers: Option<String>,
    /// Password checks that may wait for a worker; more get 503 (env TOLLGATE_PASSWORD_QUEUE) [default: 8 per worker]
    #[arg(long, global = true, value_name = "N")]
    pub password_queue: Option<String>,
    /// Failed logins before an account is locked; 4x that for a client address (env TOLLGATE_LOGIN_MAX_FAILURES) [default: 5]
    #[arg(long, global = true, value_name = "N")]
    pub login_max_failures: Option<String>,
    /// First lock's length, doubling with each further failure (env TOLLGATE_LOGIN_LOCKOUT) [default: 30s]
    #[arg(long, global = true, value_name = "DURATION")]
    pub login_lockout: Option<String>,
    /// Longest lock (env TOLLGATE_LOGIN_LOCKOUT_MAX) [default: 15m]
    #[arg(long, global = true, value_name = "DURATION")]
    pub login_lockout_max: Option<String>,
    /// Close a connection after this long without a byte either way (env TOLLGATE_IDLE_TIMEOUT) [default: 30s]
    #[arg(long, global = true, value_name = "DURATION")]
    pub idle_timeout: Option<String>,
    /// Longest time from a request's first byte to its answer's first byte (env TOLLGATE_REQUEST_READ_TIMEOUT) [default: 30s]
    #[arg(long, global = true, value_name = "DURATION")]
    pub request_read_timeout: Option<String>,
    /// Most connections open at once; more are closed on arrival (env TOLLGATE_MAX_CONNECTIONS) [default: 1000]
    #[arg(long, global = true, value_name = "N")]
    pub max_connections: Option<String>,
    /// Serve /metrics only on this address, e.g. 127.0.0.1:9100 (env TOLLGATE_METRICS_BIND) [default: the main address]
    #[arg(long, global = true, value_name = "ADDR")]
    pub metrics_bind: Option<String>,
    /// Log lines as text or json (env TOLLGATE_LOG_FORMAT) [default: text]
    #[arg(long, global = true, value_name = "FORMAT")]
    pub log_format: Option<String>,
    /// Confidential clients allowed the code flow without PKCE, comma-separated (env TOLLGATE_PKCE_OPTIONAL_CLIENTS) [default: none]
    #[arg(long, global = true, value_name = "CLIENT_IDS")]
    pub pkce_optional_clients: Option<String>,
    /// How often to poll the database for other instances' revocations
    /// (env TOLLGATE_PEER_SYNC_INTERVAL) [default: 1s]
    #[arg(long, global = true, value_name = "DURATION")]
    pub peer_sync_interval: Option<String>,
    /// How often to reload the signing keys, to see other instances'
    /// rotations (env TOLLGATE_KEY_RELOAD_INTERVAL) [default: 60s]
    #[arg(long, global = true, value_name = "DURATION")]
    pub key_reload_interval: Option<String>,
    /// On SIGINT or SIGTERM, how long requests in flight may take to finish
    /// (env TOLLGATE_SHUTDOWN_GRACE) [default: 30s]
    #[arg(long, global = true, value_name = "DURATION")]
    pub shutdown_grace: Option<String>,
}

/// `tollgate.toml`: every key optional, unknown keys refused.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSettings {
    database_url: Option<String>,
    bind: Option<String>,
    issuer: Option<String>,
    access_token_ttl: Option<DurationValue>,
    refresh_token_ttl: Option<DurationValue>,
    code_ttl: Option<DurationValue>,
    session_ttl: Option<DurationValue>,
    log: Option<String>,
    password_workers: Option<usize>,
    password_queue: Option<usize>,
    metrics_token: Option<String>,
    login_max_failures: Option<usize>,
    login_lockout: Option<DurationValue>,
    login_lockout_max: Option<DurationValue>,
    pkce_optional_clients: Option<Vec<String>>,
    log_format: Option<String>,
    idle_timeout: Option<DurationValue>,
    metrics_bind: Option<String>,
    request_read_timeout: Option<DurationValue>,
    max_connections: Option<usize>,
    gc_interval: Option<DurationValue>,
    peer_sync_interval: Option<DurationValue>,
    key_reload_interval: Option<DurationValue>,
    shutdown_grace: Option<DurationValue>,
}

/// A duration in the file may be `"15m"` or a plain number of seconds.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum DurationValue {
    Text(String),
    Seconds(u64),
}

impl DurationValue {
    fn into_text(self) -> String {
        match self {
            Self::Text(s) => s,
            Self::Seconds(n) => n.to_string(),
        }
    }
}

/// Typed, validated settings. Handlers never see a raw string.
#[derive(Clone, Debug)]
pub struct Settings {
    pub database_url: SecretString,
    pub bind: SocketAddr,
    /// No trailing slash, no query, no fragment.
    pub issuer: Url,
    pub access_token_ttl: TimeDelta,
    pub refresh_token_ttl: TimeDelta,
    pub code_ttl: TimeDelta,
    pub session_ttl: TimeDelta,
    pub log: String,
    /// Password checks at once (argon2, 19 MiB each).
    pub password_workers: usize,
    /// Password checks that may wait; beyond them, 503.
    pub password_queue: usize,
    /// When set, `/metrics` answers only `Authorization: Bearer <token>`.
    pub metrics_token: Option<SecretString>,
    /// Login throttling: failures before a lock, and the lock's bounds.
    pub login_max_failures: usize,
    pub login_lockout: TimeDelta,
    pub login_lockout_max: TimeDelta,
    /// Text for people, JSON for log shippers.
    pub log_format: LogFormat,
    /// When set, `/metrics` is served only on this address.
    pub metrics_bind: Option<SocketAddr>,
    /// Connections with no traffic this long are closed.
    pub idle_timeout: Duration,
    /// From a request's first byte to its answer's first byte.
    pub request_read_timeout: Duration,
    /// Connections beyond this many are closed on arrival.
    pub max_connections: usize,
    /// Legacy confidential clients that may omit PKCE (OAuth 2.1 requires
    /// it of everyone else).
    pub pkce_optional_clients: Vec<String>,
    /// Encrypts private signing keys at rest (environment only, see
    /// `secrets::key_encryption`).
    pub key_encryption_key: Option<KeyEncryptionKey>,
    /// How often housekeeping deletes expired rows.
    pub gc_interval: Duration,
    /// How often the background loop picks up other instances' revocations.
    pub peer_sync_interval: Duration,
    /// How often the background loop reloads the signing keys.
    pub key_reload_interval: Duration,
    /// The drain cap: how long shutdown waits for requests in flight.
    pub shutdown_grace: Duration,
}

/// How log lines are written (`TOLLGATE_LOG_FORMAT`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    /// One human-readable line per event.
    Text,
    /// One JSON object per line, for log shippers.
    Json,
}

/// Where a value came from, for error messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    Default,
    File,
    Env,
    Flag,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Default => "default",
            Self::File => "config file",
            Self::Env => "environment",
            Self::Flag => "command line",
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid config file {path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("invalid {setting} (from {origin}): {message}")]
    Invalid {
        setting: &'static str,
        origin: Source,
        message: String,
    },
}

const DEFAULT_DATABASE_URL: &str = "sqlite://tollgate.db?mode=rwc";
const DEFAULT_BIND: &str = "127.0.0.1:8080";
const DEFAULT_ISSUER: &str = "http://127.0.0.1:8080";

impl Settings {
    /// Layers the sources; `env` is a lookup so tests need not touch the
    /// process environment. Without `--config`, reads `./tollgate.toml`
    /// when present.
    pub fn load(
        args: &SettingsArgs,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        Self::load_in(args, env, Path::new("."))
    }

    /// As [`Settings::load`], looking for the implicit `tollgate.toml` in
    /// `dir` instead of the current directory (tests pass a temp dir, so
    /// that a developer's own file is never read).
    pub fn load_in(
        args: &SettingsArgs,
        env: impl Fn(&str) -> Option<String>,
        dir: &Path,
    ) -> Result<Self, ConfigError> {
        let file = read_file(args.config.as_deref(), dir)?;
        let pick = |setting: &'static str,
                    flag: &Option<String>,
                    file: Option<String>,
                    default: &str|
         -> Layered {
            if let Some(v) = flag {
                return Layered::new(setting, v.clone(), Source::Flag);
            }
            let env_name = format!("TOLLGATE_{}", setting.to_ascii_uppercase());
            if let Some(v) = env(&env_name) {
                return Layered::new(setting, v, Source::Env);
            }
            match file {
                Some(v) => Layered::new(setting, v, Source::File),
                None => Layered::new(setting, default.to_owned(), Source::Default),
            }
        };
        let dur = |v: Option<DurationValue>| v.map(DurationValue::into_text);

        let database_url = pick(
            "database_url",
            &args.database_url,
            file.database_url,
            DEFAULT_DATABASE_URL,
        );
        let bind = pick("bind", &args.bind, file.bind, DEFAULT_BIND);
        let issuer = pick("issuer", &args.issuer, file.issuer, DEFAULT_ISSUER);
        let access = pick(
            "access_token_ttl",
            &args.access_token_ttl,
            dur(file.access_token_ttl),
            "15m",
        );
        let refresh = pick(
            "refresh_token_ttl",
            &args.refresh_token_ttl,
            dur(file.refresh_token_ttl),
            "30d",
        );
        let code = pick("code_ttl", &args.code_ttl, dur(file.code_ttl), "60s");
        let session = pick(
            "session_ttl",
            &args.session_ttl,
            dur(file.session_ttl),
            "12h",
        );
        let log = pick("log", &args.log, file.log, "info");
        let cpus = std::thread::available_parallelism().map_or(1, usize::from);
        let count = |v: Option<usize>| v.map(|n| n.to_string());
        let workers = pick(
            "password_workers",
            &args.password_workers,
            count(file.password_workers),
            &cpus.to_string(),
        )
        .parse_with(|s| parse_count(s, 1))?;
        let queue = pick(
            "password_queue",
            &args.password_queue,
            count(file.password_queue),
            &(8 * workers).to_string(),
        )
        .parse_with(|s| parse_count(s, 0))?;
        let login_max_failures = pick(
            "login_max_failures",
            &args.login_max_failures,
            count(file.login_max_failures),
            "5",
        )
        .parse_with(|s| parse_count(s, 1))?;
        let login_lockout = pick(
            "login_lockout",
            &args.login_lockout,
            dur(file.login_lockout),
            "30s",
        )
        .parse_with(parse_lifetime)?;
        let login_lockout_max = pick(
            "login_lockout_max",
            &args.login_lockout_max,
            dur(file.login_lockout_max),
            "15m",
        )
        .parse_with(parse_lifetime)?;
        let pkce_optional_clients = pick(
            "pkce_optional_clients",
            &args.pkce_optional_clients,
            file.pkce_optional_clients.map(|ids| ids.join(",")),
            "",
        )
        .parse_with(parse_id_list)?;
        let log_format = pick("log_format", &args.log_format, file.log_format, "text").parse_with(
            |s| match s {
                "text" => Ok(LogFormat::Text),
                "json" => Ok(LogFormat::Json),
                _ => Err("expected text or json".to_owned()),
            },
        )?;
        let idle_timeout = pick(
            "idle_timeout",
            &args.idle_timeout,
            dur(file.idle_timeout),
            "30s",
        )
        .parse_with(parse_duration)?;
        let request_read_timeout = pick(
            "request_read_timeout",
            &args.request_read_timeout,
            dur(file.request_read_timeout),
            "30s",
        )
        .parse_with(parse_duration)?;
        let max_connections = pick(
            "max_connections",
            &args.max_connections,
            count(file.max_connections),
            "1000",
        )
        .parse_with(|s| match s.parse::<usize>() {
            Ok(n) if (1..=1_000_000).contains(&n) => Ok(n),
            _ => Err("expected a whole number from 1 to 1000000".to_owned()),
        })?;
        let metrics_bind = pick("metrics_bind", &args.metrics_bind, file.metrics_bind, "")
            .parse_with(|s| match s {
                "" => Ok(None),
                s => s.parse::<SocketAddr>().map(Some).map_err(|e| e.to_string()),
            })?;
        // No flag: a secret on the command line is visible to every user.
        let metrics_token =
            pick("metrics_token", &None, file.metrics_token, "").parse_with(parse_metrics_token)?;
        let peer_sync = pick(
            "peer_sync_interval",
            &args.peer_sync_interval,
            dur(file.peer_sync_interval),
            "1s",
        );
        let key_reload = pick(
            "key_reload_interval",
            &args.key_reload_interval,
            dur(file.key_reload_interval),
            "60s",
        );
        let grace = pick(
            "shutdown_grace",
            &args.shutdown_grace,
            dur(file.shutdown_grace),
            "30s",
        );

        Ok(Self {
            database_url: database_url.parse_with(parse_database_url)?,
            bind: bind.parse_with(|s| s.parse::<SocketAddr>().map_err(|e| e.to_string()))?,
            issuer: issuer.parse_with(parse_issuer)?,
            access_token_ttl: access.parse_with(parse_lifetime)?,
            refresh_token_ttl: refresh.parse_with(parse_lifetime)?,
            code_ttl: code.parse_with(parse_lifetime)?,
            session_ttl: session.parse_with(parse_lifetime)?,
            log: log.parse_with(|s| {
                tracing_subscriber::EnvFilter::try_new(s)
                    .map(|_| s.to_owned())
                    .map_err(|e| e.to_string())
            })?,
            password_workers: workers,
            password_queue: queue,
            metrics_token,
            login_max_failures,
            login_lockout,
            login_lockout_max,
            pkce_optional_clients,
            log_format,
            idle_timeout,
            metrics_bind,
            request_read_timeout,
            max_connections,
            gc_interval: pick("gc_interval", &None, dur(file.gc_interval), "5m")
                .parse_with(parse_duration)?,
            key_encryption_key: KeyEncryptionKey::from_env(&env).map_err(|message| {
                ConfigError::Invalid {
                    setting: "key_encryption_key",
                    origin: Source::Env,
                    message,
                }
            })?,
            peer_sync_interval: peer_sync.parse_with(parse_duration)?,
            key_reload_interval: key_reload.parse_with(parse_duration)?,
            shutdown_grace: grace.parse_with(parse_duration)?,
        })
    }

    /// The issuer as a string without a trailing slash, for building URLs.
    pub fn issuer_str(&self) -> &str {
        self.issuer.as_str().trim_end_matches('/')
    }

    /// Settings for tests: the given database, port 0, the default lifetimes.
    #[allow(clippy::expect_used)]
    pub fn for_tests(database_url: &str) -> Self {
        Self {
            database_url: SecretString::new(database_url.to_owned()),
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            issuer: Url::parse("http://127.0.0.1").expect("constant URL"),
            access_token_ttl: TimeDelta::minutes(15),
            refresh_token_ttl: TimeDelta::days(30),
            code_ttl: TimeDelta::seconds(60),
            session_ttl: TimeDelta::hours(12),
            log: "warn".to_owned(),
            password_workers: 2,
            password_queue: 64,
            metrics_token: None,
            login_max_failures: 5,
            login_lockout: TimeDelta::seconds(30),
            login_lockout_max: TimeDelta::minutes(15),
            pkce_optional_clients: Vec::new(),
            log_format: LogFormat::Text,
            idle_timeout: Duration::from_secs(30),
            metrics_bind: None,
            request_read_timeout: Duration::from_secs(30),
            max_connections: 1000,
            key_encryption_key: None,
            gc_interval: Duration::from_secs(300),
            peer_sync_interval: Duration::from_secs(1),
            key_reload_interval: Duration::from_secs(60),
            shutdown_grace: Duration::from_secs(30),
        }
    }

    /// A one-line description for the start-up log, secrets redacted.
    pub fn describe(&self) -> String {
        format!(
            "database={} bind={} issuer={} access_token_ttl={}s refresh_token_ttl={}s code_ttl={}s session_ttl={}s \
             password_workers={} password_queue={} key_encryption_key={} gc_interval={}s \
             peer_sync_interval={:?} key_reload_interval={:?} shutdown_grace={:?}",
            redact_url(self.database_url.secret()),
            self.bind,
            self.issuer_str(),
            self.access_token_ttl.num_seconds(),
            self.refresh_token_ttl.num_seconds(),
            self.code_ttl.num_seconds(),
            self.session_ttl.num_seconds(),
            self.password_workers,
            self.password_queue,
            if self.key_encryption_key.is_some() {
                "set"
            } else {
                "unset"
            },
            self.gc_interval.as_secs(),
            self.peer_sync_interval,
            self.key_reload_interval,
            self.shutdown_grace,
        )
    }
}

struct Layered {
    setting: &'static str,
    value: String,
    source: Source,
}

impl Layered {
    fn new(setting: &'static str, value: String, source: Source) -> Self {
        Self {
            setting,
            value,
            source,
        }
    }

    fn parse_with<T>(self, f: impl FnOnce(&str) -> Result<T, String>) -> Result<T, ConfigError> {
        f(self.value.trim()).map_err(|message| ConfigError::Invalid {
            setting: self.setting,
            origin: self.source,
            message,
        })
    }
}

fn read_file(explicit: Option<&Path>, dir: &Path) -> Result<FileSettings, ConfigError> {
    let (path, required) = match explicit {
        Some(p) => (p.to_path_buf(), true),
        None => (dir.join("tollgate.toml"), false),
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if !required && e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(FileSettings::default());
        }
        Err(source) => return Err(ConfigError::Read { path, source }),
    };
    toml::from_str(&text).map_err(|e| ConfigError::Parse {
        path,
        message: e.message().to_owned(),
    })
}

fn parse_database_url(s: &str) -> Result<SecretString, String> {
    let scheme = s.split_once(':').map(|(scheme, _)| scheme).unwrap_or("");
    match scheme {
        "sqlite" | "postgres" | "postgresql" => Ok(SecretString::new(s.to_owned())),
        _ => Err("expected a sqlite:// or postgres:// URL".to_owned()),
    }
}

fn parse_issuer(s: &str) -> Result<Url, String> {
    let url = Url::parse(s).map_err(|e| format!("not an absolute URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err("must be an http or https URL".to_owned());
    }
    // RFC 8414 §2: the issuer has no query or fragment.
    if url.query().is_some() || url.fragment().is_some() {
        return Err("must not have a query or fragment".to_owned());
    }
    Ok(url)
}

/// `90s`, `15m`, `12h`, `30d`, or plain seconds; zero is refused.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let d = if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        s.parse::<u64>()
            .map(Duration::from_secs)
            .map_err(|e| e.to_string())?
    } else {
        humantime::parse_duration(s).map_err(|e| format!("{e} (write e.g. 90s, 15m, 12h, 30d)"))?
    };
    if d.is_zero() {
        return Err("must be longer than zero".to_owned());
    }
    Ok(d)
}

/// Empty means none; otherwise long enough not to be guessed.
fn parse_metrics_token(s: &str) -> Result<Option<SecretString>, String> {
    match s.chars().count() {
        0 => Ok(None),
        n if n < 16 => Err("must be at least 16 characters (or empty for none)".to_owned()),
        _ => Ok(Some(SecretString::new(s.to_owned()))),
    }
}

/// Client ids separated by commas or spaces.
fn parse_id_list(s: &str) -> Result<Vec<String>, String> {
    let ids: Vec<String> = s
        .split([',', ' '])
        .filter(|id| !id.is_empty())
        .map(str::to_owned)
        .collect();
    if ids.iter().any(|id| id.chars().any(char::is_control)) {
        return Err("client ids must not contain control characters".to_owned());
    }
    Ok(ids)
}

/// A whole number, at least `min` and at most 1024.
fn parse_count(s: &str, min: usize) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(n) if (min..=1024).contains(&n) => Ok(n),
        _ => Err(format!("expected a whole number from {min} to 1024")),
    }
}

/// A lifetime: a [`parse_duration`] that timestamps can be moved by (no
/// more than a century).
fn parse_lifetime(s: &str) -> Result<TimeDelta, String> {
    const CENTURY: TimeDelta = TimeDelta::days(36_525);
    match TimeDelta::from_std(parse_duration(s)?) {
        Ok(d) if d <= CENTURY => Ok(d),
        _ => Err("must be at most 100 years".to_owned()),
    }
}

/// Hides the password of a database URL.
fn redact_url(s: &str) -> String {
    match Url::parse(s) {
        Ok(mut url) if url.password().is_some() => {
            let _ = url.set_password(Some("redacted"));
            url.to_string()
        }
        _ => s.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    /// Loads with an empty directory standing in for the current one, so
    /// that a developer's own `./tollgate.toml` is never read.
    fn load(
        args: &SettingsArgs,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Settings, ConfigError> {
        let empty = tempfile::tempdir().expect("tempdir");
        Settings::load_in(args, env, empty.path())
    }

    #[test]
    fn defaults_match_the_contract() {
        let s = load(&SettingsArgs::default(), no_env).expect("defaults load");
        assert_eq!(s.database_url.secret(), DEFAULT_DATABASE_URL);
        assert_eq!(s.bind.to_string(), "127.0.0.1:8080");
        assert_eq!(s.issuer_str(), "http://127.0.0.1:8080");
        assert_eq!(s.access_token_ttl, TimeDelta::seconds(900));
        assert_eq!(s.refresh_token_ttl, TimeDelta::seconds(30 * 86_400));
        assert_eq!(s.code_ttl, TimeDelta::seconds(60));
        assert_eq!(s.session_ttl, TimeDelta::seconds(12 * 3600));
        assert_eq!(s.peer_sync_interval, Duration::from_secs(1));
        assert_eq!(s.key_reload_interval, Duration::from_secs(60));
        assert_eq!(s.shutdown_grace, Duration::from_secs(30));
    }

    #[test]
    fn the_loop_intervals_and_the_drain_cap_come_from_every_layer() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("t.toml");
        std::fs::write(
            &path,
            "peer_sync_interval = \"250ms\"\nkey_reload_interval = 5\nshutdown_grace = \"2s\"\n",
        )
        .expect("write");
        let mut args = SettingsArgs {
            config: Some(path),
            ..Default::default()
        };
        let s = load(&args, no_env).expect("loads");
        assert_eq!(s.peer_sync_interval, Duration::from_millis(250));
        assert_eq!(s.key_reload_interval, Duration::from_secs(5));
        assert_eq!(s.shutdown_grace, Duration::from_secs(2));

        let env = |k: &str| (k == "TOLLGATE_SHUTDOWN_GRACE").then(|| "7s".to_owned());
        args.key_reload_interval = Some("3m".to_owned());
        let s = load(&args, env).expect("loads");
        assert_eq!(s.key_reload_interval, Duration::from_secs(180));
        assert_eq!(s.shutdown_grace, Duration::from_secs(7));

        args.peer_sync_interval = Some("0".to_owned());
        let msg = load(&args, no_env).expect_err("zero").to_string();
        assert!(
            msg.contains("peer_sync_interval") && msg.contains("command line"),
            "{msg}"
        );
    }

    #[test]
    fn the_implicit_file_is_read_from_the_given_directory_only() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("tollgate.toml"), "code_ttl = 42\n").expect("write");
        let s = Settings::load_in(&SettingsArgs::default(), no_env, dir.path()).expect("loads");
        assert_eq!(s.code_ttl, TimeDelta::seconds(42));
        let s = load(&SettingsArgs::default(), no_env).expect("loads");
        assert_eq!(s.code_ttl, TimeDelta::seconds(60));
    }

    #[test]
    fn a_config_flag_naming_a_missing_file_is_an_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let missing = dir.path().join("nowhere.toml");
        let args = SettingsArgs {
            config: Some(missing.clone()),
            ..Default::default()
        };
        let msg = load(&args, no_env).expect_err("must fail").to_string();
        assert!(
            msg.contains("cannot read config file") && msg.contains(&missing.display().to_string()),
            "{msg}"
        );
    }

    #[test]
    fn an_invalid_log_filter_is_refused_naming_its_source() {
        let env = |k: &str| (k == "TOLLGATE_LOG").then(|| "tollgate=loudest".to_owned());
        let msg = load(&SettingsArgs::default(), env)
            .expect_err("must fail")
            .to_string();
        assert!(
            msg.contains("invalid log") && msg.contains("environment"),
            "{msg}"
        );
    }

    #[test]
    fn durations_take_units_or_plain_seconds() {
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("15m"), Ok(Duration::from_secs(900)));
        assert_eq!(parse_duration("12h"), Ok(Duration::from_secs(43_200)));
        assert_eq!(parse_duration("30d"), Ok(Duration::from_secs(2_592_000)));
        assert_eq!(parse_duration("75"), Ok(Duration::from_secs(75)));
        assert!(parse_duration("0").is_err());
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("").is_err());
    }

    #[test]
    fn password_workers_default_to_the_cpus_and_the_queue_to_eight_each() {
        let s = Settings::load(&SettingsArgs::default(), no_env).expect("defaults load");
        let cpus = std::thread::available_parallelism().map_or(1, usize::from);
        assert_eq!((s.password_workers, s.password_queue), (cpus, 8 * cpus));
        let env = |k: &str| (k == "TOLLGATE_PASSWORD_WORKERS").then(|| "3".to_owned());
        let s = Settings::load(&SettingsArgs::default(), env).expect("loads");
        assert_eq!((s.password_workers, s.password_queue), (3, 24));
        let env = |k: &str| (k == "TOLLGATE_PASSWORD_WORKERS").then(|| "0".to_owned());
        let msg = Settings::load(&SettingsArgs::default(), env)
            .expect_err("zero workers")
            .to_string();
        assert!(msg.contains("password_workers"), "{msg}");
    }

    #[test]
    fn a_metrics_token_comes_from_the_environment_and_must_be_long() {
        let s = Settings::load(&SettingsArgs::default(), no_env).expect("loads");
        assert!(s.metrics_token.is_none());
        let env = |k: &str| (k == "TOLLGATE_METRICS_TOKEN").then(|| "0123456789abcdef".to_owned());
        let s = Settings::load(&SettingsArgs::default(), env).expect("loads");
        assert_eq!(
            s.metrics_token.map(|t| t.secret().to_owned()).as_deref(),
            Some("0123456789abcdef")
        );
        let env = |k: &str| (k == "TOLLGATE_METRICS_TOKEN").then(|| "short".to_owned());
        let msg = Settings::load(&SettingsArgs::default(), env)
            .expect_err("too short")
            .to_string();
        assert!(
            msg.contains("metrics_token") && !msg.contains("short\""),
            "{msg}"
        );
    }

    #[test]
    fn the_log_format_is_text_or_json() {
        let s = Settings::load(&SettingsArgs::default(), no_env).expect("loads");
        assert_eq!(s.log_format, LogFormat::Text);
        let env = |k: &str| (k == "TOLLGATE_LOG_FORMAT").then(|| "json".to_owned());
        let s = Settings::load(&SettingsArgs::default(), env).expect("loads");
        assert_eq!(s.log_format, LogFormat::Json);
        let env = |k: &str| (k == "TOLLGATE_LOG_FORMAT").then(|| "yaml".to_owned());
        let msg = Settings::load(&SettingsArgs::default(), env)
            .expect_err("yaml")
            .to_string();
        assert!(msg.contains("log_format"), "{msg}");
    }

    #[test]
    fn gc_interval_defaults_to_five_minutes_and_the_key_encryption_key_is_redacted() {
        let s = Settings::load(&SettingsArgs::default(), no_env).expect("loads");
        assert_eq!(s.gc_interval, Duration::from_secs(300));
        let kek = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
        let env = |k: &str| match k {
            "TOLLGATE_GC_INTERVAL" => Some("90s".to_owned()),
            "TOLLGATE_KEY_ENCRYPTION_KEY" => Some(kek.to_owned()),
            _ => None,
        };
        let s = Settings::load(&SettingsArgs::default(), env).expect("loads");
        assert_eq!(s.gc_interval, Duration::from_secs(90));
        assert!(s.key_encryption_key.is_some());
        assert!(!s.describe().contains(kek) && !format!("{s:?}").contains(kek));
    }

    #[test]
    fn a_lifetime_past_a_century_is_refused() {
        assert_eq!(parse_lifetime("15m"), Ok(TimeDelta::minutes(15)));
        assert!(parse_lifetime("36525d").is_ok());
        assert!(parse_lifetime("36526d").is_err());
        assert!(parse_lifetime("18446744073709551615").is_err());
    }

    #[test]
    fn a_flag_beats_the_environment_which_beats_the_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("tollgate.toml");
        std::fs::write(&path, "bind = \"127.0.0.1:1000\"\ncode_ttl = 30\n").expect("write");
        let env = |k: &str| (k == "TOLLGATE_BIND").then(|| "127.0.0.1:2000".to_owned());
        let mut args = SettingsArgs {
            config: Some(path),
            ..Default::default()
        };
        let s = load(&args, env).expect("loads");
        assert_eq!(s.bind.port(), 2000);
        assert_eq!(s.code_ttl, TimeDelta::seconds(30));
        args.bind = Some("127.0.0.1:3000".to_owned());
        assert_eq!(load(&args, env).expect("loads").bind.port(), 3000);
    }

    #[test]
    fn a_bad_value_names_the_setting_and_its_source() {
        let env = |k: &str| (k == "TOLLGATE_ACCESS_TOKEN_TTL").then(|| "forever".to_owned());
        let err = load(&SettingsArgs::default(), env).expect_err("must fail");
        let msg = err.to_string();
        assert!(msg.contains("access_token_ttl"), "{msg}");
        assert!(msg.contains("environment"), "{msg}");

        let args = SettingsArgs {
            bind: Some("nowhere".to_owned()),
            ..Default::default()
        };
        let msg = load(&args, no_env).expect_err("must fail").to_string();
        assert!(
            msg.contains("bind") && msg.contains("command line"),
            "{msg}"
        );
    }

    #[test]
    fn a_bad_file_value_or_unknown_key_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("t.toml");
        std::fs::write(&path, "issuer = \"ftp://x\"\n").expect("write");
        let args = SettingsArgs {
            config: Some(path.clone()),
            ..Default::default()
        };
        let msg = load(&args, no_env).expect_err("must fail").to_string();
        assert!(
            msg.contains("issuer") && msg.contains("config file"),
            "{msg}"
        );

        std::fs::write(&path, "bnid = \"127.0.0.1:1\"\n").expect("write");
        let msg = load(&args, no_env).expect_err("must fail").to_string();
        assert!(msg.contains("bnid"), "{msg}");
    }

    #[test]
    fn the_database_password_is_redacted() {
        let args = SettingsArgs {
            database_url: Some("postgres://u:hunter2@localhost/db".to_owned()),
            ..Default::default()
        };
        let s = load(&args, no_env).expect("loads");
        assert!(!s.describe().contains("hunter2"));
        assert!(!format!("{s:?}").contains("hunter2"));
    }
}
