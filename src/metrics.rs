//! The Prometheus metrics the server keeps (served by `ops`).

use std::time::Duration;

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGaugeVec, Opts, Registry,
    TextEncoder,
};

/// Declares [`SecurityEvent`] with its label values and the list of all
/// of them, so that a new event cannot be left out of the series that
/// `/metrics` shows from start-up.
macro_rules! security_events {
    ($($(#[$doc:meta])* $variant:ident => $label:literal,)+) => {
        /// Security events, each a label of `tollgate_security_events_total`.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum SecurityEvent {
            $($(#[$doc])* $variant,)+
        }

        impl SecurityEvent {
            pub const ALL: &[Self] = &[$(Self::$variant,)+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $label,)+
                }
            }
        }
    };
}

security_events! {
    LoginSucceeded => "login_succeeded",
    LoginFailed => "login_failed",
    /// An account or client address locked after repeated failures.
    LoginLockout => "login_lockout",
    /// A password attempt refused because its account or address is locked.
    LoginRefusedWhileLocked => "login_refused_while_locked",
    /// A spent authorization code presented again (its grant is revoked).
    CodeReplayed => "code_replayed",
    /// A rotated refresh token presented again (its family is revoked).
    RefreshTokenReused => "refresh_token_reused",
    /// A client that failed to authenticate at the token, revocation or
    /// introspection endpoint.
    ClientAuthFailed => "client_auth_failed",
    /// A new signing key made current.
    KeyRotated => "key_rotated",
    /// A change made by an operator (command line or admin API): the log
    /// line names the action, the actor and the target.
    AdminAction => "admin_action",
    /// A person changed their own password.
    PasswordChanged => "password_changed",
    /// A person took back what they allowed an app (account page).
    AppRevoked => "app_revoked",
    /// A person ended one of their browser sessions from the account page.
    SessionRevoked => "session_revoked",
}

/// The tables housekeeping deletes from: the only values of its `table`
/// label (`signing_key_private_halves` counts erased private keys).
pub const HOUSEKEEPING_TABLES: [&str; 6] = [
    "authorization_codes",
    "browser_sessions",
    "refresh_tokens",
    "token_revocations",
    "signing_key_private_halves",
    "changes",
];

/// What became of one Back-Channel Logout token: the values of the
/// `outcome` label of `tollgate_backchannel_logout_total`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BackchannelOutcome {
    /// The client answered 2xx.
    Delivered,
    /// Refused, unreachable after every attempt, or never signed.
    Failed,
    /// Not sent: the queue was full.
    Dropped,
}

impl BackchannelOutcome {
    pub const ALL: [Self; 3] = [Self::Delivered, Self::Failed, Self::Dropped];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Delivered => "delivered",
            Self::Failed => "failed",
            Self::Dropped => "dropped",
        }
    }
}

/// Request counts and latencies by method, route and status; security
/// events by kind; rows deleted by housekeeping, by table; back-channel
/// logout tokens by outcome; the build's version; and, on Linux, the
/// process's memory, CPU time, open files and start time (the standard
/// `process_*` series).
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    security_events: IntCounterVec,
    deleted: IntCounterVec,
    housekeeping_runs: IntCounterVec,
    backchannel: IntCounterVec,
    group_commits: WriterCounts,
}

/// What the SQLite writer (`db::writer`) has committed: its transactions
/// and the writes in them, whose ratio is the mean batch.
#[derive(Clone)]
pub struct WriterCounts {
    pub batches: IntCounter,
    pub writes: IntCounter,
}

impl WriterCounts {
    /// Counters registered nowhere, for a writer of its own (tests).
    #[allow(clippy::expect_used)] // constant, valid metric definitions
    pub fn unregistered() -> Self {
        Self {
            batches: IntCounter::new(
                "tollgate_sqlite_group_commits_total",
                "Transactions the SQLite writer ran (one per batch of writes), committed or not",
            )
            .expect("valid counter"),
            writes: IntCounter::new(
                "tollgate_sqlite_group_commit_writes_total",
                "Writes the SQLite writer ran in those transactions",
            )
            .expect("valid counter"),
        }
    }
}

impl Metrics {
    #[allow(clippy::expect_used)] // constant, valid metric definitions
    pub fn new() -> Self {
        let registry = Registry::new();
        let labels = &["method", "route", "status"];
        let requests = IntCounterVec::new(
            Opts::new("tollgate_http_requests_total", "HTTP requests answered"),
            labels,
        )
        .expect("valid counter");
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "tollgate_http_request_duration_seconds",
                "Time to answer an HTTP request",
            )
            .buckets(vec![
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
            ]),
            labels,
        )
        .expect("valid histogram");
        let security_events = IntCounterVec::new(
            Opts::new(
                "tollgate_security_events_total",
                "Logins, failures, lockouts and other security events",
            ),
            &["event"],
        )
        .expect("valid counter");
        // Every event from start-up, at 0: a dashboard or an alert on a
        // rate sees a series before the first event happens.
        for event in SecurityEvent::ALL {
            security_events.with_label_values(&[event.as_str()]);
        }
        registry
            .register(Box::new(security_events.clone()))
            .expect("registered once");
        let deleted = IntCounterVec::new(
            Opts::new(
                "tollgate_housekeeping_deleted_rows_total",
                "Rows deleted by housekeeping",
            ),
            &["table"],
        )
        .expect("valid counter");
        for table in HOUSEKEEPING_TABLES {
            deleted.with_label_values(&[table]);
        }
        registry
            .register(Box::new(deleted.clone()))
            .expect("registered once");
        let housekeeping_runs = IntCounterVec::new(
            Opts::new(
                "tollgate_housekeeping_runs_total",
                "Scheduled housekeeping rounds: ran here, or skipped as another instance ran it",
            ),
            &["outcome"],
        )
        .expect("valid counter");
        for outcome in ["ran", "skipped"] {
            housekeeping_runs.with_label_values(&[outcome]);
        }
        registry
            .register(Box::new(housekeeping_runs.clone()))
            .expect("registered once");
        let backchannel = IntCounterVec::new(
            Opts::new(
                "tollgate_backchannel_logout_total",
                "Back-Channel Logout tokens, by what became of them",
            ),
            &["outcome"],
        )
        .expect("valid counter");
        for outcome in BackchannelOutcome::ALL {
            backchannel.with_label_values(&[outcome.as_str()]);
        }
        registry
            .register(Box::new(backchannel.clone()))
            .expect("registered once");
        registry
            .register(Box::new(requests.clone()))
            .expect("registered once");
        registry
            .register(Box::new(latency.clone()))
            .expect("registered once");
        let build_info = IntGaugeVec::new(
            Opts::new(
                "tollgate_build_info",
                "Always 1; the labels say which build is running",
            ),
            &["version"],
        )
        .expect("valid gauge");
        build_info
            .with_label_values(&[env!("CARGO_PKG_VERSION")])
            .set(1);
        registry
            .register(Box::new(build_info))
            .expect("registered once");
        #[cfg(target_os = "linux")]
        registry
            .register(Box::new(
                prometheus::process_collector::ProcessCollector::for_self(),
            ))
            .expect("registered once");
        let group_commits = WriterCounts::unregistered();
        registry
            .register(Box::new(group_commits.batches.clone()))
            .expect("registered once");
        registry
            .register(Box::new(group_commits.writes.clone()))
            .expect("registered once");
        Self {
            registry,
            requests,
            latency,
            security_events,
            deleted,
            housekeeping_runs,
            backchannel,
            group_commits,
        }
    }

    /// The counters the SQLite writer adds to.
    pub fn writer_counts(&self) -> WriterCounts {
        self.group_commits.clone()
    }

    /// Counts `tokens` back-channel logout tokens that ended as `outcome`.
    pub fn backchannel_logout(&self, outcome: BackchannelOutcome, tokens: u64) {
        self.backchannel
            .with_label_values(&[outcome.as_str()])
            .inc_by(tokens);
    }

    pub fn security_event(&self, event: SecurityEvent) {
        self.security_events
            .with_label_values(&[event.as_str()])
            .inc();
    }

    pub fn observe(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        let status = status.to_string();
        let labels = [method, route, status.as_str()];
        self.requests.with_label_values(&labels).inc();
        self.latency
            .with_label_values(&labels)
            .observe(elapsed.as_secs_f64());
    }

    /// Counts `rows` deleted from `table`, one of [`HOUSEKEEPING_TABLES`]
    /// (anything else is ignored, so the label set stays fixed).
    pub fn deleted_rows(&self, table: &str, rows: u64) {
        if HOUSEKEEPING_TABLES.contains(&table) {
            self.deleted.with_label_values(&[table]).inc_by(rows);
        }
    }

    /// Counts a scheduled housekeeping round, `ran` or `skipped`.
    pub fn housekeeping_run(&self, outcome: &'static str) {
        self.housekeeping_runs.with_label_values(&[outcome]).inc();
    }

    pub fn render(&self) -> Result<String, prometheus::Error> {
        let mut buf = Vec::new();
        TextEncoder::new().encode(&self.registry.gather(), &mut buf)?;
        Ok(String::from_utf8_lossy(&buf).into_owned())
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}
