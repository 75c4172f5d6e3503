use std::io::{self, Write};
use std::process::ExitCode;

use clap::Parser;
use tollgate::cli::{self, Cli};

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let stdin = io::stdin();
    let mut input = stdin.lock();
    let mut output = io::stdout();
    match cli::run(cli, &mut input, &mut output).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let _ = output.flush();
            eprintln!("error: {}", cli::report(&e));
            ExitCode::FAILURE
        }
    }
}
