//! `poolsweep`: parse, set up logging, run, map the outcome to an exit status.

use std::process::ExitCode;

use clap::Parser as _;

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().collect();
    let cli = poolsweep::cli::args::Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    poolsweep::cli::run(cli, argv)
}
