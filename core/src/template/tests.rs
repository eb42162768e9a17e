use super::*;
use proptest::prelude::*;

#[test]
fn replaces_id_like_segments() {
    let cases = [
        ("/users/123", "/users/{user_id}"),
        ("/users/123/orders/456", "/users/{user_id}/orders/{order_id}"),
        ("/items/3fa85f64-5717-4562-b3fc-2c963f66afa6", "/items/{item_id}"),
        ("/objects/507f1f77bcf86cd799439011", "/objects/{object_id}"),
        ("/customers/cus_9Xk2LmQ8aa", "/customers/{customer_id}"),
        ("/events/01ARZ3NDEKTSV4RRFFQ69G5FAV", "/events/{event_id}"),
        ("/categories/7", "/categories/{category_id}"),
        ("/addresses/7", "/addresses/{address_id}"),
        ("/payment-methods/7", "/payment-methods/{payment_method_id}"),
        ("/v2/42", "/v2/{id}"),
        ("/a/1/a/2", "/a/{id}/a/{id_2}"),
        ("/users/1/2", "/users/{user_id}/{id}"),
        ("/account/42", "/account/{account_id}"),
        ("/v1/accounts/acct_DmYpIkHxBljSJP", "/v1/accounts/{account_id}"),
        ("/tokens/dGhpcyBpcyBhIHRlc3QgdG9rZW4", "/tokens/{token_id}"),
        ("/orders/order20240115abcdef", "/orders/{order_id}"),
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
    for path in [
        "/users/me",
        "/users/search",
        "/v2/orders",
        "/api/v1/health",
        "/static/app.js",
        // found by the OpenAPI corpus benchmark (DigitalOcean OpenAPI, Apache-2.0; see NOTICE):
        // words with a number; and camelCase
        "/v2/monitoring/metrics/load_balancer/droplets_http_response_time_50p",
        "/api/getUserProfileSettings",
        "/api/listAllUsersForAnOrg",
        "/v1/beta/resourcePolicies2",
    ] {
        assert_eq!(template_path(path), path);
    }
}

#[test]
fn keeps_trailing_slash() {
    assert_eq!(template_path("/users/42/"), "/users/{user_id}/");
}

proptest! {
    #[test]
    fn never_panics_and_keeps_segment_count(path in "\\PC{0,200}") {
        let templated = template_path(&path);
        prop_assert_eq!(templated.matches('/').count(), path.matches('/').count().max(usize::from(path.is_empty())));
    }
}

#[test]
fn format_extensions_and_custom_methods_stay_beside_the_id() {
    assert_eq!(template_path("/admin/badges/85860563.json"), "/admin/badges/{badge_id}.json");
    assert_eq!(template_path("/t/2024-03-01.xml"), "/t/{date}.xml");
    assert_eq!(template_path("/v1/secrets/8f14e45fceea167a5a36dedd4bea2543:open"), "/v1/secrets/{secret_id}:open");
    // words with an extension or a colon are words; emails and domains keep their dots
    assert_eq!(template_path("/site.json"), "/site.json");
    assert_eq!(template_path("/v1/projects:batchGet"), "/v1/projects:batchGet");
    assert_eq!(template_path("/users/jane.doe@example.com"), "/users/{email}");
    assert_eq!(template_path("/domains/example.com"), "/domains/example.com");
    assert_eq!(template_path("/files/123.tar.gz"), "/files/123.tar.gz");
}
