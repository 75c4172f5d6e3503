use std::net::SocketAddr;
use std::time::Duration;

use poem::listener::TcpAcceptor;
use poem::{Endpoint, EndpointExt, Route, Server};
use tracing::{info, warn};

use crate::clock::Clock;
use crate::config::Settings;
use crate::connections::GuardedAcceptor;
use crate::state::AppState;

/// The whole HTTP application. `serve` and the tests call this same function.
pub fn app(state: AppState) -> impl Endpoint + 'static {
    let route = crate::api::routes(Route::new(), &state.settings);
    let route = crate::ops::routes(route, state.settings.metrics_bind.is_none());
    let route = crate::oauth::routes(route, state.cors_origins.clone());
    let route = crate::web::routes(route);
    let headers = crate::web::SecurityHeaders::new(&state.settings);
    route
        .with(headers)
        .around(crate::telemetry::observe)
        .data(state)
}

/// A bound, migrated server, ready to run.
pub struct Application {
    acceptor: TcpAcceptor,
    /// `/metrics` on its own address, when `metrics_bind` is set.
    metrics_listener: Option<TcpAcceptor>,
    state: AppState,
}

impl Application {
    /// Binds, connects and migrates. Binding comes first: a port taken
    /// fails at once, and an issuer derived from `--bind` gets the port
    /// actually bound (port 0 included) before anything uses it.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let listener = listen(settings.bind).await?;
        let settings = settings.bound_to(listener.local_addr()?);
        if let Some(warning) = settings.issuer_mismatch(listener.local_addr()?) {
            warn!("{warning}");
        }
        let db = crate::db::open(settings.database_url.secret()).await?;
        let state = AppState::build(db, settings, Clock::default())
            .await
            .map_err(|e| anyhow::anyhow!("cannot load the signing keys: {e}"))?;
        Self::from_listener(state, listener)
    }

    /// Binds `settings.bind` for an already prepared state.
    pub async fn bind(state: AppState) -> anyhow::Result<Self> {
        let listener = listen(state.settings.bind).await?;
        Self::from_listener(state, listener)
    }

    /// Serves on a listener the caller already bound, e.g. to port 0 with
    /// the address read back from it: nothing can take the port between
    /// choosing it and serving on it.
    pub fn from_listener(
        state: AppState,
        listener: tokio::net::TcpListener,
    ) -> anyhow::Result<Self> {
        let acceptor = TcpAcceptor::from_tokio(listener)
            .map_err(|e| anyhow::anyhow!("cannot use the listener: {e}"))?;
        let metrics_listener = match state.settings.metrics_bind {
            None => None,
            Some(addr) => {
                let listener = std::net::TcpListener::bind(addr)
                    .and_then(|l| {
                        l.set_nonblocking(true)?;
                        tokio::net::TcpListener::from_std(l)
                    })
                    .and_then(TcpAcceptor::from_tokio)
                    .map_err(|e| {
                        anyhow::anyhow!(
                            "cannot listen on {addr}: {e}{}",
                            port_hint(&e, "--metrics-bind, TOLLGATE_METRICS_BIND or metrics_bind")
                        )
                    })?;
                Some(listener)
            }
        };
        Ok(Self {
            acceptor,
            metrics_listener,
            state,
        })
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` completes, then lets in-flight requests
    /// finish for up to `shutdown_grace`; the ones still running then are
    /// cut off. Closes the database connections last.
    pub async fn run_until_stopped(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let peers = tokio::spawn(sync_with_peers(self.state.clone()));
        let listener = tokio::spawn(crate::propagation::listen(
            self.state.db.clone(),
            self.state.wakeup.clone(),
        ));
        let metrics = self.metrics_listener.map(|listener| {
            let app = crate::ops::metrics_app(self.state.clone());
            tokio::spawn(async move {
                if let Err(e) = Server::new_with_acceptor(listener).run(app).await {
                    tracing::error!(error = %e, "the metrics listener failed");
                }
            })
        });
        let housekeeping = tokio::spawn(crate::housekeeping::run_periodically(self.state.clone()));
        let settings = self.state.settings.clone();
        let acceptor = GuardedAcceptor::new(
            self.acceptor,
            settings.max_connections,
            settings.request_read_timeout,
        );
        let state = self.state.clone();
        let app = app(self.state);
        let result = Server::new_with_acceptor(acceptor)
            .idle_timeout(settings.idle_timeout)
            .run_with_graceful_shutdown(app, shutdown, Some(settings.shutdown_grace))
            .await;
        peers.abort();
        listener.abort();
        housekeeping.abort();
        if let Some(metrics) = metrics {
            metrics.abort();
        }
        state.close().await;
        result
    }
}

/// Binds the main address; a port in use says which settings move it.
async fn listen(addr: SocketAddr) -> anyhow::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(addr).await.map_err(|e| {
        anyhow::anyhow!(
            "cannot listen on {addr}: {e}{}",
            port_hint(&e, "--bind, TOLLGATE_BIND or bind in tollgate.toml")
        )
    })
}

/// For a port already taken: which `settings` choose another.
fn port_hint(e: &std::io::Error, settings: &str) -> String {
    match e.kind() {
        std::io::ErrorKind::AddrInUse => format!(
            "; another program (perhaps another tollgate) has that port: \
             stop it, or choose another port with {settings}"
        ),
        std::io::ErrorKind::AddrNotAvailable => {
            format!("; this machine has no such address: choose another with {settings}")
        }
        _ => String::new(),
    }
}

/// Completes on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    info!("shutting down: finishing in-flight requests");
}

/// Other instances may revoke tokens, change clients or rotate keys: read
/// what they did every `peer_sync_interval`, and at once when one announces
/// it (see `propagation`); reload the keys every `key_reload_interval`
/// whatever the logs say.
async fn sync_with_peers(state: AppState) {
    let (sync_every, reload_every) = (
        state.settings.peer_sync_interval,
        state.settings.key_reload_interval,
    );
    let mut sync = interval_from_now(sync_every);
    // The keys and the denylist were loaded at start-up: the first reload
    // is due one interval from now, not at once.
    let mut reload = interval_from_now(reload_every);
    loop {
        tokio::select! {
            _ = sync.tick() => state.sync_with_peers().await,
            () = state.wakeup.wait() => state.sync_with_peers().await,
            _ = reload.tick() => state.refresh_keys().await,
        }
    }
}

/// Ticks every `period`, first one `period` from now; a slow database
/// delays the next tick rather than causing a burst of catch-up ticks.
fn interval_from_now(period: Duration) -> tokio::time::Interval {
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick
}
