//! The CLI's client for the collector's HTTP API: bearer token, who is acting, and errors that
//! carry the collector's message.

use anyhow::Context;

pub struct ApiClient {
    pub base: String,
    pub http: reqwest::Client,
    token: String,
    actor: String,
}

impl ApiClient {
    pub fn new(api: &str, token: Option<&str>) -> anyhow::Result<Self> {
        let token =
            token.context("a token is needed: --token or MESHWARD_API_TOKEN (api.read_tokens, api.admin_tokens)")?;
        let user = std::env::var("USER").unwrap_or_else(|_| "unknown".to_owned());
        Ok(ApiClient {
            base: api.trim_end_matches('/').to_owned(),
            http: reqwest::Client::new(),
            token: token.to_owned(),
            actor: format!("cli:{user}"),
        })
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Sends a request; a non-2xx answer becomes an error with the collector's message.
    pub async fn send(&self, request: reqwest::RequestBuilder) -> anyhow::Result<String> {
        let response = request
            .bearer_auth(&self.token)
            .header("x-meshward-actor", &self.actor)
            .send()
            .await
            .with_context(|| format!("reaching the collector at {}", self.base))?;
        let status = response.status();
        let body = response.text().await.context("reading the collector's answer")?;
        if !status.is_success() {
            let message = serde_json::from_str::<serde_json::Value>(&body)
                .ok()
                .and_then(|v| v["error"].as_str().map(str::to_owned))
                .unwrap_or(body);
            anyhow::bail!("the collector answered {status}: {message}");
        }
        Ok(body)
    }
}
