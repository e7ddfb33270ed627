//! Client SASL as Java 3.8's server does it: which mechanism the JAAS `Server` section gives
//! (DIGEST-MD5 users from `user_NAME="password"`; a Kerberos module means GSSAPI, which ruzk
//! does not speak yet), the SASL packet (op 102) on a connection, the id it adds (`sasl:NAME`,
//! canonicalised like `SaslServerCallbackHandler` with `KerberosName`), the SASL super user,
//! and the auth enforcement of `AuthenticationHelper` (`sessionRequireClientSASLAuth`,
//! `enforce.auth.enabled` + `enforce.auth.schemes`), checked at startup like Java.
#![deny(clippy::unwrap_used, clippy::indexing_slicing)]

use super::reply;
use super::sasl_digest::{DigestServer, Step};
use super::watch::ConnId;
use super::Server;
use crate::config::jaas;
use crate::config::Props;
use crate::jute::error_code::{AUTH_FAILED, SESSION_CLOSED_REQUIRE_SASL_AUTH};
use crate::jute::records::{GetSaslRequest, Id};
use crate::jute::Jute;
use crate::tree::acl;
use base64::Engine;
use bytes::Bytes;
use rand::{RngCore, SeedableRng};
use std::collections::BTreeMap;

/// What the server's SASL side is, from the JAAS section (`SecurityUtils.createSaslServer`
/// picks GSSAPI when the login subject holds Kerberos principals, DIGEST-MD5 otherwise).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Mechanism {
    /// No JAAS section: Java has no SASL server on the connection and answers every token
    /// with an empty OK (its `cnxn.saslServer is null` path).
    #[default]
    None,
    Digest {
        users: BTreeMap<String, String>,
    },
    /// A Kerberos login module: every token fails, as a GSSAPI server that cannot accept a
    /// context would make it.
    Gssapi,
}

#[derive(Clone, Debug, Default)]
pub struct SaslOptions {
    pub mechanism: Mechanism,
    /// `zookeeper.SASLAuthenticationProvider.superPassword`: the password of user `super`.
    pub super_password: Option<String>,
    /// `zookeeper.superUser`: this SASL id also gets `super`.
    pub super_user: Option<String>,
    /// `zookeeper.kerberos.removeHostFromPrincipal` / `removeRealmFromPrincipal`.
    pub remove_host: bool,
    pub remove_realm: bool,
    /// The Kerberos default realm the `DEFAULT` auth_to_local rule compares with ("" when
    /// there is no krb5 configuration, as in Java).
    pub default_realm: String,
    /// Enforced schemes; empty when enforcement is off.
    pub enforce_schemes: Vec<String>,
    /// `zookeeper.allowSaslFailedClients`.
    pub allow_failed: bool,
    /// Seeds the nonce generator (random in the runtime, fixed in tests).
    pub nonce_seed: u64,
}

impl SaslOptions {
    /// SASL is required (`AuthenticationHelper.isSaslAuthRequired`).
    pub fn sasl_required(&self) -> bool {
        self.enforce_schemes.iter().any(|s| s == "sasl")
    }
}

/// The auth provider classes Java loads from `zookeeper.authProvider.*`, by scheme.
fn provider_scheme(class: &str) -> Option<&'static str> {
    match class.trim() {
        "org.apache.zookeeper.server.auth.SASLAuthenticationProvider" => Some("sasl"),
        "org.apache.zookeeper.server.auth.X509AuthenticationProvider" => Some("x509"),
        "org.apache.zookeeper.server.auth.DigestAuthenticationProvider" => Some("digest"),
        "org.apache.zookeeper.server.auth.IPAuthenticationProvider" => Some("ip"),
        "org.apache.zookeeper.server.auth.KeyAuthenticationProvider" => Some("key"),
        _ => None,
    }
}

/// `ProviderRegistry`: ip and digest always, plus every `zookeeper.authProvider.*` class.
pub fn registered_schemes(props: &Props, warnings: &mut Vec<String>) -> Vec<String> {
    let mut out = vec!["ip".to_string(), "digest".to_string()];
    for (k, v) in props.iter() {
        if !k.starts_with("zookeeper.authProvider.") {
            continue;
        }
        match provider_scheme(v) {
            Some(s) if !out.iter().any(|o| o == s) => out.push(s.to_string()),
            Some(_) => {}
            None => warnings.push(format!("Problems loading {v} ({k}): not an authentication provider ruzk has")),
        }
    }
    out
}

fn is_true(props: &Props, key: &str) -> bool {
    props.get(key).is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
}

/// `krb5.conf`'s `default_realm` (`KerberosUtil.getDefaultRealm`), or "" without one.
fn default_realm(props: &Props) -> String {
    if let Some(r) = props.get("java.security.krb5.realm") {
        return r.to_string();
    }
    let path = props
        .get("java.security.krb5.conf")
        .map(String::from)
        .or_else(|| std::env::var("KRB5_CONFIG").ok())
        .unwrap_or_else(|| "/etc/krb5.conf".into());
    let Ok(text) = std::fs::read_to_string(path) else { return String::new() };
    text.lines()
        .filter_map(|l| l.trim().strip_prefix("default_realm"))
        .filter_map(|rest| rest.trim_start().strip_prefix('='))
        .map(|v| v.trim().to_string())
        .next()
        .unwrap_or_default()
}

/// Kerberos login modules: their presence makes Java's server a GSSAPI server.
fn is_kerberos_module(class: &str) -> bool {
    class.contains("Krb5LoginModule")
}

/// Reads the SASL and enforcement settings as Java does at startup. An error is what makes
/// Java refuse to start (a JAAS file it cannot read or parse, an enforced scheme with no
/// provider); `warnings` gets what ruzk accepts but cannot do.
pub fn options_from_props(props: &Props, warnings: &mut Vec<String>) -> Result<SaslOptions, String> {
    let section = props.get("zookeeper.sasl.serverconfig").unwrap_or("Server").to_string();
    let mut mechanism = Mechanism::None;
    match jaas::configured_path(props) {
        Some(path) => {
            let cfg = jaas::load(&path, props).map_err(|e| {
                format!(
                    "{e} (Java: No JAAS configuration section named '{section}' was found in '{}'.)",
                    path.display()
                )
            })?;
            warnings.extend(cfg.warnings.iter().map(|w| format!("JAAS configuration {}: {w}", path.display())));
            match cfg.section(&section) {
                None => tracing::info!(
                    "JAAS configuration {} has no section '{section}': client SASL is off",
                    path.display()
                ),
                Some(s) if s.modules.iter().any(|m| is_kerberos_module(&m.class)) => {
                    warnings.push(format!(
                        "JAAS section '{section}' in {} uses Kerberos: SASL GSSAPI is not supported by ruzk yet; \
                         clients that try SASL will be refused (AUTH_FAILED)",
                        path.display()
                    ));
                    mechanism = Mechanism::Gssapi;
                }
                Some(s) => {
                    let mut users = BTreeMap::new();
                    for m in &s.modules {
                        for (k, v) in &m.options {
                            if let Some(u) = k.strip_prefix("user_") {
                                users.insert(u.to_string(), v.clone());
                            }
                        }
                    }
                    tracing::info!("client SASL DIGEST-MD5 with {} user(s) from section '{section}'", users.len());
                    mechanism = Mechanism::Digest { users };
                }
            }
        }
        None if props.get("zookeeper.sasl.serverconfig").is_some() => {
            return Err(format!(
                "No JAAS configuration section named '{section}' was found. But zookeeper.sasl.serverconfig was set."
            ));
        }
        None => {}
    }
    if props.get("zookeeper.security.auth_to_local").is_some() {
        warnings.push("zookeeper.security.auth_to_local is not supported: the DEFAULT rule is used".into());
    }
    let registered = registered_schemes(props, warnings);
    let mut enforce_schemes = Vec::new();
    if is_true(props, "zookeeper.sessionRequireClientSASLAuth") {
        enforce_schemes.push("sasl".to_string());
    } else if is_true(props, "zookeeper.enforce.auth.enabled") {
        if let Some(s) = props.get("zookeeper.enforce.auth.schemes") {
            enforce_schemes.extend(s.split(',').map(|x| x.trim().to_string()));
        }
        if enforce_schemes.is_empty() {
            return Err(
                "zookeeper.enforce.auth.enabled is true zookeeper.enforce.auth.schemes must be  configured.".into()
            );
        }
    }
    for s in &enforce_schemes {
        if !registered.contains(s) {
            return Err(format!("Authentication scheme {s} is not available."));
        }
    }
    Ok(SaslOptions {
        mechanism,
        super_password: props.get("zookeeper.SASLAuthenticationProvider.superPassword").map(String::from),
        super_user: props.get("zookeeper.superUser").map(String::from),
        remove_host: is_true(props, "zookeeper.kerberos.removeHostFromPrincipal"),
        remove_realm: is_true(props, "zookeeper.kerberos.removeRealmFromPrincipal"),
        default_realm: default_realm(props),
        enforce_schemes,
        allow_failed: is_true(props, "zookeeper.allowSaslFailedClients"),
        nonce_seed: 0,
    })
}

/// The ACL side: whether `sasl` ids are valid and match (`SASLAuthenticationProvider`).
pub fn acl_provider(props: &Props) -> acl::SaslProvider {
    let mut ignored = Vec::new();
    let registered = registered_schemes(props, &mut ignored).iter().any(|s| s == "sasl");
    acl::SaslProvider { registered, let_any_user_do_x: props.get("zookeeper.letAnySaslUserDoX").map(String::from) }
}

/// `KerberosName` parts: `service[/host]@realm`, or the whole name when it has no `@`.
#[derive(Debug, PartialEq, Eq)]
pub struct KerberosName<'a> {
    pub service: &'a str,
    pub host: Option<&'a str>,
    pub realm: Option<&'a str>,
}

/// `new KerberosName(name)`: `None` is its `IllegalArgumentException` (an `@` in a name that
/// is not `service[/host]@realm`).
pub fn kerberos_name(name: &str) -> Option<KerberosName<'_>> {
    let Some((head, realm)) = name.split_once('@') else {
        return Some(KerberosName { service: name, host: None, realm: None });
    };
    if realm.contains(['/', '@']) {
        return None;
    }
    let (service, host) = match head.split_once('/') {
        Some((s, h)) if !h.contains('/') => (s, Some(h)),
        Some(_) => return None,
        None => (head, None),
    };
    Some(KerberosName { service, host, realm: Some(realm) })
}

/// `SaslServerCallbackHandler.handleAuthorizeCallback`: the id Java records. The short name
/// comes from the `DEFAULT` rule (realm-less names as they are, the default realm's names
/// without it); when no rule applies Java keeps the authorization id unchanged.
pub fn authorized_id(authcid: &str, authzid: Option<&str>, o: &SaslOptions) -> Result<String, String> {
    let k = kerberos_name(authcid).ok_or_else(|| format!("Malformed Kerberos name: {authcid}"))?;
    let short = match (k.host, k.realm) {
        (None, None) => Some(k.service),
        (_, Some(r)) if r == o.default_realm => Some(k.service),
        _ => None,
    };
    let Some(short) = short else {
        tracing::error!("Failed to set name based on Kerberos authentication rules: No rules applied to {authcid}");
        return Ok(authzid.unwrap_or(authcid).to_string());
    };
    let mut id = short.to_string();
    if let (false, Some(h)) = (o.remove_host, k.host) {
        id.push('/');
        id.push_str(h);
    }
    if let (false, Some(r)) = (o.remove_realm, k.realm) {
        id.push('@');
        id.push_str(r);
    }
    Ok(id)
}

/// A connection's SASL exchange (`ServerCnxn.zooKeeperSaslServer`).
#[derive(Clone, Debug, Default)]
pub struct ConnSasl {
    digest: DigestServer,
}

/// A `SetSASLResponse` whose token is null (jute writes length -1).
const NULL_TOKEN: [u8; 4] = [0xff; 4];

pub(super) fn nonce_rng(seed: u64) -> rand::rngs::StdRng {
    rand::rngs::StdRng::seed_from_u64(seed)
}

impl Server {
    /// `ZooKeeperServer.processSasl`: replies carry zxid 0.
    pub(super) fn on_sasl(&mut self, conn: ConnId, xid: i32, mut body: Bytes) {
        let Ok(req) = GetSaslRequest::decode(&mut body) else {
            tracing::warn!("closing connection {conn}: malformed SASL request");
            self.close(conn);
            return;
        };
        let token: Vec<u8> = req.token.to_vec();
        let result = match &self.opts.sasl.mechanism {
            Mechanism::None => {
                tracing::error!("cnxn.saslServer is null: no JAAS server section, so no SASL on connection {conn}");
                self.send(conn, reply::reply(xid, 0, 0, &NULL_TOKEN));
                return;
            }
            Mechanism::Gssapi => Err(format!(
                "GSSAPI (Kerberos) SASL is not supported by ruzk yet; refusing the client's {}-byte token",
                token.len()
            )),
            Mechanism::Digest { users } => {
                let mut raw = [0u8; 30];
                self.sasl_rng.fill_bytes(&mut raw);
                let nonce = base64::engine::general_purpose::STANDARD.encode(raw);
                let super_pw = self.opts.sasl.super_password.clone();
                let lookup = |u: &str| {
                    if u == "super" {
                        if let Some(p) = &super_pw {
                            return Some(p.clone());
                        }
                    }
                    let p = users.get(u).cloned();
                    if p.is_none() {
                        tracing::warn!("User '{u}' not found in list of DIGEST-MD5 authenticateable users.");
                    }
                    p
                };
                let Some(c) = self.conns.get_mut(&conn) else { return };
                let looks_gss = token.first() == Some(&0x60);
                c.sasl.digest.step(&token, &nonce, lookup).map_err(|e| {
                    if looks_gss {
                        format!("{} (the token looks like GSSAPI/Kerberos, which ruzk does not support yet)", e.0)
                    } else {
                        e.0
                    }
                })
            }
        };
        match result {
            Ok(Step::Challenge(t)) => self.sasl_reply(conn, xid, &t),
            Ok(Step::Complete { token, authcid, authzid }) => {
                tracing::info!(
                    "Successfully authenticated client: authenticationID={authcid};  authorizationID={}.",
                    authzid.as_deref().unwrap_or(&authcid)
                );
                match authorized_id(&authcid, authzid.as_deref(), &self.opts.sasl) {
                    Ok(id) => {
                        self.add_sasl_id(conn, id);
                        self.sasl_reply(conn, xid, &token);
                    }
                    Err(e) => {
                        // Java's callback throws an unchecked exception here: the connection dies.
                        tracing::warn!("closing connection {conn}: {e}");
                        self.close(conn);
                    }
                }
            }
            Err(msg) => self.sasl_failed(conn, xid, &msg),
        }
    }

    fn sasl_reply(&mut self, conn: ConnId, xid: i32, token: &[u8]) {
        let mut body = Vec::with_capacity(token.len() + 4);
        body.extend_from_slice(&(token.len() as i32).to_be_bytes());
        body.extend_from_slice(token);
        self.send(conn, reply::reply(xid, 0, 0, &body));
    }

    fn add_sasl_id(&mut self, conn: ConnId, id: String) {
        let session = self.conns.get(&conn).map(|c| c.session).unwrap_or_default();
        tracing::info!("Session {session}: adding SASL authorization for authorizationID: {id}");
        let is_super = self.opts.sasl.super_user.as_deref() == Some(id.as_str());
        let Some(c) = self.conns.get_mut(&conn) else { return };
        let mut add = |i: Id| {
            if !c.auth.contains(&i) {
                c.auth.push(i);
            }
        };
        add(Id { scheme: "sasl".into(), id: id.clone() });
        if is_super {
            add(Id { scheme: "super".into(), id: String::new() });
            tracing::info!("Session {session}: Authenticated Id '{id}' as super user");
        }
        acl::java_set_order(&mut c.auth);
    }

    fn sasl_failed(&mut self, conn: ConnId, xid: i32, msg: &str) {
        let addr = self.conns.get(&conn).map(|c| c.addr.to_string()).unwrap_or_default();
        tracing::warn!("Client {addr} failed to SASL authenticate: {msg}");
        let required = self.opts.sasl.sasl_required();
        if self.opts.sasl.allow_failed && !required {
            tracing::warn!("Maintaining client connection despite SASL authentication failure.");
            self.send(conn, reply::reply(xid, 0, 0, &NULL_TOKEN));
            return;
        }
        let err = if required {
            tracing::warn!(
                "Closing client connection due to server requires client SASL authenticaiton,but client SASL \
                 authentication has failed, or client is not configured with SASL authentication."
            );
            SESSION_CLOSED_REQUIRE_SASL_AUTH
        } else {
            tracing::warn!("Closing client connection due to SASL authentication failure.");
            AUTH_FAILED
        };
        self.send(conn, reply::reply(xid, 0, err, &NULL_TOKEN));
        self.close(conn);
    }

    /// `AuthenticationHelper.enforceAuthentication`: false (and the connection closing) when
    /// enforcement is on and none of the connection's ids has an enforced scheme.
    pub(super) fn auth_enforced(&mut self, conn: ConnId, xid: i32) -> bool {
        let schemes = &self.opts.sasl.enforce_schemes;
        if schemes.is_empty() {
            return true;
        }
        let Some(c) = self.conns.get(&conn) else { return false };
        if c.auth.iter().any(|id| schemes.contains(&id.scheme)) {
            return true;
        }
        let have: Vec<&str> = c.auth.iter().map(|i| i.scheme.as_str()).collect();
        tracing::error!(
            "Client authentication scheme(s) {have:?} does not match with any of the expected authentication scheme \
             {schemes:?}, closing session."
        );
        self.send(conn, reply::reply(xid, 0, SESSION_CLOSED_REQUIRE_SASL_AUTH, &[]));
        self.close(conn);
        false
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
#[path = "sasl_tests.rs"]
mod tests;
