//! Endpoint templates (`/users/{user_id}/orders`) and what they match: the one rule the block
//! list, the inventory's pins, the OpenAPI comparison and the detectors' SQL (`fits` in the
//! collector's `detect/rules.rs`, which the SQL compatibility test holds to [`fit`]) follow.
//!
//! - A path or template is its non-empty segments: `//a/b/` and `/a/b` are the same.
//! - A `{name}` segment of the template matches any one segment; a literal matches the same
//!   literal only, so a template's parameter is matched only by a parameter.
//! - As many segments on both sides.
//!
//! Templates are compared with templates ASCII-case-insensitively ([`fit`]: the inventory and
//! the detectors, where a spec's `/Users/{id}` documents `/users/{user_id}`); the block list
//! compares request paths exactly ([`Case::Exact`]), as paths are case-sensitive.

/// Non-empty path segments: `//a/b/` and `/a/b` are the same path.
pub fn segments(path: &str) -> impl Iterator<Item = &str> + Clone {
    path.split('/').filter(|s| !s.is_empty())
}

/// `{name}`: a parameter segment.
pub fn is_param(segment: &str) -> bool {
    segment.len() >= 2 && segment.starts_with('{') && segment.ends_with('}')
}

/// How literal segments compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Case {
    /// byte for byte (request paths: the block list)
    Exact,
    /// ASCII case ignored (templates against templates)
    Ignore,
}

/// Whether template segment `want` (`None`: a parameter) matches segment `seen`.
fn segment_fits(want: Option<&str>, seen: &str, case: Case) -> bool {
    match want {
        None => true,
        Some(literal) => match case {
            Case::Exact => literal == seen,
            Case::Ignore => literal.eq_ignore_ascii_case(seen),
        },
    }
}

/// How well `template` covers `observed` (a template or a path): `None` if it does not, else
/// the number of its literal segments (the more, the more specific the template).
fn fit_segments<'a>(
    template: impl Iterator<Item = Option<&'a str>>,
    mut observed: impl Iterator<Item = &'a str>,
    case: Case,
) -> Option<usize> {
    let mut literals = 0;
    for want in template {
        let seen = observed.next()?;
        if !segment_fits(want, seen, case) {
            return None;
        }
        literals += usize::from(want.is_some());
    }
    observed.next().is_none().then_some(literals)
}

/// How well template `template` covers `observed` (a template or a path), ASCII case ignored:
/// `None` if it does not, else the number of its literal segments. `fit("/a/{x}", "/A/b")` is
/// `Some(1)`; `fit("/a/b", "/a/{x}")` is `None`.
pub fn fit(template: &str, observed: &str) -> Option<usize> {
    let want = segments(template).map(|s| (!is_param(s)).then_some(s));
    fit_segments(want, segments(observed), Case::Ignore)
}

/// A template parsed once for matching many paths (the block list's rules).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    /// literal segments, `None` for a parameter
    segments: Vec<Option<String>>,
}

impl Template {
    pub fn parse(text: &str) -> Template {
        Template { segments: segments(text).map(|s| (!is_param(s)).then(|| s.to_owned())).collect() }
    }

    /// [`fit`] of this template and `observed`, literals compared as `case` says.
    pub fn fit(&self, observed: &str, case: Case) -> Option<usize> {
        fit_segments(self.segments.iter().map(Option::as_deref), segments(observed), case)
    }

    /// Whether a request path is this endpoint's, literals compared exactly.
    pub fn matches_path(&self, path: &str) -> bool {
        self.fit(path, Case::Exact).is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_fit_templates_and_paths() {
        assert_eq!(fit("/a/{x}", "/A/b"), Some(1));
        assert_eq!(fit("/a/{x}", "/a/{id}"), Some(1));
        assert_eq!(fit("/a/b", "/a/{x}"), None, "a parameter fits only a parameter");
        assert_eq!(fit("/a/{x}", "/a/b/c"), None);
        assert_eq!(fit("/a/{x}/c", "/a/b"), None);
        assert_eq!(fit("//a/b/", "/a/b"), Some(2));
        assert_eq!(fit("/", ""), Some(0));
        assert_eq!(fit("/{}", "/x"), Some(0), "`{{}}` is a parameter");
        assert_eq!(fit("/{/x", "/{/x"), Some(2), "`{{` alone is a literal");
    }

    #[test]
    fn request_paths_compare_exactly() {
        let t = Template::parse("/api/users/{id}");
        assert!(t.matches_path("/api/users/7") && t.matches_path("//api/users/7/"));
        assert!(!t.matches_path("/API/users/7") && !t.matches_path("/api/users") && !t.matches_path("/api/users/7/x"));
        assert_eq!(t.fit("/API/users/7", Case::Ignore), Some(2));
    }
}
