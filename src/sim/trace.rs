//! The event trace: one line per thing that happened (who sent what to whom, crashes,
//! partitions, role changes, acknowledged writes), hashed as it is written so two runs of
//! one seed can be compared by a single number, and kept in memory only when asked for.
//!
//! The hash is FNV-1a over the lines, which is stable across platforms and toolchains
//! (unlike `DefaultHasher`, whose algorithm Rust does not promise to keep).
#![deny(clippy::unwrap_used, clippy::indexing_slicing)]

use std::fmt::Write as _;

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

#[derive(Debug)]
pub struct Trace {
    hash: u64,
    lines: u64,
    keep: bool,
    kept: Vec<String>,
    /// Lines kept even without `keep`, for the context of a failure.
    tail: std::collections::VecDeque<String>,
    tail_cap: usize,
}

impl Trace {
    /// `keep`: hold every line (for `--trace`); otherwise only the last `tail_cap`.
    pub fn new(keep: bool, tail_cap: usize) -> Trace {
        Trace { hash: FNV_OFFSET, lines: 0, keep, kept: Vec::new(), tail: Default::default(), tail_cap }
    }

    /// Records one line at virtual time `now_ms`.
    pub fn line(&mut self, now_ms: u64, text: std::fmt::Arguments<'_>) {
        let mut s = String::with_capacity(64);
        let _ = write!(s, "{:>9}.{:03} ", now_ms / 1000, now_ms % 1000);
        let _ = s.write_fmt(text);
        for b in s.bytes() {
            self.hash = (self.hash ^ u64::from(b)).wrapping_mul(FNV_PRIME);
        }
        self.hash = (self.hash ^ u64::from(b'\n')).wrapping_mul(FNV_PRIME);
        self.lines += 1;
        if self.keep {
            self.kept.push(s);
        } else if self.tail_cap > 0 {
            if self.tail.len() == self.tail_cap {
                self.tail.pop_front();
            }
            self.tail.push_back(s);
        }
    }

    pub fn hash(&self) -> u64 {
        self.hash
    }

    pub fn len(&self) -> u64 {
        self.lines
    }

    pub fn is_empty(&self) -> bool {
        self.lines == 0
    }

    /// Every kept line (all of them with `keep`, else the recent tail).
    pub fn lines(&self) -> Vec<&str> {
        if self.keep {
            self.kept.iter().map(String::as_str).collect()
        } else {
            self.tail.iter().map(String::as_str).collect()
        }
    }
}

/// `trace!(t, now, "fmt", args)`: a line in the trace.
#[macro_export]
#[doc(hidden)]
macro_rules! sim_trace {
    ($t:expr, $now:expr, $($arg:tt)*) => {
        $t.line($now, format_args!($($arg)*))
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_covers_content_order_and_time() {
        let mut a = Trace::new(false, 2);
        let mut b = Trace::new(true, 0);
        for t in [&mut a, &mut b] {
            sim_trace!(t, 1500, "crash {}", 2);
            sim_trace!(t, 1501, "restart {}", 2);
        }
        assert_eq!(a.hash(), b.hash(), "keeping lines does not change the hash");
        assert_eq!(b.lines(), vec!["        1.500 crash 2", "        1.501 restart 2"]);
        let mut c = Trace::new(false, 0);
        sim_trace!(c, 1501, "restart {}", 2);
        sim_trace!(c, 1500, "crash {}", 2);
        assert_ne!(a.hash(), c.hash());
        sim_trace!(a, 1502, "x");
        assert_eq!(a.lines().len(), 2, "the tail is bounded");
    }
}
