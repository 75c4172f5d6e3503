//! sea-orm entities: one module per table, close to what codegen emits.
//! Domain rules live in `tollgate::domain`, queries in `tollgate::store`.

pub mod api_key;
pub mod client;
pub mod post;
pub mod prelude;
pub mod user;
