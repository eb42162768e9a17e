//! The `meshward` binary.
use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = meshward::cli::Cli::parse();
    match meshward::cli::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("meshward: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
