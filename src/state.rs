use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::clock::Clock;
use crate::config::Settings;
use crate::ops::Metrics;

/// Everything a handler needs; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub settings: Arc<Settings>,
    pub clock: Clock,
    pub metrics: Arc<Metrics>,
}

impl AppState {
    pub fn new(db: DatabaseConnection, settings: Settings, clock: Clock) -> Self {
        Self {
            db,
            settings: Arc::new(settings),
            clock,
            metrics: Arc::new(Metrics::new()),
        }
    }
}
