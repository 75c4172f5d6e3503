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
