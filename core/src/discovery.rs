//! Cross-request endpoint discovery: turns path positions whose values are many and each rare
//! into parameters, even when every value looks like a word (`/users/alice`, `/orgs/acme-corp`),
//! and per-request parameters whose value never varies back into literals (`/1/actions`).
//!
//! Input: per-request templates (`core::template`) with how much evidence each carries (distinct
//! callers or calls), the operations seen on each (method, query names), and for constants a few
//! raw sample paths of each. Two steps:
//!
//! 1. **Constants** (`Constants`): a position the filter took for an id (`{id}`, `{date}`) whose
//!    raw values, over the samples of all templates through it, are at most eight, running
//!    through at least three templates each on average, with most templates called with one of
//!    them only, is a literal: API versions (`/1/`, `/2019-12-10/`, `/packer/2023-01-01/`). A
//!    small enum with which each template is called (`/Destiny2/{1,2,-1}/Account`) and anything
//!    with more values stay parameters.
//! 2. **Parameters** (`Discovery`): the templates form a tree of segments. Walking it from the
//!    root, at each node:
//!    - children that are already parameters (`{user_id}`, `{id}`) are one parameter;
//!    - when a node has at least `min_distinct` literal children and most of them are rare (seen
//!      with at most `rare_max` of evidence), or at least `4 * min_distinct` of them share one
//!      lexical shape with a digit in it (`frontend-49`, `acct-1001`: ids even when each recurs),
//!      those become values of that parameter and their subtrees are merged under it;
//!    - siblings with the same sub-resources as many others (`/repos/<owner>/<repo>/{issues,..}`)
//!      are values too;
//!    - a frequent literal beside that parameter joins it when it has the parameter's shape (two
//!      or more children, most of them children of the parameter too: `octocat` among logins),
//!      when everything below it is also below the parameter and runs through the parameter's own
//!      parameters (`example.com/records/{id}` beside `{domain}/records/{id}`), or when it has the
//!      lexical shape most values have and is not a word, or when it is called as the values
//!      are (its methods and query names are theirs, with a query name or two methods to go
//!      by) and is not one plain word (`jdoe-staging`, not `display`); the others (`me`,
//!      `search`, `upcoming/lines` beside `{invoice}/lines`) stay literal;
//!    - a rare literal beside a parameter joins it unless it reads as a word (`export` stays).
//!
//! Invariants: self aliases (`me`, `self`), empty segments and punctuation-only segments (`-`)
//! are never values; a segment with a parameter inside (`{id}.json`, `{name}:publish`) is a
//! literal of the tree, so its suffix stays; every input template resolves to exactly one
//! template; the result depends on the multiset of inputs, not their order (maps are ordered),
//! except through which raw paths a template's samples hold. Memory: the tree holds one node per
//! distinct segment of the distinct templates fed (the caller bounds those: the inventory feeds
//! one row per per-request template), `Constants` one entry per parameter position with at most
//! nine values. Pins and uploaded specs are applied by the caller and win over both steps.
//!
//! The signal is the one that tells identifiers from names of resources: the set of resource
//! names under a node saturates and each recurs, while identifiers keep coming and each is seen
//! on few paths, or share one shape. `resolve` then maps any path to its discovered template.

use crate::template::push_param;
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
    /// The operations of the paths that end here: methods (`GET`) and query names (`?limit`),
    /// at most `MAX_OPS`.
    ops: BTreeSet<String>,
}

/// Operations kept per node: enough to compare an endpoint's with its siblings'.
const MAX_OPS: usize = 64;

impl Node {
    fn insert(&mut self, segments: &[&str], weight: u64, ops: &[String]) {
        self.paths += weight;
        match segments.split_first() {
            Some((first, rest)) => self.children.entry((*first).to_owned()).or_default().insert(rest, weight, ops),
            None => self.add_ops(ops.iter().cloned()),
        }
    }

    fn add_ops(&mut self, ops: impl IntoIterator<Item = String>) {
        for op in ops {
            if self.ops.len() >= MAX_OPS {
                break;
            }
            self.ops.insert(op);
        }
    }

    fn absorb(&mut self, other: Node) {
        self.paths += other.paths;
        self.add_ops(other.ops);
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
        self.observe_call(templated_path, weight, "", &[]);
    }

    /// `observe_weighted` with the operation seen there: its method and query names. A frequent
    /// value beside a parameter is told from a literal sibling by them: `/users/jdoe` is called
    /// as `/users/{id}` is (the same methods and queries), `/users/search?q=` is not.
    pub fn observe_call(&mut self, templated_path: &str, weight: u64, method: &str, query_names: &[String]) {
        let segments: Vec<&str> = templated_path.split('/').collect();
        let mut ops: Vec<String> = query_names.iter().map(|q| format!("?{q}")).collect();
        if !method.is_empty() {
            ops.push(method.to_ascii_uppercase());
        }
        self.root.insert(&segments, weight.max(1), &ops);
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
            let is_param = is_param(segment);
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

/// One lowercase word, as resources are named (`display`, `recipients`, `all`); slugs and
/// logins join words or carry digits (`jdoe-staging`, `rust-lang`, `mona77`).
fn is_plain_word(segment: &str) -> bool {
    !segment.is_empty() && segment.bytes().all(|c| c.is_ascii_lowercase())
}

/// Whether `literal` is called as the parameter's values are: every operation that ends at it
/// (methods, query names) is one the parameter's values have, with a query name or two methods
/// among them (a bare `GET`, as `/orders/export` has, says nothing), and what lies below it lies
/// below the parameter too.
fn called_like(literal: &Node, param: &Node) -> bool {
    let evidence = literal.ops.iter().any(|op| op.starts_with('?')) || literal.ops.len() >= 2;
    evidence
        && literal.ops.iter().all(|op| param.ops.contains(op))
        && literal.children.keys().all(|k| param.children.contains_key(k))
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
fn shape_cluster<'a>(literals: impl ExactSizeIterator<Item = &'a Node>, min: usize) -> Option<BTreeSet<String>> {
    if literals.len() < min {
        return None;
    }
    let mut groups: BTreeMap<Vec<&str>, usize> = BTreeMap::new();
    for child in literals {
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

/// Segments that stay literal whatever their siblings: the caller's own resource (`me`), an
/// empty segment (a trailing slash), and separators made of punctuation alone (`-` in
/// `/packages/{owner}/-/latest`).
fn never_a_value(segment: &str) -> bool {
    SELF_ALIASES.contains(&segment) || !segment.chars().any(char::is_alphanumeric)
}

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
        let via_literal = param.literals.get(key).filter(|_| !is_param(key));
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

/// A segment's lexical shape: each run of letters `a`, of digits `9`, other bytes as they are
/// (`frontend-49` -> `a-9`, `cus_9Xk2` -> `a_9a9a`).
fn lexical_shape(segment: &str) -> String {
    let mut out = String::new();
    for c in segment.chars() {
        let class = if c.is_alphabetic() {
            'a'
        } else if c.is_ascii_digit() {
            '9'
        } else {
            c
        };
        if !(out.ends_with(class) && (class == 'a' || class == '9')) {
            out.push(class);
        }
    }
    out
}

/// A whole-segment parameter (`{id}`, as `core::endpoint` reads one), not a segment with one or
/// more inside (`{id}.json`, `{sha}.{type}`: literals of the tree like any other).
fn is_param(segment: &str) -> bool {
    crate::endpoint::is_param(segment) && !segment[1..segment.len() - 1].contains(['{', '}'])
}

/// A name made of lowercase words (`export`, `payment-methods`, `check_runs`): how resources
/// are named, unlike values with digits, capitals or dots.
fn is_word(segment: &str) -> bool {
    segment.bytes().next().is_some_and(|c| c.is_ascii_lowercase())
        && segment.bytes().all(|c| c.is_ascii_lowercase() || c == b'-' || c == b'_')
}

fn merge(node: Node, config: &DiscoveryConfig) -> Merged {
    let mut param: Option<Node> = None;
    // each literal child with its lexical shape (`frontend-49`: `a-9`), worked out once
    let mut literals: Vec<(String, String, Node)> = Vec::new();
    for (key, child) in node.children {
        if is_param(&key) {
            param.get_or_insert_with(Node::default).absorb(child);
        } else {
            literals.push((lexical_shape(&key), key, child));
        }
    }
    let rare = literals.iter().filter(|(_, _, c)| c.paths <= config.rare_max).count();
    // many values of one shape with digits in it (`frontend-49`, `acct-1001`): identifiers
    // even when each recurs (popular accounts); resource names, method names (`users.get`) and
    // versions (`v2`) are words or too few
    let digit_shape: Option<String> = {
        let mut shapes: BTreeMap<&str, usize> = BTreeMap::new();
        for (shape, _, _) in &literals {
            *shapes.entry(shape.as_str()).or_default() += 1;
        }
        shapes.into_iter().find(|(shape, n)| {
            shape.contains('9')
                && *n >= 4 * config.min_distinct
                && *n as f64 >= config.shape_share * literals.len() as f64
        })
    }
    .map(|(shape, _)| shape.to_owned());
    let digit_shaped = digit_shape.is_some();
    let values_here = literals.len() >= config.min_distinct
        && (rare as f64 > config.rare_share * literals.len() as f64 || digit_shaped);
    let cluster = shape_cluster(literals.iter().map(|(_, _, child)| child), config.min_distinct);
    let mut merged = Merged::default();
    let mut frequent = Vec::new();
    // the lexical shapes of the values taken so far
    let mut value_shapes: BTreeMap<String, usize> = BTreeMap::new();
    for (shape, key, child) in literals {
        if never_a_value(&key) {
            frequent.push((shape, key, child));
            continue;
        }
        let of_digit_shape = digit_shape.as_deref() == Some(shape.as_str());
        let rare_value = values_here && (child.paths <= config.rare_max || of_digit_shape);
        let in_cluster = cluster.as_ref().is_some_and(|shape| {
            let mine = shape_of(&child);
            mine.len() == shape.len() && mine.iter().all(|k| shape.contains(*k))
        });
        if rare_value || in_cluster {
            *value_shapes.entry(shape).or_default() += 1;
            param.get_or_insert_with(Node::default).absorb(child);
        } else {
            frequent.push((shape, key, child));
        }
    }
    // the parameter as discovered so far, to test frequent literals against (built once, and
    // kept as the result when no literal joins after it was built: merging twice at every level
    // would double the work per level of depth)
    let mut discovered_param: Option<Merged> = None;
    let mut joined_since_discovered = false;
    // the shape most taken values share, when they are many and most of them share it
    let taken: usize = value_shapes.values().sum();
    let dominant_shape = value_shapes
        .into_iter()
        .max_by_key(|(_, n)| *n)
        .filter(|(_, n)| taken >= config.min_distinct && *n as f64 >= config.shape_share * taken as f64)
        .map(|(shape, _)| shape);
    for (shape, key, child) in frequent {
        // A value seen often (`octocat` among many rare logins) still has the parameter's shape:
        // most of its children are children of the parameter too, or everything below it is
        // also below the parameter. A leaf (`search`) or a self alias (`me/profile`) is never
        // taken for one.
        if never_a_value(&key) {
            merged.literals.insert(key, merge(child, config));
            continue;
        }
        let looks_like_value = param.as_ref().is_some_and(|p| {
            same_shape(&child, p, config.shape_share)
                || (taken >= config.min_distinct && !is_plain_word(&key) && called_like(&child, p))
                || (!child.children.is_empty()
                    && fits(&child, discovered_param.get_or_insert_with(|| merge(p.clone(), config))))
        });
        // a rare value beside a parameter (`obj_RRnvzqFy...` among the `obj_Zitmn47...` the
        // filter recognised): unless it reads as a word (`export`), it is one more value
        let rare_beside_param = param.is_some() && child.paths <= config.rare_max && !is_word(&key);
        // a value seen often with the shape most values here have (`frontend-49` among
        // `canary-7`, `blue-19`, ...: an account many requests name) is one more value; a word
        // (`provisioning`) is not
        let shaped_like_values = !is_word(&key) && dominant_shape.as_deref() == Some(shape.as_str());
        if looks_like_value || rare_beside_param || shaped_like_values {
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

/// Most raw values a position may hold and still be a constant (`/1/`, the API dates of
/// `/secrets/2023-06-13/` and `/secrets/2023-11-28/`).
const MAX_CONSTANT_VALUES: usize = 8;
/// Templates (rows) a constant's values run through, on average, at least: a value that spans
/// several different endpoints is part of the API's address, not one object's.
const MIN_ROWS_PER_CONSTANT: usize = 3;

/// Per-request parameters that never vary: a segment the filter took for an id (`1` in
/// Trello's `/1/actions/{id}`, a date that versions an API) whose raw values, over the samples
/// of every template through that position, are a few, each running through several templates
/// on average. More values than that make the position a parameter for good; so a deployment
/// with two users who each call many endpoints gets literal user ids until more users come
/// (pin the template or upload the spec: both win over discovery).
/// Fed with each template's sample raw paths; `literal` then writes the constants back.
///
/// Bounded: one entry per (template prefix, position) with at most `MAX_CONSTANT_VALUES + 1`
/// values kept.
#[derive(Debug, Default, Clone)]
pub struct Constants {
    positions: std::collections::HashMap<String, Position>,
}

#[derive(Debug, Default, Clone)]
struct Position {
    /// raw value -> templates (rows) it was seen in
    values: BTreeMap<String, usize>,
    /// templates with two or more samples, and those of them whose samples differ here
    rows_sampled: usize,
    rows_varying: usize,
    /// too many values: a parameter for good
    varies: bool,
}

impl Position {
    /// Few values, each through several templates on average, and most templates called with
    /// one of them only: versions (`/packer/2021-04-30/...`, `/packer/2023-01-01/...`) rather
    /// than the values of a small enum, with which each template is called
    /// (`/Destiny2/1/Account/...`, `/Destiny2/2/Account/...`).
    fn is_constant(&self) -> bool {
        let rows: usize = self.values.values().sum();
        !self.varies
            && !self.values.is_empty()
            && rows >= MIN_ROWS_PER_CONSTANT * self.values.len()
            && (self.rows_varying as f64) < 0.5 * self.rows_sampled.max(1) as f64
    }
}

impl Constants {
    /// Records one template's sample raw paths (those the template came from).
    pub fn observe(&mut self, template: &str, samples: &[String]) {
        for_each_param(template, |key, index| {
            let position = self.positions.entry(key).or_default();
            if position.varies {
                return;
            }
            let mut seen: Vec<&str> = samples.iter().filter_map(|s| s.split('/').nth(index)).collect();
            seen.sort_unstable();
            seen.dedup();
            if samples.len() >= 2 {
                position.rows_sampled += 1;
                position.rows_varying += usize::from(seen.len() >= 2);
            }
            for value in seen {
                *position.values.entry(value.to_owned()).or_default() += 1;
            }
            if position.values.len() > MAX_CONSTANT_VALUES {
                position.varies = true;
                position.values.clear();
            }
        });
    }

    /// `template` with its constant positions written back as the literal the samples show.
    pub fn literal(&self, template: &str, samples: &[String]) -> String {
        let Some(sample) = samples.first() else { return template.to_owned() };
        let raw: Vec<&str> = sample.split('/').collect();
        let mut out: Vec<String> = template.split('/').map(str::to_owned).collect();
        if raw.len() != out.len() {
            return template.to_owned();
        }
        for_each_param(template, |key, index| {
            let constant = self.positions.get(&key).is_some_and(Position::is_constant);
            // a template whose samples hold two of the values (two versions with the same
            // per-request template) keeps the parameter: no one literal is true of it
            let agreed = samples.iter().all(|s| s.split('/').nth(index) == Some(raw[index]));
            if constant && agreed {
                out[index] = raw[index].to_owned();
            }
        });
        out.join("/")
    }
}

/// Calls `f(position key, segment index)` for each whole-segment parameter of `template`; the
/// key is the template up to that segment, so positions are told apart by what leads to them.
fn for_each_param(template: &str, mut f: impl FnMut(String, usize)) {
    let mut prefix_end = 0;
    for (index, segment) in template.split('/').enumerate() {
        if is_param(segment) {
            f(template[..prefix_end + segment.len()].to_owned(), index);
        }
        prefix_end += segment.len() + 1;
    }
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

    fn samples(paths: &[&str]) -> Vec<String> {
        paths.iter().map(|p| (*p).to_owned()).collect()
    }

    #[test]
    fn a_version_that_never_varies_is_a_literal_and_ids_stay_parameters() {
        let mut constants = Constants::default();
        let rows = [
            ("/{id}/actions/{action_id}", vec!["/1/actions/5", "/1/actions/9"]),
            ("/{id}/boards/{board_id}", vec!["/1/boards/77", "/1/boards/78"]),
            ("/{id}/cards", vec!["/1/cards"]),
            ("/{id}/members/me", vec!["/1/members/me"]),
        ];
        for (template, paths) in &rows {
            constants.observe(template, &samples(paths));
        }
        let literal = |t: &str, p: &[&str]| constants.literal(t, &samples(p));
        assert_eq!(literal("/{id}/actions/{action_id}", &["/1/actions/5"]), "/1/actions/{action_id}");
        assert_eq!(literal("/{id}/cards", &["/1/cards"]), "/1/cards");
        // no samples, or samples of another shape: the template as it was
        assert_eq!(literal("/{id}/cards", &[]), "/{id}/cards");
    }

    #[test]
    fn an_enum_each_template_is_called_with_stays_a_parameter() {
        let mut constants = Constants::default();
        for tail in ["Account", "Profile", "Stats", "Character"] {
            let template = format!("/Destiny2/{{id}}/{tail}");
            let paths: Vec<String> = ["1", "2", "-1"].iter().map(|v| format!("/Destiny2/{v}/{tail}")).collect();
            constants.observe(&template, &paths);
        }
        assert_eq!(
            constants.literal("/Destiny2/{id}/Account", &samples(&["/Destiny2/1/Account"])),
            "/Destiny2/{id}/Account"
        );
    }

    #[test]
    fn many_values_make_a_position_a_parameter_for_good() {
        let mut constants = Constants::default();
        for i in 0..12 {
            let path = format!("/users/{}/orders", 1000 + i);
            constants.observe("/users/{user_id}/orders", std::slice::from_ref(&path));
            constants.observe("/users/{user_id}/cart", &[path.replace("orders", "cart")]);
            constants.observe("/users/{user_id}/profile", &[path.replace("orders", "profile")]);
        }
        assert_eq!(
            constants.literal("/users/{user_id}/orders", &samples(&["/users/1000/orders"])),
            "/users/{user_id}/orders"
        );
    }

    /// Found on the DocuSign corpus: account ids like `frontend-49` recur (an account calls many
    /// operations), so few are rare; their one shape with a digit says they are values, and a
    /// word beside them (`provisioning`) stays.
    #[test]
    fn many_values_of_one_digit_shape_are_values_even_when_they_recur() {
        let mut paths = Vec::new();
        for i in 0..60 {
            let account = format!("{}-{}", ["blue", "canary", "staging"][i % 3], i);
            for tail in ["", "/brands", "/billing_plan", "/users"] {
                paths.push(format!("/accounts/{account}{tail}"));
            }
        }
        for _ in 0..5 {
            paths.push("/accounts/provisioning".into());
            paths.push("/accounts/me/brands".into());
        }
        let mut discovery = discover(&paths);
        assert_eq!(discovery.resolve("/accounts/canary-7/brands"), "/accounts/{account_id}/brands");
        assert_eq!(discovery.resolve("/accounts/blue-3"), "/accounts/{account_id}");
        assert_eq!(discovery.resolve("/accounts/provisioning"), "/accounts/provisioning");
        assert_eq!(discovery.resolve("/accounts/me/brands"), "/accounts/me/brands");
    }

    #[test]
    fn segments_with_a_parameter_inside_keep_their_suffix() {
        let paths: Vec<String> =
            (0..20).map(|i| format!("/t/{}.json", 1000 + i * 7)).chain(["/t/latest.json".into()]).collect();
        let mut discovery = discover(&paths);
        assert_eq!(discovery.resolve(&template_path("/t/5.json")), "/t/{id}.json");
        assert_eq!(discovery.resolve("/t/latest.json"), "/t/latest.json");
    }

    /// Found on the Gitea corpus at fifty requests per operation: a login seen often
    /// (`jdoe-staging`) is called as the other logins are, a literal sibling is not.
    #[test]
    fn a_frequent_value_called_as_the_values_are_joins_them() {
        let mut discovery = Discovery::default();
        let purge = ["purge".to_owned()];
        for i in 0..30 {
            discovery.observe_call(&format!("/admin/users/user{}x", i * 37 % 1000), 1, "DELETE", &purge);
        }
        for _ in 0..20 {
            discovery.observe_call("/admin/users/jdoe-staging", 3, "DELETE", &purge);
            discovery.observe_call("/admin/users/search", 3, "GET", &["q".to_owned()]);
            discovery.observe_call("/admin/users/export", 3, "DELETE", &[]);
        }
        assert_eq!(discovery.resolve("/admin/users/jdoe-staging"), "/admin/users/{user_id}");
        assert_eq!(discovery.resolve("/admin/users/search"), "/admin/users/search");
        // a bare method says nothing: it stays
        assert_eq!(discovery.resolve("/admin/users/export"), "/admin/users/export");
    }
}
