//! Tests of the sensitive-data recognisers.

use super::checksums::{cpf_valid, luhn};
use super::iban::mod97;
use super::secrets::PREFIXES;
use super::summary::{MIN_SECRET_RUN, SECRET_PUNCTUATION};
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
fn free_text_keys_are_longer() {
    // 16 characters under a token's name: enough in a field, not in free text
    assert_eq!(classes("nonMatchingToken", "sz17kg7ufops8a3s"), vec!["api_key"]);
    assert!(classes("", "nonMatchingToken := \"sz17kg7ufops8a3s\"").is_empty());
    assert!(classes("", "notes = \"Maven - io.jsonwebtoken:jjwt-jackson-0.11.2\"").is_empty());
}
