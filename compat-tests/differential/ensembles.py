"""Ensemble sides for the differential test: one side is a whole ensemble (compat-tests/ensemble),
with the run's client slots spread over its members.

Owns what legitimately differs between two ensembles given the same operations, and nothing more:
* ports: each ensemble has its own port lease, so member addresses in replies (the QV string that is
  /zookeeper/config's data) are rewritten to per-member tokens of the same length;
* the epoch: zxids are compared relative to the epoch the ensemble had when the run began (both
  sides normally start at epoch 1, but an extra election on one side must not show up as a
  protocol mismatch; a re-election *during* a run is reported as a harness problem);
* session ids: slot i talks to member (i mod n)+1 on both sides, so the creating server id in the top
  byte and the per-member counter in the low 16 bits compare as they are (difftest normalises the
  time-based middle).
Setup never writes (no probe writes: they would shift every zxid and session counter).
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "ensemble"))
import ensemble as E  # noqa: E402
import logscan  # noqa: E402
import treecmp  # noqa: E402


def is_ensemble(kind):
    return kind in E.TOPOLOGIES


class EnsembleServer:
    """The Server interface of difftest.py (start, wait_listening, stop) over an Ensemble."""

    def __init__(self, topology, super_password, props, extra_cfg):
        self.kind = topology
        self.topology = topology
        self.super_password = super_password
        self.props = props
        self.extra_cfg = extra_cfg
        self.ens = None
        self.zxid_base = 0
        self.port = None

    def start(self):
        self.ens = E.Ensemble(self.topology, name="diff-" + self.topology, props=self.props, cfg=self.extra_cfg,
                              super_password=self.super_password)
        self.ens.start()

    def wait_listening(self, timeout=120.0):
        """Every member serves in its role (no writes), one leader; pins the epoch zxids are relative to."""
        lead = self.ens.wait_ready(timeout, "differential setup", writes=False)
        self.port = lead.client_port
        # The leader's lastProcessedZxid is newEpoch << 32 once NEWLEADER has a quorum; followers
        # still report their last txn's zxid (0 on a fresh ensemble) until the first commit.
        zxid = lead.srvr()["zxid"]
        if zxid is None:
            raise E.HarnessError("ensemble %s: leader %s gave no zxid in srvr" % (self.topology, lead.name))
        self.zxid_base = (zxid >> 32) << 32
        self.leader_sid = lead.sid
        return lead

    def endpoints(self):
        """(host, port) per member, by sid."""
        return [(m.host, m.client_port) for m in sorted(self.ens, key=lambda m: m.sid)]

    def rewrite(self, body):
        """Member addresses in a reply body -> per-member tokens of the same length."""
        if not body or b"127.0.0." not in body:
            return body
        for m in self.ens:
            for port, tag in ((m.client_port, b"c"), (m.quorum_port, b"q"), (m.election_port, b"e")):
                token = (tag + str(m.sid).encode()).ljust(len(str(port)), b"_")
                body = body.replace(b":%d" % port, b":" + token)
        return body

    def norm_zxid(self, zxid):
        if zxid is None or zxid <= 0 or not self.zxid_base:
            return zxid
        return zxid - self.zxid_base

    def check_epoch(self):
        """(re-election note or None, dead members): zxids are only comparable within one epoch."""
        lead = self.ens.leader()
        zxid = lead.srvr()["zxid"] if lead else None
        moved = None
        if lead is None or zxid is None or lead.sid != self.leader_sid or (zxid >> 32) != (self.zxid_base >> 32):
            moved = "leader now %s at zxid %s (was member %d, epoch %d)" % (
                lead.name if lead else "none", hex(zxid) if zxid is not None else "?", self.leader_sid,
                self.zxid_base >> 32)
        dead = [m.name for m in self.ens if m.proc is not None and m.proc.poll() is not None]
        return moved, dead

    def tree_check(self):
        summary, diffs = treecmp.compare_members(self.ens)
        return summary, diffs

    def log_report(self):
        return logscan.scan(self.ens)

    def stop(self):
        if self.ens is not None:
            self.ens.close()
            self.ens = None
