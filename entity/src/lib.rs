//! sea-orm entities: one module per table, close to what codegen emits.
//! Domain rules live in `tollgate::domain`, queries in `tollgate::store`.

pub mod api_key;
pub mod authorization_code;
pub mod browser_session;
pub mod change;
pub mod client;
pub mod consent;
pub mod known_device;
pub mod lease;
pub mod login_throttle;
pub mod post;
pub mod prelude;
pub mod refresh_token;
pub mod session_client;
pub mod signing_key;
pub mod token_revocation;
pub mod user;
