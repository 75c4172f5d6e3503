//! Who is calling the resource API. Every credential becomes a
//! [`Principal`]; handlers ask [`Credentials::require`] for one with a scope
//! and never look at headers themselves.

pub mod access_token;
pub mod api_key;
mod authenticator;
mod error;
mod principal;
pub mod revocations;
mod scheme;

pub use authenticator::Authenticator;
pub use error::AuthError;
pub use principal::{Principal, Subject, current_request_id, naming_principal, record_principal};
pub use scheme::{ApiKeyAuth, Credentials, OAuth2Auth, OfferedScope};
