//! Typed identifiers that the protocol mixes freely as `long`s but that are bugs to confuse:
//! a transaction id (with its epoch), a session id and a server id. Each is declared once,
//! here, with its Jute encoding (a plain big-endian `long`), so records can carry them.
#![deny(clippy::unwrap_used, clippy::indexing_slicing)]

use crate::jute::{Jute, Result};
use bytes::{Buf, BufMut};
use std::fmt;

/// A ZooKeeper transaction id: `epoch << 32 | counter` (`ZxidUtils`). Ordered as the
/// signed `long` Java compares, so `-1` ("none") sorts before every real zxid.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Zxid(pub i64);

impl Zxid {
    /// `-1`: what Java sends where no zxid applies (UPTODATE, REQUEST, notifications).
    pub const NONE: Zxid = Zxid(-1);
    /// The zxid of an empty database.
    pub const ZERO: Zxid = Zxid(0);

    /// `ZxidUtils.makeZxid`.
    pub fn new(epoch: u32, counter: u32) -> Zxid {
        Zxid(((epoch as i64) << 32) | counter as i64)
    }
    /// `ZxidUtils.getEpochFromZxid`: the high 32 bits, as Java's signed shift gives them.
    pub fn epoch(self) -> i64 {
        self.0 >> 32
    }
    /// `ZxidUtils.getCounterFromZxid`.
    pub fn counter(self) -> u32 {
        (self.0 & 0xffff_ffff) as u32
    }
    /// The first zxid of an epoch (counter 0), which no transaction carries.
    pub fn epoch_start(epoch: i64) -> Zxid {
        Zxid(epoch << 32)
    }
    /// The zxid after this one in the same epoch.
    pub fn next(self) -> Zxid {
        Zxid(self.0.wrapping_add(1))
    }
}

impl fmt::Display for Zxid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x{:x}", self.0)
    }
}

/// A client session id: the creating server's id in the top byte (`SessionTrackerImpl`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SessionId(pub i64);

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x{:x}", self.0)
    }
}

/// A member's `myid` (the N of `server.N`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ServerId(pub i64);

impl fmt::Display for ServerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

macro_rules! long_jute {
    ($($t:ty),*) => {$(
        impl Jute for $t {
            fn encode<B: BufMut>(&self, out: &mut B) {
                self.0.encode(out)
            }
            fn decode<B: Buf>(src: &mut B) -> Result<Self> {
                Ok(Self(i64::decode(src)?))
            }
        }
    )*};
}
long_jute!(Zxid, SessionId, ServerId);

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn zxid_splits_into_epoch_and_counter_like_zxidutils() {
        let z = Zxid(0x0000_0003_0000_0010);
        assert_eq!(z.epoch(), 3);
        assert_eq!(z.counter(), 16);
        assert_eq!(Zxid::new(3, 16), z);
        assert_eq!(Zxid::epoch_start(3), Zxid(0x3_0000_0000));
        assert_eq!(Zxid::NONE.epoch(), -1);
        assert!(Zxid::NONE < Zxid::ZERO);
        assert_eq!(z.to_string(), "0x300000010");
    }

    #[test]
    fn ids_encode_as_a_plain_long() {
        assert_eq!(ServerId(3).to_bytes(), vec![0, 0, 0, 0, 0, 0, 0, 3]);
        assert_eq!(SessionId::from_slice(&[1, 0, 0, 0, 0, 0, 0, 2]).unwrap(), SessionId(0x0100_0000_0000_0002));
    }
}
