//! Request counters for the four-letter words: server-wide (`ServerStats`) and per connection
//! (`ServerCnxn`'s stats). Kept apart from the pipeline so recording a reply is one call.

use crate::jute::opcode;

/// `AvgMinMaxCounter` over request latencies, in ms.
#[derive(Clone, Debug, Default)]
pub struct Latency {
    pub min: u64,
    pub max: u64,
    pub total: u64,
    pub count: u64,
}

impl Latency {
    pub fn record(&mut self, ms: u64) {
        if self.count == 0 || ms < self.min {
            self.min = ms;
        }
        self.max = self.max.max(ms);
        self.total += ms;
        self.count += 1;
    }
}

/// Server-wide counters.
#[derive(Clone, Debug, Default)]
pub struct ServerStats {
    pub packets_received: u64,
    pub packets_sent: u64,
    pub latency: Latency,
}

/// One connection's counters, as `cons` prints them.
#[derive(Clone, Debug, Default)]
pub struct ConnStats {
    pub received: u64,
    pub sent: u64,
    pub established_ms: i64,
    pub last_op: &'static str,
    pub last_cxid: i32,
    pub last_zxid: i64,
    pub last_response_ms: i64,
    pub last_latency: u64,
    pub latency: Latency,
}

impl ConnStats {
    /// A reply to request `xid` of type `op_code` left `ms` after it arrived, at `zxid`/`wall_ms`.
    pub fn record(&mut self, ms: u64, op_code: i32, xid: i32, zxid: i64, wall_ms: i64) {
        self.last_op = opcode::short_name(op_code);
        self.last_cxid = xid;
        self.last_zxid = zxid;
        self.last_response_ms = wall_ms;
        self.last_latency = ms;
        self.latency.record(ms);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_keeps_min_max_total() {
        let mut l = Latency::default();
        l.record(7);
        l.record(3);
        l.record(9);
        assert_eq!((l.min, l.max, l.total, l.count), (3, 9, 19, 3));
        let mut c = ConnStats::default();
        c.record(0, crate::jute::opcode::op::GET_DATA, 12, 5, 99);
        assert_eq!((c.last_op, c.last_cxid, c.last_zxid, c.last_response_ms), ("GETD", 12, 5, 99));
        assert_eq!((c.latency.min, c.latency.count), (0, 1));
    }
}
