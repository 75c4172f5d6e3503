use std::time::Duration;

use poem::listener::{Listener, TcpAcceptor, TcpListener};
use poem::{Endpoint, EndpointExt, Route, Server};
use tracing::info;

use crate::clock::Clock;
use crate::config::Settings;
use crate::state::AppState;

/// The whole HTTP application. `serve` and the tests call this same function.
pub fn app(state: AppState) -> impl Endpoint + 'static {
    let route = crate::api::routes(Route::new(), &state.settings);
    let route = crate::ops::routes(route);
    let route = crate::oauth::routes(route);
    let headers = crate::web::SecurityHeaders::new(&state.settings);
    route
        .with(headers)
        .around(crate::telemetry::observe)
        .data(state)
}

/// A bound, migrated server, ready to run.
pub struct Application {
    acceptor: TcpAcceptor,
    state: AppState,
}

impl Application {
    /// Connects, migrates and binds.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let db = crate::db::open(settings.database_url.secret()).await?;
        let state = AppState::build(db, settings, Clock::default())
            .await
            .map_err(|e| anyhow::anyhow!("cannot load the signing keys: {e}"))?;
        Self::bind(state).await
    }

    /// Binds an already prepared state (tests use this to share the clock).
    pub async fn bind(state: AppState) -> anyhow::Result<Self> {
        let bind = state.settings.bind;
        let acceptor = TcpListener::bind(bind)
            .into_acceptor()
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen on {bind}: {e}"))?;
        Ok(Self { acceptor, state })
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` completes, then lets in-flight requests
    /// finish (up to 30 seconds).
    pub async fn run_until_stopped(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let peers = tokio::spawn(sync_with_peers(self.state.clone()));
        let housekeeping = tokio::spawn(crate::housekeeping::run_periodically(self.state.clone()));
        let app = app(self.state);
        let result = Server::new_with_acceptor(self.acceptor)
            .run_with_graceful_shutdown(app, shutdown, Some(Duration::from_secs(30)))
            .await;
        peers.abort();
        housekeeping.abort();
        result
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

/// Other instances may revoke tokens or rotate keys: poll for both.
async fn sync_with_peers(state: AppState) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let mut n: u64 = 0;
    loop {
        tick.tick().await;
        state.sync_with_peers().await;
        n += 1;
        if n.is_multiple_of(60) {
            state.refresh_keys().await;
        }
    }
}
