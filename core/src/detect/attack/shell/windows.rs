//! Windows commands (`dir c:\\`, `for /f`, `if exist`) and one-word probes (`which`, `sleep 5`).

use super::words::{known_command, INTERPRETERS, TOOL_FAMILIES, WINDOWS_PATH_COMMANDS};

/// Values that are a Windows command on a drive or variable (`dir c:\users`, `type
/// %systemroot%\win.ini`), `which <program>`, or a time-delay probe (`sleep 5`).
pub(super) fn windows_or_probe_command(b: &[u8]) -> Option<&'static str> {
    let text = std::str::from_utf8(b).ok()?;
    let mut words = text.split_whitespace();
    let (first, second) = (words.next()?, words.next().unwrap_or_default());
    // `'cscli' alerts list`: quotes the shell removes
    let first = first.trim_matches(['\'', '"']);
    let drive = second.len() >= 3 && second.as_bytes()[1] == b':' && matches!(second.as_bytes()[2], b'\\' | b'/');
    let variable = second.starts_with('%') && second[1..].contains('%');
    if WINDOWS_PATH_COMMANDS.contains(&first) && (drive || variable) {
        return Some("Windows command on a path");
    }
    if first == "which" && known_command(second) {
        return Some("value is a shell command");
    }
    if first == "alias" && text.contains('=') {
        return Some("shell alias definition");
    }
    // tool families (`ansible-vault`, `chef-shell`, `rmt-tar`) and interpreters with a version
    // (`python3.10`): no prose starts with them
    let family = TOOL_FAMILIES.iter().any(|f| first.starts_with(f));
    let versioned = first.trim_end_matches(|c: char| c.is_ascii_digit() || c == '.');
    let interpreter_version =
        versioned != first && first[versioned.len()..].contains('.') && INTERPRETERS.contains(&versioned);
    if family || interpreter_version {
        return Some("value is a shell command");
    }
    // `/bin/unxz -c ...`, `bin/cscli`: a program by its path
    for root in ["/bin/", "/sbin/", "/usr/bin/", "/usr/sbin/", "/usr/local/bin/", "bin/"] {
        if let Some(program) = first.strip_prefix(root) {
            if !program.is_empty()
                && program.bytes().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
            {
                return Some("program run by its path");
            }
        }
    }
    // programs no English text starts with, whatever follows them
    const NEVER_WORDS: &[&str] = &[
        "netsh",
        "ipconfig",
        "ifconfig",
        "whoami",
        "nslookup",
        "netstat",
        "systeminfo",
        "tasklist",
        "taskkill",
        "powershell",
        "certutil",
        "bitsadmin",
        "wmic",
        "regsvr32",
        "rundll32",
        "mshta",
        "cscript",
        "wscript",
        "iptables",
        "tcpdump",
        "useradd",
        "usermod",
        "chmod",
        "chown",
        "crontab",
        "nohup",
        "schtasks",
        "vssadmin",
        "cscli",
        "visudo",
        "regedit",
        "bcdboot",
    ];
    if NEVER_WORDS.contains(&first) && !second.is_empty() {
        return Some("value is a shell command");
    }
    if (first == "net"
        && matches!(second, "user" | "localgroup" | "view" | "share" | "use" | "start" | "stop" | "group"))
        || (first == "reg" && matches!(second, "add" | "query" | "delete" | "save" | "export" | "import"))
    {
        return Some("Windows command");
    }
    if matches!(first, "echo" | "printf") && second.starts_with(['\'', '"']) && text.contains(['<', '>', '|']) {
        return Some("shell output redirection");
    }
    if first == "sleep" && !second.is_empty() && second.bytes().all(|c| c.is_ascii_digit()) && words.next().is_none() {
        return Some("time-delay probe");
    }
    None
}

pub(super) fn windows_batch(b: &[u8]) -> Option<&'static str> {
    let text = std::str::from_utf8(b).ok()?;
    let words: Vec<&str> = text.split_whitespace().take(64).collect();
    const COMPARE: &[&str] = &["==", "equ", "neq", "lss", "leq", "gtr", "geq"];
    for (i, w) in words.iter().enumerate() {
        let w = w.trim_start_matches(['&', '|', ';', '(', '@']);
        let next = words.get(i + 1).copied().unwrap_or_default();
        let start_of_command = i == 0 || words[i - 1].ends_with(['&', '|', ';', '(']) || w != words[i];
        if w == "for"
            && (next.starts_with("/f")
                || next.starts_with("/d")
                || next.starts_with("/r")
                || next.starts_with("/l")
                || next.starts_with('%'))
        {
            return Some("Windows FOR command");
        }
        let (w, glued) = match w.strip_prefix("if/i") {
            Some(rest) => ("if", Some(rest)),
            None => (w, None),
        };
        if w == "if" && start_of_command {
            if glued.is_some()
                || next.starts_with('%')
                || next.starts_with("\"%")
                || next.starts_with("\"!")
                || matches!(next, "exist" | "not" | "errorlevel" | "defined" | "/i" | "cmdextversion")
            {
                return Some("Windows IF command");
            }
            let rest = &words[i + 1..words.len().min(i + 5)];
            if rest.iter().any(|r| COMPARE.contains(r) || r.contains("==")) {
                return Some("Windows IF command");
            }
        }
    }
    None
}
