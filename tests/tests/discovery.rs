//! Cross-request discovery on traffic generated from the public OpenAPI corpora (Stripe,
//! DigitalOcean, GitHub): the figures `make bench` reports, held as a floor so a change to the
//! templater, the discovery or the generator cannot lower them unnoticed. Deterministic: the
//! generator is seeded. `cargo test -p meshward-e2e --test discovery -- --nocapture` prints
//! every miss.

use meshward_e2e::corpus::{corpora_or_skip, discover_and_measure, generate, SAMPLES_PER_TEMPLATE};

#[test]
fn discovery_recovers_the_public_api_templates() -> anyhow::Result<()> {
    let Some(dir) = corpora_or_skip("discovery")? else { return Ok(()) };
    let mut failures = Vec::new();
    for api in ["stripe", "digitalocean", "github_rest"] {
        let samples = generate(&dir, api, SAMPLES_PER_TEMPLATE)?;
        let accuracy = discover_and_measure(&samples);
        let share = accuracy.exact as f64 / accuracy.templates as f64;
        println!(
            "{api}: {}/{} exact ({:.1}%), {} swallowed, {} missed",
            accuracy.exact,
            accuracy.templates,
            100.0 * share,
            accuracy.wrong_merges,
            accuracy.missed_params
        );
        for miss in &accuracy.examples {
            println!("  {miss}");
        }
        if share < 0.99 {
            failures.push(format!("{api}: {:.1}% of templates recovered exactly, want 99%", 100.0 * share));
        }
        if accuracy.wrong_merges > 0 {
            failures.push(format!("{api}: a literal sibling was swallowed by a parameter"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("; "));
    Ok(())
}
