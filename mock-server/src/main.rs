//! `mock-s3`: the mock endpoint as a standalone process.

use std::io::Write as _;
use std::process::ExitCode;

use clap::Parser as _;
use mock_s3::MockS3;
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
    match run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mock-s3: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: &Cli) -> anyhow::Result<()> {
    use anyhow::Context as _;
    let config = cli.to_config().map_err(|e| anyhow::anyhow!("{e}"))?;
    let server = MockS3::builder().config(config).start()?;
    std::fs::write(&cli.ca_out, server.ca_pem())
        .with_context(|| format!("writing the CA to {}", cli.ca_out.display()))?;
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "endpoint={} ca={} access_key={} secret_key={} region={}",
        server.endpoint(),
        cli.ca_out.display(),
        server.access_key(),
        server.secret_key(),
        server.region()
    )?;
    out.flush()?;
    drop(out);
    tracing::info!(endpoint = server.endpoint(), profile = %server.profile().name, "mock-s3 ready");
    wait_for_signal()?;
    tracing::info!("stopping");
    server.shutdown();
    Ok(())
}

fn wait_for_signal() -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            r = tokio::signal::ctrl_c() => r,
            _ = term.recv() => Ok(()),
        }
    })?;
    Ok(())
}
