//! IPv6 addresses (IPv4 are digit runs, read by `numbers`).

use super::Emit;

pub(super) fn ipv6(b: &[u8], emit: &mut Emit<'_>) {
    let v6_char = |c: u8| c.is_ascii_hexdigit() || c == b':' || c == b'.';
    let mut i = 0;
    while i < b.len() {
        let run = b[i..].iter().take_while(|&&c| v6_char(c)).count();
        if (2..=45).contains(&run) {
            let mut token = &b[i..i + run];
            // a sentence's full stop, or a prefix length (`::/0`, `2001:db8::/32`)
            while let Some(stripped) = token.strip_suffix(b".") {
                token = stripped;
            }
            let run = if b.get(i + run) == Some(&b'/') { run } else { token.len() };
            let colons = token.iter().filter(|&&c| c == b':').count();
            // `fe80::1text`: the run goes on into a word, no address ends there
            let glued = (i > 0 && b[i - 1].is_ascii_alphanumeric())
                || b.get(i + run).is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_');
            if colons >= 2 && !glued {
                if let Ok(addr) = std::str::from_utf8(token).unwrap_or_default().parse::<std::net::Ipv6Addr>() {
                    let bare_unspecified = token == b"::"
                        && (i == 0 || b[i - 1] == b' ')
                        && b.get(i + run).is_none_or(|c| matches!(c, b' ' | b'/'));
                    if !addr.is_unspecified() || bare_unspecified {
                        emit("ip_address", 0.85);
                        return;
                    }
                }
            }
        }
        i += run.max(1);
    }
}
