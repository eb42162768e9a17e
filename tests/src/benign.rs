//! Realistic benign request values for measuring false positives: names (with apostrophes and
//! hyphens), postal addresses, prose (reviews, support messages, with punctuation and quotes),
//! search queries, URLs, code snippets as developers paste them into JSON, dates, numbers.
//! Deterministic: the same list on every run.

const FIRST: &[&str] = &[
    "Ann", "José", "Zoë", "Liam", "Mia", "Noah", "Olivia", "Sean", "Siobhán", "Dmitri", "Aiko", "Kwame", "Fatima",
    "Lars", "Chloé", "Mateo", "Priya", "Wei", "Ngozi", "Björn", "Selina", "Union", "Select", "Order", "Grant", "Sage",
    "Cat", "Curl", "Echo", "Chase", "Ping", "Dir",
];
const LAST: &[&str] = &[
    "O'Brien",
    "D'Angelo",
    "Smith-Jones",
    "van der Berg",
    "McDonald",
    "O'Neil",
    "García",
    "Nguyen",
    "Müller",
    "Kowalski",
    "Dubois",
    "Rossi",
    "Okafor",
    "Tanaka",
    "Al-Farsi",
    "Andersson",
    "St. John",
    "de la Cruz",
    "Null",
    "Drop",
    "Table",
    "Script",
    "Alert",
    "Sleep",
    "Iframe",
    "Select",
    "Or",
    "And",
];
const STREETS: &[&str] = &[
    "Main St.",
    "Rue de l'Église",
    "Baker Street",
    "O'Connell St",
    "5th Ave, Apt #12",
    "Route 66",
    "Königsallee",
    "Calle 13 #45-67",
    "1/2 Elm Rd",
    "P.O. Box 1234",
    "Unit 4B, 221B Baker St",
    "Av. Paulista, 1000 - Bela Vista",
];
const CITIES: &[&str] =
    &["Springfield", "Paris", "Dublin", "São Paulo", "Zürich", "Portland, OR", "St. Louis", "Tokyo"];
const PROSE: &[&str] = &[
    "Great product, would buy again!",
    "The package arrived late; the box was damaged & wet.",
    "I can't log in since yesterday - it says \"invalid token\". Please help?",
    "Select the size you want, then click 'Add to cart'.",
    "Order #4521 hasn't shipped yet. Can you check?",
    "5 stars!!! <3",
    "Works as described (mostly). Battery life is ~8h, not 10h.",
    "Drop me a line when it's back in stock; I'll order two.",
    "Union members get 10% off -- see the FAQ.",
    "We're moving from v1.2 to v2.0; is the /v1 endpoint going away?",
    "My kid's school uses this; teachers love it.",
    "Price went from $19.99 to $24.99 overnight?!",
    "Please delete my account and all data (GDPR request).",
    "Update: the issue is fixed after I cleared the cache.",
    "Can I pay by card or only PayPal?",
    "Use the code SPRING-2024 at checkout.",
    "It's \"okay\" -- nothing special, but it's cheap.",
    "Q: does it fit a 15\" laptop? A: yes, barely.",
    "1 cup flour, 2 eggs, 1/2 tsp salt; mix & bake at 180°C for 20 min.",
    "Meeting moved to 3pm (was 2pm). Room: B-204.",
    "Where's my refund? It's been 3 weeks...",
    "The 'Sleep mode' setting drains the battery.",
    "Shipping to N. Ireland & the Isle of Man?",
    "Our team <engineering@example.com> will follow up.",
    "Ratio of 3:2 works best for prints; 16:9 for screens.",
    "I love it -- the colour is exactly as shown :)",
    "Can't find the 'Order by date' option in the app.",
    "He said: \"select whatever fits\" and left.",
    "50% cotton / 50% polyester, machine washable at 30°.",
    "Call me at (555) 010-9999 after 6 p.m.",
    "Step 1: unplug it. Step 2: wait 10s. Step 3: plug it back in.",
    "Best pizza in town -- try the 'diavola'!",
    "Is there a student discount? I'm at uni.",
    "Password reset emails go to spam, FYI.",
    "A & B vs. C | D: which plan should I choose?",
    "The command palette (Ctrl+Shift+P) doesn't open.",
    "Temperature range: -20 to +40 degrees.",
    "Run the installer, then restart; if it fails, email support.",
    "The cat knocked the echo device off the table, lol",
    "Time to exit the meeting? No, wait for the sleep timer.",
];
const QUERIES: &[&str] = &[
    "running shoes size 10",
    "usb-c to hdmi",
    "how to reset password",
    "red dress -sale",
    "\"exact phrase\" search",
    "c++ tutorial",
    "node.js vs deno",
    "best laptop 2024",
    "where is my order?",
    "50% off",
    "O'Reilly books",
    "tom & jerry",
    "a/b testing",
    "10 < x < 20",
    "select committee report",
    "union square hotels",
    "drop shipping",
    "order by phone",
    "cat food 5kg",
    "sleep apnea",
    "curl hair tips",
    "ping pong table",
    "echo dot",
    "exec summary",
    "python list comprehension",
    "insert coin",
    "delete account",
    "update drivers",
    "or gate vs and gate",
    "1=1 meaning",
    "what is 2+2",
    "html <br> tag",
    "javascript tutorial for beginners",
    "php vs python",
    "unix time",
    "ls -la meaning",
    "#1 bestseller",
    "c# async await",
    "x=y+z",
    "1/2 price",
];
const URLS: &[&str] = &[
    "https://www.example.com/products/123?ref=home",
    "https://cdn.example.net/img/a%20b.png",
    "http://blog.example.org/2024/05/hello-world/",
    "https://example.com/search?q=shoes&page=2",
    "https://api.example.com/v2/users/42/orders",
    "mailto:support@example.com",
    "https://maps.example.com/?ll=48.8584,2.2945&z=15",
    "https://example.com/callback#access_granted",
    "https://docs.example.io/en/latest/install.html#linux",
    "https://www.youtube.com/watch?v=dQw4w9WgXcQ&t=42s",
];
const CODE: &[&str] = &[
    "def add(a, b):\n    return a + b",
    "const total = items.reduce((s, x) => s + x.price, 0);",
    "for (let i = 0; i < n; i++) { sum += arr[i]; }",
    "fn main() { println!(\"hello {}\", name); }",
    "if err != nil { return fmt.Errorf(\"open: %w\", err) }",
    "<div class=\"card\"><p>Hello</p></div>",
    "import numpy as np\nx = np.arange(10)",
    "git commit -m \"fix typo\"",
    "{\"name\": \"widget\", \"tags\": [\"a\", \"b\"]}",
    "SUM(A1:A10)",
    "=VLOOKUP(B2, Sheet2!A:B, 2, FALSE)",
    "user.name = form.get('name', '').strip()",
    "public static void main(String[] args) {}",
    "list.sort(key=lambda x: x[1])",
    "<b>Note:</b> use <code>--force</code> with care",
    "docs/README.md",
    "let re = /^[a-z]+$/i;",
    "printf(\"%d items\\n\", count);",
    "SELECT is a keyword; FROM too.",
    "x += 1 # increment",
];
const OTHER: &[&str] = &[
    "2024-03-15",
    "15/03/2024",
    "12:30:45",
    "2024-03-15T12:30:45Z",
    "42",
    "-17.5",
    "1e10",
    "0x1F",
    "true",
    "null",
    "N/A",
    "#ff8800",
    "rgb(255, 136, 0)",
    "100%",
    "~/Documents",
    "C-3PO",
    "R2-D2",
    "AT&T",
    "Procter & Gamble",
    "Ben & Jerry's",
    "M&M's",
    "Toys\"R\"Us",
    "Yahoo!",
    "E*TRADE",
    "[draft] report v2",
    "{placeholder}",
    "<none>",
    "(optional)",
    "a, b, c",
    "key=value",
    "SKU-12345-XL",
    "ISBN 978-3-16-148410-0",
    "+1 555 010 9999",
    "jane.doe@example.com",
    "¯\\_(ツ)_/¯",
    "😀👍",
    "naïve café",
    "Привет мир",
    "こんにちは",
    "مرحبا",
];

/// `(field name, value)` pairs.
pub fn values() -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (i, first) in FIRST.iter().enumerate() {
        for (j, last) in LAST.iter().enumerate() {
            out.push(("name".to_owned(), format!("{first} {last}")));
            if (i + j) % 3 == 0 {
                let street = STREETS[(i * 7 + j) % STREETS.len()];
                let city = CITIES[(i + j * 3) % CITIES.len()];
                out.push(("address".to_owned(), format!("{} {street}, {city}", 1 + (i * 31 + j * 17) % 999)));
            }
        }
    }
    for (i, p) in PROSE.iter().enumerate() {
        out.push(("comment".to_owned(), (*p).to_owned()));
        out.push(("review".to_owned(), format!("{p} {}", PROSE[(i + 7) % PROSE.len()])));
        out.push(("subject".to_owned(), format!("Re: {}", PROSE[(i * 3) % PROSE.len()])));
    }
    for q in QUERIES {
        out.push(("q".to_owned(), (*q).to_owned()));
        out.push(("search".to_owned(), format!("{q} near me")));
    }
    for u in URLS {
        out.push(("url".to_owned(), (*u).to_owned()));
        out.push(("redirect_uri".to_owned(), (*u).to_owned()));
        out.push(("website".to_owned(), (*u).to_owned()));
    }
    for c in CODE {
        out.push(("snippet".to_owned(), (*c).to_owned()));
        out.push(("code".to_owned(), (*c).to_owned()));
    }
    for o in OTHER {
        out.push(("value".to_owned(), (*o).to_owned()));
        out.push(("title".to_owned(), format!("{o} - details")));
    }
    out
}
