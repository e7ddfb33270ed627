//! `KeeperException.Code`: the `err` field of a reply and of an `ErrorTxn`, declared once with
//! its Java name. These are values on the wire, not Rust errors, so they stay `i32`; they live
//! beside the wire format so the tree and the storage tools can use them without the server.
//!
//! The table is every code of Java 3.8.0 (printed from `KeeperException.Code.values()`).

macro_rules! error_table {
    ($( $name:ident = $code:literal, $java:literal; )*) => {
        $( pub const $name: i32 = $code; )*

        const ROWS: &[(i32, &str)] = &[ $( ($code, $java), )* ];
    };
}

error_table! {
    OK                               =    0, "OK";
    SYSTEM_ERROR                     =   -1, "SYSTEMERROR";
    RUNTIME_INCONSISTENCY            =   -2, "RUNTIMEINCONSISTENCY";
    DATA_INCONSISTENCY               =   -3, "DATAINCONSISTENCY";
    CONNECTION_LOSS                  =   -4, "CONNECTIONLOSS";
    MARSHALLING_ERROR                =   -5, "MARSHALLINGERROR";
    UNIMPLEMENTED                    =   -6, "UNIMPLEMENTED";
    OPERATION_TIMEOUT                =   -7, "OPERATIONTIMEOUT";
    BAD_ARGUMENTS                    =   -8, "BADARGUMENTS";
    UNKNOWN_SESSION                  =  -12, "UNKNOWNSESSION";
    NEW_CONFIG_NO_QUORUM             =  -13, "NEWCONFIGNOQUORUM";
    RECONFIG_IN_PROGRESS             =  -14, "RECONFIGINPROGRESS";
    API_ERROR                        = -100, "APIERROR";
    NO_NODE                          = -101, "NONODE";
    NO_AUTH                          = -102, "NOAUTH";
    BAD_VERSION                      = -103, "BADVERSION";
    NO_CHILDREN_FOR_EPHEMERALS       = -108, "NOCHILDRENFOREPHEMERALS";
    NODE_EXISTS                      = -110, "NODEEXISTS";
    NOT_EMPTY                        = -111, "NOTEMPTY";
    SESSION_EXPIRED                  = -112, "SESSIONEXPIRED";
    INVALID_CALLBACK                 = -113, "INVALIDCALLBACK";
    INVALID_ACL                      = -114, "INVALIDACL";
    AUTH_FAILED                      = -115, "AUTHFAILED";
    SESSION_MOVED                    = -118, "SESSIONMOVED";
    NOT_READ_ONLY                    = -119, "NOTREADONLY";
    EPHEMERAL_ON_LOCAL_SESSION       = -120, "EPHEMERALONLOCALSESSION";
    NO_WATCHER                       = -121, "NOWATCHER";
    REQUEST_TIMEOUT                  = -122, "REQUESTTIMEOUT";
    RECONFIG_DISABLED                = -123, "RECONFIGDISABLED";
    SESSION_CLOSED_REQUIRE_SASL_AUTH = -124, "SESSIONCLOSEDREQUIRESASLAUTH";
    QUOTA_EXCEEDED                   = -125, "QUOTAEXCEEDED";
    THROTTLED_OP                     = -127, "THROTTLEDOP";
}

/// The `KeeperException.Code` constant's name, as Java's `Code.toString()` prints it.
pub fn java_name(code: i32) -> Option<&'static str> {
    ROWS.iter().find(|(c, _)| *c == code).map(|(_, n)| *n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_java_code_once() {
        assert_eq!(ROWS.len(), 32);
        for (i, (a, _)) in ROWS.iter().enumerate() {
            assert!(ROWS.iter().skip(i + 1).all(|(b, _)| b != a), "code {a} twice");
        }
        assert_eq!(java_name(NO_NODE), Some("NONODE"));
        assert_eq!(java_name(SESSION_CLOSED_REQUIRE_SASL_AUTH), Some("SESSIONCLOSEDREQUIRESASLAUTH"));
        assert_eq!(java_name(-9), None);
    }
}
