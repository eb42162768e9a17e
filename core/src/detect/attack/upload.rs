//! Uploaded file names that install server configuration or scripts.

/// Uploaded file names that execute on the server or reconfigure it.
#[inline(never)]
pub(super) fn upload_name(v: &str) -> Option<(&'static str, &'static str)> {
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
    // `php`, `php5`, `phpt`: not `phpinfo`, a name's tail
    let php = ext.strip_prefix("php").is_some_and(|v| v.bytes().all(|c| c.is_ascii_digit()) || v == "t");
    if php || matches!(ext, "phtml" | "pht" | "phar" | "phps") {
        return Some(("php_injection", "PHP script upload"));
    }
    // `sess_` and a session id (22 to 256 characters by PHP's rules; `sess_short` is a name)
    if name
        .strip_prefix("sess_")
        .is_some_and(|id| id.len() >= 20 && id.bytes().all(|c| c.is_ascii_alphanumeric() || matches!(c, b',' | b'-')))
    {
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
