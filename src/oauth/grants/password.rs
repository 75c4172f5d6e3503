//! RFC 6749 §4.3, for first-party clients given the grant (the docs
//! explorer). RFC 9700 §2.4 forbids it for anyone else.

use std::net::IpAddr;

use uuid::Uuid;

use super::requested_scopes;
use crate::auth::Subject;
use crate::domain::{GrantType, Scope};
use crate::oauth::client_auth::AuthenticatedClient;
use crate::oauth::error::{TokenError, TokenErrorCode};
use crate::oauth::id_token::IdTokenRequest;
use crate::oauth::issue::{self, Issue, SignIn, TokenResponse};
use crate::oauth::params::Params;
use crate::secrets::{PasswordError, SecretString};
use crate::state::AppState;
use crate::store;
use crate::web::throttle::{self, Attempt};

#[tracing::instrument(skip_all, fields(client_id = %client.id()))]
pub async fn exchange(
    state: &AppState,
    client: &AuthenticatedClient,
    params: &Params,
    address: Option<IpAddr>,
) -> Result<TokenResponse, TokenError> {
    if !client.may_use(GrantType::Password) || !client.first_party {
        return Err(TokenError::unauthorized_client(
            "this client may not use the password grant",
        ));
    }
    let (Some(username), Some(password)) = (params.get("username"), params.get("password")) else {
        return Err(TokenError::invalid_request(
            "username and password are required",
        ));
    };
    // A person signs in: never `admin` (see `Scope::Admin`).
    let scopes = requested_scopes(params, &client.scopes.for_people())?;
    let attempt = Attempt::new(username, address);
    // No browser, no device cookie: the account's lock always applies.
    if let Some(until) = throttle::locked_until(state, &attempt, false).await? {
        let seconds = throttle::retry_after(state, until);
        return Err(TokenError::invalid_grant(format!(
            "too many failed attempts; retry in {seconds} s"
        )));
    }
    let user = store::users::find_by_username(&state.db, username).await?;
    // Unknown users verify against a dummy hash: same time, same answer.
    let ok = state
        .passwords
        .verify(
            SecretString::new(password.to_owned()),
            user.as_ref().map(|u| u.password_hash.clone()),
        )
        .await
        .map_err(|e| match e {
            PasswordError::Busy => TokenError::new(
                TokenErrorCode::TemporarilyUnavailable,
                "too many sign-ins at once; retry shortly",
            ),
            e => TokenError::server(e),
        })?;
    let Some(user) = user.filter(|_| ok) else {
        throttle::failed(state, &attempt).await?;
        return Err(TokenError::invalid_grant("invalid username or password"));
    };
    if user.disabled_at.is_some() {
        return Err(TokenError::invalid_grant("the account is disabled"));
    }
    throttle::succeeded(state, &attempt).await?;
    let now = state.clock.now();
    // Not OIDC's flow, but the password just checked is a sign-in: when the
    // token holds `openid`, an ID token says who signed in and when, so a
    // first-party app reads the person the same way whichever grant it
    // used. No browser session: no `sid`; no authorization request: no
    // `nonce`. The refresh token keeps `auth_time` for refreshed ID tokens.
    let sign_in = SignIn {
        session_hash: None,
        auth_time: Some(now),
        sid: None,
    };
    let id_token = scopes.contains(Scope::OpenId).then_some(IdTokenRequest {
        user: &user,
        alg: client.id_token_alg,
        nonce: None,
        auth_time: sign_in.auth_time,
        sid: None,
    });
    issue::issue(
        state,
        &state.db,
        Issue {
            subject: Subject::User {
                id: user.id,
                username: user.username.clone(),
            },
            user_id: Some(user.id),
            client_id: client.id(),
            scopes: &scopes,
            refresh_scopes: client.may_use(GrantType::RefreshToken).then_some(&scopes),
            grant_id: Uuid::now_v7(),
            sign_in,
            id_token,
        },
        now,
    )
    .await
}
