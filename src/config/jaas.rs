//! JAAS login configuration files as the JDK's `ConfigFile` reads them
//! (`-Djava.security.auth.login.config=FILE`): the sections a ZooKeeper server consults for
//! SASL (`Server`, or `zookeeper.sasl.serverconfig`). The lexer follows `StreamTokenizer` as
//! the JDK configures it (words, `"quoted"` strings, `//` and `/* */` comments, numbers that
//! are not words); the grammar follows `ConfigFile.parseLoginEntry`:
//! `Name { module.Class flag key="value" ... ; ... };`. What the JDK rejects is an error
//! naming the file and line; what it accepts is accepted.
#![deny(clippy::unwrap_used, clippy::indexing_slicing)]

use super::properties::Props;
use nom::branch::alt;
use nom::bytes::complete::{tag, take_until, take_while, take_while1};
use nom::character::complete::{anychar, satisfy};
use nom::combinator::{map, recognize, value};
use nom::multi::many0;
use nom::sequence::{pair, preceded, terminated};
use nom::{IResult, Parser};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// `LoginModuleControlFlag`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ControlFlag {
    Required,
    Requisite,
    Sufficient,
    Optional,
}

/// One `module.Class flag options;` line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoginModule {
    pub class: String,
    pub flag: ControlFlag,
    /// Options after `${...}` expansion; a repeated key keeps its last value (a `HashMap`).
    pub options: BTreeMap<String, String>,
    pub line: usize,
}

/// One `Name { ... };` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Section {
    pub name: String,
    pub modules: Vec<LoginModule>,
    pub line: usize,
}

/// A parsed file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JaasConfig {
    pub path: PathBuf,
    pub sections: Vec<Section>,
    /// Things the JDK would accept silently but an operator should hear about (an unknown
    /// `${property}` that ruzk cannot expand, for example).
    pub warnings: Vec<String>,
}

impl JaasConfig {
    /// `Configuration.getAppConfigurationEntry`: a section without modules is absent.
    pub fn section(&self, name: &str) -> Option<&Section> {
        lookup(&self.sections, name)
    }
}

fn lookup<'a>(sections: &'a [Section], name: &str) -> Option<&'a Section> {
    sections.iter().find(|s| s.name == name && !s.modules.is_empty())
}

/// A syntax error: the JDK would throw a `SecurityException` for this file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JaasError {
    pub line: usize,
    pub message: String,
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Word(String),
    /// A `"..."` string (the JDK treats it like a word).
    Quoted(String),
    /// A `'...'` string: a token the grammar never accepts.
    SingleQuoted(String),
    /// A `StreamTokenizer` number (starts with a digit or `.`): never accepted either.
    Number(String),
    Char(char),
}

impl Tok {
    fn text(&self) -> String {
        match self {
            Tok::Word(s) | Tok::Quoted(s) | Tok::SingleQuoted(s) | Tok::Number(s) => s.clone(),
            Tok::Char(c) => c.to_string(),
        }
    }
}

fn is_word_start(c: char) -> bool {
    c.is_ascii_alphabetic() || matches!(c, '$' | '_' | '-' | '*') || (c as u32) >= 0xA0
}

fn is_word_part(c: char) -> bool {
    is_word_start(c) || c.is_ascii_digit() || c == '.'
}

/// Whitespace is every char up to and including space, as in `StreamTokenizer`.
fn blank(i: &str) -> IResult<&str, &str> {
    take_while1(|c: char| c <= ' ')(i)
}

/// `/* ... */`; an unterminated one runs to the end of the file.
fn block_comment(i: &str) -> IResult<&str, &str> {
    recognize(preceded(tag("/*"), alt((terminated(take_until("*/"), tag("*/")), take_while(|_| true))))).parse(i)
}

/// `//` comments, and (because `/` stays a comment char) a lone `/` too, to the line's end.
fn line_comment(i: &str) -> IResult<&str, &str> {
    recognize(preceded(tag("/"), take_while(|c| c != '\n' && c != '\r'))).parse(i)
}

fn skip(i: &str) -> IResult<&str, ()> {
    value((), many0(alt((blank, block_comment, line_comment)))).parse(i)
}

fn word(i: &str) -> IResult<&str, Tok> {
    map(recognize(pair(satisfy(is_word_start), take_while(is_word_part))), |s: &str| Tok::Word(s.to_string())).parse(i)
}

fn number(i: &str) -> IResult<&str, Tok> {
    map(recognize(pair(satisfy(|c| c.is_ascii_digit() || c == '.'), take_while(|c: char| c.is_ascii_digit()))), |s| {
        Tok::Number(String::from(s))
    })
    .parse(i)
}

/// A quoted string as `StreamTokenizer` reads it: backslash escapes (`\n`, `\t`, octal, any
/// other char as itself), ended by the quote, a line break or the end of the file.
fn quoted(i: &str) -> IResult<&str, Tok> {
    let (mut rest, q) = alt((nom::character::complete::char('"'), nom::character::complete::char('\''))).parse(i)?;
    let mut out = String::new();
    loop {
        let mut chars = rest.chars();
        match chars.next() {
            None => break,
            Some(c) if c == q => {
                rest = chars.as_str();
                break;
            }
            Some('\n') | Some('\r') => break,
            Some('\\') => {
                let after = chars.as_str();
                let (r2, e) = escape(after)?;
                out.push_str(&e);
                rest = r2;
            }
            Some(c) => {
                out.push(c);
                rest = chars.as_str();
            }
        }
    }
    Ok((rest, if q == '"' { Tok::Quoted(out) } else { Tok::SingleQuoted(out) }))
}

fn escape(i: &str) -> IResult<&str, String> {
    let octal = |c: char| ('0'..='7').contains(&c);
    if i.starts_with(octal) {
        let (rest, digits) = take_while(octal)(i)?;
        // At most three digits, and three only when the first is 0..=3.
        let max = if digits.starts_with(['0', '1', '2', '3']) { 3 } else { 2 };
        let n = digits.len().min(max);
        let (d, extra) = digits.split_at(n);
        let v = u32::from_str_radix(d, 8).unwrap_or(0);
        let mut s = char::from_u32(v).map(String::from).unwrap_or_default();
        s.push_str(extra);
        return Ok((rest, s));
    }
    match anychar::<&str, nom::error::Error<&str>>(i) {
        Ok((rest, c)) => {
            let e = match c {
                'a' => '\u{7}',
                'b' => '\u{8}',
                'f' => '\u{c}',
                'n' => '\n',
                'r' => '\r',
                't' => '\t',
                'v' => '\u{b}',
                other => other,
            };
            Ok((rest, e.to_string()))
        }
        Err(_) => Ok((i, String::new())),
    }
}

fn token(i: &str) -> IResult<&str, Tok> {
    alt((word, quoted, number, map(anychar, Tok::Char))).parse(i)
}

/// Every token with its 1-based line.
fn lex(text: &str) -> Vec<(Tok, usize)> {
    let mut out = Vec::new();
    let mut rest = text;
    loop {
        rest = match skip(rest) {
            Ok((r, ())) => r,
            Err(_) => rest,
        };
        if rest.is_empty() {
            return out;
        }
        let consumed = text.len() - rest.len();
        let line = line_of(text, consumed);
        match token(rest) {
            Ok((r, t)) => {
                out.push((t, line));
                rest = r;
            }
            Err(_) => return out,
        }
    }
}

/// Line breaks are `\n`, `\r\n` and a lone `\r`, as for `StreamTokenizer`.
fn line_of(text: &str, offset: usize) -> usize {
    let head = text.get(..offset).unwrap_or(text);
    let lf = head.matches('\n').count();
    let lone_cr = head.matches('\r').count() - head.matches("\r\n").count();
    1 + lf + lone_cr
}

struct Parser2<'a> {
    toks: &'a [(Tok, usize)],
    pos: usize,
    props: &'a Props,
    warnings: Vec<String>,
}

impl Parser2<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|t| &t.0)
    }

    fn line(&self) -> usize {
        self.toks.get(self.pos).or_else(|| self.toks.last()).map_or(1, |t| t.1)
    }

    fn err<T>(&self, message: String) -> Result<T, JaasError> {
        Err(JaasError { line: self.line(), message })
    }

    /// `ConfigFile.match` for a word-like thing (class, flag, option key or value).
    fn word(&mut self, expect: &str) -> Result<String, JaasError> {
        match self.peek() {
            Some(Tok::Word(s)) | Some(Tok::Quoted(s)) => {
                let s = s.clone();
                self.pos += 1;
                Ok(s)
            }
            None => self.err(format!("expected [{expect}], read end of file")),
            Some(t) => {
                let found = t.text();
                self.err(format!("expected [{expect}], found [{found}]"))
            }
        }
    }

    fn punct(&mut self, c: char) -> Result<(), JaasError> {
        match self.peek() {
            Some(Tok::Char(x)) if *x == c => {
                self.pos += 1;
                Ok(())
            }
            None => self.err(format!("expected [{c}], read end of file")),
            Some(t) => {
                let found = t.text();
                self.err(format!("expected [{c}], found [{found}]"))
            }
        }
    }

    fn at(&self, c: char) -> bool {
        matches!(self.peek(), Some(Tok::Char(x)) if *x == c)
    }

    fn section(&mut self) -> Result<Section, JaasError> {
        let line = self.line();
        // The JDK takes whatever token comes first as the name (a number's text included).
        let name = match self.peek() {
            Some(Tok::Word(s)) | Some(Tok::Quoted(s)) | Some(Tok::Number(s)) => s.clone(),
            Some(t) => {
                let found = t.text();
                return self.err(format!("expected [login entry name], found [{found}]"));
            }
            None => return self.err("expected [login entry name], read end of file".into()),
        };
        self.pos += 1;
        self.punct('{')?;
        let mut modules = Vec::new();
        while !self.at('}') {
            let mline = self.line();
            let class = self.word("module class name")?;
            let flag_text = self.word("controlFlag")?;
            let flag = match flag_text.to_ascii_uppercase().as_str() {
                "REQUIRED" => ControlFlag::Required,
                "REQUISITE" => ControlFlag::Requisite,
                "SUFFICIENT" => ControlFlag::Sufficient,
                "OPTIONAL" => ControlFlag::Optional,
                _ => return self.err(format!("Invalid control flag, {}", flag_text.to_ascii_uppercase())),
            };
            let mut options = BTreeMap::new();
            while !self.at(';') {
                let key = self.word("option key")?;
                self.punct('=')?;
                let vline = self.line();
                let raw = self.word("option value")?;
                let v = self.expand(&raw, vline)?;
                options.insert(key, v);
            }
            self.punct(';')?;
            modules.push(LoginModule { class, flag, options, line: mline });
        }
        self.punct('}')?;
        self.punct(';')?;
        Ok(Section { name, modules, line })
    }

    /// `PropertyExpander.expand`: `${name}` from the system properties, `${/}` the path
    /// separator. A property ruzk does not know stays as written, with a warning, so a file
    /// the JDK accepts is never refused for it.
    fn expand(&mut self, raw: &str, line: usize) -> Result<String, JaasError> {
        if raw.is_empty() || !raw.contains("${") {
            return Ok(raw.to_string());
        }
        let mut out = String::new();
        let mut rest = raw;
        while let Some(start) = rest.find("${") {
            out.push_str(rest.get(..start).unwrap_or(""));
            let after = rest.get(start + 2..).unwrap_or("");
            if after.starts_with('{') {
                // `${{...}}` is left to the login module.
                out.push_str("${");
                rest = after;
                continue;
            }
            let Some(end) = after.find('}') else {
                out.push_str(rest.get(start..).unwrap_or(""));
                rest = "";
                break;
            };
            let name = after.get(..end).unwrap_or("");
            match lookup_property(self.props, name) {
                Some(v) => out.push_str(&v),
                None => {
                    self.warnings.push(format!("line {line}: cannot expand ${{{name}}}: kept as written"));
                    out.push_str(rest.get(start..start + 3 + end).unwrap_or(""));
                }
            }
            rest = after.get(end + 1..).unwrap_or("");
        }
        out.push_str(rest);
        if out.is_empty() {
            return Err(JaasError { line, message: format!("system property [{raw}] expanded to empty value") });
        }
        Ok(out)
    }
}

/// System properties a JAAS file may name: `-D` ones, and the JVM's own that have an
/// obvious counterpart here.
fn lookup_property(props: &Props, name: &str) -> Option<String> {
    if name == "/" {
        return Some("/".into());
    }
    if let Some(v) = props.get(name) {
        return Some(v.to_string());
    }
    match name {
        "user.home" => std::env::var("HOME").ok(),
        "user.name" => std::env::var("USER").ok(),
        "user.dir" => std::env::current_dir().ok().map(|p| p.display().to_string()),
        "java.io.tmpdir" => Some(std::env::temp_dir().display().to_string()),
        "file.separator" => Some("/".into()),
        _ => None,
    }
}

/// Parses the text of one JAAS file.
pub fn parse(text: &str, props: &Props) -> Result<(Vec<Section>, Vec<String>), JaasError> {
    let toks = lex(text);
    let mut p = Parser2 { toks: &toks, pos: 0, props, warnings: Vec::new() };
    let mut sections: Vec<Section> = Vec::new();
    while p.peek().is_some() {
        let s = p.section()?;
        if sections.iter().any(|o| o.name == s.name) {
            return Err(JaasError {
                line: s.line,
                message: format!("Can not specify multiple entries for {}", s.name),
            });
        }
        sections.push(s);
    }
    Ok((sections, p.warnings))
}

/// The file `java.security.auth.login.config` names: a leading `=` (override, not append)
/// and a `file:` URL are accepted as the JDK accepts them.
pub fn configured_path(props: &Props) -> Option<PathBuf> {
    let v = props.get("java.security.auth.login.config")?;
    let v = v.strip_prefix('=').unwrap_or(v).trim();
    if v.is_empty() {
        return None;
    }
    let v = v.strip_prefix("file://").or_else(|| v.strip_prefix("file:")).unwrap_or(v);
    Some(PathBuf::from(v))
}

/// Reads and parses a JAAS file; the error names the file (and the line for a syntax error).
pub fn load(path: &Path, props: &Props) -> Result<JaasConfig, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("JAAS configuration {}: cannot read it: {e}", path.display()))?;
    match parse(&text, props) {
        Ok((sections, warnings)) => Ok(JaasConfig { path: path.to_path_buf(), sections, warnings }),
        Err(e) => Err(format!("JAAS configuration {} line {}: {}", path.display(), e.line, e.message)),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn p(text: &str) -> Result<Vec<Section>, JaasError> {
        parse(text, &Props::new()).map(|(s, _)| s)
    }

    #[test]
    fn zookeeper_server_section() {
        let text = "// comment\nServer {\n  org.apache.zookeeper.server.auth.DigestLoginModule required\n  \
                    user_super=\"adminsecret\"\n  user_bob=\"bob-secret\";\n};\n/* block\n comment */\n\
                    Client { org.apache.zookeeper.server.auth.DigestLoginModule required username=\"bob\" \
                    password=\"bob-secret\"; };\n";
        let s = p(text).unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].name, "Server");
        assert_eq!(s[0].line, 2);
        assert_eq!(s[0].modules[0].class, "org.apache.zookeeper.server.auth.DigestLoginModule");
        assert_eq!(s[0].modules[0].flag, ControlFlag::Required);
        assert_eq!(s[0].modules[0].options.get("user_bob").map(String::as_str), Some("bob-secret"));
        assert_eq!(s[0].modules[0].options.get("user_super").map(String::as_str), Some("adminsecret"));
        assert_eq!(s[1].name, "Client");
        assert_eq!(s[1].line, 9);
        assert_eq!(s[1].modules[0].options.len(), 2);
    }

    #[test]
    fn kerberos_section_and_flags() {
        let text = "Server {\n com.sun.security.auth.module.Krb5LoginModule Required\n useKeyTab=true \
                    keyTab=\"/etc/zk.keytab\" storeKey=true principal=\"zookeeper/host@EXAMPLE.COM\";\n \
                    x.Y optional; x.Z SUFFICIENT; x.W requisite;\n};";
        let s = p(text).unwrap();
        let m = &s[0].modules;
        assert_eq!(m.len(), 4);
        assert_eq!(m[0].options.get("useKeyTab").map(String::as_str), Some("true"));
        assert_eq!(m[0].options.get("principal").map(String::as_str), Some("zookeeper/host@EXAMPLE.COM"));
        assert_eq!(
            m.iter().map(|x| x.flag).collect::<Vec<_>>(),
            vec![ControlFlag::Required, ControlFlag::Optional, ControlFlag::Sufficient, ControlFlag::Requisite]
        );
    }

    #[test]
    fn errors_name_the_line() {
        let e = p("Server {\n  a.B required\n  user_x=\"y\"\n};").unwrap_err();
        assert_eq!(e, JaasError { line: 4, message: "expected [option key], found [}]".into() });
        let e = p("Server {\n  a.B mandatory;\n};").unwrap_err();
        assert_eq!(e, JaasError { line: 2, message: "Invalid control flag, MANDATORY".into() });
        let e = p("Server {\n a.B required k=1;\n};").unwrap_err();
        assert_eq!(e, JaasError { line: 2, message: "expected [option value], found [1]".into() });
        let e = p("Server {\n a.B required;\n}").unwrap_err();
        assert_eq!(e, JaasError { line: 3, message: "expected [;], read end of file".into() });
        let e = p("A { a.B required; };\nA { a.B required; };").unwrap_err();
        assert_eq!(e, JaasError { line: 2, message: "Can not specify multiple entries for A".into() });
        let e = p("Server {\n a.B required k='v';\n};").unwrap_err();
        assert_eq!(e, JaasError { line: 2, message: "expected [option value], found [v]".into() });
    }

    #[test]
    fn lexer_corners() {
        // Escapes, an empty section, a lone slash comment, CRLF line counting, quoted names.
        let s =
            p("\"Quoted\" { a.B required k=\"a\\tb\\\"c\\101\"; };\r\nEmpty { };\r\n/ lone slash\r\nX{a.B required;};")
                .unwrap();
        assert_eq!(s[0].name, "Quoted");
        assert_eq!(s[0].modules[0].options["k"], "a\tb\"cA");
        assert!(s[1].modules.is_empty());
        assert_eq!(s[2].name, "X");
        assert_eq!(s[2].line, 4);
        assert_eq!(p("").unwrap(), vec![]);
        // An unquoted word value with dashes and dots is one word.
        let s = p("S { a.B required k=some-value.x; };").unwrap();
        assert_eq!(s[0].modules[0].options["k"], "some-value.x");
    }

    #[test]
    fn property_expansion() {
        let mut props = Props::new();
        props.set("zk.pw", "s3cret");
        let (s, w) = parse("S { a.B required p=\"${zk.pw}!\" q=\"${nope.x}\" r=\"${/}\"; };", &props).unwrap();
        assert_eq!(s[0].modules[0].options["p"], "s3cret!");
        assert_eq!(s[0].modules[0].options["q"], "${nope.x}");
        assert_eq!(s[0].modules[0].options["r"], "/");
        assert_eq!(w, vec!["line 1: cannot expand ${nope.x}: kept as written".to_string()]);
    }

    /// What `JaasParse.java` prints for a file, rendered from our parse.
    fn render(text: &str) -> Result<String, JaasError> {
        let sections = p(text)?;
        let mut out = String::from("ok\n");
        for name in ["Server", "Client", "A", "Empty", "Quoted Name"] {
            let Some(s) = lookup(&sections, name) else {
                out.push_str(&format!("absent {name}\n"));
                continue;
            };
            out.push_str(&format!("section {name}\n"));
            for m in &s.modules {
                out.push_str(&format!("module {} {}\n", m.class, format!("{:?}", m.flag).to_lowercase()));
                for (k, v) in &m.options {
                    out.push_str(&format!("option {k}={v}\n"));
                }
            }
        }
        Ok(out)
    }

    /// Every file in tests/data/jaas is read as the JDK's `ConfigFile` read it
    /// (compat-tests/sasl/gen_jaas_expected.sh): same sections, flags and options, or an
    /// error on the same line.
    #[test]
    fn corpus_matches_the_jdk() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/jaas");
        let mut n = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().and_then(|e| e.to_str()) != Some("conf") {
                continue;
            }
            n += 1;
            let text = std::fs::read_to_string(&path).unwrap();
            let expected = std::fs::read_to_string(path.with_extension("expected")).unwrap();
            match render(&text) {
                Ok(ours) => assert_eq!(ours, expected, "{}", path.display()),
                Err(e) => {
                    assert!(expected.starts_with("error "), "{}: we refuse ({e:?}), the JDK accepts", path.display());
                    if let Some(l) = expected.split("Line ").nth(1) {
                        let java_line: usize = l.split(':').next().unwrap().parse().unwrap();
                        assert_eq!(e.line, java_line, "{}", path.display());
                    }
                }
            }
        }
        assert!(n >= 18, "only {n} files in {}", dir.display());
    }

    #[test]
    fn configured_path_forms() {
        let mut props = Props::new();
        assert_eq!(configured_path(&props), None);
        props.set("java.security.auth.login.config", "=/etc/jaas.conf");
        assert_eq!(configured_path(&props), Some(PathBuf::from("/etc/jaas.conf")));
        props.set("java.security.auth.login.config", "file:/etc/j.conf");
        assert_eq!(configured_path(&props), Some(PathBuf::from("/etc/j.conf")));
    }
}
