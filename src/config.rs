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
use toml::Spanned;
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

/// `tollgate.toml`: every key optional, unknown keys refused. Each value
/// keeps its place in the file, so that a bad one is reported with its line.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSettings {
    database_url: Option<Spanned<FileValue>>,
    bind: Option<Spanned<FileValue>>,
    issuer: Option<Spanned<FileValue>>,
    access_token_ttl: Option<Spanned<FileValue>>,
    refresh_token_ttl: Option<Spanned<FileValue>>,
    code_ttl: Option<Spanned<FileValue>>,
    session_ttl: Option<Spanned<FileValue>>,
    log: Option<Spanned<FileValue>>,
    password_workers: Option<Spanned<FileValue>>,
    password_queue: Option<Spanned<FileValue>>,
    metrics_token: Option<Spanned<FileValue>>,
    login_max_failures: Option<Spanned<FileValue>>,
    login_lockout: Option<Spanned<FileValue>>,
    login_lockout_max: Option<Spanned<FileValue>>,
    pkce_optional_clients: Option<Spanned<FileValue>>,
    log_format: Option<Spanned<FileValue>>,
    idle_timeout: Option<Spanned<FileValue>>,
    metrics_bind: Option<Spanned<FileValue>>,
    request_read_timeout: Option<Spanned<FileValue>>,
    max_connections: Option<Spanned<FileValue>>,
    gc_interval: Option<Spanned<FileValue>>,
    peer_sync_interval: Option<Spanned<FileValue>>,
    key_reload_interval: Option<Spanned<FileValue>>,
    shutdown_grace: Option<Spanned<FileValue>>,
}

/// A value in the file as text, parsed later by the same functions as a
/// flag or a variable: a string, a whole number (durations in seconds,
/// counts) or an array of strings (joined with commas).
#[derive(Debug)]
struct FileValue(String);

impl<'de> Deserialize<'de> for FileValue {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = FileValue;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or a whole number")
            }
            fn visit_str<E>(self, v: &str) -> Result<FileValue, E> {
                Ok(FileValue(v.to_owned()))
            }
            fn visit_i64<E>(self, v: i64) -> Result<FileValue, E> {
                Ok(FileValue(v.to_string()))
            }
            fn visit_u64<E>(self, v: u64) -> Result<FileValue, E> {
                Ok(FileValue(v.to_string()))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<FileValue, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element::<String>()? {
                    items.push(item);
                }
                Ok(FileValue(items.join(",")))
            }
        }
        d.deserialize_any(Visitor)
    }
}

/// The file that was read, to turn byte offsets into lines.
struct FileText {
    path: PathBuf,
    text: String,
}

impl FileText {
    /// 1-based line and column of byte `offset`.
    fn position(&self, offset: usize) -> (usize, usize) {
        let before = &self.text[..offset.min(self.text.len())];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        (line, column)
    }
}

/// Typed, validated settings. Handlers never see a raw string.
#[derive(Clone, Debug)]
pub struct Settings {
    pub database_url: SecretString,
    pub bind: SocketAddr,
    /// No trailing slash, no query, no fragment.
    pub issuer: Url,
    /// Whether the issuer was left unset and derived from `bind`; it then
    /// follows the port actually bound ([`Settings::bound_to`]).
    pub issuer_from_bind: bool,
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
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    Default,
    /// The config file, at this 1-based line.
    File {
        path: PathBuf,
        line: usize,
    },
    Env,
    Flag,
}

impl Source {
    /// How a person finds `setting` where it was written: the flag, the
    /// variable, or the file and line.
    fn name(&self, setting: &str) -> String {
        match self {
            Self::Default => format!("default {setting}"),
            Self::File { path, line } => {
                format!("{setting} in {}, line {line}", path.display())
            }
            Self::Env => env_name(setting),
            Self::Flag => format!("--{}", setting.replace('_', "-")),
        }
    }
}

/// `code_ttl` is read from `TOLLGATE_CODE_TTL`.
fn env_name(setting: &str) -> String {
    format!("TOLLGATE_{}", setting.to_ascii_uppercase())
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The reason is part of the message, not a `source()`: printing the
    /// cause chain would repeat it.
    #[error("cannot read config file {path}: {reason}")]
    Read {
        path: PathBuf,
        reason: std::io::Error,
    },
    /// TOML syntax, an unknown key or a value of the wrong kind.
    #[error("invalid config file {path}, line {line}, column {column}: {message}")]
    Parse {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    /// `name` says where: `--code-ttl`, `TOLLGATE_CODE_TTL`, or
    /// `code_ttl in tollgate.toml, line 3`.
    #[error("invalid {name}: {message}")]
    Invalid { name: String, message: String },
}

const DEFAULT_DATABASE_URL: &str = "sqlite://tollgate.db?mode=rwc";
const DEFAULT_BIND: &str = "127.0.0.1:8080";

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
        let (file, text) = read_file(args.config.as_deref(), dir)?;
        let pick = |setting: &'static str,
                    flag: &Option<String>,
                    file: Option<Spanned<FileValue>>,
                    default: &str|
         -> Layered {
            if let Some(v) = flag {
                return Layered::new(setting, v.clone(), Source::Flag);
            }
            if let Some(v) = env(&env_name(setting)) {
                return Layered::new(setting, v, Source::Env);
            }
            match (file, &text) {
                (Some(v), Some(text)) => {
                    let (line, _) = text.position(v.span().start);
                    let path = text.path.clone();
                    Layered::new(setting, v.into_inner().0, Source::File { path, line })
                }
                _ => Layered::new(setting, default.to_owned(), Source::Default),
            }
        };
        let database_url = pick(
            "database_url",
            &args.database_url,
            file.database_url,
            DEFAULT_DATABASE_URL,
        );
        let bind = pick("bind", &args.bind, file.bind, DEFAULT_BIND);
        let bind_text = bind.value.trim().to_owned();
        let bind = bind.parse_with(parse_bind)?;
        // Unset, the issuer follows the bind address (by default both are
        // the contract's 127.0.0.1:8080), so that `--bind` alone gives a
        // server whose advertised URLs reach it.
        let issuer = pick("issuer", &args.issuer, file.issuer, "");
        let issuer_from_bind = issuer.source == Source::Default;
        let issuer = if issuer_from_bind {
            issuer_for_bind(&bind_text, bind)?
        } else {
            issuer.parse_with(parse_issuer)?
        };
        let access = pick(
            "access_token_ttl",
            &args.access_token_ttl,
            file.access_token_ttl,
            "15m",
        );
        let refresh = pick(
            "refresh_token_ttl",
            &args.refresh_token_ttl,
            file.refresh_token_ttl,
            "30d",
        );
        let code = pick("code_ttl", &args.code_ttl, file.code_ttl, "60s");
        let session = pick("session_ttl", &args.session_ttl, file.session_ttl, "12h");
        let log = pick("log", &args.log, file.log, "info");
        let cpus = std::thread::available_parallelism().map_or(1, usize::from);
        let workers = pick(
            "password_workers",
            &args.password_workers,
            file.password_workers,
            &cpus.to_string(),
        )
        .parse_with(|s| parse_count(s, 1))?;
        let queue = pick(
            "password_queue",
            &args.password_queue,
            file.password_queue,
            &(8 * workers).to_string(),
        )
        .parse_with(|s| parse_count(s, 0))?;
        let login_max_failures = pick(
            "login_max_failures",
            &args.login_max_failures,
            file.login_max_failures,
            "5",
        )
        .parse_with(|s| parse_count(s, 1))?;
        let login_lockout = pick(
            "login_lockout",
            &args.login_lockout,
            file.login_lockout,
            "30s",
        )
        .parse_with(parse_lifetime)?;
        let login_lockout_max = pick(
            "login_lockout_max",
            &args.login_lockout_max,
            file.login_lockout_max,
            "15m",
        )
        .parse_with(parse_lifetime)?;
        let pkce_optional_clients = pick(
            "pkce_optional_clients",
            &args.pkce_optional_clients,
            file.pkce_optional_clients,
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
        let idle_timeout = pick("idle_timeout", &args.idle_timeout, file.idle_timeout, "30s")
            .parse_with(parse_duration)?;
        let request_read_timeout = pick(
            "request_read_timeout",
            &args.request_read_timeout,
            file.request_read_timeout,
            "30s",
        )
        .parse_with(parse_duration)?;
        let max_connections = pick(
            "max_connections",
            &args.max_connections,
            file.max_connections,
            "1000",
        )
        .parse_with(|s| match s.parse::<usize>() {
            Ok(n) if (1..=1_000_000).contains(&n) => Ok(n),
            _ => Err("expected a whole number from 1 to 1000000".to_owned()),
        })?;
        let metrics_bind = pick("metrics_bind", &args.metrics_bind, file.metrics_bind, "")
            .parse_with(|s| match s {
                "" => Ok(None),
                s => parse_bind(s).map(Some),
            })?;
        // No flag: a secret on the command line is visible to every user.
        let metrics_token =
            pick("metrics_token", &None, file.metrics_token, "").parse_with(parse_metrics_token)?;
        let peer_sync = pick(
            "peer_sync_interval",
            &args.peer_sync_interval,
            file.peer_sync_interval,
            "1s",
        );
        let key_reload = pick(
            "key_reload_interval",
            &args.key_reload_interval,
            file.key_reload_interval,
            "60s",
        );
        let grace = pick(
            "shutdown_grace",
            &args.shutdown_grace,
            file.shutdown_grace,
            "30s",
        );

        Ok(Self {
            database_url: database_url.parse_with(parse_database_url)?,
            bind,
            issuer,
            issuer_from_bind,
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
            gc_interval: pick("gc_interval", &None, file.gc_interval, "5m")
                .parse_with(parse_duration)?,
            // Its messages name the variable they read.
            key_encryption_key: KeyEncryptionKey::from_env(&env).map_err(|message| {
                ConfigError::Invalid {
                    name: "key encryption key".to_owned(),
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

    /// These settings once `bind` is bound to `addr`: an issuer derived
    /// from the bind address takes the real port (`--bind 127.0.0.1:0`).
    pub fn bound_to(mut self, addr: SocketAddr) -> Self {
        if self.issuer_from_bind && self.bind.port() == 0 {
            let _ = self.issuer.set_port(Some(addr.port()));
        }
        self
    }

    /// When the issuer was set and names another port or address than the
    /// one bound, why that may be a mistake. It is legitimate behind a
    /// reverse proxy, so this is a warning, not an error.
    pub fn issuer_mismatch(&self, bound: SocketAddr) -> Option<String> {
        if self.issuer_from_bind {
            return None;
        }
        let port = self.issuer.port_or_known_default();
        let host_differs = match self.issuer.host() {
            Some(url::Host::Ipv4(ip)) => !bound.ip().is_unspecified() && bound.ip() != ip,
            Some(url::Host::Ipv6(ip)) => !bound.ip().is_unspecified() && bound.ip() != ip,
            // A name: it may well resolve to the bound address.
            _ => false,
        };
        (port != Some(bound.port()) || host_differs).then(|| {
            format!(
                "the issuer {} is not the address this server listens on ({bound}); \
                 fine behind a reverse proxy that forwards it here, otherwise clients \
                 are sent to the wrong address: set --issuer, TOLLGATE_ISSUER or \
                 issuer in tollgate.toml to match, or leave it unset to follow --bind",
                self.issuer_str()
            )
        })
    }

    /// Settings for tests: the given database, port 0, the default lifetimes.
    #[allow(clippy::expect_used)]
    pub fn for_tests(database_url: &str) -> Self {
        Self {
            database_url: SecretString::new(database_url.to_owned()),
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            issuer: Url::parse("http://127.0.0.1").expect("constant URL"),
            issuer_from_bind: false,
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
            name: self.source.name(self.setting),
            message,
        })
    }
}

/// The file's settings, and its text when there was one.
fn read_file(
    explicit: Option<&Path>,
    dir: &Path,
) -> Result<(FileSettings, Option<FileText>), ConfigError> {
    let (path, required) = match explicit {
        Some(p) => (p.to_path_buf(), true),
        None => (dir.join("tollgate.toml"), false),
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if !required && e.kind() == std::io::ErrorKind::NotFound => {
            return Ok((FileSettings::default(), None));
        }
        Err(reason) => return Err(ConfigError::Read { path, reason }),
    };
    let file = FileText { path, text };
    match toml::from_str(&file.text) {
        Ok(settings) => Ok((settings, Some(file))),
        Err(e) => {
            let (line, column) = file.position(e.span().map_or(0, |span| span.start));
            Err(ConfigError::Parse {
                path: file.path,
                line,
                column,
                message: e.message().trim_end().to_owned(),
            })
        }
    }
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

/// `127.0.0.1:8080`, `[::1]:8080`, or a name such as `localhost:8080`,
/// resolved (IPv4 first, as `localhost` may also name `::1`).
fn parse_bind(s: &str) -> Result<SocketAddr, String> {
    if let Ok(addr) = s.parse::<SocketAddr>() {
        return Ok(addr);
    }
    let hint = "write an address and port such as 127.0.0.1:8080, [::1]:8080 or localhost:8080";
    let Some((host, port)) = s.rsplit_once(':').filter(|(host, _)| !host.is_empty()) else {
        return Err(format!("'{s}' is not an address and port ({hint})"));
    };
    let port: u16 = port
        .parse()
        .map_err(|_| format!("'{port}' is not a port number ({hint})"))?;
    let addrs: Vec<SocketAddr> = std::net::ToSocketAddrs::to_socket_addrs(&(host, port))
        .map_err(|e| format!("cannot resolve '{host}': {e} ({hint})"))?
        .collect();
    addrs
        .iter()
        .find(|a| a.is_ipv4())
        .or_else(|| addrs.first())
        .copied()
        .ok_or_else(|| format!("'{host}' resolves to no address ({hint})"))
}

/// The issuer of a server reached at the bind address: its host as
/// written (`localhost` stays a name), or the loopback address when the
/// server listens on every interface.
fn issuer_for_bind(text: &str, addr: SocketAddr) -> Result<Url, ConfigError> {
    let authority = if addr.ip().is_unspecified() {
        let loopback = if addr.is_ipv4() { "127.0.0.1" } else { "[::1]" };
        format!("{loopback}:{}", addr.port())
    } else if text.parse::<SocketAddr>().is_ok() {
        addr.to_string()
    } else {
        text.to_owned()
    };
    Url::parse(&format!("http://{authority}")).map_err(|e| ConfigError::Invalid {
        name: "issuer".to_owned(),
        message: format!("cannot derive it from the bind address {text}: {e}; set it"),
    })
}

/// `90s`, `15m`, `12h`, `30d`, or plain seconds; zero is refused.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let d = if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        s.parse::<u64>()
            .map(Duration::from_secs)
            .map_err(|_| format!("'{s}' is too many seconds"))?
    } else {
        humantime::parse_duration(s)
            .map_err(|_| format!("invalid duration '{s}' (write 90s, 15m, 12h, 30d or seconds)"))?
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
            msg.starts_with("invalid --peer-sync-interval: must be longer than zero"),
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
        assert!(msg.starts_with("invalid TOLLGATE_LOG: "), "{msg}");
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
        assert!(
            msg.starts_with("invalid TOLLGATE_PASSWORD_WORKERS: "),
            "{msg}"
        );
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
            msg.starts_with("invalid TOLLGATE_METRICS_TOKEN: ") && !msg.contains("short"),
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
        assert!(msg.starts_with("invalid TOLLGATE_LOG_FORMAT: "), "{msg}");
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
        assert_eq!(
            msg,
            "invalid TOLLGATE_ACCESS_TOKEN_TTL: invalid duration 'forever' \
             (write 90s, 15m, 12h, 30d or seconds)"
        );

        let args = SettingsArgs {
            bind: Some("nowhere".to_owned()),
            ..Default::default()
        };
        let msg = load(&args, no_env).expect_err("must fail").to_string();
        assert!(
            msg.starts_with("invalid --bind: 'nowhere' is not an address and port"),
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
            msg.starts_with(&format!("invalid issuer in {}, line 1: ", path.display())),
            "{msg}"
        );

        std::fs::write(&path, "bnid = \"127.0.0.1:1\"\n").expect("write");
        let msg = load(&args, no_env).expect_err("must fail").to_string();
        assert!(msg.contains("bnid"), "{msg}");
    }

    #[test]
    fn a_bad_duration_in_the_file_names_the_key_and_its_line() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("tollgate.toml");
        std::fs::write(
            &path,
            "# lifetimes\nsession_ttl = \"1h\"\ncode_ttl = \"x\"\n",
        )
        .expect("write");
        let msg = Settings::load_in(&SettingsArgs::default(), no_env, dir.path())
            .expect_err("must fail")
            .to_string();
        assert_eq!(
            msg,
            format!(
                "invalid code_ttl in {}, line 3: invalid duration 'x' \
                 (write 90s, 15m, 12h, 30d or seconds)",
                path.display()
            )
        );
        assert!(!msg.contains("DurationValue"), "{msg}");
    }

    #[test]
    fn a_toml_syntax_error_or_a_value_of_the_wrong_kind_names_line_and_column() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("tollgate.toml");
        std::fs::write(&path, "log = \"info\"\nbind = 127.0.0.1:80\n").expect("write");
        let msg = Settings::load_in(&SettingsArgs::default(), no_env, dir.path())
            .expect_err("must fail")
            .to_string();
        let prefix = format!(
            "invalid config file {}, line 2, column 13: ",
            path.display()
        );
        assert!(msg.starts_with(&prefix), "{msg}");

        std::fs::write(&path, "\ncode_ttl = 1.5\n").expect("write");
        let msg = Settings::load_in(&SettingsArgs::default(), no_env, dir.path())
            .expect_err("must fail")
            .to_string();
        assert!(msg.contains(", line 2, column 12: "), "{msg}");
        assert!(msg.contains("expected a string or a whole number"), "{msg}");
    }

    #[test]
    fn a_bad_environment_value_names_the_variable() {
        let env = |k: &str| (k == "TOLLGATE_CODE_TTL").then(|| "soon".to_owned());
        let msg = load(&SettingsArgs::default(), env)
            .expect_err("must fail")
            .to_string();
        assert_eq!(
            msg,
            "invalid TOLLGATE_CODE_TTL: invalid duration 'soon' (write 90s, 15m, 12h, 30d or seconds)"
        );
    }

    #[test]
    fn numbers_and_lists_in_the_file_are_read_as_before() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(
            dir.path().join("tollgate.toml"),
            "password_workers = 3\npkce_optional_clients = [\"a\", \"b\"]\nidle_timeout = 7\n",
        )
        .expect("write");
        let s = Settings::load_in(&SettingsArgs::default(), no_env, dir.path()).expect("loads");
        assert_eq!(s.password_workers, 3);
        assert_eq!(s.pkce_optional_clients, ["a", "b"]);
        assert_eq!(s.idle_timeout, Duration::from_secs(7));
    }

    #[test]
    fn without_an_issuer_the_bind_address_gives_it() {
        let args = SettingsArgs {
            bind: Some("127.0.0.1:18081".to_owned()),
            ..Default::default()
        };
        let s = load(&args, no_env).expect("loads");
        assert_eq!(s.issuer_str(), "http://127.0.0.1:18081");
        assert!(s.issuer_from_bind);
        assert_eq!(s.issuer_mismatch(s.bind), None);

        let args = SettingsArgs {
            bind: Some("localhost:18082".to_owned()),
            ..Default::default()
        };
        let s = load(&args, no_env).expect("loads");
        assert_eq!(s.bind.to_string(), "127.0.0.1:18082");
        assert_eq!(s.issuer_str(), "http://localhost:18082");

        let args = SettingsArgs {
            bind: Some("0.0.0.0:0".to_owned()),
            ..Default::default()
        };
        let s = load(&args, no_env).expect("loads");
        let s = s.bound_to(SocketAddr::from(([0, 0, 0, 0], 4321)));
        assert_eq!(s.issuer_str(), "http://127.0.0.1:4321");
    }

    #[test]
    fn an_issuer_that_disagrees_with_the_bind_address_is_named() {
        let args = SettingsArgs {
            bind: Some("127.0.0.1:18081".to_owned()),
            issuer: Some("http://127.0.0.1:8080".to_owned()),
            ..Default::default()
        };
        let s = load(&args, no_env).expect("loads");
        let warning = s.issuer_mismatch(s.bind).expect("a warning");
        assert!(
            warning.contains("http://127.0.0.1:8080") && warning.contains("127.0.0.1:18081"),
            "{warning}"
        );
        let args = SettingsArgs {
            bind: Some("0.0.0.0:443".to_owned()),
            issuer: Some("https://auth.example.com".to_owned()),
            ..Default::default()
        };
        let s = load(&args, no_env).expect("loads");
        assert_eq!(s.issuer_mismatch(s.bind), None);
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
