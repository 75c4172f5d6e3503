use uuid::Uuid;

use crate::domain::{Scope, ScopeSet};

/// Who the caller acts for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Subject {
    User {
        id: Uuid,
        username: String,
    },
    /// A client acting on its own behalf (client credentials).
    Client {
        client_id: String,
    },
}

impl Subject {
    /// A stable key for ownership checks: `user:<uuid>` or `client:<id>`.
    pub fn key(&self) -> String {
        match self {
            Self::User { id, .. } => format!("user:{id}"),
            Self::Client { client_id } => format!("client:{client_id}"),
        }
    }

    /// The name shown as a post's author.
    pub fn display_name(&self) -> &str {
        match self {
            Self::User { username, .. } => username,
            Self::Client { client_id } => client_id,
        }
    }
}

/// An authenticated caller: who, and with which scopes.
#[derive(Clone, Debug)]
pub struct Principal {
    pub subject: Subject,
    pub scopes: ScopeSet,
}

impl Principal {
    pub fn has_scope(&self, scope: Scope) -> bool {
        self.scopes.contains(scope)
    }
}

impl std::fmt::Display for Subject {
    /// How the request log names the caller: `user:NAME` or `client:ID`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::User { username, .. } => write!(f, "user:{username}"),
            Self::Client { client_id } => write!(f, "client:{client_id}"),
        }
    }
}

tokio::task_local! {
    /// The request being answered: its span, and whether its caller has
    /// been named yet. `telemetry` sets it around each request.
    static REQUEST: RequestSpan;
}

struct RequestSpan {
    span: tracing::Span,
    /// The `X-Request-Id` the answer carries.
    id: String,
    named: std::cell::Cell<bool>,
}

/// Names `subject` on the current request's span (its `principal` field),
/// so that the request line and every line logged after this one say who
/// is calling. The request span, not the current one: a handler may be
/// inside a span of its own. Outside a request it does nothing.
pub fn record_principal(subject: &Subject) {
    let _ = REQUEST.try_with(|request| {
        request
            .span
            .record("principal", tracing::field::display(subject));
        request.named.set(true);
    });
}

/// The id of the request being answered, for pages that show it (so that
/// what a person reads matches the log); `None` outside a request.
pub fn current_request_id() -> Option<String> {
    REQUEST.try_with(|request| request.id.clone()).ok()
}

/// Runs `answer` as the request of `span` with id `id`, and says whether
/// it named its caller through [`record_principal`].
pub async fn naming_principal<F: Future>(
    span: tracing::Span,
    id: String,
    answer: F,
) -> (F::Output, bool) {
    let request = RequestSpan {
        span,
        id,
        named: std::cell::Cell::new(false),
    };
    REQUEST
        .scope(request, async {
            let output = answer.await;
            let named = REQUEST.try_with(|r| r.named.get()).unwrap_or(false);
            (output, named)
        })
        .await
}
