//! ACLs: the reference-counted ACL cache that snapshots persist (`ReferenceCountedACLCache`),
//! permission bits, and the schemes' match rules (world, auth, digest, ip, super). Pure.

use crate::jute::records::{Acl, Id};
use base64::Engine;
use sha1::{Digest, Sha1};
use std::collections::{BTreeMap, HashMap};

pub mod perms {
    pub const READ: i32 = 1;
    pub const WRITE: i32 = 2;
    pub const CREATE: i32 = 4;
    pub const DELETE: i32 = 8;
    pub const ADMIN: i32 = 16;
    pub const ALL: i32 = 31;
}

/// The id Java gives the built-in nodes' OPEN_ACL_UNSAFE; never written to snapshots.
pub const OPEN_UNSAFE_ACL_ID: i64 = -1;

pub fn open_acl_unsafe() -> Vec<Acl> {
    vec![Acl { perms: perms::ALL, id: Id { scheme: "world".into(), id: "anyone".into() } }]
}

pub fn read_acl_unsafe() -> Vec<Acl> {
    vec![Acl { perms: perms::READ, id: Id { scheme: "world".into(), id: "anyone".into() } }]
}

/// ACL lists interned to ids, with reference counts, as Java keeps them so that snapshots
/// can store one id per node.
#[derive(Clone, Debug, Default)]
pub struct AclCache {
    by_id: BTreeMap<i64, (Vec<Acl>, u64)>,
    by_list: HashMap<Vec<Acl>, i64>,
    max_id: i64,
}

impl AclCache {
    /// `convertAcls`: intern a list and take a reference.
    pub fn intern(&mut self, acl: &[Acl]) -> i64 {
        if let Some(&id) = self.by_list.get(acl) {
            if let Some(e) = self.by_id.get_mut(&id) {
                e.1 += 1;
            }
            return id;
        }
        self.max_id += 1;
        let id = self.max_id;
        self.by_list.insert(acl.to_vec(), id);
        self.by_id.insert(id, (acl.to_vec(), 1));
        id
    }

    /// Registers a list loaded from a snapshot under its stored id, with no references yet.
    pub fn insert_loaded(&mut self, id: i64, acl: Vec<Acl>) {
        self.max_id = self.max_id.max(id);
        self.by_list.insert(acl.clone(), id);
        self.by_id.insert(id, (acl, 0));
    }

    /// Takes a reference on an id loaded from a snapshot.
    pub fn add_ref(&mut self, id: i64) {
        if let Some(e) = self.by_id.get_mut(&id) {
            e.1 += 1;
        }
    }

    pub fn release(&mut self, id: i64) {
        if id == OPEN_UNSAFE_ACL_ID {
            return;
        }
        let gone = match self.by_id.get_mut(&id) {
            Some(e) => {
                e.1 = e.1.saturating_sub(1);
                e.1 == 0
            }
            None => false,
        };
        if gone {
            if let Some((list, _)) = self.by_id.remove(&id) {
                self.by_list.remove(&list);
            }
        }
    }

    pub fn get(&self, id: i64) -> Vec<Acl> {
        if id == OPEN_UNSAFE_ACL_ID {
            return open_acl_unsafe();
        }
        self.by_id.get(&id).map(|e| e.0.clone()).unwrap_or_default()
    }

    /// Drops entries nothing refers to (Java's `purgeUnused` after loading a snapshot).
    pub fn purge_unused(&mut self) {
        let dead: Vec<i64> = self.by_id.iter().filter(|(_, e)| e.1 == 0).map(|(k, _)| *k).collect();
        for id in dead {
            if let Some((list, _)) = self.by_id.remove(&id) {
                self.by_list.remove(&list);
            }
        }
    }

    /// Entries in id order, for snapshots.
    pub fn entries(&self) -> impl Iterator<Item = (i64, &Vec<Acl>)> {
        self.by_id.iter().map(|(k, v)| (*k, &v.0))
    }

    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }
}

/// Java's `String.hashCode` over UTF-16 units.
fn java_string_hash(s: &str) -> i32 {
    s.encode_utf16().fold(0i32, |h, c| h.wrapping_mul(31).wrapping_add(i32::from(c)))
}

/// The bin of an `Id` in a small `ConcurrentHashMap` (16 bins): Java's auth-id set, whose
/// iteration order decides how an `auth` ACL expands and what whoAmI lists.
fn java_set_bin(id: &Id) -> i32 {
    let h = 37i32
        .wrapping_mul(37i32.wrapping_mul(17).wrapping_add(java_string_hash(&id.scheme)))
        .wrapping_add(java_string_hash(&id.id));
    let spread = (h ^ ((h as u32) >> 16) as i32) & 0x7fff_ffff;
    spread & 15
}

/// Reorders a connection's auth ids (kept in insertion order) into the order Java's
/// `ConcurrentHashMap`-backed set iterates them: bins in index order, insertion order inside
/// a bin. Exact while the set stays below the map's first resize (12 ids).
pub fn java_set_order(ids: &mut [Id]) {
    ids.sort_by_key(java_set_bin);
}

/// `DigestAuthenticationProvider.generateDigest`: `user:BASE64(SHA1("user:password"))`.
pub fn digest_id(user_password: &str) -> String {
    let user = user_password.split(':').next().unwrap_or("");
    let hash = Sha1::digest(user_password.as_bytes());
    format!("{}:{}", user, base64::engine::general_purpose::STANDARD.encode(hash))
}

/// `IPAuthenticationProvider.matches`: `a.b.c.d[/bits]` prefix match (IPv4 and IPv6).
pub fn ip_matches(client: &str, acl: &str) -> bool {
    let (addr, bits) = match acl.split_once('/') {
        Some((a, b)) => match b.parse::<u32>() {
            Ok(n) => (a, Some(n)),
            Err(_) => return false,
        },
        None => (acl, None),
    };
    let (Ok(a), Ok(c)) = (addr.parse::<std::net::IpAddr>(), client.parse::<std::net::IpAddr>()) else {
        return false;
    };
    let (a, c, max) = match (a, c) {
        (std::net::IpAddr::V4(a), std::net::IpAddr::V4(c)) => (a.octets().to_vec(), c.octets().to_vec(), 32),
        (std::net::IpAddr::V6(a), std::net::IpAddr::V6(c)) => (a.octets().to_vec(), c.octets().to_vec(), 128),
        _ => return false,
    };
    let bits = bits.unwrap_or(max).min(max) as usize;
    for i in 0..bits {
        let byte = i / 8;
        let mask = 0x80u8 >> (i % 8);
        if (a.get(byte).copied().unwrap_or(0) & mask) != (c.get(byte).copied().unwrap_or(0) & mask) {
            return false;
        }
    }
    true
}

/// The `sasl` scheme's provider (`SASLAuthenticationProvider`), which Java registers only
/// when a `zookeeper.authProvider.*` names it. Process-wide like Java's `ProviderRegistry`;
/// set once by the server binary at startup.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SaslProvider {
    pub registered: bool,
    /// `zookeeper.letAnySaslUserDoX`: an ACL id that every SASL user matches.
    pub let_any_user_do_x: Option<String>,
}

static SASL_PROVIDER: std::sync::OnceLock<SaslProvider> = std::sync::OnceLock::new();

/// Installs the process's `sasl` provider (first call wins).
pub fn set_sasl_provider(p: SaslProvider) {
    let _ = SASL_PROVIDER.set(p);
}

fn sasl_provider() -> Option<&'static SaslProvider> {
    SASL_PROVIDER.get().filter(|p| p.registered)
}

/// `SASLAuthenticationProvider.matches`.
pub fn sasl_matches(p: &SaslProvider, id: &str, acl: &str) -> bool {
    id == "super" || id == acl || p.let_any_user_do_x.as_deref() == Some(acl)
}

/// `SASLAuthenticationProvider.isValid`: a `KerberosName` can be made of it (an `@` only in
/// `service[/host]@realm`).
pub fn sasl_valid(id: &str) -> bool {
    let Some((head, realm)) = id.split_once('@') else { return true };
    !realm.contains(['/', '@']) && head.matches('/').count() <= 1
}

/// `ZooKeeperServer.checkACL`: allowed if the ACL is empty, the caller is super, or an entry
/// with the permission matches one of the caller's ids.
pub fn check(acl: &[Acl], perm: i32, auth: &[Id]) -> bool {
    if acl.is_empty() || auth.iter().any(|a| a.scheme == "super") {
        return true;
    }
    acl.iter().any(|e| {
        if e.perms & perm == 0 {
            return false;
        }
        if e.id.scheme == "world" && e.id.id == "anyone" {
            return true;
        }
        auth.iter().any(|a| {
            a.scheme == e.id.scheme
                && match a.scheme.as_str() {
                    "ip" => ip_matches(&a.id, &e.id.id),
                    // No provider, no match: Java skips ACL entries of unknown schemes.
                    "sasl" => sasl_provider().is_some_and(|p| sasl_matches(p, &a.id, &e.id.id)),
                    _ => a.id == e.id.id,
                }
        })
    })
}

/// Whether an id is well-formed for its scheme (`AuthenticationProvider.isValid`).
pub fn valid_id(id: &Id) -> bool {
    match id.scheme.as_str() {
        "world" => id.id == "anyone",
        "digest" => id.id.split(':').count() == 2,
        "ip" => {
            let (addr, bits) = match id.id.split_once('/') {
                Some((a, b)) => (a, Some(b)),
                None => (id.id.as_str(), None),
            };
            addr.parse::<std::net::IpAddr>().is_ok() && bits.is_none_or(|b| b.parse::<u8>().is_ok())
        }
        "sasl" => sasl_provider().is_some() && sasl_valid(&id.id),
        "super" | "x509" => true,
        _ => false,
    }
}

/// `PrepRequestProcessor.fixupACL`: expands `auth` entries into the caller's ids, removes
/// duplicates, and rejects empty or invalid lists (INVALIDACL).
pub fn fixup(acl: &[Acl], auth: &[Id]) -> Option<Vec<Acl>> {
    if acl.is_empty() {
        return None;
    }
    let mut out: Vec<Acl> = Vec::new();
    let push = |a: Acl, out: &mut Vec<Acl>| {
        if !out.contains(&a) {
            out.push(a);
        }
    };
    for a in acl {
        if a.id.scheme == "auth" {
            let mut any = false;
            for id in auth {
                if id.scheme == "ip" || id.scheme == "world" || id.scheme == "super" {
                    continue;
                }
                // Only ids of a registered, authenticating provider expand `auth`.
                if id.scheme == "sasl" && sasl_provider().is_none() {
                    continue;
                }
                any = true;
                push(Acl { perms: a.perms, id: id.clone() }, &mut out);
            }
            if !any {
                return None;
            }
        } else {
            if !valid_id(&a.id) {
                return None;
            }
            push(a.clone(), &mut out);
        }
    }
    Some(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn digest_matches_java_vector() {
        assert_eq!(digest_id("u:p"), "u:Jq7wMyA/w2Vd5WIDAKdu4OIIFEQ=");
    }

    #[test]
    fn java_string_hash_matches_java() {
        assert_eq!(java_string_hash(""), 0);
        assert_eq!(java_string_hash("digest"), -1331913276);
        assert_eq!(java_string_hash("hello"), 99162322);
    }

    #[test]
    fn ip_prefix_match() {
        assert!(ip_matches("127.0.0.1", "127.0.0.0/8"));
        assert!(ip_matches("127.0.0.1", "127.0.0.1"));
        assert!(!ip_matches("10.0.0.1", "127.0.0.0/8"));
    }

    #[test]
    fn auth_scheme_expands_to_callers_ids() {
        let auth =
            vec![Id { scheme: "ip".into(), id: "127.0.0.1".into() }, Id { scheme: "digest".into(), id: "u:x".into() }];
        let acl = vec![Acl { perms: 31, id: Id { scheme: "auth".into(), id: String::new() } }];
        let fixed = fixup(&acl, &auth).unwrap();
        assert_eq!(fixed, vec![Acl { perms: 31, id: auth[1].clone() }]);
        assert!(fixup(&acl, &auth[..1]).is_none());
    }

    #[test]
    fn sasl_provider_rules() {
        let p = SaslProvider { registered: true, let_any_user_do_x: Some("anyone-sasl".into()) };
        assert!(sasl_matches(&p, "bob", "bob"));
        assert!(sasl_matches(&p, "super", "bob"));
        assert!(sasl_matches(&p, "eve", "anyone-sasl"));
        assert!(!sasl_matches(&p, "eve", "bob"));
        assert!(sasl_valid("bob") && sasl_valid("zk/host@R") && sasl_valid("a/b/c") && sasl_valid("u@R"));
        assert!(!sasl_valid("a@b@c") && !sasl_valid("a/b/c@R") && !sasl_valid("a@R/x"));
    }

    #[test]
    fn cache_interns_and_releases() {
        let mut c = AclCache::default();
        let a = c.intern(&open_acl_unsafe());
        assert_eq!(a, 1);
        assert_eq!(c.intern(&open_acl_unsafe()), 1);
        c.release(1);
        assert_eq!(c.len(), 1);
        c.release(1);
        assert!(c.is_empty());
    }
}
