//! Values whose whole shape rules out every attack and every value-based sensitive class.
//!
//! Identifiers and timestamps are a large share of the values in JSON APIs (`id`, `uuid`,
//! `created_at`, `updated_at`), and they cost the most to scan for nothing: a UUID is one long run
//! of secret characters (so it goes through the vendor-prefix automaton) with enough letters and
//! digits for the IBAN check, and a timestamp has the colons that send a value to the URL, PHP and
//! IPv6 checks. Neither shape can hold markup, a quote, a path, a command or a number the sensitive
//! classes look for, so they skip all of it; the field-name hints and custom classes still run.
//! `tests::shaped_values_have_no_findings` scans random values of both shapes with the full checks.

/// A UUID (`8-4-4-4-12` hex digits, the test path templating uses for ID segments) or an RFC
/// 3339 date-time.
pub(crate) fn opaque(v: &[u8]) -> bool {
    crate::template::is_uuid(v) || timestamp(v)
}

/// `2024-03-04T12:30:45Z`, `2024-03-04 12:30:45.123+02:00`: date, `T` or a blank, hours and
/// minutes, optional seconds and fraction, optional `Z` or offset.
fn timestamp(v: &[u8]) -> bool {
    const DATE_TIME: &[u8] = b"dddd-dd-ddTdd:dd";
    if v.len() < DATE_TIME.len() || v.len() > 40 {
        return false;
    }
    let fixed = v.iter().zip(DATE_TIME).all(|(c, want)| match want {
        b'd' => c.is_ascii_digit(),
        b'T' => matches!(c, b'T' | b't' | b' '),
        sep => c == sep,
    });
    if !fixed {
        return false;
    }
    let mut rest = &v[DATE_TIME.len()..];
    if let [b':', a, b, tail @ ..] = rest {
        if !(a.is_ascii_digit() && b.is_ascii_digit()) {
            return false;
        }
        rest = tail;
        if let [b'.', tail @ ..] = rest {
            let digits = tail.iter().take_while(|c| c.is_ascii_digit()).count();
            if digits == 0 || digits > 9 {
                return false;
            }
            rest = &tail[digits..];
        }
    }
    match rest {
        [] | [b'Z' | b'z'] => true,
        [b'+' | b'-', h1, h2, b':', m1, m2] => [h1, h2, m1, m2].iter().all(|c| c.is_ascii_digit()),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::opaque;

    #[test]
    fn recognises_uuids_and_timestamps() {
        for v in [
            "7c9e6679-7425-40de-944b-e07fc1f90ae7",
            "7C9E6679-7425-40DE-944B-E07FC1F90AE7",
            "2024-03-04T12:30:45Z",
            "2024-03-04T12:30",
            "2024-03-04T12:30:45",
            "2024-03-04 12:30:45.123456+02:00",
            "2024-03-04t12:30:45.1-05:00",
        ] {
            assert!(opaque(v.as_bytes()), "{v}");
        }
        for v in [
            "",
            "7c9e6679-7425-40de-944b-e07fc1f90ae",
            "7c9e6679-7425-40de-944b-e07fc1f90aeg",
            "7c9e6679x7425-40de-944b-e07fc1f90ae7",
            "2024-03-04",
            "2024-03-04T12:30:45Z'",
            "2024-03-04T12:30:45Z or 1=1",
            "2024-03-04T12:30:45.Z",
            "2024-03-04T12:30:45+0200",
            "2024-03-04T12:30:45 <script>",
            "2024-03-04T12:30:45.1234567890Z",
        ] {
            assert!(!opaque(v.as_bytes()), "{v}");
        }
    }
}
