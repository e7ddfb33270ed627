//! `java.util.Properties` as Java reads a properties file (escapes, continuation lines, the
//! three separators), Java's number and boolean readers, and the system properties (`-D`)
//! the server consults ([`Props`]). The rest of `config` reads text only through these, so
//! every Java parsing quirk lives in one place.
#![deny(clippy::unwrap_used, clippy::indexing_slicing)]

use std::collections::BTreeMap;

/// One `key=value` of a properties file, after Java's escapes are resolved. The value keeps its
/// trailing whitespace as `Properties.load` does; QuorumPeerConfig trims it, QuorumMaj does not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PropLine {
    /// Key, unescaped.
    pub key: String,
    /// Value, unescaped, leading whitespace removed.
    pub value: String,
    /// 1-based physical line where this logical line starts.
    pub line: usize,
}

/// Parses text as `java.util.Properties.load` does (comments `#`/`!`, separators `=`, `:` or
/// whitespace, backslash escapes and continuation lines), following `Properties.LineReader`.
/// A later duplicate key replaces the earlier one, as in Java's Hashtable; otherwise file order
/// is kept. An error carries the 1-based line number.
pub fn parse_properties(text: &str) -> std::result::Result<Vec<PropLine>, (usize, String)> {
    let chars: Vec<char> = text.chars().collect();
    let mut out: Vec<PropLine> = Vec::new();
    let mut pos = 0usize;
    let mut line_no = 1usize;
    loop {
        // One logical line (LineReader.readLine).
        let mut buf: Vec<char> = Vec::new();
        let mut skip_ws = true;
        let mut is_comment = false;
        let mut is_new_line = true;
        let mut appended_line_begin = false;
        let mut preceding_backslash = false;
        let mut start_line = line_no;
        let mut eof = false;
        loop {
            let Some(&c) = chars.get(pos) else {
                eof = true;
                if preceding_backslash {
                    buf.pop();
                }
                break;
            };
            pos += 1;
            let is_eol = c == '\n' || c == '\r';
            if is_eol {
                // \r\n counts as one line break.
                if c == '\r' && chars.get(pos) == Some(&'\n') {
                    pos += 1;
                }
                line_no += 1;
            }
            if skip_ws {
                if c == ' ' || c == '\t' || c == '\u{c}' {
                    continue;
                }
                if !appended_line_begin && is_eol {
                    continue;
                }
                skip_ws = false;
                appended_line_begin = false;
            }
            if is_new_line {
                is_new_line = false;
                start_line = if is_eol { line_no - 1 } else { line_no };
                if c == '#' || c == '!' {
                    is_comment = true;
                    continue;
                }
            }
            if !is_eol {
                if !is_comment {
                    buf.push(c);
                    preceding_backslash = if c == '\\' { !preceding_backslash } else { false };
                }
                continue;
            }
            if is_comment || buf.is_empty() {
                is_comment = false;
                is_new_line = true;
                skip_ws = true;
                buf.clear();
                continue;
            }
            if preceding_backslash {
                buf.pop();
                skip_ws = true;
                appended_line_begin = true;
                preceding_backslash = false;
                continue;
            }
            break;
        }
        if !buf.is_empty() && !is_comment {
            let (key, value) = split_key_value(&buf).map_err(|m| (start_line, m))?;
            push_prop(&mut out, key, value, start_line);
        }
        if eof {
            return Ok(out);
        }
    }
}

fn push_prop(out: &mut Vec<PropLine>, key: String, value: String, line: usize) {
    if let Some(existing) = out.iter_mut().find(|p| p.key == key) {
        existing.value = value;
        existing.line = line;
    } else {
        out.push(PropLine { key, value, line });
    }
}

fn split_key_value(buf: &[char]) -> std::result::Result<(String, String), String> {
    let limit = buf.len();
    let mut key_len = 0usize;
    let mut value_start = limit;
    let mut has_sep = false;
    let mut preceding_backslash = false;
    while key_len < limit {
        let c = buf.get(key_len).copied().unwrap_or(' ');
        if (c == '=' || c == ':') && !preceding_backslash {
            value_start = key_len + 1;
            has_sep = true;
            break;
        } else if (c == ' ' || c == '\t' || c == '\u{c}') && !preceding_backslash {
            value_start = key_len + 1;
            break;
        }
        if c == '\\' {
            preceding_backslash = !preceding_backslash;
        } else {
            preceding_backslash = false;
        }
        key_len += 1;
    }
    while value_start < limit {
        let c = buf.get(value_start).copied().unwrap_or(' ');
        if c != ' ' && c != '\t' && c != '\u{c}' {
            if !has_sep && (c == '=' || c == ':') {
                has_sep = true;
            } else {
                break;
            }
        }
        value_start += 1;
    }
    let key = unescape(buf.get(..key_len).unwrap_or(&[]))?;
    let value = unescape(buf.get(value_start..).unwrap_or(&[]))?;
    Ok((key, value))
}

/// `Properties.loadConvert`: `\t \n \r \f`, `\uXXXX`, and `\x` = `x` for anything else.
fn unescape(s: &[char]) -> std::result::Result<String, String> {
    let mut out = String::with_capacity(s.len());
    let mut it = s.iter().copied();
    while let Some(c) = it.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let Some(e) = it.next() else { break };
        match e {
            't' => out.push('\t'),
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            'f' => out.push('\u{c}'),
            'u' => {
                let mut v = 0u32;
                for _ in 0..4 {
                    let d = it
                        .next()
                        .and_then(|h| h.to_digit(16))
                        .ok_or_else(|| "Malformed \\uxxxx encoding.".to_string())?;
                    v = v * 16 + d;
                }
                // Java keeps lone surrogates in a UTF-16 string; Rust cannot, so they become U+FFFD.
                out.push(char::from_u32(v).unwrap_or('\u{fffd}'));
            }
            other => out.push(other),
        }
    }
    Ok(out)
}

/// `Integer.parseInt` / `Long.parseLong`: optional sign, decimal digits, nothing else.
pub(super) fn java_parse_long(s: &str) -> Option<i64> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse::<i64>().ok()
}

pub(super) fn java_parse_int(s: &str) -> Option<i32> {
    java_parse_long(s).and_then(|v| i32::try_from(v).ok())
}

/// `Long.decode`: sign, then `0x`/`0X`/`#` hex, a leading `0` for octal, or decimal.
pub(super) fn java_decode_long(s: &str) -> Option<i64> {
    let (neg, rest) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let (radix, digits) = if let Some(h) = rest.strip_prefix("0x").or_else(|| rest.strip_prefix("0X")) {
        (16, h)
    } else if let Some(h) = rest.strip_prefix('#') {
        (16, h)
    } else if rest.len() > 1 && rest.starts_with('0') {
        (8, rest.get(1..).unwrap_or(""))
    } else {
        (10, rest)
    };
    if digits.is_empty() || digits.starts_with(['+', '-']) {
        return None;
    }
    let magnitude = i128::from_str_radix(digits, radix).ok()?;
    let v = if neg { -magnitude } else { magnitude };
    i64::try_from(v).ok()
}

pub(super) fn java_decode_int(s: &str) -> Option<i32> {
    java_decode_long(s).and_then(|v| i32::try_from(v).ok())
}

/// `QuorumPeerConfig.parseBoolean`: exactly `true` or `false`, any case.
pub(super) fn cfg_bool(v: &str) -> Option<bool> {
    if v.eq_ignore_ascii_case("true") {
        Some(true)
    } else if v.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

/// `String.split` drops trailing empty strings; several zoo.cfg forms depend on it.
pub(super) fn java_split(s: &str, sep: char) -> Vec<&str> {
    let mut v: Vec<&str> = s.split(sep).collect();
    while v.len() > 1 && v.last().is_some_and(|x| x.is_empty()) {
        v.pop();
    }
    if v.len() == 1 && v.first().is_some_and(|x| x.is_empty()) && !s.is_empty() {
        v.clear();
    }
    v
}

/// `String.trim`: strips every char <= U+0020 at both ends.
pub(super) fn java_trim(s: &str) -> &str {
    s.trim_matches(|c: char| c <= ' ')
}

/// Java system properties: what `-Dname=value` would have set, plus what zoo.cfg adds as
/// `zookeeper.<key>`. Later sets win, as with `System.setProperty`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Props {
    map: BTreeMap<String, String>,
}

impl Props {
    /// Empty property set.
    pub fn new() -> Props {
        Props::default()
    }

    /// Builds the properties a `zkServer.sh` launch would see: `SERVER_JVMFLAGS` first, then
    /// `JVMFLAGS` (zkServer.sh runs `java $SERVER_JVMFLAGS $JVMFLAGS ...`), then our own
    /// `-D name=value` arguments, so the most explicit setting wins. Non-`-D` JVM flags such as
    /// `-Xmx1g` are ignored; `-Dname` alone sets the empty string, as the JVM does.
    pub fn from_args_and_env(args: &[String], server_jvmflags: Option<&str>, jvmflags: Option<&str>) -> Props {
        let mut p = Props::new();
        for flags in [server_jvmflags, jvmflags].into_iter().flatten() {
            for word in flags.split_whitespace() {
                if let Some(def) = word.strip_prefix("-D") {
                    p.set_definition(def);
                }
            }
        }
        for a in args {
            // Accept both `name=value` (clap's `-D name=value`) and a literal `-Dname=value`.
            p.set_definition(a.strip_prefix("-D").unwrap_or(a));
        }
        p
    }

    fn set_definition(&mut self, def: &str) {
        if def.is_empty() {
            return;
        }
        match def.split_once('=') {
            Some((k, v)) if !k.is_empty() => self.set(k, v),
            Some(_) => {}
            None => self.set(def, ""),
        }
    }

    /// `System.getProperty(name)`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.map.get(name).map(String::as_str)
    }

    /// `System.setProperty(name, value)`.
    pub fn set(&mut self, name: &str, value: &str) {
        self.map.insert(name.to_string(), value.to_string());
    }

    /// All properties, sorted by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.map.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// `Integer.getInteger(name, def)`: a value that does not decode gives `def`, silently in
    /// Java; we add a warning so the operator sees it.
    pub(super) fn get_int(&self, name: &str, def: i32, warnings: &mut Vec<String>) -> i32 {
        match self.get(name) {
            None => def,
            Some(v) => java_decode_int(v).unwrap_or_else(|| {
                warnings.push(format!("property {name}: invalid integer {v:?}, using {def}"));
                def
            }),
        }
    }

    /// `Long.getLong(name, def)`, with the same warning.
    pub(super) fn get_long(&self, name: &str, def: i64, warnings: &mut Vec<String>) -> i64 {
        match self.get(name) {
            None => def,
            Some(v) => java_decode_long(v).unwrap_or_else(|| {
                warnings.push(format!("property {name}: invalid integer {v:?}, using {def}"));
                def
            }),
        }
    }

    /// `Boolean.getBoolean(name)`: true only for `true` in any case.
    pub(super) fn get_boolean(&self, name: &str) -> bool {
        self.get(name).is_some_and(|v| v.eq_ignore_ascii_case("true"))
    }

    /// `Boolean.parseBoolean(System.getProperty(name, def))`.
    pub(super) fn parse_boolean(&self, name: &str, def: bool) -> bool {
        match self.get(name) {
            None => def,
            Some(v) => v.eq_ignore_ascii_case("true"),
        }
    }
}
