//! The operation a request body names, for APIs where one path serves many: GraphQL
//! (`{"query": "mutation CreateOrder { ... }"}`, batched as an array) and JSON-RPC 2.0
//! (`{"jsonrpc": "2.0", "method": "users.get"}`). The inventory lists `query GetUser` and
//! `mutation CreateOrder` rather than one `POST /graphql`.
//!
//! The GraphQL reading is a tokenizer, not a parser: it finds the operation's type and name
//! (the `operationName` field wins when the document holds several), its top-level fields, how
//! deep its selections nest and how many aliases it uses, skipping strings, block strings,
//! comments, arguments and fragment definitions. A document it cannot read gives no operation;
//! it never fails.

use serde_json::Value;

/// Most top-level fields kept per operation.
const MAX_FIELDS: usize = 16;
/// Longest operation or field name kept.
const MAX_NAME: usize = 64;

/// What one request asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Operation {
    /// `query`, `mutation`, `subscription` (GraphQL) or `rpc` (JSON-RPC)
    pub kind: &'static str,
    /// the operation's name (`GetUser`, `users.get`); empty for an anonymous GraphQL operation
    pub name: String,
    /// the top-level fields selected (GraphQL), in order, without duplicates
    pub fields: Vec<String>,
    /// how deep the selections nest (`{ a { b } }`: 2)
    pub depth: u32,
    /// aliased fields (`first: user(id: 1)`)
    pub aliases: u32,
    /// operations in the request: more than one for a batch (a JSON array)
    pub batch: u32,
    /// the operation reads the schema (`__schema`, `__type` at the top level)
    pub introspection: bool,
}

impl Operation {
    /// How the inventory names it: `query GetUser`, `rpc users.get`, and for an anonymous
    /// operation its top-level fields (`query {user,orders}`).
    pub fn label(&self) -> String {
        if !self.name.is_empty() {
            format!("{} {}", self.kind, self.name)
        } else if !self.fields.is_empty() {
            format!("{} {{{}}}", self.kind, self.fields.join(","))
        } else {
            self.kind.to_owned()
        }
    }
}

/// Whether a body field path (`$.query`, `$[*].jsonrpc`) is one a GraphQL request or a
/// JSON-RPC call has: the bodies worth reading for an operation.
pub fn is_operation_key(path: &str) -> bool {
    matches!(path, "$.query" | "$.jsonrpc" | "$[*].query" | "$[*].jsonrpc")
}

/// The operation of a JSON request body, if it is a GraphQL request or a JSON-RPC 2.0 call
/// (or a batch of them: the first one, with `batch` set to how many). It parses the body: the
/// recorder calls it only for bodies whose walk saw an operation key (`is_operation_key`).
pub fn of_json_body(body: &[u8]) -> Option<Operation> {
    let value: Value = serde_json::from_slice(body).ok()?;
    match &value {
        Value::Array(items) => {
            let mut operation = items.iter().find_map(of_request)?;
            operation.batch = u32::try_from(items.len()).unwrap_or(u32::MAX);
            Some(operation)
        }
        other => of_request(other),
    }
}

fn of_request(value: &Value) -> Option<Operation> {
    let object = value.as_object()?;
    if let Some(query) = object.get("query").and_then(Value::as_str) {
        let wanted = object.get("operationName").and_then(Value::as_str).filter(|n| !n.is_empty());
        return of_graphql(query, wanted);
    }
    if object.get("jsonrpc").and_then(Value::as_str) == Some("2.0") {
        let method = object.get("method").and_then(Value::as_str)?;
        return Some(Operation { kind: "rpc", name: clip(method), batch: 1, ..Operation::default() });
    }
    None
}

fn clip(name: &str) -> String {
    let mut end = name.len().min(MAX_NAME);
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    name[..end].to_owned()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token<'a> {
    Name(&'a str),
    Punct(u8),
    /// a string, a number or anything else that names nothing
    Other,
}

/// GraphQL's lexical tokens, with whitespace, commas, comments and strings skipped over.
struct Tokens<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Iterator for Tokens<'a> {
    type Item = Token<'a>;

    fn next(&mut self) -> Option<Token<'a>> {
        let bytes = self.text.as_bytes();
        loop {
            let c = *bytes.get(self.at)?;
            match c {
                b' ' | b'\t' | b'\n' | b'\r' | b',' | 0xEF | 0xBB | 0xBF => self.at += 1,
                b'#' => {
                    self.at = memchr::memchr(b'\n', &bytes[self.at..]).map_or(bytes.len(), |n| self.at + n + 1);
                }
                _ => break,
            }
        }
        let start = self.at;
        let c = bytes[start];
        if c == b'"' {
            if bytes[start..].starts_with(b"\"\"\"") {
                let close = memchr::memmem::find(&bytes[start + 3..], b"\"\"\"");
                self.at = close.map_or(bytes.len(), |n| start + 3 + n + 3);
            } else {
                let mut i = start + 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                self.at = (i + 1).min(bytes.len());
            }
            return Some(Token::Other);
        }
        if c.is_ascii_alphabetic() || c == b'_' {
            let len = bytes[start..].iter().take_while(|b| b.is_ascii_alphanumeric() || **b == b'_').count();
            self.at = start + len;
            return Some(Token::Name(&self.text[start..self.at]));
        }
        if c == b'.' && bytes[start..].starts_with(b"...") {
            self.at = start + 3;
            return Some(Token::Punct(b'.'));
        }
        if c.is_ascii_digit() || c == b'-' {
            let len = bytes[start..]
                .iter()
                .take_while(|b| b.is_ascii_alphanumeric() || matches!(**b, b'-' | b'+' | b'.'))
                .count();
            self.at = start + len.max(1);
            return Some(Token::Other);
        }
        // one byte of punctuation, or of a character GraphQL has no use for (skipped whole)
        let width = self.text[start..].chars().next().map_or(1, char::len_utf8);
        self.at = start + width;
        Some(if c.is_ascii() { Token::Punct(c) } else { Token::Other })
    }
}

/// The operation of a GraphQL document: the one named `wanted`, else the first.
pub fn of_graphql(document: &str, wanted: Option<&str>) -> Option<Operation> {
    let mut tokens = Tokens { text: document, at: 0 }.peekable();
    let mut first: Option<Operation> = None;
    while let Some(token) = tokens.next() {
        let (kind, name) = match token {
            Token::Name("fragment") => {
                // `fragment Name on Type @directives { ... }`: up to its selection set, skipped
                for t in tokens.by_ref() {
                    if t == Token::Punct(b'{') {
                        break;
                    }
                }
                skip_selection(&mut tokens);
                continue;
            }
            Token::Name(kind @ ("query" | "mutation" | "subscription")) => {
                let name = match tokens.peek() {
                    Some(Token::Name(n)) => {
                        let n = *n;
                        tokens.next();
                        n
                    }
                    _ => "",
                };
                // variables and directives, up to the selection set
                let mut opened = false;
                for t in tokens.by_ref() {
                    if t == Token::Punct(b'{') {
                        opened = true;
                        break;
                    }
                }
                if !opened {
                    return first;
                }
                (static_kind(kind), name)
            }
            // the shorthand: a query without a keyword
            Token::Punct(b'{') => ("query", ""),
            _ => continue,
        };
        let mut operation = Operation { kind, name: clip(name), batch: 1, ..Operation::default() };
        read_selection(&mut tokens, &mut operation);
        if wanted.is_some_and(|w| w == name) {
            return Some(operation);
        }
        if first.is_none() {
            first = Some(operation);
        }
    }
    first
}

fn static_kind(kind: &str) -> &'static str {
    match kind {
        "mutation" => "mutation",
        "subscription" => "subscription",
        _ => "query",
    }
}

/// Skips to the `}` that closes a selection set whose `{` was just read.
fn skip_selection<'a>(tokens: &mut std::iter::Peekable<Tokens<'a>>) {
    let mut depth = 1u32;
    for token in tokens.by_ref() {
        match token {
            Token::Punct(b'{') => depth += 1,
            Token::Punct(b'}') => {
                depth -= 1;
                if depth == 0 {
                    return;
                }
            }
            _ => {}
        }
    }
}

/// Reads an operation's selection set (its `{` just read): top-level fields, depth, aliases.
fn read_selection<'a>(tokens: &mut std::iter::Peekable<Tokens<'a>>, operation: &mut Operation) {
    let mut depth = 1u32;
    let mut parens = 0u32;
    operation.depth = 1;
    // the previous name at this level, which a `:` turns into an alias
    let mut previous: Option<&'a str> = None;
    // after `...`: a fragment spread or inline fragment, not a field
    let mut spread = false;
    while let Some(token) = tokens.next() {
        match token {
            Token::Punct(b'(') => parens += 1,
            Token::Punct(b')') => parens = parens.saturating_sub(1),
            _ if parens > 0 => {}
            Token::Punct(b'{') => {
                depth += 1;
                operation.depth = operation.depth.max(depth);
                previous = None;
                spread = false;
            }
            Token::Punct(b'}') => {
                depth -= 1;
                if depth == 0 {
                    return;
                }
                previous = None;
            }
            Token::Punct(b'.') => spread = true,
            Token::Punct(b'@') => {
                // a directive's name is not a field
                tokens.next();
            }
            Token::Punct(b':') => {
                operation.aliases += 1;
                // the field is the name after the colon; at the top level it replaces the alias
                if depth == 1 {
                    if let (Some(alias), Some(Token::Name(field))) = (previous, tokens.peek().copied()) {
                        operation.fields.retain(|f| f != alias);
                        tokens.next();
                        top_level_field(operation, field);
                        previous = Some(field);
                    }
                }
            }
            Token::Name(name) => {
                if spread {
                    // `... on Type` or `...Fragment`: neither is a field
                    spread = name == "on";
                    previous = None;
                    continue;
                }
                if depth == 1 {
                    top_level_field(operation, name);
                }
                previous = Some(name);
            }
            _ => {}
        }
    }
}

fn top_level_field(operation: &mut Operation, field: &str) {
    if field == "__schema" || field == "__type" {
        operation.introspection = true;
    }
    if field != "__typename" && operation.fields.len() < MAX_FIELDS && !operation.fields.iter().any(|f| f == field) {
        operation.fields.push(clip(field));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graphql(body: &str) -> Operation {
        of_json_body(body.as_bytes()).expect("an operation")
    }

    #[test]
    fn named_operations_with_their_top_level_fields() {
        let op = graphql(
            r#"{"query": "query GetUser($id: ID!) { user(id: $id) { id name orders { id } } }", "variables": {"id": 1}}"#,
        );
        assert_eq!((op.kind, op.name.as_str(), op.label()), ("query", "GetUser", "query GetUser".to_owned()));
        assert_eq!(op.fields, ["user"]);
        assert_eq!((op.depth, op.aliases, op.batch, op.introspection), (3, 0, 1, false));
        let op = graphql(r#"{"query":"mutation CreateOrder { createOrder(input: {sku: \"A-1\", qty: 2}) { id } }"}"#);
        assert_eq!(op.label(), "mutation CreateOrder");
        assert_eq!(op.fields, ["createOrder"]);
    }

    #[test]
    fn anonymous_operations_are_named_by_their_fields() {
        let op = graphql(r#"{"query": "{ products(first: 10) { edges { node { id } } } cart { id } __typename }"}"#);
        assert_eq!(op.label(), "query {products,cart}");
        assert_eq!(op.depth, 4);
    }

    #[test]
    fn the_operation_name_picks_among_several_and_fragments_are_skipped() {
        let document = "fragment F on User { id friends { id } } \
                        query A { a } \
                        # query Hidden { nope }\n\
                        mutation B { b: renameUser(name: \"x { y }\") { ...F } }";
        let body = serde_json::json!({"query": document, "operationName": "B"}).to_string();
        let op = graphql(&body);
        assert_eq!(op.label(), "mutation B");
        assert_eq!(op.fields, ["renameUser"]);
        assert_eq!(op.aliases, 1);
        let first = of_graphql(document, None).expect("the first operation");
        assert_eq!(first.label(), "query A");
    }

    #[test]
    fn aliases_introspection_and_batches_are_counted() {
        let many: String = (0..30).map(|i| format!("u{i}: user(id: {i}) {{ id }} ")).collect();
        let op = graphql(&serde_json::json!({"query": format!("query Many {{ {many} }}")}).to_string());
        assert_eq!((op.aliases, op.fields.as_slice()), (30, ["user".to_owned()].as_slice()));
        let op = graphql(r#"{"query": "query IntrospectionQuery { __schema { types { name } } }"}"#);
        assert!(op.introspection);
        let op = graphql(r#"[{"query": "query A { a }"}, {"query": "query B { b }"}, {"query": "query C { c }"}]"#);
        assert_eq!((op.label(), op.batch), ("query A".to_owned(), 3));
    }

    #[test]
    fn json_rpc_calls_are_named_by_their_method() {
        let op = graphql(r#"{"jsonrpc": "2.0", "method": "users.get", "params": {"id": 1}, "id": 7}"#);
        assert_eq!((op.kind, op.label()), ("rpc", "rpc users.get".to_owned()));
        let op = graphql(r#"[{"jsonrpc":"2.0","method":"a.b","id":1},{"jsonrpc":"2.0","method":"c","id":2}]"#);
        assert_eq!((op.label(), op.batch), ("rpc a.b".to_owned(), 2));
    }

    #[test]
    fn other_bodies_and_broken_documents_give_nothing_or_what_was_read() {
        assert_eq!(of_json_body(br#"{"name": "x", "query_count": 2}"#), None);
        assert_eq!(of_json_body(br#"{"query": 5}"#), None);
        assert_eq!(of_json_body(br#"{"jsonrpc": "1.0", "method": "x"}"#), None);
        assert_eq!(of_json_body(b"not json \"query\""), None);
        // unclosed: what was read so far
        let op = graphql(r#"{"query": "query Cut { a { b "}"#);
        assert_eq!((op.label(), op.fields.as_slice()), ("query Cut".to_owned(), ["a".to_owned()].as_slice()));
        assert_eq!(of_graphql("query", None), None);
        assert_eq!(of_graphql("", None), None);
    }
}
