use super::*;
use proptest::prelude::*;

#[test]
fn replaces_id_like_segments() {
    let cases = [
        ("/users/123", "/users/{id}"),
        ("/users/123/orders/456", "/users/{id}/orders/{id}"),
        ("/items/3fa85f64-5717-4562-b3fc-2c963f66afa6", "/items/{id}"),
        ("/objects/507f1f77bcf86cd799439011", "/objects/{id}"),
        ("/customers/cus_9Xk2LmQ8aa", "/customers/{id}"),
        ("/events/01ARZ3NDEKTSV4RRFFQ69G5FAV", "/events/{id}"),
        ("/reports/2024-01-31", "/reports/{date}"),
        ("/people/alice@example.com", "/people/{email}"),
        ("/", "/"),
        ("", "/"),
    ];
    for (path, want) in cases {
        assert_eq!(template_path(path), want, "path {path}");
    }
}

#[test]
fn keeps_literal_words() {
    for path in ["/users/me", "/users/search", "/v2/orders", "/api/v1/health", "/static/app.js"] {
        assert_eq!(template_path(path), path);
    }
}

#[test]
fn keeps_trailing_slash() {
    assert_eq!(template_path("/users/42/"), "/users/{id}/");
}

proptest! {
    #[test]
    fn never_panics_and_keeps_segment_count(path in "\\PC{0,200}") {
        let templated = template_path(&path);
        prop_assert_eq!(templated.matches('/').count(), path.matches('/').count().max(usize::from(path.is_empty())));
    }
}
