//! More than one server on one database, and settings as the command line
//! gives them.

use clap::Parser;
use tollgate::Settings;

use super::TestApp;

impl TestApp {
    /// A second instance serving this app's database on a port of its own,
    /// with its background loops running: a peer behind the same load
    /// balancer, so it shares the issuer. `adjust` may change its settings.
    /// Call on an app made by [`TestApp::serve`] or [`TestApp::serve_with`].
    pub async fn another_instance(&self, adjust: impl FnOnce(&mut Settings)) -> TestApp {
        let dir = tempfile::tempdir().expect("temp dir");
        let issuer = self.state.settings.issuer.clone();
        Self::serve_on(dir, self.database_url.clone(), move |s| {
            s.issuer = issuer;
            adjust(s);
        })
        .await
    }

    /// Another instance on this app's database, in-process and without
    /// background loops: it learns of others' changes only when a request
    /// makes it look (an unknown `kid`, say), never by polling or by a
    /// notification.
    pub async fn another_instance_without_loops(&self) -> TestApp {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut settings = tollgate::Settings::for_tests(&self.database_url);
        settings.issuer = self.state.settings.issuer.clone();
        Self::start(dir, self.database_url.clone(), settings).await
    }

    /// `http://` and the address this instance listens on (unlike
    /// [`TestApp::base_url`], which is the shared issuer).
    pub fn own_url(&self) -> String {
        format!("http://{}", self.state.settings.bind)
    }
}

/// Settings parsed from command-line `flags` by the real parser and
/// layering, with an empty environment and no `tollgate.toml`: a test can
/// take the values it needs from them into its own settings.
pub fn settings_from_flags(flags: &[&str]) -> Settings {
    let argv = std::iter::once("tollgate")
        .chain(flags.iter().copied())
        .chain(std::iter::once("migrate"));
    let cli = tollgate::cli::Cli::try_parse_from(argv).expect("valid flags");
    let empty = tempfile::tempdir().expect("temp dir");
    Settings::load_in(&cli.settings, |_| None, empty.path()).expect("valid settings")
}
