//! The background side of back-channel logout: one worker reads ended
//! sessions off the bounded queue and hands each client's token to a task
//! of its own, at most `Policy::concurrency` at once.

use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::Algorithm;
use reqwest::StatusCode;
use tokio::sync::{Semaphore, mpsc};
use tracing::{debug, info, warn};

use super::logout_token::{self, LogoutNotice};
use super::{Context, SessionEnded};
use crate::domain::{Client, IdTokenAlg, RedirectUri};
use crate::metrics::BackchannelOutcome;
use crate::store;

/// Runs until every sender is gone (the server stopped).
pub(super) async fn run(mut queue: mpsc::Receiver<SessionEnded>, ctx: Arc<Context>) {
    let slots = Arc::new(Semaphore::new(ctx.policy.concurrency));
    while let Some(ended) = queue.recv().await {
        for client_id in &ended.client_ids {
            let client = match store::clients::find(&ctx.db, client_id).await {
                Ok(Some(client)) => client,
                // Deleted since it signed the person in: nobody to tell.
                Ok(None) => continue,
                Err(e) => {
                    warn!(client_id, error = %e, "back-channel logout: client lookup failed");
                    ctx.metrics
                        .backchannel_logout(BackchannelOutcome::Failed, 1);
                    continue;
                }
            };
            // The URI comes from the registration alone (the operator's
            // command line), never from a request: the sender cannot be
            // pointed anywhere else.
            let Some(uri) = client.backchannel_logout_uri.clone() else {
                continue;
            };
            // Waits while every slot is busy: the queue then fills, and
            // further sessions' notices are dropped, never spawned.
            let Ok(slot) = slots.clone().acquire_owned().await else {
                return;
            };
            let ctx = ctx.clone();
            let ended = ended.clone();
            tokio::spawn(async move {
                deliver(&ctx, &client, &uri, &ended).await;
                drop(slot);
            });
        }
    }
}

fn algorithm(alg: IdTokenAlg) -> Algorithm {
    match alg {
        IdTokenAlg::RS256 => Algorithm::RS256,
        IdTokenAlg::ES256 => Algorithm::ES256,
    }
}

/// Signs the client's token (when its slot came up, so that waiting does
/// not eat its lifetime) and POSTs it, retrying what may pass on a later
/// try; counts the outcome.
async fn deliver(ctx: &Context, client: &Client, uri: &RedirectUri, ended: &SessionEnded) {
    let outcome = attempt_all(ctx, client, uri, ended).await;
    ctx.metrics.backchannel_logout(outcome, 1);
}

async fn attempt_all(
    ctx: &Context,
    client: &Client,
    uri: &RedirectUri,
    ended: &SessionEnded,
) -> BackchannelOutcome {
    let client_id = client.id.as_str();
    let Some(http) = ctx.http.as_ref() else {
        warn!(client_id, "back-channel logout: no HTTP client");
        return BackchannelOutcome::Failed;
    };
    let keys = ctx.keys.snapshot();
    let Some(key) = keys.current_for(algorithm(client.id_token_alg)) else {
        warn!(client_id, alg = %client.id_token_alg, "back-channel logout: no current key");
        return BackchannelOutcome::Failed;
    };
    let sub = ended.user_id.to_string();
    let notice = LogoutNotice {
        issuer: ctx.settings.issuer_str(),
        client_id,
        sid: &ended.sid,
        sub: &sub,
    };
    let token = match logout_token::sign(key, &notice, ctx.clock.now()) {
        Ok(token) => token,
        Err(e) => {
            warn!(client_id, error = %e, "back-channel logout: signing failed");
            return BackchannelOutcome::Failed;
        }
    };
    let policy = &ctx.policy;
    let mut backoff = policy.first_backoff;
    for attempt in 1..=policy.attempts {
        match post(http, uri.as_str(), &token).await {
            Attempt::Delivered => {
                debug!(client_id, attempt, "back-channel logout delivered");
                return BackchannelOutcome::Delivered;
            }
            Attempt::Refused(status) => {
                // §2.8: the client answers 400 when it could not log the
                // session out; the same token will not do better.
                info!(client_id, %status, "back-channel logout refused");
                return BackchannelOutcome::Failed;
            }
            Attempt::Retry(why) => {
                // The token stays out of the log; `why` names no secret.
                warn!(client_id, attempt, of = policy.attempts, reason = %why, "back-channel logout failed");
            }
        }
        if attempt < policy.attempts {
            tokio::time::sleep(backoff).await;
            backoff = backoff.saturating_mul(2);
        }
    }
    BackchannelOutcome::Failed
}

enum Attempt {
    Delivered,
    /// A final answer other than success: not retried.
    Refused(StatusCode),
    /// Unreachable, timed out or a server error: worth another try.
    Retry(String),
}

/// §2.5: "The OP sends an HTTP POST request to the RP's back-channel
/// logout URI", the token as the form parameter `logout_token`.
async fn post(http: &reqwest::Client, uri: &str, token: &str) -> Attempt {
    let sent = http.post(uri).form(&[("logout_token", token)]).send().await;
    match sent {
        Ok(resp) => {
            let status = resp.status();
            if status.is_success() {
                Attempt::Delivered
            } else if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS {
                Attempt::Retry(format!("status {status}"))
            } else {
                Attempt::Refused(status)
            }
        }
        // reqwest's message names the URL and the cause, not the body.
        Err(e) => Attempt::Retry(error_chain(&e)),
    }
}

fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

/// The HTTP client for every delivery: a hard timeout per attempt, and no
/// redirects (a 3xx is a refusal: following one would send the token, and
/// our requests, somewhere nobody registered).
pub(super) fn http_client(timeout: Duration) -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .connect_timeout(timeout)
        .user_agent(concat!("tollgate/", env!("CARGO_PKG_VERSION")))
        .build()
}
