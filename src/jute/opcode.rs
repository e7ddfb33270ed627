//! Every op code (`ZooDefs.OpCode`) declared once, with what the rest of the code needs to
//! know about it: the name Java's tools print, the short name the four-letter words print,
//! and how the server treats it. Scattered `match` tables drifted apart before; now each
//! fact about an op has exactly one row to live in.
//!
//! Codes stay plain `i32`: that is what `RequestHeader.type` and `TxnHeader.type` carry.

/// How the server pipeline treats a request of this type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpKind {
    /// Answered without a transaction (`FinalRequestProcessor` reads and friends).
    Read,
    /// A client request that becomes a transaction.
    Write,
    /// Only ever seen in a transaction the server makes itself (never sent by a client).
    TxnOnly,
    /// Handled outside the request pipeline (auth, sasl) or never a request (notification).
    Other,
}

macro_rules! op_table {
    ($( $(#[$doc:meta])* $name:ident = $code:literal, $java:expr, $short:literal, $kind:ident; )*) => {
        /// The op codes as the wire carries them.
        pub mod op {
            $( $(#[$doc])* pub const $name: i32 = $code; )*
        }

        /// One row of the table.
        struct Row {
            code: i32,
            java: Option<&'static str>,
            short: &'static str,
            kind: OpKind,
        }

        const ROWS: &[Row] = &[
            $( Row { code: $code, java: $java, short: $short, kind: OpKind::$kind }, )*
        ];
    };
}

op_table! {
    // const                    code  Request.op2String        4lw     kind
    NOTIFICATION            =    0, Some("notification"),         "NA",     Other;
    CREATE                  =    1, Some("create"),               "CREA",   Write;
    DELETE                  =    2, Some("delete"),               "DELE",   Write;
    EXISTS                  =    3, Some("exists"),               "EXIS",   Read;
    GET_DATA                =    4, Some("getData"),              "GETD",   Read;
    SET_DATA                =    5, Some("setData"),              "SETD",   Write;
    GET_ACL                 =    6, Some("getACL"),               "GETA",   Read;
    SET_ACL                 =    7, Some("setACL"),               "SETA",   Write;
    GET_CHILDREN            =    8, Some("getChildren"),          "GETC",   Read;
    SYNC                    =    9, Some("sync"),                 "SYNC",   Read;
    PING                    =   11, Some("ping"),                 "PING",   Read;
    GET_CHILDREN2           =   12, Some("getChildren2"),         "GETC",   Read;
    /// A top-level check is a "read" that Java answers UNIMPLEMENTED; inside a multi it is a write.
    CHECK                   =   13, Some("check"),                "NA",     Read;
    MULTI                   =   14, Some("multi"),                "MULT",   Write;
    CREATE2                 =   15, Some("create2"),              "CREA",   Write;
    RECONFIG                =   16, Some("reconfig"),             "NA",     Write;
    CHECK_WATCHES           =   17, Some("checkWatches"),         "CHKW",   Read;
    REMOVE_WATCHES          =   18, Some("removeWatches"),        "REMW",   Read;
    CREATE_CONTAINER        =   19, Some("createContainer"),      "CREA",   Write;
    DELETE_CONTAINER        =   20, Some("deleteContainer"),      "NA",     TxnOnly;
    /// Java's op2String spells it "createTtl", unlike the constant `createTTL`.
    CREATE_TTL              =   21, Some("createTtl"),            "CREA",   Write;
    MULTI_READ              =   22, Some("multiRead"),            "MLTR",   Read;
    AUTH                    =  100, Some("auth"),                 "AUTH",   Other;
    SET_WATCHES             =  101, Some("setWatches"),           "SETW",   Read;
    SASL                    =  102, Some("sasl"),                 "NA",     Other;
    GET_EPHEMERALS          =  103, Some("getEphemerals"),        "GETE",   Read;
    GET_ALL_CHILDREN_NUMBER =  104, Some("getAllChildrenNumber"), "GETACN", Read;
    SET_WATCHES2            =  105, Some("setWatches2"),          "SETW",   Read;
    /// 3.8.0's op2String has no case for addWatch: its tools print "unknown 106".
    ADD_WATCH               =  106, None,                         "ADDW",   Read;
    WHO_AM_I                =  107, Some("whoAmI"),               "HOMI",   Read;
    CREATE_SESSION          =  -10, Some("createSession"),        "NA",     TxnOnly;
    CLOSE_SESSION           =  -11, Some("closeSession"),         "CLOS",   Write;
    ERROR                   =   -1, Some("error"),                "NA",     TxnOnly;
}

fn row(code: i32) -> Option<&'static Row> {
    ROWS.iter().find(|r| r.code == code)
}

/// `Request.op2String` of 3.8.0, as `TxnLogToolkit` prints it, quirks included.
pub fn java_name(code: i32) -> String {
    match row(code).and_then(|r| r.java) {
        Some(s) => s.to_string(),
        None => format!("unknown {code}"),
    }
}

/// The `lastOp` a connection reports in `cons` (Java's `FinalRequestProcessor` names).
pub fn short_name(code: i32) -> &'static str {
    row(code).map_or("NA", |r| r.short)
}

/// How the pipeline treats `code`; `None` for a code Java does not know.
pub fn kind(code: i32) -> Option<OpKind> {
    row(code).map(|r| r.kind)
}

/// Ops a client may send that are answered without a transaction.
pub fn is_read(code: i32) -> bool {
    kind(code) == Some(OpKind::Read)
}

/// Ops a client may send that become a transaction.
pub fn is_client_write(code: i32) -> bool {
    kind(code) == Some(OpKind::Write)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique() {
        for (i, a) in ROWS.iter().enumerate() {
            assert!(ROWS.iter().skip(i + 1).all(|b| b.code != a.code), "code {} twice", a.code);
        }
        assert_eq!(ROWS.len(), 33, "every ZooDefs.OpCode of 3.8.0");
    }

    #[test]
    fn names_as_java_prints_them() {
        assert_eq!(java_name(op::CREATE_TTL), "createTtl");
        assert_eq!(java_name(op::GET_ACL), "getACL");
        assert_eq!(java_name(op::ADD_WATCH), "unknown 106");
        assert_eq!(java_name(op::CREATE_SESSION), "createSession");
        assert_eq!(java_name(42), "unknown 42");
        assert_eq!(short_name(op::CREATE_CONTAINER), "CREA");
        assert_eq!(short_name(op::GET_ALL_CHILDREN_NUMBER), "GETACN");
        assert_eq!(short_name(op::WHO_AM_I), "HOMI");
        assert_eq!(short_name(op::CHECK), "NA");
        assert_eq!(short_name(42), "NA");
    }

    #[test]
    fn kinds_split_the_pipeline() {
        let reads: Vec<i32> = ROWS.iter().filter(|r| is_read(r.code)).map(|r| r.code).collect();
        assert_eq!(reads, [3, 4, 6, 8, 9, 11, 12, 13, 17, 18, 22, 101, 103, 104, 105, 106, 107]);
        let writes: Vec<i32> = ROWS.iter().filter(|r| is_client_write(r.code)).map(|r| r.code).collect();
        assert_eq!(writes, [1, 2, 5, 7, 14, 15, 16, 19, 21, -11]);
        assert_eq!(kind(op::AUTH), Some(OpKind::Other));
        assert_eq!(kind(op::DELETE_CONTAINER), Some(OpKind::TxnOnly));
        assert_eq!(kind(10), None);
    }
}
