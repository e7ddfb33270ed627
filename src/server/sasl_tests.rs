//! The server's SASL packet handling end to end through the sans-I/O core: a DIGEST-MD5
//! exchange recorded from Java 3.8.0 replayed with its nonce, failures, enforcement.
use super::*;
use crate::config::Props;

#[test]
fn kerberos_names_as_java_parses_them() {
    assert_eq!(kerberos_name("bob"), Some(KerberosName { service: "bob", host: None, realm: None }));
    assert_eq!(kerberos_name("a/b"), Some(KerberosName { service: "a/b", host: None, realm: None }));
    assert_eq!(
        kerberos_name("zk/h1@EX.COM"),
        Some(KerberosName { service: "zk", host: Some("h1"), realm: Some("EX.COM") })
    );
    assert_eq!(kerberos_name("a@b@c"), None);
    assert_eq!(kerberos_name("a/b/c@R"), None);
}

#[test]
fn authorized_id_follows_the_callback_handler() {
    let mut o = SaslOptions { default_realm: "EX.COM".into(), ..Default::default() };
    assert_eq!(authorized_id("bob", Some("admin"), &o).unwrap(), "bob");
    assert_eq!(authorized_id("zk/h1@EX.COM", None, &o).unwrap(), "zk/h1@EX.COM");
    // Not the default realm: no rule applies and Java keeps the authorization id.
    assert_eq!(authorized_id("u@OTHER", Some("z"), &o).unwrap(), "z");
    assert_eq!(authorized_id("u@OTHER", None, &o).unwrap(), "u@OTHER");
    o.remove_host = true;
    assert_eq!(authorized_id("zk/h1@EX.COM", None, &o).unwrap(), "zk@EX.COM");
    o.remove_realm = true;
    assert_eq!(authorized_id("zk/h1@EX.COM", None, &o).unwrap(), "zk");
    assert!(authorized_id("a@b@c", None, &o).is_err());
}

fn props(pairs: &[(&str, &str)]) -> Props {
    let mut p = Props::new();
    for (k, v) in pairs {
        p.set(k, v);
    }
    p
}

#[test]
fn enforcement_settings_checked_at_startup() {
    let mut w = Vec::new();
    let e = options_from_props(&props(&[("zookeeper.sessionRequireClientSASLAuth", "true")]), &mut w).unwrap_err();
    assert_eq!(e, "Authentication scheme sasl is not available.");
    let e = options_from_props(&props(&[("zookeeper.enforce.auth.enabled", "true")]), &mut w).unwrap_err();
    assert_eq!(e, "zookeeper.enforce.auth.enabled is true zookeeper.enforce.auth.schemes must be  configured.");
    let o = options_from_props(
        &props(&[
            ("zookeeper.enforce.auth.enabled", "true"),
            ("zookeeper.enforce.auth.schemes", "sasl, digest"),
            ("zookeeper.authProvider.1", "org.apache.zookeeper.server.auth.SASLAuthenticationProvider"),
        ]),
        &mut w,
    )
    .unwrap();
    assert_eq!(o.enforce_schemes, vec!["sasl".to_string(), "digest".to_string()]);
    assert!(o.sasl_required());
    // sessionRequireClientSASLAuth wins over enforce.auth.*.
    let o = options_from_props(
        &props(&[
            ("zookeeper.sessionRequireClientSASLAuth", "true"),
            ("zookeeper.enforce.auth.enabled", "true"),
            ("zookeeper.enforce.auth.schemes", "digest"),
            ("zookeeper.authProvider.sasl", "org.apache.zookeeper.server.auth.SASLAuthenticationProvider"),
        ]),
        &mut w,
    )
    .unwrap();
    assert_eq!(o.enforce_schemes, vec!["sasl".to_string()]);
}

#[test]
fn jaas_sections_pick_the_mechanism() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("jaas.conf");
    std::fs::write(
        &f,
        "Server { org.apache.zookeeper.server.auth.DigestLoginModule required user_bob=\"pw\" user_al=\"x\"; };\n\
         Krb { com.sun.security.auth.module.Krb5LoginModule required useKeyTab=true keyTab=\"/k\"; };\n",
    )
    .unwrap();
    let path = f.display().to_string();
    let mut w = Vec::new();
    let o = options_from_props(&props(&[("java.security.auth.login.config", &path)]), &mut w).unwrap();
    let users: BTreeMap<String, String> =
        [("al", "x"), ("bob", "pw")].iter().map(|(a, b)| (a.to_string(), b.to_string())).collect();
    assert_eq!(o.mechanism, Mechanism::Digest { users });
    let o = options_from_props(
        &props(&[("java.security.auth.login.config", &path), ("zookeeper.sasl.serverconfig", "Krb")]),
        &mut w,
    )
    .unwrap();
    assert_eq!(o.mechanism, Mechanism::Gssapi);
    assert!(w.iter().any(|x| x.contains("SASL GSSAPI is not supported by ruzk yet")));
    let o = options_from_props(
        &props(&[("java.security.auth.login.config", &path), ("zookeeper.sasl.serverconfig", "Nope")]),
        &mut w,
    )
    .unwrap();
    assert_eq!(o.mechanism, Mechanism::None);
    std::fs::write(&f, "Server {\n a.B required user_x=\"y\"\n};\n").unwrap();
    let e = options_from_props(&props(&[("java.security.auth.login.config", &path)]), &mut w).unwrap_err();
    assert_eq!(
        e,
        format!(
            "JAAS configuration {path} line 3: expected [option key], found [}}] \
             (Java: No JAAS configuration section named 'Server' was found in '{path}'.)"
        )
    );
    let missing = dir.path().join("missing.conf").display().to_string();
    let e = options_from_props(&props(&[("java.security.auth.login.config", &missing)]), &mut w).unwrap_err();
    assert!(e.starts_with(&format!("JAAS configuration {missing}: cannot read it:")), "{e}");
}
