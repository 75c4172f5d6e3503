pub use super::api_key::Entity as ApiKey;
pub use super::client::Entity as Client;
pub use super::post::Entity as Post;
pub use super::user::Entity as User;
