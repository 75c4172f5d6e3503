use std::io::Write;

use tracing::info;

use crate::config::Settings;
use crate::startup::{Application, shutdown_signal};

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// On an empty database, create a demo user, docs client and API key
    #[arg(long)]
    demo: bool,
}

pub async fn run(settings: Settings, args: ServeArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    crate::telemetry::init(&settings.log, settings.log_format);
    let app = Application::build(settings).await?;
    // After binding: an issuer derived from `--bind 127.0.0.1:0` shows
    // the port chosen.
    info!(settings = %app.state().settings.describe(), "starting");
    if args.demo {
        let issuer = app.state().settings.issuer_str().to_owned();
        match crate::demo::seed(&app.state().db, &issuer, app.state().clock.now()).await? {
            Some(demo) => write!(out, "{}", demo.instructions(&issuer))?,
            None => writeln!(
                out,
                "--demo: the database already has users; nothing was added"
            )?,
        }
        out.flush()?;
    }
    app.run_until_stopped(shutdown_signal()).await?;
    Ok(())
}
