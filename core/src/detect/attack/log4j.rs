//! Log4Shell: JNDI lookups, also behind nested `${lower:}`, `${::-x}` and `${env:x:-y}` lookups.

/// `${jndi:...}` after resolving the nested lookups used to hide it (`${lower:j}`,
/// `${::-n}`, `${env:X:-d}`).
#[inline(never)]
pub(super) fn log4j(v: &str) -> Option<&'static str> {
    if !v.contains("${") {
        return None;
    }
    let mut s = v.to_owned();
    for _ in 0..16 {
        let Some(start) = find_innermost_lookup(&s) else { break };
        let Some(len) = s[start..].find('}') else { break };
        let inner = &s[start + 2..start + len];
        let replacement = if let Some(pos) = inner.find(":-") {
            inner[pos + 2..].to_owned()
        } else if let Some(rest) = inner.strip_prefix("lower:").or_else(|| inner.strip_prefix("upper:")) {
            rest.to_owned()
        } else {
            break;
        };
        s.replace_range(start..start + len + 1, &replacement);
    }
    const LOOKUPS: &[&str] = &[
        "${jndi:",
        "${env:",
        "${sys:",
        "${java:",
        "${ctx:",
        "${main:",
        "${sd:",
        "${docker:",
        "${k8s:",
        "${spring:",
        "${base64:",
        "${bundle:",
        "${web:",
        "${log4j:",
        "${marker:",
        "${jvmrunargs:",
        "${date:",
        "${event:",
    ];
    LOOKUPS.iter().any(|l| s.contains(l)).then_some("Log4j lookup")
}

/// Start of a `${` whose body has no further `${` (the innermost one).
fn find_innermost_lookup(s: &str) -> Option<usize> {
    let mut best = None;
    let mut from = 0;
    let mut rounds = 0;
    while let Some(p) = s[from..].find("${") {
        rounds += 1;
        if rounds > 64 {
            break;
        }
        let pos = from + p;
        let close = s[pos..].find('}').map(|c| pos + c);
        let next_open = s[pos + 2..].find("${").map(|n| pos + 2 + n);
        match (close, next_open) {
            (Some(c), Some(n)) if n < c => from = pos + 2,
            (Some(c), _) => {
                let inner = &s[pos + 2..c];
                if inner.contains(":-") || inner.starts_with("lower:") || inner.starts_with("upper:") {
                    best = Some(pos);
                    break;
                }
                from = pos + 2;
            }
            _ => break,
        }
    }
    best
}
