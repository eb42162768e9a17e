//! The `meshward` binary.
use clap::Parser;

// glibc malloc spent nearly half the collector's CPU on many small, cross-thread
// allocations (decoded events); mimalloc handles that pattern far better (see BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
