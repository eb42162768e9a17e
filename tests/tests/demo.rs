//! `make demo` is half of the README's contract: the demo itself runs here (the whole stack,
//! traffic through Envoy, a block, an incident of every kind) and must end with an alert of
//! every kind and leave nothing running.

use anyhow::{Context, Result};

#[test]
fn the_demo_shows_an_alert_of_every_kind() -> Result<()> {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_meshward-stack"))
        .args(["demo", "--requests", "300"])
        .env("RUST_BACKTRACE", "0")
        .output()
        .context("running meshward-stack demo")?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "the demo failed:\n{stdout}\n{stderr}");
    let alerts = stdout.split("meshward alerts list:").nth(1).unwrap_or_default();
    for kind in meshward::detect::rules::KINDS {
        assert!(alerts.contains(kind.as_str()), "no {} alert in the demo's list:\n{stdout}", kind.as_str());
    }
    assert!(stdout.contains("Envoy answers the scanner 403"), "{stdout}");
    // the inventory lists the API's endpoints, not the paths an attacker sent
    let inventory = stdout.split("The API inventory:").nth(1).and_then(|s| s.split("\n\n").nth(1)).unwrap_or_default();
    assert!(inventory.contains("/api/products/{product_id}"), "{inventory}");
    assert!(!inventory.contains("passwd"), "an attack path listed as an endpoint:\n{inventory}");
    Ok(())
}
