//! `make quality`: measures detection on the labelled corpora and writes `DETECTION.md`.

use clap::Parser;

#[derive(Parser)]
#[command(about = "Measure Meshward's attack and sensitive-data detection on the public corpora")]
struct Args {
    /// Write the report to this file (prints it otherwise)
    #[arg(long)]
    write: Option<std::path::PathBuf>,
    /// Print every miss of one corpus and class instead (`"CRS PL1:sqli"`, `"fp:generated"`,
    /// `"presidio:phone"`, `"gitleaks:api_key"`)
    #[arg(long)]
    misses: Option<String>,
    /// Print detected/total per attack corpus and class, flagged/total per benign set and
    /// found/false per sensitive class, one line each, without the scenarios (quick to diff
    /// before and after a rule change)
    #[arg(long)]
    summary: bool,
    /// Print only the section on the inspection budget (findings a budgeted filter still
    /// reports at the benchmark's saturating load)
    #[arg(long)]
    budget: bool,
    /// Print only the sqlmap section (sqlmap against the vulnerable API through Envoy with the
    /// filter; needs `make build`), for these techniques (`BEUSTQ` for all)
    #[arg(long, value_name = "TECHNIQUES")]
    sqlmap: Option<String>,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if let Some(which) = args.misses {
        for miss in meshward_e2e::quality::misses(&which)? {
            println!("{miss}");
        }
        return Ok(());
    }
    if args.budget {
        print!("{}", meshward_e2e::quality::budget_section(meshward_e2e::scenario::BUDGET_LOAD_PER_S));
        return Ok(());
    }
    if let Some(techniques) = args.sqlmap {
        let options = meshward_e2e::sqlmap::SqlmapOptions { techniques, ..Default::default() };
        let report = tokio::runtime::Runtime::new()?.block_on(meshward_e2e::sqlmap::measure(&options))?;
        print!("{}", report.markdown());
        return Ok(());
    }
    if args.summary {
        print!("{}", meshward_e2e::quality::attack_summary()?);
        return Ok(());
    }
    let classes_path = meshward_e2e::workspace_root().join("docs/detection-classes.md");
    let classes = std::fs::read_to_string(&classes_path)
        .map_err(|e| anyhow::anyhow!("reading {}: {e}", classes_path.display()))?;
    let runtime = tokio::runtime::Runtime::new()?;
    let scenarios = runtime.block_on(meshward_e2e::scenario::report(&[1, 2, 3], 12))?;
    let sqlmap = runtime.block_on(meshward_e2e::sqlmap::measure(&Default::default()))?.markdown();
    let budget = meshward_e2e::quality::budget_section(meshward_e2e::scenario::BUDGET_LOAD_PER_S);
    let report = format!("{}\n{sqlmap}{budget}{scenarios}{classes}", meshward_e2e::quality::report()?);
    match args.write {
        Some(path) => {
            std::fs::write(&path, &report).map_err(|e| anyhow::anyhow!("writing {}: {e}", path.display()))?;
            println!("wrote {}", path.display());
        }
        None => print!("{report}"),
    }
    Ok(())
}
