//! Request-line and header parsing helpers: query parameter names, forwarded-for chains.

use percent_encoding::percent_decode_str;

/// Most query parameter names kept per request.
pub const MAX_QUERY_PARAMS: usize = 64;
/// Most forwarded-for entries kept per request.
pub const MAX_FORWARDED_FOR: usize = 16;

/// Splits `/a/b?x=1` into (`/a/b`, `x=1`); the fragment, if a client sent one, is dropped.
pub fn split_path_query(raw: &str) -> (&str, &str) {
    let without_fragment = raw.split('#').next().unwrap_or(raw);
    without_fragment.split_once('?').unwrap_or((without_fragment, ""))
}

/// Decoded, de-duplicated parameter names in order of first appearance.
pub fn query_param_names(query: &str) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for pair in query.split('&') {
        if names.len() >= MAX_QUERY_PARAMS {
            break;
        }
        let raw_name = pair.split('=').next().unwrap_or_default();
        if raw_name.is_empty() {
            continue;
        }
        let plus_decoded = raw_name.replace('+', " ");
        let name = percent_decode_str(&plus_decoded).decode_utf8_lossy().into_owned();
        if !names.contains(&name) {
            names.push(name);
        }
    }
    names
}

/// `x-forwarded-for: client, proxy1, proxy2` as a list, client first.
pub fn forwarded_for(header: &str) -> Vec<String> {
    header.split(',').map(str::trim).filter(|s| !s.is_empty()).take(MAX_FORWARDED_FOR).map(str::to_owned).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_decoded_and_unique() {
        assert_eq!(query_param_names("a=1&b=2&a=3&c%5B%5D=x&first+name=z&&=q"), vec!["a", "b", "c[]", "first name"]);
        assert_eq!(query_param_names(""), Vec::<String>::new());
        assert_eq!(query_param_names("%ff=1"), vec!["\u{fffd}"]);
    }

    #[test]
    fn split_path() {
        assert_eq!(split_path_query("/a?b=1#f"), ("/a", "b=1"));
        assert_eq!(split_path_query("/a#f?x"), ("/a", ""));
        assert_eq!(split_path_query("/a"), ("/a", ""));
    }

    #[test]
    fn forwarded() {
        assert_eq!(forwarded_for(" 1.2.3.4, 10.0.0.1 ,"), vec!["1.2.3.4", "10.0.0.1"]);
    }
}
