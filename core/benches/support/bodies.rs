//! The JSON bodies the `scan/*` benchmarks and `examples/scan_loop.rs` scan, in one place so
//! that criterion timings and instruction counts describe the same work.

/// A typical JSON API list response: customers with names, contacts, addresses and notes.
pub fn customers_json(n: usize) -> String {
    let items: Vec<String> = (0..n)
        .map(|i| {
            format!(
                r#"{{"id":{},"uuid":"7c9e6679-7425-40de-944b-{:012}","name":"Customer {} O'Neil","email":"customer{}@example.com","phone":"+1 415 555 {:04}","address":{{"street":"{} Main St","city":"Springfield","zip":"{:05}"}},"created_at":"2024-03-{:02}T12:30:45Z","plan":"pro","active":true,"balance":{}.25,"notes":"Prefers email; called about invoice #{} last week, resolved."}}"#,
                1000 + i, i, i, i, i % 10_000, i + 1, 10_000 + i, 1 + i % 28, i * 3, 4000 + i
            )
        })
        .collect();
    format!(r#"{{"data":[{}],"page":1,"has_more":true}}"#, items.join(","))
}

/// A typical JSON API request: an order with items and free text.
pub fn order_json() -> String {
    let items: Vec<String> =
        (0..6).map(|i| format!(r#"{{"sku":"SKU-{i:06}","qty":{i},"price":19.99,"gift":false}}"#)).collect();
    format!(
        r#"{{"customer_id":"cus_8a7b6c5d4e3f","items":[{}],"shipping":{{"name":"Ann O'Brien","street":"12 Baker St","city":"London","postcode":"NW1 6XE"}},"note":"Please leave it at the door & ring twice; thanks!","coupon":"SPRING-2024"}}"#,
        items.join(",")
    )
}

/// A request whose values are of the kinds that cost the detectors most: URLs with queries, user
/// agents, prose with punctuation, Markdown and HTML snippets, code, JSON in a string, tokens,
/// plus the short ones (locale, SKU, IP). `n` events of a client-side analytics or webhook batch.
pub fn mixed_json(n: usize) -> String {
    let items: Vec<String> = (0..n)
        .map(|i| {
            format!(
                r##"{{"event":"page_view","url":"https://shop.example.com/products/{i}?ref=newsletter&utm_source=mail","callback_url":"https://hooks.example.com/notify?id={i}&token=abc","user_agent":"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36","comment":"I'd like to select a plan from your list, or maybe upgrade later (next month?).","bio":"<b>Hello</b> <i>world</i> #{i}","readme":"Intro\n\n## Features\n- fast\n- *simple*\n[docs](https://x.io)","snippet":"function add(a, b) {{ return a + b; }}","payload":"{{\"a\":{i},\"b\":[1,2,3]}}","token":"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U","from":"Ann O'Brien <ann{i}@example.com>","locale":"en-US","sku":"SKU-{i:06}","client_ip":"10.0.{}.{}"}}"##,
                i / 256,
                i % 256
            )
        })
        .collect();
    format!(r#"{{"events":[{}]}}"#, items.join(","))
}
