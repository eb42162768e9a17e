//! Tests of the sensitive-data recognisers.

use super::checksums::{cpf_valid, luhn};
use super::iban::mod97;
use super::secrets::PREFIXES;
use super::summary::{MIN_SECRET_RUN, SECRET_PUNCTUATION};
use super::SECRET_CLASSES;
use super::*;

fn classes(key: &str, value: &str) -> Vec<&'static str> {
    static SECRETS: std::sync::OnceLock<Secrets> = std::sync::OnceLock::new();
    let secrets = SECRETS.get_or_init(Secrets::new);
    let mut out = Vec::new();
    scan(secrets, hint(key), value, crate::detect::shape::opaque(value.as_bytes()), &mut |c, _| out.push(c));
    out.sort_unstable();
    out.dedup();
    out
}

#[test]
fn validated_pii() {
    assert_eq!(classes("note", "card 4111 1111 1111 1111 exp"), vec!["credit_card"]);
    assert!(classes("note", "4111 1111 1111 1112").is_empty(), "Luhn fails");
    assert_eq!(classes("", "ssn 536-90-4399"), vec!["us_ssn"]);
    assert!(classes("", "000-12-3456").is_empty());
    assert_eq!(classes("", "GB82 WEST 1234 5698 7654 32"), vec!["iban"]);
    assert!(classes("", "GB82 WEST 1234 5698 7654 33").is_empty());
    assert_eq!(classes("", "mail me: jane.doe+x@example.co.uk."), vec!["email"]);
    assert!(classes("", "user@localhost").is_empty());
    assert_eq!(classes("", "from 10.0.0.12 and"), vec!["ip_address"]);
    assert!(classes("", "version 1.2.3.456").is_empty());
    assert_eq!(classes("", "2001:db8::8a2e:370:7334"), vec!["ip_address"]);
    assert!(classes("", "12:30:45").is_empty());
    assert_eq!(classes("", "+1 (415) 555-2671"), vec!["phone"]);
    assert_eq!(classes("", "415-555-2671"), vec!["phone"]);
    assert_eq!(classes("", "call 020 7946 0958 today"), vec!["phone"]);
    assert_eq!(classes("", "078.05.1123"), vec!["us_ssn"]);
    assert!(classes("", "fe80::1text").is_empty());
    assert_eq!(classes("", "fe80::1 text"), vec!["ip_address"]);
    assert!(classes("", "LV80 bANK 0000 4351 9500 1").is_empty());
    assert!(classes("", "EE38 A200 2210 2014 5685").is_empty());
    assert_eq!(classes("", "532.123.45.67"), vec!["phone"]);
    assert_eq!(classes("", "532 123 45 67"), vec!["phone"]);
    assert_eq!(classes("", "My Israeli number is 09-7625400"), vec!["phone"]);
    assert_eq!(classes("", "My CN number is 13812345678"), vec!["phone"]);
    assert_eq!(classes("", "09171234567"), vec!["phone"]);
    // named by the words before it, not by its shape
    assert_eq!(classes("", "Phone: 5321234567"), vec!["phone"]);
    assert_eq!(classes("", "mobile no. 5321234567"), vec!["phone"]);
    assert!(classes("", "order 5321234567").is_empty());
    assert!(classes("", "hotel 5321234567").is_empty());
    // 11 digits after a 0 that no mobile range starts with: tax and national IDs
    assert!(classes("", "02070803628").is_empty());
    assert!(classes("", "12345678901").is_empty());
    // digit groups inside a longer code are no phone number
    assert_eq!(classes("", "NL91 ABNA 0417 1643 00"), vec!["iban"]);
    assert!(classes("", "ref FO62 A460 0001 6316 35").is_empty());
    assert!(classes("", "MAC: 01-23-45-67-89-AB").is_empty());
    assert!(classes("", "2024-01-15").is_empty());
    assert_eq!(classes("", "2345 6789 0124"), vec!["aadhaar"]);
    assert_eq!(classes("", "3123:4567:8909"), vec!["aadhaar"]);
    assert!(classes("", "at 12:30:45 on port 8080:443").is_empty());
    assert_eq!(classes("", "10.0.0.1:8080"), vec!["ip_address"]);
    assert_eq!(classes("", "123.456.789-09"), vec!["br_cpf"]);
    assert_eq!(classes("", "1M8GDM9AXKP042788"), vec!["vin"]);
    assert_eq!(classes("", "37.774929, -122.419416"), vec!["coordinates"]);
}

#[test]
fn vendor_prefix_gate_lets_every_prefix_through() {
    let secret_char = |c: u8| c.is_ascii_alphanumeric() || SECRET_PUNCTUATION.contains(&c);
    for &(prefix, class, charset, min, _) in PREFIXES {
        if min == 0 {
            // checked by their own functions; the gate's special cases cover them
            continue;
        }
        assert!(prefix.bytes().all(secret_char), "{prefix} ({class}) has a character the gate splits runs at");
        let body_in_run = (0..=255u8).filter(|&c| charset(c)).all(secret_char);
        let run = if body_in_run { prefix.len() + min } else { prefix.len() };
        assert!(run >= MIN_SECRET_RUN, "{prefix} ({class}) can match in a run of {run} < {MIN_SECRET_RUN}");
    }
    // the special cases
    assert_eq!(classes("", "Authorization: Basic dTpwYXNz"), vec!["basic_auth"]);
    assert_eq!(classes("", "see https://ann:s3cret@example.com/x"), vec!["basic_auth"]);
}

#[test]
fn keys_decide_and_raise() {
    assert_eq!(classes("password", "hunter2"), vec!["password"]);
    assert!(classes("password_policy", "min 8").is_empty());
    assert!(classes("password", "********").is_empty());
    assert_eq!(classes("dateOfBirth", "1990-04-12"), vec!["date_of_birth"]);
    assert_eq!(classes("passport_no", "X1234567"), vec!["passport"]);
    assert_eq!(classes("client_secret", "q8ZtR2vN5mXkL9pW3sYh"), vec!["api_key"]);
    assert!(classes("client_secret", "aaaaaaaaaaaaaaaaaaaa").is_empty());
    assert_eq!(classes("ssn", "536904399"), vec!["us_ssn"]);
    assert_eq!(classes("phone", "5551234"), vec!["phone"]);
    assert_eq!(classes("lat", "48.8584"), vec!["coordinates"]);
}

#[test]
fn secrets_by_prefix_and_structure() {
    assert_eq!(classes("", "key AKIAZ3MHQ5TQ2VX7RD4K here"), vec!["aws_access_key"]);
    assert!(classes("", "AKIAZ3MHQ5TQ2VX7RD4").is_empty());
    assert!(classes("", "AKIAIOSFODNN7EXAMPLE").is_empty(), "documentation placeholder");
    assert_eq!(classes("", "ghp_R8vKq2LmZx9TnW4bYc7HfJ3sPd6GaE1uVo5N"), vec!["github_token"]);
    assert_eq!(classes("", "xoxb-483920175623-9182736450192-Zq8Rt3Lm5Vx2Nc7Kp1Wd4Hs6"), vec!["slack_token"]);
    assert_eq!(classes("", "xoxo-523423-234243-234233-e039d02840a0b9379c"), vec!["slack_token"], "legacy token");
    assert!(classes("", "xoxp-572370529330-573807301142-572331691188-####").is_empty(), "redacted");
    assert!(classes("", "xoxe.xoxp-1-SlackAppConfigurationAccessTokenHere").is_empty(), "too short");
    assert_eq!(classes("", "sk_live_4eC39HqLyjWDarjtT1zdp7dc"), vec!["stripe_key"]);
    assert_eq!(classes("", "-----BEGIN RSA PRIVATE KEY-----\nMIIE"), vec!["private_key"]);
    assert!(classes("", "-----BEGIN CERTIFICATE-----").is_empty());
    // gitleaks' false positives: armour around an example, or around nothing
    assert!(classes("", "-----BEGIN PRIVATE KEY-----\nanything\n-----END PRIVATE KEY-----").is_empty());
    assert!(classes("", "-----BEGIN OPENSSH PRIVATE KEY----------END OPENSSH PRIVATE KEY-----").is_empty());
    let body = "MC4CAQAwBQYDK2VwBCIEIGu8Rk2pQ7vX3nJmT9sLwYcA5hD1eF6gZ0bN4oP8qU2r\nMC4CAQAwBQYDK2Vw";
    let key = format!("-----BEGIN PRIVATE KEY-----\n{body}\n-----END PRIVATE KEY-----");
    assert_eq!(classes("", &key), vec!["private_key"]);
    assert!(classes("", "GR134894112312312312312312312").is_empty(), "a repeated unit is a placeholder");
    assert!(classes("", "client_secret=bP88Q~xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx").is_empty());
    let jwt =
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";
    assert_eq!(classes("", jwt), vec!["jwt"]);
    assert_eq!(classes("", "Authorization: Basic dXNlcjpwYXNzd29yZA=="), vec!["basic_auth"]);
    assert_eq!(classes("", "postgres://app:s3cret@db.internal:5432/x"), vec!["basic_auth"]);
    assert!(classes("", "https://example.com/a@b").is_empty());
}

#[test]
fn names_say_whose_key() {
    // IBM Cloud's and Atlassian's keys have no prefix: the name says whose, the shape confirms it
    let ibm = "0viPHOY7LbLNa9eLftrtHPpTjoGv6hbLD1QalRXikliJ";
    assert_eq!(classes("ibm_api_key", ibm), vec!["service_token"]);
    assert_eq!(classes("BLUEMIX_APIKEY", ibm), vec!["service_token"]);
    assert_eq!(classes("apikey", ibm), vec!["api_key"], "no IBM in the name");
    assert_eq!(classes("ibm_api_key", &ibm[1..]), vec!["api_key"], "43: only a generic key");
    assert!(classes("ibm_api_key", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx").is_empty());
    assert_eq!(classes("confluence_token", "05vwj5j3qw8w5rh3rbo32b32"), vec!["service_token"]);
    assert_eq!(classes("jira_token", "05vwj5j3qw8w5rh3rbo32b3"), vec!["api_key"], "23: only a generic token");
    // `DB_PASS`, `dbPass`, `user_auth`, `.npmrc`'s `_auth`; not `bypass`, `author`, `oauth`
    assert_eq!(classes("DB_PASS", "hunter2"), vec!["password"]);
    assert_eq!(classes("smtpPass", "hunter2"), vec!["password"]);
    assert!(classes("bypass", "1234567").is_empty());
    assert_eq!(classes("user_auth", "am9obmRvZTpkMDY5NGIxYi1jMTcxLTQ4ODYt"), vec!["api_key"]);
    assert_eq!(classes("_auth", "dXNlcjpTM2NyZXRQYXNzd29yZDEyMw=="), vec!["api_key"]);
    assert!(classes("author", "Jane Q. Public 1234567890").is_empty());
    assert!(classes("oauth", "enabled2fa4everAndEver").is_empty());
    assert!(classes("ibm_api_keyé", "x").is_empty(), "a name ending in a multi-byte character");
}

#[test]
fn checksums() {
    assert!(luhn(&[4, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]));
    assert!(cpf_valid(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 9]));
    assert!(!cpf_valid(&[1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]));
    assert!(mod97(b"DE89370400440532013000"));
}

/// Deterministic samples: xorshift, so a failure names a reproducible value.
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick(&mut self, alphabet: &[u8], n: usize) -> String {
        (0..n).map(|_| alphabet[self.below(alphabet.len())] as char).collect()
    }
}

const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const B64URL: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const HEX: &[u8] = b"0123456789abcdef";
const DIGITS: &[u8] = b"0123456789";

fn b64url_no_pad(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Vendor formats as published: Discord's `<base64 user id>.<timestamp>.<HMAC>`, Telegram's
/// `<bot id>:<35>`, Mailchimp's `<32 hex>-us<dc>`, JFrog's `AKCp` API keys and `reftkn`
/// reference tokens, IBM Cloud's 44-character IAM keys, npm's `npm_` and legacy UUID tokens,
/// SendGrid's `SG.<22>.<43>`.
fn vendor_sample(kind: usize, g: &mut Gen) -> (String, String) {
    match kind {
        0 => {
            let id_len = 17 + g.below(3);
            let id = format!("{}{}", 1 + g.below(9), g.pick(DIGITS, id_len - 1));
            let hmac_len = if g.below(2) == 0 { 27 } else { 38 };
            let hmac = g.pick(B64URL, hmac_len);
            ("discord".into(), format!("{}.{}.{hmac}", b64url_no_pad(id.as_bytes()), g.pick(B64URL, 6)))
        }
        1 => {
            let id_len = 7 + g.below(3);
            let id = format!("{}{}", 1 + g.below(9), g.pick(DIGITS, id_len));
            ("telegram".into(), format!("{id}:AA{}", g.pick(B64URL, 33)))
        }
        2 => ("mailchimp".into(), format!("{}-us{}", g.pick(HEX, 32), 1 + g.below(21))),
        3 => ("artifactory api key".into(), format!("AKCp{}", g.pick(ALNUM, 69))),
        4 => {
            let expiry = 1_700_000_000 + g.below(100_000_000);
            let plain = format!("reftkn:01:{expiry}:{}", g.pick(ALNUM, 27));
            use base64::Engine;
            ("artifactory reference token".into(), base64::engine::general_purpose::STANDARD.encode(plain))
        }
        5 => ("npm".into(), format!("npm_{}", g.pick(ALNUM, 36))),
        6 => {
            let h = g.pick(HEX, 32);
            let uuid = format!("{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..]);
            ("npm legacy".into(), format!("//registry.npmjs.org/:_authToken={uuid}"))
        }
        7 => ("sendgrid".into(), format!("SG.{}.{}", g.pick(B64URL, 22), g.pick(B64URL, 43))),
        _ => ("ibm cloud".into(), format!("IBM_CLOUD_API_KEY={}", g.pick(B64URL, 44))),
    }
}

/// The ways a secret sits in the text an API carries.
fn in_context(i: usize, secret: &str) -> String {
    match i % 6 {
        0 => secret.to_owned(),
        1 => format!("config loaded: {secret} (from env)"),
        2 => format!("{{\"value\": \"{secret}\"}}"),
        3 => format!("export VALUE='{secret}'\n"),
        4 => format!("<td>{secret}</td>"),
        _ => format!("- {secret},"),
    }
}

#[test]
fn vendor_formats_recall() {
    let mut g = Gen(0x9E37_79B9_7F4A_7C15);
    for kind in 0..9 {
        let mut missed = Vec::new();
        let n = 300;
        for i in 0..n {
            let (name, secret) = vendor_sample(kind, &mut g);
            let text = in_context(i, &secret);
            if !classes("", &text).contains(&"service_token") {
                missed.push(format!("{name}: {text}"));
            }
        }
        assert!(missed.is_empty(), "{} of {n} missed: {:?}", missed.len(), &missed[..missed.len().min(5)]);
    }
}

#[test]
fn vendor_formats_published_examples() {
    // the Discord API reference's and the Telegram Bot API's own examples
    assert_eq!(
        classes("", "Authorization: Bot MTk4NjIyNDgzNDcxOTI1MjQ4.Cl2FMQ.ZnCjm1XVW7vRze4b7Cq4se7kKWs"),
        vec!["service_token"]
    );
    assert_eq!(classes("", "token 110201543:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"), vec!["service_token"]);
    assert_eq!(
        classes("", "https://api.telegram.org/bot123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11/getMe"),
        vec!["service_token"]
    );
    assert_eq!(
        classes("", "SENDGRID_API_KEY=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"),
        vec!["api_key", "service_token"]
    );
    assert_eq!(
        classes("", "mailchimp_api_key: cefa780880ba5f5696192a34f6292c35-us18"),
        vec!["api_key", "service_token"]
    );
}

#[test]
fn vendor_formats_near_misses() {
    let misses = [
        // Discord: the first part is no user id, a part too short, a stand-in HMAC, dotted words
        "aGVsbG8gd29ybGQgMTIzNDU2Nzg.Cl2FMQ.ZnCjm1XVW7vRze4b7Cq4se7kKWs",
        "MTk4NjIyNDgzNDcxOTI1MjQ4.Cl2FM.ZnCjm1XVW7vRze4b7Cq4se7kKWs",
        "MTk4NjIyNDgzNDcxOTI1MjQ4.Cl2FMQ.ZnCjm1XVW7vRze4b7Cq4se7kKW",
        "MTk4NjIyNDgzNDcxOTI1MjQ4.Cl2FMQ.xxxxxxxxxxxxxxxxxxxxxxxxxxx",
        "MTk4NjIyNDgzNDcxOTI1MjQ4.Cl2FMQ.ZnCjm1XVW7vRze4b7Cq4se7kKWs.more",
        "org.springframework.boot.autoconfigure.jdbc.DataSourceAutoConfiguration",
        // Telegram: a short id, a short or long secret, not starting with A, glued, a stand-in
        "4196:Axjxjaphetu37117gciy2x4puyx4uai8ysl",
        "85689135360132108:A57sc37wy71gpn8ouys10oono0oy6_5b7ms",
        "89543904:A0_o1ma1-udk90ukx9pcorou7jkvo5e",
        "92664991:A_mzgw8tlhnddnlltj7dpy5v3acb39h2i_4b",
        "89543904:B0_o1ma1-udk90ukx9pcorou7jkvo5evbel",
        "id12345678:A0_o1ma1-udk90ukx9pcorou7jkvo5evbel",
        "123456789:AAxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        "at 12:30:45 AM, job 1700000000:Acknowledged by the operator on duty",
        // Mailchimp: 31 or 33 hex, upper case, another suffix, a longer number, a stand-in
        "efa780880ba5f5696192a34f6292c35-us18",
        "acefa780880ba5f5696192a34f6292c35-us18",
        "CEFA780880BA5F5696192A34F6292C35-us18",
        "cefa780880ba5f5696192a34f6292c35-eu18",
        "cefa780880ba5f5696192a34f6292c35-us185",
        "00000000000000000000000000000000-us1",
        "locale=cefa780880ba5f5696192a34f6292c35-used",
        // Artifactory: a body one short or long, a stand-in, a reference token that decodes to junk
        "AKCp5bueTFpfypEqQbGJPp7BHFDe4FQ95RTPYXaKFvjsawQqbyN8sg2GnDk26B1JFXnPKg9s",
        "AKCp5bueTFpfypEqQbGJPp7BHFDe4FQ95RTPYXaKFvjsawQqbyN8sg2GnDk26B1JFXnPKg9sMab",
        "AKCpXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
        "cmVmdGtuOjh4q7x4sn8zfxzzyomwqkii1q83r1pzzfeutdcgbe4qoqlgehvbxti32g1",
        // npm: the legacy slot filled at install time or with zeros; SendGrid without its dot
        "//registry.npmjs.org/:_authToken=${NPM_TOKEN}",
        "//registry.npmjs.org/:_authToken=00000000-0000-0000-0000-000000000000",
        "SG.t1jc54jf3li7meuk5dm-0jtebac_up1y12js9lt0e3rzgp8mao=xpafm2gps5llv0j",
        "SG.ngeVfQFYQlKU0ufo8x5d1ATwL2iGABf9DHoTf-09kqeF8tAmbihYzrnopKc-1s5cr",
        // GCP: `AIza` without `Sy`
        "AIzayDNSXIbFmlXbIE6mCzDLQAqITYefhixbX4A",
    ];
    for m in misses {
        assert!(classes("", m).is_empty(), "{m}: {:?}", classes("", m));
    }
}

#[test]
fn assignments_in_free_text() {
    let found = [
        ("password = \"hunter2!\"", "password"),
        ("DB_PASSWORD=s3cr3tPa55", "password"),
        ("spring.datasource.password: Tr0ub4dor&3", "password"),
        ("  password: 'admin'", "password"),
        ("mysql -u root --password=Xk29vLq1 db", "password"),
        ("$config['db_pass'] => 'pa55word!';", "password"),
        ("genericToken := \"Zf3D0LXCM3EIMbgJpUNnkRtOfOueHznB\"", "api_key"),
        ("\"client_secret\" : \"6da89121079f83b2eb6acccf8219ea982c3d79bccc3e9c6a85856480661f8fde\",", "api_key"),
        ("{\\\"api_key\\\": \\\"q8ZtR2vN5mXkL9pW3sYh\\\"}", "api_key"),
        ("GET /v1/me?access_token=EAAGm0PX4ZCpsBAKZC7g9hZB2eN3&fields=id", "api_key"),
        ("2024-05-01 INFO using apiKey=Qm9vYmFyQmF6cXV4MTIzNDU2 for upstream", "api_key"),
        ("AWS_SECRET_ACCESS_KEY ?= wJalrXUtnFEMI/K7MDENG/bPxRfiCYzz9Lq3Zw1p", "api_key"),
    ];
    for (text, class) in found {
        assert!(classes("", text).contains(&class), "{text}: {:?}", classes("", text));
    }
    let ignored = [
        "password = \"changeme\"",
        "password: ${DB_PASSWORD}",
        "password = \"<your-password>\"",
        "PASSWORD=%DB_PASSWORD%",
        "password: {{ .Values.password }}",
        "password = os.environ['DB_PASSWORD']",
        "password = request.form.get('password')",
        "administrator_login_password = var.db_password",
        "password: str",
        "password: String,",
        "  password: Option<String>,",
        "password: required",
        "Reset your password: click the link",
        "password = \"********\"",
        "password=xxxxxxxx",
        "password: !vault |",
        "password == other",
        "password: \"\"",
        "api_key = \"YOUR_API_KEY_HERE\"",
        "CO_API_KEY=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        "SUMO_ACCESS_KEY={SumoAccessKey}",
        "SUMO_ACCESS_KEY=`etcdctl get /sumologic_secret`",
        "sumo_access_key   = \"<SUMOLOGIC ACCESS KEY>\"",
        "token: process.env.GITHUB_TOKEN_FOR_RELEASES",
        "key_length = XSalsa20.key_length",
        "\"kms_key_id\": \"555ea4a3-d53a-4412-9c66-3a7cb667b0d6\",",
        "secret_key => \"sk_ubb4yN3mzqGR2x8#P7r5&@*xC$utE\"",
        "const privateaiToken = \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\";",
        "csrf-token=Mj2qykJO5rELyHgezQ69nzUX0i3OH67V7+V4eUrLfpuyOuxmiW9rhROG/Whikle15syazJOkrjJa3U2AbhIvUw==",
        "https://x.example/cb?state=abc&token_type=bearer",
    ];
    for text in ignored {
        assert!(classes("", text).is_empty(), "{text}: {:?}", classes("", text));
    }
}

#[test]
fn named_and_legacy_vendor_tokens() {
    // Atlassian's tokens before 2023 by the name in free text
    assert_eq!(classes("", "JIRA_API_TOKEN=HXe8DGg1iJd2AopzyxkFB7F2"), vec!["service_token"]);
    // Vault before 1.10, Square's access tokens
    assert_eq!(classes("", "token: s.ZC9Ecf4M5g9o34Q6RkzGsj0z"), vec!["api_key", "service_token"]);
    for m in [
        "s.xxxxxxxxxxxxxxxxxxxxxxxx",
        "s.THISSTRINGISALLUPPERCASE",
        "s.AcceptanceTimeoutSeconds ",
        "users.ZC9Ecf4M5g9o34Q6RkzGsj0z",
    ] {
        assert!(classes("", m).is_empty(), "{m}");
    }
    assert_eq!(
        classes("", "ARG token=EAAAlsBxkkVgvmr7FasTFbM6VUGZ31EJ4jZKTJZySgElBDJ_wyafHuBFquFexY7E"),
        vec!["api_key", "service_token"]
    );
    // `_auth` in an `.npmrc` is base64 of `user:password`
    assert_eq!(classes("", "_auth=dXNlcjpTM2NyZXRQYXNzd29yZDEyMw=="), vec!["api_key"]);
    assert!(classes("", "oauth=enabled2fa").is_empty());
    assert_eq!(classes("", "smtp.pass=Xk29vLq1"), vec!["password"]);
    assert!(classes("", "bypass=1234567").is_empty());
}

#[test]
fn free_text_keys_are_longer() {
    // 16 characters under a token's name: enough in a field, not in free text
    assert_eq!(classes("nonMatchingToken", "sz17kg7ufops8a3s"), vec!["api_key"]);
    assert!(classes("", "nonMatchingToken := \"sz17kg7ufops8a3s\"").is_empty());
    assert!(classes("", "notes = \"Maven - io.jsonwebtoken:jjwt-jackson-0.11.2\"").is_empty());
}

/// Each sample of `vendor_sample` broken in the one way its format forbids.
fn break_format(kind: usize, sample: &str) -> String {
    let mut s = sample.to_owned();
    match kind {
        // the user id no longer starts as a base64 snowflake does
        0 => s.replace_range(..1, "A"),
        // the secret no longer starts with `A`
        1 => {
            let colon = s.find(':').unwrap_or(0);
            s.replace_range(colon + 1..colon + 2, "B");
        }
        // upper-case hex is not Mailchimp's
        2 => s = s.to_ascii_uppercase().replace("-US", "-us"),
        // one character short
        3..=5 | 8 => {
            s.pop();
        }
        // the UUID without its last dash
        6 => {
            let dash = s.rfind('-').unwrap_or(0);
            s.remove(dash);
        }
        // SendGrid's dot moved by one
        _ => s = format!("SG.{}{}", &s[4..26], &s[3..4]) + &s[26..],
    }
    s
}

#[test]
fn vendor_formats_broken_are_not_tokens() {
    let mut g = Gen(0xD1B5_4A32_D192_ED03);
    for kind in 0..9 {
        let mut flagged = Vec::new();
        for i in 0..300 {
            let (name, secret) = vendor_sample(kind, &mut g);
            let text = in_context(i, &break_format(kind, &secret));
            if classes("", &text).contains(&"service_token") {
                flagged.push(format!("{name}: {text}"));
            }
        }
        assert!(flagged.is_empty(), "{} flagged: {:?}", flagged.len(), &flagged[..flagged.len().min(5)]);
    }
}

#[test]
fn the_credentials_are_the_tail_of_the_sensitive_classes() {
    assert_eq!(SECRET_CLASSES.first(), Some(&"jwt"));
    assert_eq!(SECRET_CLASSES.last(), Some(&"api_key"));
    for class in ["password", "private_key", "stripe_key", "bearer_token", "basic_auth"] {
        assert!(SECRET_CLASSES.contains(&class), "{class}");
    }
    for class in ["email", "credit_card", "phone", "vin"] {
        assert!(!SECRET_CLASSES.contains(&class), "{class}");
    }
}
