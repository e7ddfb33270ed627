//! How Java prints what the four-letter words print: doubles, socket addresses, dates.

use std::net::SocketAddr;

/// `new BigDecimal(v).setScale(4, RoundingMode.HALF_UP).doubleValue()`: rounds the exact
/// binary value of `v`, not its shortest decimal form.
pub(super) fn round_half_up_4(v: f64) -> f64 {
    if !v.is_finite() {
        return v;
    }
    // 1100 places print any double exactly (the smallest subnormal needs 1074).
    let exact = format!("{:.1100}", v.abs());
    let Some((int_part, frac)) = exact.split_once('.') else {
        return v;
    };
    let keep: String = frac.chars().take(4).collect();
    let round_up = frac.chars().nth(4).is_some_and(|d| d >= '5');
    let mut digits: Vec<u8> = format!("{int_part}{keep}").into_bytes();
    if round_up {
        let mut i = digits.len();
        loop {
            if i == 0 {
                digits.insert(0, b'1');
                break;
            }
            i -= 1;
            if let Some(d) = digits.get_mut(i) {
                if *d == b'9' {
                    *d = b'0';
                } else {
                    *d += 1;
                    break;
                }
            }
        }
    }
    let s = String::from_utf8(digits).unwrap_or_default();
    let split = s.len().saturating_sub(4);
    let text = format!("{}.{}", s.get(..split).unwrap_or("0"), s.get(split..).unwrap_or("0"));
    let r: f64 = text.parse().unwrap_or(v.abs());
    if v < 0.0 {
        -r
    } else {
        r
    }
}

/// `Double.toString`: plain decimal with at least one fraction digit in [1e-3, 1e7), otherwise
/// `d.dddE±n`. Digits are the shortest that round-trip, as Java 19+ prints them; Java 17 differs
/// only for rare values, never for the 4-decimal numbers the four-letter words print.
pub fn java_double(v: f64) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "Infinity".into() } else { "-Infinity".into() };
    }
    let a = v.abs();
    if a == 0.0 || (1e-3..1e7).contains(&a) {
        let s = format!("{v}");
        return if s.contains('.') { s } else { format!("{s}.0") };
    }
    let s = format!("{v:e}");
    let (mant, exp) = s.split_once('e').unwrap_or((s.as_str(), "0"));
    let mant = if mant.contains('.') { mant.to_string() } else { format!("{mant}.0") };
    format!("{mant}E{exp}")
}

/// `InetSocketAddress.toString` for an accepted socket: `/ip:port`, IPv6 in brackets and in
/// Java's uncompressed form.
pub(super) fn java_socket_addr(a: &SocketAddr) -> String {
    match a {
        SocketAddr::V4(v4) => format!("/{}:{}", v4.ip(), v4.port()),
        SocketAddr::V6(v6) => {
            let ip = v6.ip().segments().iter().map(|s| format!("{s:x}")).collect::<Vec<_>>().join(":");
            format!("/[{ip}]:{}", v6.port())
        }
    }
}

/// `java.util.Date.toString` in UTC: `EEE MMM dd HH:mm:ss zzz yyyy`. (Java uses the JVM's
/// time zone; ruzk always prints UTC.)
pub(super) fn java_date(ms: i64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86400);
    let tod = secs.rem_euclid(86400);
    let (y, m, d) = civil_from_days(days);
    let wd = DAYS.get(days.rem_euclid(7) as usize).copied().unwrap_or("???");
    let mon = MONTHS.get((m - 1) as usize).copied().unwrap_or("???");
    format!("{wd} {mon} {d:02} {:02}:{:02}:{:02} UTC {y}", tod / 3600, tod % 3600 / 60, tod % 60)
}

/// Days since 1970-01-01 to (year, month 1-12, day 1-31), Howard Hinnant's algorithm.
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719468;
    let era = z.div_euclid(146097);
    let doe = z.rem_euclid(146097);
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}
