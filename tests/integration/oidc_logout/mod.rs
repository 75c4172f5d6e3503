//! OpenID Connect logout: RP-Initiated Logout 1.0 at /oauth/logout, what
//! logging out revokes, and Back-Channel Logout 1.0.

mod backchannel;
mod confirm;
mod end_session;
mod offline;
mod support;
