//! URL-valued parameters: SSRF (internal and metadata hosts in any notation, odd schemes) and
//! remote file inclusion.

/// A value that is a URL (or a bare host): remote file inclusion and SSRF.
#[inline(never)]
pub(super) fn url_value(v: &str, key: &str) -> Option<(&'static str, &'static str)> {
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
