//! The account page as it is shown: one askama struct, and the lists it
//! holds, read for the signed-in person.

use askama::Template;
use chrono::{DateTime, Utc};
use poem::Response;
use poem::http::StatusCode;

use super::device;
use crate::manage::access::{self, ConnectedApp};
use crate::manage::{Actor, Effects, ManageError};
use crate::state::AppState;
use crate::web::pages::{internal_page, render};
use crate::web::session::Session;

#[derive(Template)]
#[template(path = "account.html")]
pub struct AccountPage<'a> {
    pub username: &'a str,
    pub name: &'a str,
    pub email: &'a str,
    pub csrf_token: &'a str,
    /// What the last action did.
    pub notice: Option<&'a str>,
    pub profile_error: Option<&'a str>,
    pub password_error: Option<&'a str>,
    pub apps: Vec<AppLine>,
    pub sessions: Vec<SessionLine>,
}

pub struct AppLine {
    pub client_id: String,
    pub client_name: String,
    /// What each scope lets the app do, in words.
    pub scopes: Vec<&'static str>,
    pub granted_at: String,
    pub last_used: String,
}

pub struct SessionLine {
    pub sid: String,
    pub device: String,
    pub started: String,
    pub last_seen: String,
    pub this_device: bool,
}

/// What a page shows beside the lists; by default the person's profile as
/// stored and no message.
#[derive(Default)]
pub struct Messages<'a> {
    pub notice: Option<&'a str>,
    pub profile_error: Option<&'a str>,
    pub password_error: Option<&'a str>,
    /// The profile fields as submitted, shown again beside their error.
    pub submitted: Option<(&'a str, &'a str)>,
}

/// Renders the page for `session` with `messages`.
pub async fn render_page(
    state: &AppState,
    session: &Session,
    messages: Messages<'_>,
    status: StatusCode,
) -> Response {
    let fx = Effects::server(state, Actor::User(session.user.id));
    let lists = async {
        let apps = access::connected_apps(&fx, session.user.id).await?;
        let sessions = access::sessions(&fx, session.user.id).await?;
        Ok::<_, ManageError>((apps, sessions))
    };
    let (apps, sessions) = match lists.await {
        Ok(lists) => lists,
        Err(e) => return internal_page("reading the account failed", e),
    };
    let user = &session.user;
    let (name, email) = messages.submitted.unwrap_or((
        user.name.as_deref().unwrap_or(""),
        user.email.as_deref().unwrap_or(""),
    ));
    let page = AccountPage {
        username: &user.username,
        name,
        email,
        csrf_token: &session.record.csrf_token,
        notice: messages.notice,
        profile_error: messages.profile_error,
        password_error: messages.password_error,
        apps: apps.into_iter().map(app_line).collect(),
        sessions: sessions
            .into_iter()
            .map(|s| SessionLine {
                this_device: s.id_hash == session.record.id_hash,
                device: device::describe(s.user_agent.as_deref()),
                started: when(s.created_at),
                last_seen: when(s.last_seen_at),
                sid: s.sid,
            })
            .collect(),
    };
    render(&page, status)
}

fn app_line(app: ConnectedApp) -> AppLine {
    AppLine {
        scopes: app.scopes.iter().map(|s| s.description()).collect(),
        granted_at: when(app.granted_at),
        last_used: app.last_used_at.map_or_else(|| "not yet".to_owned(), when),
        client_id: app.client_id,
        client_name: app.client_name,
    }
}

/// "1 Dec 2026, 08:30 UTC".
pub fn when(t: DateTime<Utc>) -> String {
    t.format("%-d %b %Y, %H:%M UTC").to_string()
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn times_read_as_a_day_and_a_utc_time() {
        let t = Utc
            .with_ymd_and_hms(2026, 12, 1, 8, 5, 59)
            .single()
            .expect("a time");
        assert_eq!(when(t), "1 Dec 2026, 08:05 UTC");
    }
}
