//! Parsers for the human-written values of a profile: sizes, file modes,
//! durations, errno names. Each returns a message fit for a diagnostic.

/// `"64M"`, `"2G"`, `"512k"`, `"1.5G"`, `"4096"` -> bytes (powers of 1024).
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        "t" | "tb" | "tib" => 1 << 40,
        other => return Err(format!("unknown size unit '{other}' (use K, M, G or T)")),
    };
    let n: f64 = num
        .parse()
        .map_err(|_| format!("'{s}' is not a size (e.g. \"64M\", \"2G\", 4096)"))?;
    let bytes = n * mult as f64;
    // u64::MAX as f64 is 2^64, one more than u64::MAX: a size of exactly
    // that would saturate instead of failing.
    if !bytes.is_finite() || bytes >= u64::MAX as f64 {
        return Err(format!("size '{s}' is too large"));
    }
    Ok(bytes as u64)
}

/// `"1777"`, `"0755"`, `"0o700"` -> mode bits. Octal only: a decimal
/// reading of "755" would be a surprising, wrong permission set.
pub fn parse_mode(s: &str) -> Result<u32, String> {
    let t = s.trim().trim_start_matches("0o");
    if t.is_empty() || t.len() > 5 {
        return Err(format!(
            "'{s}' is not an octal file mode (e.g. \"0755\", \"1777\")"
        ));
    }
    let m = u32::from_str_radix(t, 8)
        .map_err(|_| format!("'{s}' is not an octal file mode (e.g. \"0755\", \"1777\")"))?;
    if m > 0o7777 {
        return Err(format!("mode '{s}' is larger than 07777"));
    }
    Ok(m)
}

/// `"30s"`, `"500ms"`, `"5m"`, `"1h"`, `"1h30m"` -> milliseconds.
pub fn parse_duration(s: &str) -> Result<u64, String> {
    let bad = || format!("'{s}' is not a duration (e.g. \"30s\", \"500ms\", \"5m\", \"1h30m\")");
    let mut rest = s.trim();
    if rest.is_empty() {
        return Err(bad());
    }
    let mut total: u64 = 0;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits == 0 {
            return Err(bad());
        }
        let n: u64 = rest[..digits].parse().map_err(|_| bad())?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let mult = match &rest[..unit_len] {
            "ms" => 1,
            "s" => 1000,
            "m" => 60_000,
            "h" => 3_600_000,
            _ => return Err(bad()),
        };
        rest = &rest[unit_len..];
        total = n
            .checked_mul(mult)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(bad)?;
    }
    Ok(total)
}

/// `"1h"`, `"-30s"` -> signed milliseconds (clock offsets).
pub fn parse_signed_duration(s: &str) -> Result<i64, String> {
    let t = s.trim();
    let (neg, rest) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let ms = i64::try_from(parse_duration(rest)?).map_err(|_| format!("'{s}' is too large"))?;
    Ok(if neg { -ms } else { ms })
}

/// The errno names a seccomp rule may return.
pub const ERRNOS: [(&str, i32); 8] = [
    ("EPERM", libc::EPERM),
    ("EACCES", libc::EACCES),
    ("ENOSYS", libc::ENOSYS),
    ("EINVAL", libc::EINVAL),
    ("ENOENT", libc::ENOENT),
    ("EFAULT", libc::EFAULT),
    ("EOPNOTSUPP", libc::EOPNOTSUPP),
    ("ENOTSUP", libc::ENOTSUP),
];

pub fn parse_errno(s: &str) -> Option<i32> {
    ERRNOS.iter().find(|(n, _)| *n == s).map(|(_, v)| *v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("64M"), Ok(64 << 20));
        assert_eq!(parse_size("2g"), Ok(2 << 30));
        assert_eq!(parse_size("1.5K"), Ok(1536));
        assert_eq!(parse_size("4096"), Ok(4096));
        assert!(parse_size("12Q").is_err());
        assert!(parse_size("M").is_err());
        // 2^64 bytes and more do not fit.
        assert!(parse_size("16777216T").is_err());
        assert!(parse_size("1e30").is_err());
        assert_eq!(parse_size("16777215T"), Ok(16777215 << 40));
        assert!(parse_size("").is_err());
    }

    #[test]
    fn modes_are_octal() {
        assert_eq!(parse_mode("1777"), Ok(0o1777));
        assert_eq!(parse_mode("0755"), Ok(0o755));
        assert_eq!(parse_mode("0o700"), Ok(0o700));
        assert!(parse_mode("0789").is_err());
        assert!(parse_mode("17777").is_err());
        assert!(parse_mode("rwx").is_err());
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30s"), Ok(30_000));
        assert_eq!(parse_duration("500ms"), Ok(500));
        assert_eq!(parse_duration("1h30m"), Ok(5_400_000));
        assert!(parse_duration("30").is_err());
        assert!(parse_duration("s").is_err());
        assert!(parse_duration("3 days").is_err());
    }
}
