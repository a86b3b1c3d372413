//! `mock-s3`: the mock endpoint as a standalone process.

use std::process::ExitCode;

use clap::Parser as _;
use mock_s3::cli::Cli;

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "mock_s3=info".into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    match mock_s3::cli::serve(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mock-s3: {e:#}");
            ExitCode::FAILURE
        }
    }
}
