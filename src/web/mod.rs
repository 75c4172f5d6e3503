//! Browser plumbing shared by the login and consent pages.

pub mod cookies;
pub mod pages;
pub mod session;
