//! The server side of SASL DIGEST-MD5 (RFC 2831) as the JDK's `DigestMD5Server` speaks it
//! for ZooKeeper: one challenge (realm `zk-sasl-md5`, a nonce, `charset=utf-8`,
//! `algorithm=md5-sess`, no qop list so only `auth`), one response checked against the
//! user's password, and `rspauth`. No Rust crate implements this side. The state machine is
//! pure: the nonce comes in from the caller, so a test can replay a real exchange.
#![deny(clippy::unwrap_used, clippy::indexing_slicing)]

use md5::{Digest, Md5};

/// The realm and service name Java's server uses (`ZooKeeperSaslServer`).
pub const REALM: &str = "zk-sasl-md5";
pub const DIGEST_URI: &str = "zookeeper/zk-sasl-md5";
/// `DigestMD5Server.MAX_RESPONSE_LENGTH`.
const MAX_RESPONSE_LENGTH: usize = 4096;

#[derive(Clone, Debug, PartialEq, Eq)]
enum State {
    /// Waiting for the client's first token (empty for DIGEST-MD5).
    Start,
    /// Challenge sent with this nonce; waiting for the digest response.
    Challenged { nonce: String },
    /// Done, successfully or not: any further token is an error (`step = 0`).
    Over,
}

/// A failed exchange, with the JDK's `SaslException` message for the log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SaslError(pub String);

/// What one client token produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// Send this token; the exchange goes on.
    Challenge(Vec<u8>),
    /// Authenticated: send `rspauth`, and the ids the authorize callback sees.
    Complete { token: Vec<u8>, authcid: String, authzid: Option<String> },
}

#[derive(Clone, Debug)]
pub struct DigestServer {
    state: State,
}

impl Default for DigestServer {
    fn default() -> Self {
        DigestServer { state: State::Start }
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn md5(parts: &[&[u8]]) -> [u8; 16] {
    let mut h = Md5::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

/// RFC 2831 2.1.2.1: with `charset=utf-8`, a string whose chars all fit ISO 8859-1 is
/// hashed in 8859-1, otherwise in UTF-8 (`DigestMD5Base.stringToByte_8859_1`).
fn hash_bytes(s: &str) -> Vec<u8> {
    if s.chars().all(|c| (c as u32) <= 0xFF) {
        s.chars().map(|c| c as u8).collect()
    } else {
        s.as_bytes().to_vec()
    }
}

/// The challenge Java sends for `nonce`.
pub fn challenge(nonce: &str) -> Vec<u8> {
    format!("realm=\"{REALM}\",nonce=\"{nonce}\",charset=utf-8,algorithm=md5-sess").into_bytes()
}

/// `response-value` (RFC 2831 2.1.2.1) for `qop=auth`; `a2_prefix` is `AUTHENTICATE` for the
/// client's response and empty for `rspauth`.
#[allow(clippy::too_many_arguments)]
pub fn response_value(
    user: &str,
    realm: &str,
    password: &str,
    nonce: &str,
    cnonce: &str,
    authzid: Option<&str>,
    nc: &str,
    qop: &str,
    digest_uri: &str,
    a2_prefix: &str,
) -> String {
    let inner = md5(&[&hash_bytes(user), b":", &hash_bytes(realm), b":", &hash_bytes(password)]);
    let mut a1: Vec<u8> = inner.to_vec();
    a1.extend_from_slice(format!(":{nonce}:{cnonce}").as_bytes());
    if let Some(z) = authzid {
        a1.push(b':');
        a1.extend_from_slice(z.as_bytes());
    }
    let ha1 = hex(&md5(&[&a1]));
    let ha2 = hex(&md5(&[a2_prefix.as_bytes(), b":", digest_uri.as_bytes()]));
    hex(&md5(&[ha1.as_bytes(), format!(":{nonce}:{nc}:{cnonce}:{qop}:{ha2}").as_bytes()]))
}

/// `key=value` / `key="quoted"` pairs separated by commas, with optional white space, as the
/// JDK's `parseDirectives` reads them. A repeated directive is an error.
pub fn parse_directives(text: &str) -> Result<Vec<(String, String)>, SaslError> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace() || *c == ',') {
            chars.next();
        }
        if chars.peek().is_none() {
            return Ok(out);
        }
        let mut key = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' {
                break;
            }
            key.push(c);
            chars.next();
        }
        if chars.next() != Some('=') {
            return Err(SaslError(format!("DIGEST-MD5: Directive key contains a ',':{}", key.trim())));
        }
        let key = key.trim().to_ascii_lowercase();
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let mut val = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            let mut closed = false;
            while let Some(c) = chars.next() {
                match c {
                    '\\' => {
                        if let Some(n) = chars.next() {
                            val.push(n);
                        }
                    }
                    '"' => {
                        closed = true;
                        break;
                    }
                    c => val.push(c),
                }
            }
            if !closed {
                return Err(SaslError(format!(
                    "DIGEST-MD5: Unmatched quote found for directive: {key} with value: {val}"
                )));
            }
            while let Some(&c) = chars.peek() {
                if c == ',' {
                    break;
                }
                if !c.is_whitespace() {
                    return Err(SaslError(format!(
                        "DIGEST-MD5: Expecting comma or linear whitespace after quoted string: \"{val}\""
                    )));
                }
                chars.next();
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == ',' {
                    break;
                }
                val.push(c);
                chars.next();
            }
            val = val.trim_end().to_string();
        }
        if out.iter().any(|(k, _)| *k == key) {
            return Err(SaslError(format!("DIGEST-MD5: Peer sent more than one {key} directive")));
        }
        out.push((key, val));
    }
}

fn violation(what: &str) -> SaslError {
    SaslError(format!("DIGEST-MD5: digest response format violation. {what}"))
}

impl DigestServer {
    #[cfg(test)]
    pub fn is_over(&self) -> bool {
        self.state == State::Over
    }

    /// Evaluates one client token. `nonce` is used only for the challenge; `password` looks a
    /// user up (the server's callback handler).
    pub fn step(
        &mut self,
        token: &[u8],
        nonce: &str,
        password: impl Fn(&str) -> Option<String>,
    ) -> Result<Step, SaslError> {
        if token.len() > MAX_RESPONSE_LENGTH {
            self.state = State::Over;
            return Err(SaslError(format!(
                "DIGEST-MD5: Invalid digest response length. Got:  {} Expected < {MAX_RESPONSE_LENGTH}",
                token.len()
            )));
        }
        match std::mem::replace(&mut self.state, State::Over) {
            State::Start => {
                // The JDK (17, as Debian runs Java 3.8.0) ignores whatever the first token
                // holds and answers with the challenge: measured, see compat-tests/sasl.
                self.state = State::Challenged { nonce: nonce.to_string() };
                Ok(Step::Challenge(challenge(nonce)))
            }
            State::Challenged { nonce } => validate(token, &nonce, password),
            State::Over => Err(SaslError("DIGEST-MD5: Server at illegal state".into())),
        }
    }
}

/// `DigestMD5Server.validateClientResponse` for `qop=auth`.
fn validate(token: &[u8], nonce: &str, password: impl Fn(&str) -> Option<String>) -> Result<Step, SaslError> {
    let text = String::from_utf8_lossy(token);
    let d = parse_directives(&text)?;
    let get = |k: &str| d.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str());
    if let Some(cs) = get("charset") {
        if !cs.eq_ignore_ascii_case("utf-8") {
            return Err(violation(&format!("Incompatible charset value: {cs}")));
        }
    }
    let realm = get("realm").unwrap_or("");
    if get("realm").is_some() && realm != REALM {
        return Err(violation(&format!("Nonexistent realm: {realm}")));
    }
    let user = get("username").ok_or_else(|| violation("Missing username."))?;
    match get("nonce") {
        Some(n) if n == nonce => {}
        Some(_) => return Err(violation("Mismatched nonce.")),
        None => return Err(violation("Missing nonce.")),
    }
    let cnonce = get("cnonce").ok_or_else(|| violation("Missing cnonce."))?;
    let nc = get("nc").unwrap_or("");
    if i64::from_str_radix(nc, 16).ok() != Some(1) {
        return Err(violation(&format!("Nonce count does not match: {nc}")));
    }
    let qop = get("qop").unwrap_or("auth");
    if qop != "auth" {
        return Err(SaslError(format!("DIGEST-MD5: Client selected unsupported protection: {qop}")));
    }
    let uri = get("digest-uri").ok_or_else(|| violation("Missing digest-uri."))?;
    if !uri.eq_ignore_ascii_case(DIGEST_URI) {
        return Err(violation(&format!("Mismatched URI: {uri}; expecting: {DIGEST_URI}")));
    }
    let response = get("response").ok_or_else(|| violation("Missing response."))?;
    let authzid = get("authzid").filter(|z| !z.is_empty());
    let Some(pw) = password(user) else {
        return Err(SaslError(format!("DIGEST-MD5: cannot acquire password for {user} in realm : {realm}")));
    };
    let expected = response_value(user, realm, &pw, nonce, cnonce, authzid, nc, qop, uri, "AUTHENTICATE");
    if !expected.eq_ignore_ascii_case(response) {
        return Err(violation("Mismatched response."));
    }
    let rspauth = response_value(user, realm, &pw, nonce, cnonce, authzid, nc, qop, uri, "");
    Ok(Step::Complete {
        token: format!("rspauth={rspauth}").into_bytes(),
        authcid: user.to_string(),
        authzid: authzid.map(str::to_string),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
#[path = "sasl_digest_tests.rs"]
mod tests;
