//! `KeeperException.Code` values: the `err` field of a reply. Values on the wire, not Rust errors.

pub const OK: i32 = 0;
pub const SYSTEM_ERROR: i32 = -1;
pub const RUNTIME_INCONSISTENCY: i32 = -2;
pub const MARSHALLING_ERROR: i32 = -5;
pub const UNIMPLEMENTED: i32 = -6;
pub const BAD_ARGUMENTS: i32 = -8;
pub const NO_NODE: i32 = -101;
pub const NO_AUTH: i32 = -102;
pub const BAD_VERSION: i32 = -103;
pub const NO_CHILDREN_FOR_EPHEMERALS: i32 = -108;
pub const NODE_EXISTS: i32 = -110;
pub const NOT_EMPTY: i32 = -111;
pub const SESSION_EXPIRED: i32 = -112;
pub const INVALID_ACL: i32 = -114;
pub const AUTH_FAILED: i32 = -115;
pub const SESSION_MOVED: i32 = -118;
pub const NOT_READ_ONLY: i32 = -119;
pub const NO_WATCHER: i32 = -121;
pub const RECONFIG_DISABLED: i32 = -123;
