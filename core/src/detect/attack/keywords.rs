//! The keyword rules: every keyword of every class, matched in one automaton pass, and the
//! signal words that only decide which structural checks run.

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Ctx {
    /// anywhere
    Any,
    /// not preceded by a letter, digit or `_`
    WordStart,
    /// word start, then optional spaces and `(`
    Call,
}

pub(super) struct Rule {
    pub(super) pattern: &'static str,
    /// empty for signal words, which only decide which structural checks run
    pub(super) class: &'static str,
    pub(super) ctx: Ctx,
    pub(super) reason: &'static str,
    pub(super) severity: u8,
    pub(super) signal: u32,
}

const fn rule(pattern: &'static str, class: &'static str, ctx: Ctx, reason: &'static str, severity: u8) -> Rule {
    Rule { pattern, class, ctx, reason, severity, signal: 0 }
}

const fn signal(pattern: &'static str, signal: u32) -> Rule {
    Rule { pattern, class: "", ctx: Ctx::WordStart, reason: "", severity: 0, signal }
}

/// Words that make a check worth running on a value without the characters it needs.
pub(super) const SIGNAL_SQL: u32 = 1;

pub(super) const SIGNAL_XSS: u32 = 2;

pub(super) const SIGNAL_BATCH: u32 = 4;

pub(super) const SIGNAL_NOSQL: u32 = 8;

/// Words that start an SQL fragment (`case when`, a `::` cast): only the fragment checks run.
pub(super) const SIGNAL_SQL_FRAGMENT: u32 = 16;

/// A call of a function that runs a shell command (`system(`, `exec(`): the shell check reads
/// its argument.
pub(super) const SIGNAL_EXEC_CALL: u32 = 32;

pub(super) const SIGNALS: [Rule; 47] = [
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

macro_rules! rules {
    ($class:literal, $ctx:ident, $reason:literal, $severity:literal: $($p:literal),* $(,)?) => {
        [$(rule($p, $class, Ctx::$ctx, $reason, $severity)),*]
    };
}

/// System catalogs and procedures whose names give an SQL injection away.
pub(super) const SQL_NAMES: [Rule; 48] = rules!("sqli", WordStart, "system catalog or procedure name", 4:
    "information_schema", "sysobjects", "syscolumns", "sysdatabases", "sysusers", "msysobjects", "msysaccessobjects",
    "pg_catalog", "pg_shadow", "pg_user", "pg_database", "sqlite_master", "sqlite_schema", "all_tables",
    "user_tables", "all_tab_columns", "user_objects", "mysql.user", "mysql.db", "master..sysdatabases",
    "sys.objects", "sys.tables", "sys.databases", "v$version", "tempdb", "msdb", "northwind", "xp_cmdshell",
    "sp_executesql", "sp_oacreate", "sp_password", "xp_regread", "xp_dirtree", "sp_makewebtask", "schema_name",
    "pg_sleep", "load_file", "dbms_pipe", "dbms_lock", "utl_http", "utl_inaddr",
    // MySQL and SQL Server system variables, as fingerprinting probes read them
    "@@version", "@@datadir", "@@hostname", "@@basedir", "@@servername", "@@tmpdir", "@@spid",
);

pub(super) const JAVA: [Rule; 59] = rules!("java_injection", WordStart, "Java class or gadget name", 4:
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

pub(super) const PHP_CALLS: [Rule; 59] = rules!("php_injection", Call, "high-risk PHP function call", 4:
    "print_r", "substr", "unpack", "file_exists", "assert_options", "get_defined_functions", "gzdecode",
    "var_dump", "var_export", "str_replace", "ini_get", "phpversion",
    "eval", "assert",
    "create_function", "call_user_func", "call_user_func_array", "base64_decode", "gzinflate", "gzuncompress",
    "str_rot13", "file_get_contents", "file_put_contents", "fopen", "fwrite", "fputs", "fputcsv", "readfile",
    "include", "require", "include_once", "require_once", "phpinfo", "preg_replace", "unserialize", "chr",
    "intval", "fsockopen", "pfsockopen", "move_uploaded_file", "curl_exec", "ini_set", "getenv", "putenv",
    "show_source", "highlight_file", "php_uname", "array_map", "usort", "uasort", "array_filter", "ob_start",
    "bzdecompress", "curl_init", "strrev", "is_array", "strip_tags", "filegroup", "zlib_decode",
);

const fn exec_call(pattern: &'static str) -> Rule {
    Rule { signal: SIGNAL_EXEC_CALL, ..rule(pattern, "php_injection", Ctx::Call, "high-risk PHP function call", 4) }
}

/// The PHP calls that run a shell command: reported as PHP calls, and their argument read as a
/// command line (`system('id')` is command execution too).
pub(super) const EXEC_CALLS: [Rule; 7] = [
    exec_call("system"),
    exec_call("exec"),
    exec_call("shell_exec"),
    exec_call("passthru"),
    exec_call("popen"),
    exec_call("proc_open"),
    exec_call("pcntl_exec"),
];

pub(super) const PHP_WORDS: [Rule; 44] = rules!("php_injection", WordStart, "PHP function, variable or stream", 4:
    "posix_getpwuid", "posix_getegid", "posix_geteuid", "posix_getgid", "posix_getuid", "posix_kill", "posix_mkfifo",
    "posix_setuid", "posix_uname", "posix_", "pcntl_", "phpinfo", "shell_exec", "proc_open", "base64_decode",
    "file_get_contents", "file_put_contents", "call_user_func", "create_function", "get_defined_vars",
    "$_get", "$_post", "$_server", "$_cookie", "$_request", "$_files", "$_env", "$_session", "$globals",
    "$http_raw_post_data", "$http_get_vars", "$http_post_vars", "php://", "phar://", "zlib://", "glob://",
    "expect://", "compress.zlib://", "compress.bzip2://", "ogg://", "rar://", "ssh2.shell://", "ssh2.exec://",
    "<?php",
);

pub(super) const PHP_CONFIG: [Rule; 14] = rules!("php_injection", WordStart, "PHP configuration directive", 3:
    "allow_url_include", "allow_url_fopen", "auto_prepend_file", "auto_append_file", "disable_functions",
    "open_basedir", "safe_mode", "register_globals", "magic_quotes_gpc", "suhosin.", "enable_dl",
    "disable_classes", "display_errors", "zend_extension",
);

pub(super) const FILES: [Rule; 68] = rules!("path_traversal", Any, "access to a system or secret file", 3:
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

pub(super) const AGENT_FILES: [Rule; 30] = rules!("path_traversal", Any, "access to an AI coding assistant's files", 3:
    "/.aiignore", "/.cursorignore", "/.zed/", "/.rovodev/", "/.a0proj/", "/.plandex/", "/.fabric/", "/.n8n/",
    "/errors.log", "/sys/class",
    "/.junie/", "/.roo/", "/.kiro/", "/.amazonq/", "/.cline", "/.github/copilot", "/.vscode/mcp", "/.mcp.json",
    "/.opencode/", "/.codex/", "/.claude/", "/.cursor/", "/.aider", "/.windsurf", "/.continue/", "/.gemini/",
    "/.copilot/", "/claude.md", "/agents.md", "/.cursorrules",
);

pub(super) const SSRF_HOSTS: [Rule; 23] = rules!("ssrf", Any, "internal or metadata address", 4:
    "169.254.169.254", "metadata.google.internal", "100.100.100.200", "192.0.0.192", "fd00:ec2::254",
    "host.docker.internal", "host.containers.internal", "gateway.docker.internal", "kubernetes.default",
    "ip6-localhost", "ip6-loopback", "instance-data", "/latest/meta-data", "/latest/user-data",
    "/latest/api/token", "/computemetadata/v1", "/metadata/instance", "/metadata/v1", "metadata.azure.com",
    "[::ffff:127", "[::1]", "[0:0:0:0:0:0:0:1]", "0x7f000001",
);

pub(super) const SSRF_SCHEMES: [Rule; 9] = rules!("ssrf", WordStart, "unusual URL scheme", 4:
    "gopher://", "dict://", "tftp://", "ldap://", "jar:", "netdoc:", "file://", "data://", "data:text/plain",
);

pub(super) const CODE: [Rule; 43] = rules!("code_injection", Any, "server-side script injection", 4:
    "eval(string.fromcharcode", "console[", "require.main", "constructor._load", "require[", "xyqktkrfrlvoqyqk", "[constructor][prototype]",
    "constructor][prototype", "while(", "process.mainmodule.require",
    "_$$nd_func$$_", "__js_function", "function(){", "function() {", "new function(", "new function (",
    "this.constructor", ".constructor.constructor", "module.exports", "console.", "process[",
    "__proto__", "constructor[prototype]", "constructor.prototype", "child_process", "process.mainmodule",
    "process.binding", "global.process", "require('", "require(\"", "require(`", "execsync(", "spawnsync(",
    ".spawn(", "for(;;)", "kernel.exec",
    "kernel.system", "io.popen", "%x(", "open3.", "process.env", "runtime.exec", "module.constructor",
);

pub(super) const NOSQL: [Rule; 16] = rules!("nosqli", Any, "NoSQL operator or script", 4:
    "$where", "[$ne]", "[$gt]", "[$lt]", "[$regex]", "[$nin]", "[$in]", "[$exists]", "{\"$ne\"", "{\"$gt\"",
    "{\"$regex\"", "db.getcollection", "this.password", "this.username", ";return true", "return(true)",
);

pub(super) const XPATH: [Rule; 13] = rules!("xpath_injection", Any, "XPath axis or function", 4:
    "count(/", "child::", "parent::", "ancestor::", "descendant::", "following-sibling::", "preceding-sibling::",
    "string-length(", "name(/", "name()", "//user[", "//*[", "text()=",
);

pub(super) const XXE: [Rule; 8] = rules!("xxe", Any, "XML entity, inclusion or transformation", 4:
    "!entity", "xmlns:xi=", "<xi:include", "<!doctype", "<xsl:stylesheet", "<xsl:transform", "xmlns:xsl=", "<![cdata[",
);

pub(super) const SSI: [Rule; 8] = rules!("ssi_injection", Any, "server-side include", 4:
    "<!--#exec", "<!--#include", "<!--#echo", "<!--#config", "<!--#printenv", "<!--#set", "<esi:", "<!--esi",
);

pub(super) const SHELL_WORDS: [Rule; 21] = rules!("command_injection", Any, "shell program or syntax", 4:
    "/bin/sh", "/bin/bash", "/bin/zsh", "/bin/dash", "/bin/busybox", "/usr/bin/", "cmd.exe", "cmd /c", "cmd /k",
    "%comspec%", "powershell", "pwsh ", "invoke-expression", "invoke-webrequest", "net.webclient",
    "downloadstring(", "-encodedcommand", "start-process", "invoke-command", "${ifs}", "$ifs$",
);

pub(super) const LOG4J: [Rule; 2] = rules!("log4shell", Any, "JNDI lookup", 4: "${jndi:", "jndi:");
