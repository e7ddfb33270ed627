//! DIGEST-MD5 against an exchange recorded from Java ZooKeeper 3.8.0 (kazoo + pure-sasl,
//! user `bob`, password `bobsecret`): the nonce is injected, so every byte must match.
use super::*;

const NONCE: &str = "s1p8J2WHv6fdrzRMM5kuIFvQGoXx0jAt17jVjmsg";
const JAVA_CHALLENGE: &str =
    "realm=\"zk-sasl-md5\",nonce=\"s1p8J2WHv6fdrzRMM5kuIFvQGoXx0jAt17jVjmsg\",charset=utf-8,algorithm=md5-sess";
const CLIENT_RESPONSE: &str = "qop=auth,realm=\"zk-sasl-md5\",username=\"bob\",nonce=\"s1p8J2WHv6fdrzRMM5kuIFvQGoXx0jAt17jVjmsg\",cnonce=\"6017258574520583\",nc=00000001,digest-uri=\"zookeeper/zk-sasl-md5\",response=9a00df9665be1ab0fb241ef76889bd86";
const JAVA_RSPAUTH: &str = "rspauth=495bd8d4d17f371e1766bc7a260ba29d";

fn users(u: &str) -> Option<String> {
    (u == "bob").then(|| "bobsecret".to_string())
}

#[test]
fn java_exchange_byte_for_byte() {
    let mut s = DigestServer::default();
    assert_eq!(s.step(b"", NONCE, users), Ok(Step::Challenge(JAVA_CHALLENGE.as_bytes().to_vec())));
    let done = s.step(CLIENT_RESPONSE.as_bytes(), "unused", users);
    assert_eq!(
        done,
        Ok(Step::Complete { token: JAVA_RSPAUTH.as_bytes().to_vec(), authcid: "bob".into(), authzid: None })
    );
    assert!(s.is_over());
    assert_eq!(s.step(b"", NONCE, users), Err(SaslError("DIGEST-MD5: Server at illegal state".into())));
}

#[test]
fn wrong_password_is_a_mismatched_response() {
    let mut s = DigestServer::default();
    s.step(b"", NONCE, users).unwrap();
    let r = s.step(CLIENT_RESPONSE.as_bytes(), NONCE, |_| Some("other".into()));
    assert_eq!(r, Err(SaslError("DIGEST-MD5: digest response format violation. Mismatched response.".into())));
    assert!(s.is_over());
}

#[test]
fn unknown_user_has_no_password() {
    let mut s = DigestServer::default();
    s.step(b"", NONCE, users).unwrap();
    let r = s.step(CLIENT_RESPONSE.replace("\"bob\"", "\"eve\"").as_bytes(), NONCE, users);
    assert_eq!(r, Err(SaslError("DIGEST-MD5: cannot acquire password for eve in realm : zk-sasl-md5".into())));
}

#[test]
fn out_of_order_and_malformed_tokens() {
    // A non-empty first token is ignored, as the JDK's server does.
    let mut s = DigestServer::default();
    assert_eq!(
        s.step(CLIENT_RESPONSE.as_bytes(), NONCE, users),
        Ok(Step::Challenge(JAVA_CHALLENGE.as_bytes().to_vec()))
    );
    let mut s = DigestServer::default();
    s.step(b"", NONCE, users).unwrap();
    let other_nonce = CLIENT_RESPONSE.replace(NONCE, "AAAA");
    assert_eq!(
        s.step(other_nonce.as_bytes(), NONCE, users),
        Err(SaslError("DIGEST-MD5: digest response format violation. Mismatched nonce.".into()))
    );
    let mut s = DigestServer::default();
    s.step(b"", NONCE, users).unwrap();
    let bad_uri = CLIENT_RESPONSE.replace("zookeeper/zk-sasl-md5", "ldap/x");
    assert_eq!(
        s.step(bad_uri.as_bytes(), NONCE, users),
        Err(SaslError(
            "DIGEST-MD5: digest response format violation. Mismatched URI: ldap/x; expecting: zookeeper/zk-sasl-md5"
                .into()
        ))
    );
    let mut s = DigestServer::default();
    s.step(b"", NONCE, users).unwrap();
    assert_eq!(
        s.step(b"username=\"bob\",username=\"x\"", NONCE, users),
        Err(SaslError("DIGEST-MD5: Peer sent more than one username directive".into()))
    );
    let mut s = DigestServer::default();
    s.step(b"", NONCE, users).unwrap();
    assert_eq!(
        s.step(&[b'a'; 4097], NONCE, users),
        Err(SaslError("DIGEST-MD5: Invalid digest response length. Got:  4097 Expected < 4096".into()))
    );
    let mut s = DigestServer::default();
    s.step(b"", NONCE, users).unwrap();
    assert_eq!(
        s.step(CLIENT_RESPONSE.replace("nc=00000001", "nc=00000002").as_bytes(), NONCE, users),
        Err(SaslError("DIGEST-MD5: digest response format violation. Nonce count does not match: 00000002".into()))
    );
}

#[test]
fn rfc2831_example_response() {
    // RFC 2831 section 4's IMAP example (its printed rspauth is known to be wrong; the
    // response value is right).
    let r = response_value(
        "chris",
        "elwood.innosoft.com",
        "secret",
        "OA6MG9tEQGm2hh",
        "OA6MHXh6VqTrRk",
        None,
        "00000001",
        "auth",
        "imap/elwood.innosoft.com",
        "AUTHENTICATE",
    );
    assert_eq!(r, "d388dad90d4bbd760a152321f2143af7");
}

#[test]
fn directives_parse_quotes_and_spaces() {
    let d = parse_directives(" a=1 , b=\"x,\\\"y\" ,c=z").unwrap();
    assert_eq!(d, vec![("a".into(), "1".into()), ("b".into(), "x,\"y".into()), ("c".into(), "z".into())]);
    assert!(parse_directives("a=\"open").is_err());
}
