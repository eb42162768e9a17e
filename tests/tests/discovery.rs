//! The inventory on traffic generated from every public OpenAPI corpus in
//! `../shared/corpora/openapi/`: twelve requests per operation (method and template) from twenty
//! callers, grouped into per-request templates as ClickHouse groups them and merged by
//! `inventory::build` (cross-request discovery, constant positions). The figures BENCHMARKS.md
//! reports are held here as floors, so a change to the templater, the discovery or the generator
//! cannot lower them unnoticed, and the same traffic in two other orders must give the same
//! result. Deterministic: the generator is seeded. `cargo test -p meshward-e2e --test discovery
//! -- --nocapture` prints every miss.

use meshward_e2e::corpus::{apis, corpora_or_skip, generate_requests, inventory_measure, shuffled};

/// (API, operations exact at least, literals swallowed at most), measured 2026-12-08.
const FLOORS: &[(&str, usize, usize)] = &[
    ("bungie", 87, 7),
    ("digitalocean", 655, 0),
    ("discourse", 83, 0),
    ("docusign", 303, 0),
    ("eve_esi", 167, 0),
    ("gitea", 459, 1),
    ("github_rest", 978, 4),
    ("hcp", 714, 89),
    ("magento", 355, 0),
    ("mandrill", 90, 0),
    ("nytimes", 10, 1),
    ("spotify", 37, 0),
    ("squareup", 96, 0),
    ("stackexchange", 122, 0),
    ("stripe", 454, 0),
    ("trello", 319, 1),
    ("vk", 1132, 0),
    ("zuora", 296, 0),
];

#[test]
fn the_inventory_recovers_every_public_spec_in_any_order() -> anyhow::Result<()> {
    let Some(dir) = corpora_or_skip("discovery")? else { return Ok(()) };
    let mut failures = Vec::new();
    let found = apis(&dir)?;
    for api in &found {
        let requests = generate_requests(&dir, api, 12, 20)?;
        let accuracy = inventory_measure(&shuffled(&requests, 7));
        let share = accuracy.exact as f64 / accuracy.templates.max(1) as f64;
        println!(
            "{api}: {}/{} operations exact ({:.1}%), {} swallowed, {} missed",
            accuracy.exact,
            accuracy.templates,
            100.0 * share,
            accuracy.wrong_merges,
            accuracy.missed_params
        );
        for miss in &accuracy.examples {
            println!("  {miss}");
        }
        match FLOORS.iter().find(|(name, _, _)| name == api) {
            Some((_, exact, swallowed)) => {
                if accuracy.exact < *exact {
                    failures.push(format!("{api}: {} operations exact, the floor is {exact}", accuracy.exact));
                }
                if accuracy.wrong_merges > *swallowed {
                    failures.push(format!("{api}: {} swallowed literals, at most {swallowed}", accuracy.wrong_merges));
                }
            }
            None => failures.push(format!("{api}: a corpus without a floor here: add its figures")),
        }
        for seed in [99, 12_345] {
            let other = inventory_measure(&shuffled(&requests, seed));
            if (other.exact, other.wrong_merges) != (accuracy.exact, accuracy.wrong_merges) {
                failures.push(format!(
                    "{api}: another order gives {} exact, {} swallowed (not {}, {})",
                    other.exact, other.wrong_merges, accuracy.exact, accuracy.wrong_merges
                ));
            }
        }
    }
    assert!(found.len() >= FLOORS.len(), "corpora missing: found {found:?}");
    assert!(failures.is_empty(), "{}", failures.join("; "));
    Ok(())
}
