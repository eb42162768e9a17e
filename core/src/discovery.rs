//! Cross-request endpoint discovery: turns path positions whose values are many and each rare
//! into parameters, even when every value looks like a word (`/users/alice`, `/orgs/acme-corp`).
//!
//! Input: paths after per-request templating (`core::template`), each with how often it was
//! seen. The paths form a tree of segments. Walking it from the root, at each node:
//! - children that are already parameters (`{user_id}`, `{id}`) are one parameter;
//! - when a node has at least `min_distinct` literal children and most of them are rare (seen
//!   on at most `rare_max` distinct paths), the rare ones become values of that parameter and
//!   their subtrees are merged under it;
//! - a frequent literal beside that parameter joins it when it has the parameter's shape (two
//!   or more children, most of them children of the parameter too: `octocat` among logins), or
//!   when everything below it is also below the parameter and runs through the parameter's own
//!   parameters (`example.com/records/{id}` beside `{domain}/records/{id}`); the others (`me`,
//!   `search`, `upcoming/lines` beside `{invoice}/lines`) stay literal;
//! - a rare literal beside a parameter the filter already recognised joins it unless it reads
//!   as a word (`obj_RRnvzqFy` among `obj_Zitmn47...` joins; `export` stays).
//!
//! The signal is the one that tells identifiers from names of resources: the set of resource
//! names under a node saturates and each recurs, while identifiers keep coming and each is seen
//! on few paths. `resolve` then maps any path to its discovered template. Memory is bounded by
//! the caller, who feeds distinct templates (not raw paths) with counts.

use crate::template::{push_param, PARAM_PREFIX};
use std::collections::{BTreeMap, BTreeSet};

/// Tuning of the discovery.
#[derive(Debug, Clone, Copy)]
pub struct DiscoveryConfig {
    /// A node needs at least this many distinct literal children before any becomes a parameter.
    pub min_distinct: usize,
    /// A child seen on at most this many distinct paths (or this much weight) counts as rare.
    pub rare_max: u64,
    /// Share of rare children (0..=1) above which the rare ones are parameter values.
    pub rare_share: f64,
    /// A frequent literal beside a parameter is one of its values when at least this share of
    /// its children (two or more) are children of the parameter too.
    pub shape_share: f64,
}

impl Default for DiscoveryConfig {
    fn default() -> Self {
        DiscoveryConfig { min_distinct: 5, rare_max: 2, rare_share: 0.5, shape_share: 0.8 }
    }
}

#[derive(Debug, Default, Clone)]
struct Node {
    /// Distinct paths through this node (or their summed weights).
    paths: u64,
    children: BTreeMap<String, Node>,
}

impl Node {
    fn insert(&mut self, segments: &[&str], weight: u64) {
        self.paths += weight;
        if let Some((first, rest)) = segments.split_first() {
            self.children.entry((*first).to_owned()).or_default().insert(rest, weight);
        }
    }

    fn absorb(&mut self, other: Node) {
        self.paths += other.paths;
        for (key, child) in other.children {
            self.children.entry(key).or_default().absorb(child);
        }
    }
}

/// The discovered tree: literal children, and at most one parameter child per node.
#[derive(Debug, Default, Clone)]
struct Merged {
    literals: BTreeMap<String, Merged>,
    param: Option<Box<Merged>>,
}

/// Collects templated paths, then discovers parameters across them.
#[derive(Debug, Default, Clone)]
pub struct Discovery {
    config: DiscoveryConfig,
    root: Node,
    merged: Option<Merged>,
}

impl Discovery {
    pub fn new(config: DiscoveryConfig) -> Self {
        Discovery { config, root: Node::default(), merged: None }
    }

    /// Records one distinct (per-request templated) path.
    pub fn observe(&mut self, templated_path: &str) {
        self.observe_weighted(templated_path, 1);
    }

    /// Records a path with how much evidence it carries: in live traffic, the number of
    /// distinct callers (a literal like `/users/me` is shared by many, an id by few).
    pub fn observe_weighted(&mut self, templated_path: &str, weight: u64) {
        let segments: Vec<&str> = templated_path.split('/').collect();
        self.root.insert(&segments, weight.max(1));
        self.merged = None;
    }

    /// The discovered template of a path (templated per request first).
    pub fn resolve(&mut self, templated_path: &str) -> String {
        let config = self.config;
        let merged = self.merged.get_or_insert_with(|| merge(self.root.clone(), &config));
        let mut out = String::with_capacity(templated_path.len() + 8);
        let mut node = Some(&*merged);
        let mut previous: Option<&str> = None;
        let mut names = crate::template::Names::default();
        for (i, segment) in templated_path.split('/').enumerate() {
            if i > 0 {
                out.push('/');
            }
            let literal = node.and_then(|n| n.literals.get(segment));
            let is_param = segment.starts_with(PARAM_PREFIX);
            match (literal, node.and_then(|n| n.param.as_deref())) {
                (Some(next), _) if !is_param => {
                    out.push_str(segment);
                    previous = Some(segment);
                    node = Some(next);
                }
                (_, Some(next)) => {
                    push_param(&mut out, previous, &mut names);
                    previous = None;
                    node = Some(next);
                }
                _ => {
                    out.push_str(segment);
                    previous = if is_param { None } else { Some(segment) };
                    node = None;
                }
            }
        }
        out
    }
}

/// Whether `literal` has the shape of `param`: two or more of its children (or, one level
/// down with the level between ignored, of its grandchildren) and most of them shared.
fn same_shape(literal: &Node, param: &Node, share: f64) -> bool {
    overlap(&child_keys(literal), &child_keys(param), share)
        || overlap(&grandchild_keys(literal), &grandchild_keys(param), share)
}

/// The shape (see `shape_of`) shared by the largest group of siblings, if that group has at least
/// `min` members and its shape at least two keys: many siblings with the same sub-resources
/// (`/repos/<owner>/<repo>/{issues,pulls,...}`) are values of one parameter.
fn shape_cluster(literals: &[(String, Node)], min: usize) -> Option<BTreeSet<String>> {
    if literals.len() < min {
        return None;
    }
    let mut groups: BTreeMap<Vec<&str>, usize> = BTreeMap::new();
    for (_, child) in literals {
        let shape: Vec<&str> = shape_of(child).into_iter().collect();
        if shape.len() >= 2 {
            *groups.entry(shape).or_default() += 1;
        }
    }
    let (shape, count) = groups.into_iter().max_by_key(|(_, count)| *count)?;
    (count >= min).then(|| shape.into_iter().map(str::to_owned).collect())
}

/// What lies below a node: its grandchildren (the level between may be values), or its
/// children when it has no grandchildren.
fn shape_of(node: &Node) -> BTreeSet<&str> {
    let below = grandchild_keys(node);
    if below.is_empty() {
        child_keys(node)
    } else {
        below
    }
}

fn child_keys(node: &Node) -> BTreeSet<&str> {
    node.children.keys().map(String::as_str).collect()
}

fn grandchild_keys(node: &Node) -> BTreeSet<&str> {
    node.children.values().flat_map(|c| c.children.keys().map(String::as_str)).collect()
}

fn overlap(mine: &BTreeSet<&str>, theirs: &BTreeSet<&str>, share: f64) -> bool {
    mine.len() >= 2 && mine.iter().filter(|k| theirs.contains(*k)).count() as f64 >= share * mine.len() as f64
}

/// Literals that name the caller's own resource beside a parameter: never values of it.
const SELF_ALIASES: &[&str] = &["me", "my", "mine", "self", "current", "myself"];

/// Whether every path below `literal` is also a path below the discovered parameter (literal
/// segments matching literals, anything matching a parameter) and at least one of them passes
/// through a parameter there. The second condition keeps `/invoices/upcoming/lines` literal
/// beside `/invoices/{id}/lines`, while `/domains/example.com/records/{id}` joins
/// `/domains/{domain}/records/{id}`: a resource name brings its own sub-resources, a value the
/// parameter's values.
fn fits(literal: &Node, param: &Merged) -> bool {
    fits_below(literal, param) == Some(true)
}

/// `None` when a path does not fit; else whether some path went through a parameter.
fn fits_below(literal: &Node, param: &Merged) -> Option<bool> {
    let mut through_param = false;
    for (key, child) in &literal.children {
        let via_literal = param.literals.get(key).filter(|_| !key.starts_with(PARAM_PREFIX));
        let below = match via_literal {
            Some(next) => fits_below(child, next)?,
            None => {
                let next = param.param.as_deref()?;
                fits_below(child, next)?;
                true
            }
        };
        through_param |= below;
    }
    Some(through_param)
}

/// A name made of lowercase words (`export`, `payment-methods`, `check_runs`): how resources
/// are named, unlike values with digits, capitals or dots.
fn is_word(segment: &str) -> bool {
    segment.bytes().next().is_some_and(|c| c.is_ascii_lowercase())
        && segment.bytes().all(|c| c.is_ascii_lowercase() || c == b'-' || c == b'_')
}

fn merge(node: Node, config: &DiscoveryConfig) -> Merged {
    let mut param: Option<Node> = None;
    let mut literals: Vec<(String, Node)> = Vec::new();
    for (key, child) in node.children {
        if key.starts_with(PARAM_PREFIX) {
            param.get_or_insert_with(Node::default).absorb(child);
        } else {
            literals.push((key, child));
        }
    }
    let rare = literals.iter().filter(|(_, c)| c.paths <= config.rare_max).count();
    let values_here = literals.len() >= config.min_distinct && rare as f64 > config.rare_share * literals.len() as f64;
    let cluster = shape_cluster(&literals, config.min_distinct);
    let mut merged = Merged::default();
    let mut frequent = Vec::new();
    for (key, child) in literals {
        let rare_value = values_here && child.paths <= config.rare_max;
        let in_cluster = cluster.as_ref().is_some_and(|shape| {
            let mine = shape_of(&child);
            mine.len() == shape.len() && mine.iter().all(|k| shape.contains(*k))
        });
        if rare_value || in_cluster {
            param.get_or_insert_with(Node::default).absorb(child);
        } else {
            frequent.push((key, child));
        }
    }
    // the parameter as discovered so far, to test frequent literals against (built once, and
    // kept as the result when no literal joins after it was built: merging twice at every level
    // would double the work per level of depth)
    let mut discovered_param: Option<Merged> = None;
    let mut joined_since_discovered = false;
    for (key, child) in frequent {
        // A value seen often (`octocat` among many rare logins) still has the parameter's shape:
        // most of its children are children of the parameter too, or everything below it is
        // also below the parameter. A leaf (`search`) or a self alias (`me/profile`) is never
        // taken for one.
        let looks_like_value = param.as_ref().is_some_and(|p| {
            same_shape(&child, p, config.shape_share)
                || (!child.children.is_empty()
                    && !SELF_ALIASES.contains(&key.as_str())
                    && fits(&child, discovered_param.get_or_insert_with(|| merge(p.clone(), config))))
        });
        // a rare value beside a parameter (`obj_RRnvzqFy...` among the `obj_Zitmn47...` the
        // filter recognised): unless it reads as a word (`export`), it is one more value
        let rare_beside_param = param.is_some() && child.paths <= config.rare_max && !is_word(&key);
        if looks_like_value || rare_beside_param {
            param.get_or_insert_with(Node::default).absorb(child);
            joined_since_discovered |= discovered_param.is_some();
        } else {
            merged.literals.insert(key, merge(child, config));
        }
    }
    merged.param = match discovered_param {
        Some(discovered) if !joined_since_discovered => Some(Box::new(discovered)),
        _ => param.map(|p| Box::new(merge(p, config))),
    };
    merged
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template_path;

    fn discover(paths: &[String]) -> Discovery {
        let mut discovery = Discovery::default();
        for path in paths {
            discovery.observe(&template_path(path));
        }
        discovery
    }

    #[test]
    fn word_like_ids_become_parameters_and_frequent_siblings_stay() {
        let mut paths: Vec<String> = (0..40).map(|i| format!("/users/name{}x/profile", i * 7919 % 1000)).collect();
        for _ in 0..5 {
            paths.push("/users/me/profile".into());
            paths.push("/users/search".into());
        }
        paths.extend(
            ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi"].iter().map(|n| format!("/users/{n}")),
        );
        let mut discovery = discover(&paths);
        assert_eq!(discovery.resolve(&template_path("/users/zed/profile")), "/users/{user_id}/profile");
        assert_eq!(discovery.resolve(&template_path("/users/alice")), "/users/{user_id}");
        assert_eq!(discovery.resolve("/users/me/profile"), "/users/me/profile");
        assert_eq!(discovery.resolve("/users/search"), "/users/search");
        assert_eq!(discovery.resolve(&template_path("/users/42")), "/users/{user_id}");
    }

    #[test]
    fn few_literal_resources_are_not_merged() {
        let mut paths = Vec::new();
        for resource in ["issues", "pulls", "commits", "branches", "tags", "releases", "hooks", "labels", "milestones"]
        {
            for i in 0..5 {
                paths.push(format!("/repos/{resource}/{}", i + 1));
            }
        }
        let mut discovery = discover(&paths);
        assert_eq!(discovery.resolve(&template_path("/repos/issues/9")), "/repos/issues/{issue_id}");
        assert_eq!(discovery.resolve(&template_path("/repos/hooks/9")), "/repos/hooks/{hook_id}");
    }

    /// Found on the DigitalOcean corpus: the spec's example domain recurs on every call of a
    /// few operations, so it is frequent, with one child; what lies below it lies below the
    /// parameter, through the parameter's own parameters.
    #[test]
    fn frequent_value_whose_subtree_runs_through_the_parameter_joins_it() {
        let mut paths = Vec::new();
        // other domains, each called on one path or two
        for i in 0..12 {
            let domain = format!("shop{}-x.net", i * 37 % 1000);
            let tail = ["", "/records", "/records/1001"][i % 3];
            paths.push(format!("/domains/{domain}{tail}"));
        }
        for i in 0..6 {
            paths.push(format!("/domains/example.com/records/{}", 5000 + i));
        }
        paths.push("/domains/example.com/records".into());
        let mut discovery = discover(&paths);
        assert_eq!(discovery.resolve("/domains/example.com/records"), "/domains/{domain_id}/records");
        assert_eq!(
            discovery.resolve(&template_path("/domains/example.com/records/7")),
            "/domains/{domain_id}/records/{record_id}"
        );
    }

    /// Found on the Stripe and DigitalOcean corpora: `/invoices/upcoming/lines` beside
    /// `/invoices/{invoice}/lines` is an endpoint of its own, though its one sub-resource is
    /// also the parameter's; `/users/me/orders/{id}` is the caller's own.
    #[test]
    fn literal_siblings_with_the_parameters_sub_resources_stay() {
        let mut paths = Vec::new();
        for i in 0..20 {
            let id = format!("in_{}Xy7Qz{}", i * 7919, i);
            for tail in ["", "/lines", "/pay", "/void"] {
                paths.push(format!("/invoices/{id}{tail}"));
            }
            paths.push(format!("/users/user{}x/orders/{}", i * 31 % 1000, 100 + i));
        }
        for _ in 0..5 {
            paths.push("/invoices/upcoming".into());
            paths.push("/invoices/upcoming/lines".into());
            paths.push(format!("/users/me/orders/{}", 42));
        }
        let mut discovery = discover(&paths);
        assert_eq!(discovery.resolve("/invoices/upcoming/lines"), "/invoices/upcoming/lines");
        assert_eq!(discovery.resolve("/invoices/upcoming"), "/invoices/upcoming");
        assert_eq!(discovery.resolve(&template_path("/users/me/orders/9")), "/users/me/orders/{order_id}");
        assert_eq!(discovery.resolve(&template_path("/invoices/in_12Xy7Qz1/pay")), "/invoices/{invoice_id}/pay");
    }

    /// Found on the Stripe corpus: one id in ten has no digit (`obj_RRnvzqFylfbinsgd`) and is not
    /// recognised per request; beside the recognised ones it is one more value, while a rare
    /// word (`export`, called by one nightly job) stays an endpoint.
    #[test]
    fn rare_non_word_beside_a_recognised_parameter_joins_it() {
        let mut paths: Vec<String> = (0..4).map(|i| format!("/disputes/dp_{}Zx9", 48_213 + i * 7)).collect();
        paths.push("/disputes/obj_RRnvzqFylfbinsgd".into());
        paths.push("/disputes/export".into());
        let mut discovery = discover(&paths);
        assert_eq!(discovery.resolve("/disputes/obj_RRnvzqFylfbinsgd"), "/disputes/{dispute_id}");
        assert_eq!(discovery.resolve("/disputes/export"), "/disputes/export");
    }

    /// Found on the GitHub corpus: a login seen often (`octocat`) must join the parameter
    /// instead of staying literal and having its own sub-resources taken for values.
    #[test]
    fn frequent_value_with_the_parameter_shape_joins_it() {
        let resources = ["issues", "pulls", "actions", "hooks", "labels"];
        let mut paths = Vec::new();
        for i in 0..30 {
            let owner = if i % 3 == 0 { "octocat".to_owned() } else { format!("user{}x", i * 37 % 1000) };
            let repo = format!("repo{}", i * 11 % 1000);
            for resource in resources {
                paths.push(format!("/repos/{owner}/{repo}/{resource}"));
            }
        }
        let mut discovery = discover(&paths);
        let got = discovery.resolve("/repos/octocat/repo0/issues");
        assert_eq!(got, "/repos/{repo_id}/{id}/issues");
        assert_eq!(discovery.resolve("/repos/someone/else/hooks"), "/repos/{repo_id}/{id}/hooks");
    }
}
