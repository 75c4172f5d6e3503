//! The origins of public clients, which CORS lets read the token and
//! userinfo answers (`oauth::cors`). Held in `AppState` so that a client
//! change, local or heard from a peer, empties it.

use std::collections::HashSet;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use sea_orm::ConnectionTrait;
use tracing::warn;
use url::Url;

use crate::cache::{read_lock, write_lock};
use crate::store;

/// Every client created, changed or deleted empties the set (see
/// `propagation`): this only bounds what a failed read could leave.
const ORIGINS_TTL: Duration = Duration::from_secs(30);
/// After a failed load, try again this soon.
const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(1);
/// A bound on the set, whatever the registrations hold.
const MAX_ORIGINS: usize = 10_000;

/// The origins (`scheme://host[:port]`) of every public client's http and
/// https redirect URIs, loaded from the database and kept for
/// [`ORIGINS_TTL`]. Only registrations fill it, never requests.
#[derive(Default)]
pub struct PublicClientOrigins {
    loaded: RwLock<Option<(Instant, Arc<HashSet<String>>)>>,
    /// One reload at a time; the others answer from the last set.
    reloading: tokio::sync::Mutex<()>,
}

impl PublicClientOrigins {
    pub async fn allows(&self, db: &impl ConnectionTrait, origin: &str) -> bool {
        self.current(db).await.contains(origin)
    }

    async fn current(&self, db: &impl ConnectionTrait) -> Arc<HashSet<String>> {
        if let Some(set) = self.fresh() {
            return set;
        }
        let _reloading = match self.reloading.try_lock() {
            Ok(guard) => guard,
            Err(_) => match self.last() {
                Some(set) => return set,
                None => self.reloading.lock().await,
            },
        };
        // Another request may have reloaded while this one waited.
        if let Some(set) = self.fresh() {
            return set;
        }
        let (set, ttl) = match load(db).await {
            Ok(set) => (Arc::new(set), ORIGINS_TTL),
            Err(e) => {
                warn!(error = %e, "could not load public clients' origins for CORS");
                (self.last().unwrap_or_default(), RETRY_AFTER_FAILURE)
            }
        };
        *write_lock(&self.loaded) = Some((Instant::now() + ttl, set.clone()));
        set
    }

    /// Reloads the set at its next use: a client changed.
    pub fn invalidate(&self) {
        if let Some((until, _)) = write_lock(&self.loaded).as_mut() {
            *until = Instant::now();
        }
    }

    fn fresh(&self) -> Option<Arc<HashSet<String>>> {
        read_lock(&self.loaded)
            .as_ref()
            .filter(|(until, _)| Instant::now() < *until)
            .map(|(_, set)| set.clone())
    }

    fn last(&self) -> Option<Arc<HashSet<String>>> {
        read_lock(&self.loaded).as_ref().map(|(_, set)| set.clone())
    }
}

async fn load(db: &impl ConnectionTrait) -> Result<HashSet<String>, sea_orm::DbErr> {
    let uris = store::clients::public_redirect_uris(db).await?;
    let mut origins: HashSet<String> = uris.iter().filter_map(|u| web_origin(u)).collect();
    if origins.len() > MAX_ORIGINS {
        warn!(
            count = origins.len(),
            kept = MAX_ORIGINS,
            "more public client origins than CORS keeps; some are left out"
        );
        origins = origins.into_iter().take(MAX_ORIGINS).collect();
    }
    Ok(origins)
}

/// The origin a browser sends for pages under `uri`, as it serializes it
/// (lower-case host, default port left out); none for a native app's
/// private-use scheme. A loopback redirect URI gives its own port only:
/// the any-port rule of RFC 8252 §7.3 is for native apps, which need no
/// CORS.
fn web_origin(uri: &str) -> Option<String> {
    let url = Url::parse(uri).ok()?;
    matches!(url.scheme(), "https" | "http").then(|| url.origin().ascii_serialization())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_redirect_uri_gives_the_origin_a_browser_sends() {
        assert_eq!(
            web_origin("https://App.Example.com/cb?x=1").as_deref(),
            Some("https://app.example.com")
        );
        assert_eq!(
            web_origin("https://app.example.com:443/cb").as_deref(),
            Some("https://app.example.com"),
            "the default port is left out"
        );
        assert_eq!(
            web_origin("https://app.example.com:8443/cb").as_deref(),
            Some("https://app.example.com:8443")
        );
        assert_eq!(
            web_origin("http://127.0.0.1:5173/cb").as_deref(),
            Some("http://127.0.0.1:5173")
        );
        assert_eq!(
            web_origin("http://[::1]:8080/cb").as_deref(),
            Some("http://[::1]:8080")
        );
    }

    #[test]
    fn a_native_apps_scheme_has_no_web_origin() {
        assert_eq!(web_origin("com.example.app:/oauth2redirect"), None);
        assert_eq!(web_origin("not a uri"), None);
    }
}
