//! Walkers over the non-JSON parts of a message: query strings and url-encoded forms, cookies,
//! multipart forms. Each is bounded (`MAX_PAIRS` values) and tolerates invalid encodings.

use percent_encoding::percent_decode_str;
use std::borrow::Cow;

/// Most values taken from one query string, form, cookie header or multipart body.
pub const MAX_PAIRS: usize = 256;

/// `+` and percent decoding, lossy on invalid UTF-8.
pub fn form_decode(raw: &str) -> Cow<'_, str> {
    if !raw.contains(['+', '%']) {
        return Cow::Borrowed(raw);
    }
    let plus = raw.replace('+', " ");
    Cow::Owned(percent_decode_str(&plus).decode_utf8_lossy().into_owned())
}

/// Decoded `(name, value)` pairs of `a=1&b=2`. A pair without `=` has an empty value; a
/// value-less query like `?<script>` is kept as a name so it is still scanned.
pub fn form_pairs(raw: &str) -> impl Iterator<Item = (String, String)> + '_ {
    raw.split('&').filter(|p| !p.is_empty()).take(MAX_PAIRS).map(|pair| {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        (form_decode(name).into_owned(), form_decode(value).into_owned())
    })
}

/// `a=1; b=2` as `(name, value)`, values as sent (cookies are not form-encoded).
pub fn cookie_pairs(raw: &str) -> impl Iterator<Item = (&str, &str)> + '_ {
    raw.split(';').take(MAX_PAIRS).filter_map(|pair| {
        let pair = pair.trim();
        if pair.is_empty() {
            return None;
        }
        let (name, value) = pair.split_once('=').unwrap_or(("", pair));
        Some((name.trim(), value.trim().trim_matches('"')))
    })
}

/// `a=1&b=2` without spaces before the first `=`: a form body sent without a content type.
pub fn looks_like_form(text: &str) -> bool {
    let head = text.split('&').next().unwrap_or_default();
    head.split_once('=').is_some_and(|(name, _)| {
        !name.is_empty() && name.bytes().all(|c| c.is_ascii_graphic() && c != b'<' && c != b'{')
    })
}

/// Element text and attribute values of an XML document as `(element or attribute name,
/// value)`, entity references left as they are. Tolerates broken and truncated documents.
pub fn xml_values(text: &str) -> Vec<(&str, &str)> {
    let mut out = Vec::new();
    let mut rest = text;
    let mut element = "";
    while let Some(lt) = rest.find('<') {
        let before = rest[..lt].trim();
        if !before.is_empty() && !element.is_empty() {
            out.push((element, before));
        }
        rest = &rest[lt + 1..];
        let end = rest.find('>').unwrap_or(rest.len());
        let tag = &rest[..end];
        rest = rest.get(end + 1..).unwrap_or_default();
        if tag.starts_with(['/', '?', '!']) {
            continue;
        }
        let name_end = tag.find(|c: char| c.is_whitespace() || c == '/').unwrap_or(tag.len());
        element = &tag[..name_end];
        let mut attrs = &tag[name_end..];
        while let Some(eq) = attrs.find('=') {
            let name = attrs[..eq].trim();
            let after = attrs[eq + 1..].trim_start();
            let Some(quote) = after.chars().next().filter(|c| *c == '"' || *c == '\'') else { break };
            let body = &after[1..];
            let close = body.find(quote).unwrap_or(body.len());
            out.push((name, &body[..close]));
            attrs = body.get(close + 1..).unwrap_or_default();
        }
        if out.len() >= MAX_PAIRS {
            break;
        }
    }
    out.truncate(MAX_PAIRS);
    out
}

/// One field of a multipart body.
#[derive(Debug, PartialEq, Eq)]
pub struct MultipartField<'a> {
    pub name: String,
    pub filename: Option<&'a str>,
    pub value: &'a str,
}

/// The fields of a `multipart/form-data` body, by the boundary in its content type. A body cut
/// short yields the fields before the cut and the start of the last one.
pub fn multipart_fields<'a>(content_type: &str, body: &'a str) -> Vec<MultipartField<'a>> {
    let Some(boundary) = content_type.split(';').find_map(|p| {
        let (k, v) = p.trim().split_once('=')?;
        k.trim().eq_ignore_ascii_case("boundary").then(|| v.trim().trim_matches('"'))
    }) else {
        return Vec::new();
    };
    if boundary.is_empty() {
        return Vec::new();
    }
    let delimiter = format!("--{boundary}");
    let mut fields = Vec::new();
    for section in body.split(delimiter.as_str()).skip(1).take(MAX_PAIRS) {
        if section.starts_with("--") {
            break;
        }
        let section = section.strip_prefix("\r\n").or_else(|| section.strip_prefix('\n')).unwrap_or(section);
        let (head, value) = match section.find("\r\n\r\n") {
            Some(i) => (&section[..i], &section[i + 4..]),
            None => match section.find("\n\n") {
                Some(i) => (&section[..i], &section[i + 2..]),
                None => (section, ""),
            },
        };
        let value = value.strip_suffix("\r\n").or_else(|| value.strip_suffix('\n')).unwrap_or(value);
        let mut name = String::new();
        let mut filename = None;
        for line in head.lines() {
            let Some((header, rest)) = line.split_once(':') else { continue };
            if !header.trim().eq_ignore_ascii_case("content-disposition") {
                continue;
            }
            for param in rest.split(';').skip(1) {
                let Some((k, v)) = param.trim().split_once('=') else { continue };
                let v = v.trim().trim_matches('"');
                match k.trim().to_ascii_lowercase().as_str() {
                    "name" => name = v.to_owned(),
                    "filename" => filename = Some(v),
                    _ => {}
                }
            }
        }
        fields.push(MultipartField { name, filename, value });
    }
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_decode() {
        let pairs: Vec<_> = form_pairs("q=a+b%27&x&=v&%3Cs%3E").collect();
        let want = [("q", "a b'"), ("x", ""), ("", "v"), ("<s>", "")];
        assert_eq!(pairs, want.map(|(a, b)| (a.to_owned(), b.to_owned())));
    }

    #[test]
    fn cookies() {
        let pairs: Vec<_> = cookie_pairs("a=1; b=\"x y\";;c").collect();
        assert_eq!(pairs, vec![("a", "1"), ("b", "x y"), ("", "c")]);
    }

    #[test]
    fn form_bodies() {
        assert!(looks_like_form("a=1&b=2"));
        assert!(!looks_like_form("hello world = 2"));
    }

    #[test]
    fn xml() {
        let got = xml_values("<?xml version=\"1.0\"?><root><a probe=\"1 or 1=1\" b='x'>text &amp; more</a><c/></root>");
        assert_eq!(got, vec![("probe", "1 or 1=1"), ("b", "x"), ("a", "text &amp; more")]);
        assert_eq!(xml_values("<a>cut"), Vec::<(&str, &str)>::new());
    }

    #[test]
    fn multipart() {
        let body = "--XX\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nhello\r\n--XX\r\nContent-Disposition: form-data; name=\"f\"; filename=\"../x.php\"\r\nContent-Type: text/plain\r\n\r\n<?php ?>\r\n--XX--\r\n";
        let fields = multipart_fields("multipart/form-data; boundary=XX", body);
        assert_eq!(fields.len(), 2);
        assert_eq!(fields[0], MultipartField { name: "a".into(), filename: None, value: "hello" });
        assert_eq!(fields[1].filename, Some("../x.php"));
        assert_eq!(fields[1].value, "<?php ?>");
        assert!(multipart_fields("multipart/form-data", body).is_empty());
        let cut = multipart_fields("multipart/form-data; boundary=XX", &body[..40]);
        assert_eq!(cut.len(), 1);
    }
}
