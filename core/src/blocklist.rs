//! Block rules and their matching. The collector validates and publishes rules; every filter
//! compiles the published list once per change and checks each request against it.
//!
//! Matching cost does not grow with the list: each rule is indexed under one of its keys
//! (caller identity, mTLS principal, CIDR per prefix length, host), so a request costs one
//! hash lookup per key kind and per distinct CIDR prefix length in the list (at most 33 for
//! IPv4 and 129 for IPv6, a handful in practice), plus a check of the few candidates it hits.
//! Only rules with none of those keys (a header, method or path alone) are checked in turn.

use crate::endpoint::Template;
use ipnet::IpNet;
use regex_lite::Regex;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};

/// Longest rule id; ids name Envoy counters, so they stay short and plain.
pub const MAX_RULE_ID_LEN: usize = 64;
/// Largest compiled header regex, so a hostile rule cannot exhaust the sidecar's memory.
const REGEX_SIZE_LIMIT: usize = 64 * 1024;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleAction {
    /// Answer 403 before the request reaches the application.
    #[default]
    Block,
    /// Let the request through and mark its event, to see what a rule would block.
    DryRun,
}

/// What a rate limit counts requests by.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RateKey {
    /// the client address (after the trusted forwarded-for hops)
    #[default]
    Source,
    /// the caller identity hash
    Identity,
}

/// Blocks a key for `block_s` once it sent more than `requests` matching requests within
/// `window_s`. The filter marks matching requests; the collector counts them mesh-wide and
/// publishes a timed rule for each key over the limit.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimit {
    #[serde(default)]
    pub key: RateKey,
    pub requests: u64,
    pub window_s: u64,
    pub block_s: u64,
}

/// A header condition: the header is present and, if given, equals a value or matches a regex.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeaderMatch {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub equals: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regex: Option<String>,
}

/// The conditions of a rule: every condition given must hold; a list holds when any entry does.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RuleMatch {
    /// client addresses or CIDRs, IPv4 or IPv6
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<String>,
    /// caller identity hashes as the events carry them (`caller_id`)
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub identities: Vec<String>,
    /// mTLS peer principals (URI SAN), e.g. `spiffe://cluster.local/ns/shop/sa/web`
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub principals: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub header: Option<HeaderMatch>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// an endpoint template; `{name}` segments match any one segment
    #[serde(skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path_prefix: Option<String>,
    /// destination host (`:authority`); without a port in the rule, any port
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// the workload whose sidecar sees the request
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workload: Option<String>,
}

/// One block rule as stored, served and compiled.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Rule {
    pub id: String,
    /// grows with every change of the rule
    pub version: u64,
    pub action: RuleAction,
    #[serde(rename = "match")]
    pub conditions: RuleMatch,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<RateLimit>,
    /// epoch milliseconds after which the rule no longer applies
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at_ms: Option<u64>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub reason: String,
    /// who or what made it: `cli:alice`, `api`, `policy:attackers`, `rate_limit:<rule id>`
    #[serde(skip_serializing_if = "String::is_empty")]
    pub created_by: String,
    #[serde(skip_serializing_if = "is_zero")]
    pub created_ms: u64,
    #[serde(skip_serializing_if = "is_zero")]
    pub updated_ms: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl Rule {
    /// Only what matching needs: the list filters fetch leaves out the bookkeeping.
    pub fn for_filters(&self) -> Rule {
        Rule {
            id: self.id.clone(),
            version: self.version,
            action: self.action,
            conditions: self.conditions.clone(),
            rate_limit: self.rate_limit.clone(),
            expires_at_ms: self.expires_at_ms,
            ..Rule::default()
        }
    }
}

/// The list the collector serves to filters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PublishedList {
    pub version: u64,
    pub rules: Vec<Rule>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RuleError {
    #[error("rule id {0:?}: use 1 to 64 letters, digits, '-', '_' or '.'")]
    BadId(String),
    #[error("rule {0}: give at least one condition under `match` (a rule without one would block everything)")]
    NoCondition(String),
    #[error("rule {id}: source {value:?} is not an IP address or CIDR (e.g. 203.0.113.7, 10.0.0.0/8, 2001:db8::/32)")]
    BadSource { id: String, value: String },
    #[error("rule {id}: {what} must not be empty")]
    Empty { id: String, what: &'static str },
    #[error("rule {id}: header regex {regex:?} does not compile: {error}")]
    BadRegex { id: String, regex: String, error: String },
    #[error("rule {id}: header condition takes `equals` or `regex`, not both")]
    HeaderBoth { id: String },
    #[error("rule {id}: {what} must start with '/'")]
    BadPath { id: String, what: &'static str },
    #[error("rule {id}: rate_limit needs requests, window_s and block_s above 0")]
    BadRateLimit { id: String },
    #[error("block list: {0}")]
    Json(String),
}

impl Rule {
    /// Checks what a filter relies on; a list with one bad rule is refused whole.
    pub fn validate(&self) -> Result<(), RuleError> {
        self.compile().map(|_| ())
    }

    fn compile(&self) -> Result<CompiledRule, RuleError> {
        let id = self.id.clone();
        let id_ok = !id.is_empty()
            && id.len() <= MAX_RULE_ID_LEN
            && id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
        if !id_ok {
            return Err(RuleError::BadId(id));
        }
        let m = &self.conditions;
        let none = m.sources.is_empty()
            && m.identities.is_empty()
            && m.principals.is_empty()
            && m.header.is_none()
            && m.method.is_none()
            && m.template.is_none()
            && m.path_prefix.is_none()
            && m.host.is_none()
            && m.workload.is_none();
        if none {
            return Err(RuleError::NoCondition(id));
        }
        let sources = m
            .sources
            .iter()
            .map(|s| parse_source(s).ok_or_else(|| RuleError::BadSource { id: id.clone(), value: s.clone() }))
            .collect::<Result<Vec<_>, _>>()?;
        let not_empty = |value: &Option<String>, what: &'static str| match value {
            Some(v) if v.is_empty() => Err(RuleError::Empty { id: id.clone(), what }),
            _ => Ok(()),
        };
        not_empty(&m.method, "method")?;
        not_empty(&m.host, "host")?;
        not_empty(&m.workload, "workload")?;
        for (value, what) in [(&m.template, "template"), (&m.path_prefix, "path_prefix")] {
            if value.as_deref().is_some_and(|v| !v.starts_with('/')) {
                return Err(RuleError::BadPath { id: id.clone(), what });
            }
        }
        if m.identities.iter().chain(&m.principals).any(String::is_empty) {
            return Err(RuleError::Empty { id: id.clone(), what: "identities and principals" });
        }
        let header = match &m.header {
            None => None,
            Some(h) if h.name.is_empty() => return Err(RuleError::Empty { id, what: "header name" }),
            Some(HeaderMatch { equals: Some(_), regex: Some(_), .. }) => return Err(RuleError::HeaderBoth { id }),
            Some(h) => {
                let value = match (&h.equals, &h.regex) {
                    (Some(v), _) => HeaderValue::Equals(v.clone()),
                    (None, Some(r)) => {
                        let regex =
                            regex_lite::RegexBuilder::new(r).size_limit(REGEX_SIZE_LIMIT).build().map_err(|e| {
                                RuleError::BadRegex { id: id.clone(), regex: r.clone(), error: e.to_string() }
                            })?;
                        HeaderValue::Regex(regex)
                    }
                    (None, None) => HeaderValue::Present,
                };
                Some((h.name.to_ascii_lowercase(), value))
            }
        };
        if let Some(limit) = &self.rate_limit {
            if limit.requests == 0 || limit.window_s == 0 || limit.block_s == 0 {
                return Err(RuleError::BadRateLimit { id });
            }
        }
        let indexed_by = if !m.identities.is_empty() {
            Key::Identity
        } else if !m.principals.is_empty() {
            Key::Principal
        } else if !sources.is_empty() {
            Key::Source
        } else if m.host.as_deref().is_some_and(|h| host_key(h) == h.to_ascii_lowercase()) {
            // only a host without a port: the index ignores ports
            Key::Host
        } else {
            Key::None
        };
        Ok(CompiledRule {
            id: self.id.clone(),
            action: self.action,
            rate_limited: self.rate_limit.is_some(),
            expires_at_ms: self.expires_at_ms,
            indexed_by,
            sources,
            identities: m.identities.clone(),
            principals: m.principals.clone(),
            header,
            method: m.method.as_ref().map(|s| s.to_ascii_uppercase()),
            template: m.template.as_deref().map(Template::parse),
            path_prefix: m.path_prefix.clone(),
            host: m.host.as_ref().map(|h| h.to_ascii_lowercase()),
            workload: m.workload.clone(),
        })
    }
}

/// `10.0.0.0/8`, `2001:db8::/32` or a single address (a /32 or /128).
fn parse_source(text: &str) -> Option<IpNet> {
    let text = text.trim();
    if let Ok(net) = text.parse::<IpNet>() {
        return Some(net.trunc());
    }
    text.parse::<IpAddr>().ok().map(IpNet::from)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Key {
    Identity,
    Principal,
    Source,
    Host,
    None,
}

#[derive(Debug)]
enum HeaderValue {
    Present,
    Equals(String),
    Regex(Regex),
}

#[derive(Debug)]
struct CompiledRule {
    id: String,
    action: RuleAction,
    rate_limited: bool,
    expires_at_ms: Option<u64>,
    /// the condition the index already checked
    indexed_by: Key,
    sources: Vec<IpNet>,
    identities: Vec<String>,
    principals: Vec<String>,
    header: Option<(String, HeaderValue)>,
    method: Option<String>,
    /// matched against the request path exactly (`core::endpoint`)
    template: Option<Template>,
    path_prefix: Option<String>,
    host: Option<String>,
    workload: Option<String>,
}

/// What a request looks like to the rules.
#[derive(Debug, Default, Clone, Copy)]
pub struct RequestFacts<'a> {
    pub client_ip: Option<IpAddr>,
    pub identity: &'a str,
    pub principal: &'a str,
    pub method: &'a str,
    /// the path without its query
    pub path: &'a str,
    pub authority: &'a str,
    pub workload: &'a str,
    /// request headers, lower-case names
    pub headers: &'a [(String, Vec<u8>)],
}

impl CompiledRule {
    fn matches(&self, request: &RequestFacts, now_ms: u64) -> bool {
        if self.expires_at_ms.is_some_and(|at| now_ms >= at) {
            return false;
        }
        if self.indexed_by != Key::Source && !self.sources.is_empty() {
            let Some(ip) = request.client_ip else { return false };
            if !self.sources.iter().any(|net| net.contains(&ip)) {
                return false;
            }
        }
        if self.indexed_by != Key::Identity
            && !self.identities.is_empty()
            && !self.identities.iter().any(|i| i == request.identity)
        {
            return false;
        }
        if self.indexed_by != Key::Principal
            && !self.principals.is_empty()
            && !self.principals.iter().any(|p| p == request.principal)
        {
            return false;
        }
        if self.indexed_by != Key::Host && self.host.as_deref().is_some_and(|h| !host_matches(h, request.authority)) {
            return false;
        }
        if self.method.as_deref().is_some_and(|m| !m.eq_ignore_ascii_case(request.method)) {
            return false;
        }
        if self.workload.as_deref().is_some_and(|w| w != request.workload) {
            return false;
        }
        if self.path_prefix.as_deref().is_some_and(|p| !request.path.starts_with(p)) {
            return false;
        }
        if self.template.as_ref().is_some_and(|t| !t.matches_path(request.path)) {
            return false;
        }
        if let Some((name, value)) = &self.header {
            let mut values = request.headers.iter().filter(|(n, _)| n == name).map(|(_, v)| v);
            let found = values.any(|v| match value {
                HeaderValue::Present => true,
                HeaderValue::Equals(want) => v.as_slice() == want.as_bytes(),
                HeaderValue::Regex(re) => std::str::from_utf8(v).is_ok_and(|v| re.is_match(v)),
            });
            if !found {
                return false;
            }
        }
        true
    }
}

/// `api.example.com` matches `api.example.com:8443`; `api.example.com:8443` only that port.
fn host_matches(rule_host: &str, authority: &str) -> bool {
    if authority.eq_ignore_ascii_case(rule_host) {
        return true;
    }
    !rule_host.contains(':')
        && authority.rsplit_once(':').is_some_and(|(host, port)| {
            port.bytes().all(|b| b.is_ascii_digit()) && host.eq_ignore_ascii_case(rule_host)
        })
}

/// The host of an authority, lower-case, without its port.
fn host_key(authority: &str) -> String {
    let host = match authority.rsplit_once(':') {
        Some((host, port))
            if !port.is_empty()
                && port.bytes().all(|b| b.is_ascii_digit())
                && (!host.contains(':') || host.ends_with(']')) =>
        {
            host
        }
        _ => authority,
    };
    host.to_ascii_lowercase()
}

/// The verdict for one request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Verdict {
    #[default]
    Allow,
    Block,
    DryRun,
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Decision<'l> {
    pub verdict: Verdict,
    /// the rule behind a block or dry-run verdict
    pub rule_id: Option<&'l str>,
    /// rate-limited rules whose conditions the request met (the collector counts these)
    pub rate_limited: Vec<&'l str>,
}

/// A compiled list, ready to match requests.
#[derive(Debug, Default)]
pub struct BlockList {
    pub version: u64,
    rules: Vec<CompiledRule>,
    by_identity: HashMap<String, Vec<u32>>,
    by_principal: HashMap<String, Vec<u32>>,
    /// per prefix length, the network address -> rules
    by_v4: Vec<(u8, HashMap<u32, Vec<u32>>)>,
    by_v6: Vec<(u8, HashMap<u128, Vec<u32>>)>,
    by_host: HashMap<String, Vec<u32>>,
    unindexed: Vec<u32>,
    /// whether any rule looks at the client address / the principal (saves host calls)
    pub needs_client_ip: bool,
    pub needs_principal: bool,
}

impl BlockList {
    /// Parses and compiles a published list; any bad rule refuses the whole list, so a filter
    /// keeps its last good one.
    pub fn from_json(bytes: &[u8]) -> Result<Self, RuleError> {
        let list: PublishedList = serde_json::from_slice(bytes).map_err(|e| RuleError::Json(e.to_string()))?;
        Self::compile(&list)
    }

    pub fn compile(list: &PublishedList) -> Result<Self, RuleError> {
        let mut compiled = BlockList { version: list.version, ..BlockList::default() };
        let mut v4: HashMap<u8, HashMap<u32, Vec<u32>>> = HashMap::new();
        let mut v6: HashMap<u8, HashMap<u128, Vec<u32>>> = HashMap::new();
        for rule in &list.rules {
            let rule = rule.compile()?;
            let index = compiled.rules.len() as u32;
            compiled.needs_client_ip |= !rule.sources.is_empty();
            compiled.needs_principal |= !rule.principals.is_empty();
            match rule.indexed_by {
                Key::Identity => {
                    for id in &rule.identities {
                        compiled.by_identity.entry(id.clone()).or_default().push(index);
                    }
                }
                Key::Principal => {
                    for p in &rule.principals {
                        compiled.by_principal.entry(p.clone()).or_default().push(index);
                    }
                }
                Key::Source => {
                    for net in &rule.sources {
                        match net {
                            IpNet::V4(n) => v4
                                .entry(n.prefix_len())
                                .or_default()
                                .entry(u32::from(n.network()))
                                .or_default()
                                .push(index),
                            IpNet::V6(n) => v6
                                .entry(n.prefix_len())
                                .or_default()
                                .entry(u128::from(n.network()))
                                .or_default()
                                .push(index),
                        }
                    }
                }
                Key::Host => {
                    let host = rule.host.as_deref().map(host_key).unwrap_or_default();
                    compiled.by_host.entry(host).or_default().push(index);
                }
                Key::None => compiled.unindexed.push(index),
            }
            compiled.rules.push(rule);
        }
        compiled.by_v4 = v4.into_iter().collect();
        compiled.by_v4.sort_by_key(|(len, _)| std::cmp::Reverse(*len));
        compiled.by_v6 = v6.into_iter().collect();
        compiled.by_v6.sort_by_key(|(len, _)| std::cmp::Reverse(*len));
        Ok(compiled)
    }

    pub fn len(&self) -> usize {
        self.rules.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Checks one candidate: a rate-limited rule is noted, another may become the best verdict.
    fn consider<'l>(
        &'l self,
        index: u32,
        request: &RequestFacts,
        now_ms: u64,
        best: &mut Option<(RuleAction, u32)>,
        rate_limited: &mut Vec<&'l str>,
    ) {
        let Some(rule) = self.rules.get(index as usize) else { return };
        if !rule.matches(request, now_ms) {
            return;
        }
        if rule.rate_limited {
            if !rate_limited.contains(&rule.id.as_str()) {
                rate_limited.push(rule.id.as_str());
            }
            return;
        }
        let better = match *best {
            None => true,
            Some((action, at)) => {
                (rule.action == RuleAction::Block && action == RuleAction::DryRun)
                    || (rule.action == action && index < at)
            }
        };
        if better {
            *best = Some((rule.action, index));
        }
    }

    /// Rule ids, in list order (for per-rule counters).
    pub fn rule_id(&self, index: usize) -> Option<&str> {
        self.rules.get(index).map(|r| r.id.as_str())
    }

    /// The verdict for a request: a matching `block` rule wins over `dry_run`; among rules of
    /// one action the first in the list (the collector orders them by id).
    pub fn decide(&self, request: &RequestFacts, now_ms: u64) -> Decision<'_> {
        let mut decision = Decision::default();
        if self.rules.is_empty() {
            return decision;
        }
        let mut best: Option<(RuleAction, u32)> = None;
        let mut rate_limited = Vec::new();
        let mut consider = |hits: &[u32]| {
            for &index in hits {
                self.consider(index, request, now_ms, &mut best, &mut rate_limited);
            }
        };
        if !request.identity.is_empty() {
            consider(self.by_identity.get(request.identity).map_or(&[], Vec::as_slice));
        }
        if !request.principal.is_empty() {
            consider(self.by_principal.get(request.principal).map_or(&[], Vec::as_slice));
        }
        match request.client_ip {
            Some(IpAddr::V4(ip)) => {
                let ip = u32::from(ip);
                for (len, nets) in &self.by_v4 {
                    let mask = if *len == 0 { 0 } else { u32::MAX << (32 - u32::from(*len)) };
                    consider(nets.get(&(ip & mask)).map_or(&[], Vec::as_slice));
                }
            }
            Some(IpAddr::V6(ip)) => {
                let ip = u128::from(ip);
                for (len, nets) in &self.by_v6 {
                    let mask = if *len == 0 { 0 } else { u128::MAX << (128 - u32::from(*len)) };
                    consider(nets.get(&(ip & mask)).map_or(&[], Vec::as_slice));
                }
            }
            None => {}
        }
        if !self.by_host.is_empty() {
            consider(self.by_host.get(&host_key(request.authority)).map_or(&[], Vec::as_slice));
        }
        consider(&self.unindexed);
        decision.rate_limited = rate_limited;
        if let Some((action, index)) = best {
            decision.verdict = match action {
                RuleAction::Block => Verdict::Block,
                RuleAction::DryRun => Verdict::DryRun,
            };
            decision.rule_id = self.rule_id(index as usize);
        }
        decision
    }
}

/// Which peers are proxies whose `x-forwarded-for` entries are believed. A client can write any
/// `x-forwarded-for` it likes; only a proxy that appends to it can be trusted, so the header is
/// read only when the peer itself is one of those proxies, known by address or by mTLS identity
/// (an Istio ingress gateway's service account). Otherwise the client is the peer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies {
    /// Proxies in front of the sidecar that append to `x-forwarded-for`, the peer included
    /// (0: none; the client is the peer).
    pub hops: usize,
    /// Peers, by address, that are such proxies.
    pub cidrs: Vec<IpNet>,
    /// Peers, by mTLS principal (URI SAN), that are such proxies.
    pub principals: Vec<String>,
}

/// The client address a request is attributed to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Client {
    pub ip: IpAddr,
    /// it is the peer's own address (not a forwarded entry)
    pub is_peer: bool,
}

impl TrustedProxies {
    /// The client's address: the downstream peer, or, when the peer is a trusted proxy, the
    /// address `hops` back along `x-forwarded-for` (the proxies in front of the sidecar append
    /// to it; entries further left are what the client claimed). `principal` is asked for only
    /// when a forwarded header and principals make it matter (reading it costs the filter a
    /// host call).
    pub fn client(
        &self,
        source_address: &str,
        forwarded_for: Option<&str>,
        principal: impl FnOnce() -> Option<String>,
    ) -> Option<Client> {
        let peer = peer_ip(source_address);
        let as_peer = peer.map(|ip| Client { ip, is_peer: true });
        let forwarded = forwarded_for.map(str::trim).filter(|f| !f.is_empty());
        let Some(forwarded) = forwarded.filter(|_| self.hops > 0) else {
            return as_peer;
        };
        let by_address = peer.is_some_and(|ip| self.cidrs.iter().any(|net| net.contains(&ip)));
        let trusted =
            by_address || (!self.principals.is_empty() && principal().is_some_and(|p| self.principals.contains(&p)));
        if !trusted {
            return as_peer;
        }
        let hops: Vec<&str> = forwarded.split(',').map(str::trim).filter(|s| !s.is_empty()).collect();
        // the chain as the sidecar sees it: forwarded entries, then the peer itself
        let position = (hops.len() + 1).saturating_sub(1 + self.hops);
        match hops.get(position).and_then(|hop| peer_ip(hop)) {
            Some(ip) => Some(Client { ip, is_peer: false }),
            None => as_peer,
        }
    }
}

/// The address of a peer or hop as Envoy or a proxy writes it: `1.2.3.4`, `1.2.3.4:5678`,
/// `::1`, `[::1]:5678`.
pub fn peer_ip(text: &str) -> Option<IpAddr> {
    let text = text.trim();
    text.parse::<IpAddr>()
        .ok()
        .or_else(|| text.parse::<SocketAddr>().ok().map(|s| s.ip()))
        .or_else(|| text.strip_prefix('[').and_then(|t| t.strip_suffix(']')).and_then(|t| t.parse().ok()))
}

#[cfg(test)]
mod tests;
