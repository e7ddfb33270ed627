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

mod through_the_server {
    use super::super::super::{Input, Now, Options, Output, Server};
    use super::*;
    use crate::jute::opcode::op;
    use crate::jute::records::{ConnectRequest, ReplyHeader, RequestHeader};
    use crate::server::sasl_digest::{response_value, DIGEST_URI, REALM};
    use crate::tree::DataTree;

    fn now() -> Now {
        Now { mono_ms: 0, wall_ms: 1_700_000_000_000 }
    }

    /// Runs outputs (appends are durable at once); returns what was sent and whether the
    /// connection was closed.
    fn pump(s: &mut Server) -> (Vec<Bytes>, bool) {
        let (mut sent, mut closed) = (Vec::new(), false);
        loop {
            let mut appended = None;
            while let Some(o) = s.poll_output() {
                match o {
                    Output::Send { bytes, .. } => sent.push(bytes),
                    Output::Close { .. } => closed = true,
                    Output::Append { zxid, .. } => appended = Some(zxid),
                    _ => {}
                }
            }
            match appended {
                Some(z) => s.handle(now(), Input::Durable { zxid: z }),
                None => return (sent, closed),
            }
        }
    }

    fn connect(s: &mut Server, conn: u64) {
        s.handle(now(), Input::Accepted { conn, addr: "127.0.0.1:5000".parse().unwrap() });
        let req = ConnectRequest { time_out: 30000, passwd: Some(Bytes::from(vec![0u8; 16])), ..Default::default() };
        s.handle(now(), Input::Frame { conn, frame: Bytes::from(req.to_bytes()) });
        assert_eq!(pump(s).0.len(), 1);
    }

    fn send(s: &mut Server, conn: u64, xid: i32, op_code: i32, body: &[u8]) -> (ReplyHeader, Vec<u8>, bool) {
        let mut f = RequestHeader { xid, type_: op_code }.to_bytes();
        f.extend_from_slice(body);
        s.handle(now(), Input::Frame { conn, frame: Bytes::from(f) });
        let (out, closed) = pump(s);
        assert_eq!(out.len(), 1, "one reply");
        (ReplyHeader::from_slice(&out[0][4..]).unwrap(), out[0][20..].to_vec(), closed)
    }

    fn token(t: &[u8]) -> Vec<u8> {
        let mut b = (t.len() as i32).to_be_bytes().to_vec();
        b.extend_from_slice(t);
        b
    }

    fn digest_response(challenge: &[u8], password: &str) -> Vec<u8> {
        let text = String::from_utf8(challenge.to_vec()).unwrap();
        let nonce = text.split("nonce=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
        let r =
            response_value("bob", REALM, password, &nonce, "c1", None, "00000001", "auth", DIGEST_URI, "AUTHENTICATE");
        format!(
            "qop=auth,realm=\"{REALM}\",username=\"bob\",nonce=\"{nonce}\",cnonce=\"c1\",nc=00000001,\
             digest-uri=\"{DIGEST_URI}\",response={r}"
        )
        .into_bytes()
    }

    fn server() -> Server {
        let users = BTreeMap::from([("bob".to_string(), "bobsecret".to_string())]);
        let sasl = SaslOptions {
            mechanism: Mechanism::Digest { users },
            enforce_schemes: vec!["sasl".into()],
            super_user: Some("bob".into()),
            nonce_seed: 7,
            ..Default::default()
        };
        Server::new(Options { sasl, ..Default::default() }, DataTree::new(false), now())
    }

    const EXISTS_ROOT: &[u8] = &[0, 0, 0, 1, b'/', 0];

    #[test]
    fn enforcement_refuses_before_sasl() {
        let mut s = server();
        connect(&mut s, 1);
        let (h, body, closed) = send(&mut s, 1, 5, op::EXISTS, EXISTS_ROOT);
        assert_eq!((h, body, closed), (ReplyHeader { xid: 5, zxid: 0, err: -124 }, vec![], true));
    }

    #[test]
    fn digest_exchange_adds_sasl_and_super_ids() {
        let mut s = server();
        connect(&mut s, 2);
        let (h, body, closed) = send(&mut s, 2, 1, op::SASL, &token(b""));
        assert_eq!((h, closed), (ReplyHeader { xid: 1, zxid: 0, err: 0 }, false));
        let chal = body[4..].to_vec();
        assert!(chal.starts_with(b"realm=\"zk-sasl-md5\",nonce=\""));
        assert!(chal.ends_with(b"\",charset=utf-8,algorithm=md5-sess"));
        let (h, body, closed) = send(&mut s, 2, 2, op::SASL, &token(&digest_response(&chal, "bobsecret")));
        assert_eq!((h, closed), (ReplyHeader { xid: 2, zxid: 0, err: 0 }, false));
        assert!(body[4..].starts_with(b"rspauth="));
        let auth: Vec<(String, String)> = s.conns[&2].auth.iter().map(|i| (i.scheme.clone(), i.id.clone())).collect();
        let mut sorted = auth.clone();
        sorted.sort();
        assert_eq!(
            sorted,
            vec![("ip".into(), "127.0.0.1".into()), ("sasl".into(), "bob".into()), ("super".into(), String::new())]
        );
        let (h, _, closed) = send(&mut s, 2, 3, op::EXISTS, EXISTS_ROOT);
        assert_eq!((h.err, closed), (0, false));
    }

    #[test]
    fn wrong_password_when_required_is_124_with_a_null_token() {
        let mut s = server();
        connect(&mut s, 3);
        let (_, body, _) = send(&mut s, 3, 1, op::SASL, &token(b""));
        let (h, body, closed) = send(&mut s, 3, 2, op::SASL, &token(&digest_response(&body[4..], "wrong")));
        assert_eq!((h, body, closed), (ReplyHeader { xid: 2, zxid: 0, err: -124 }, vec![0xff; 4], true));
    }
}
