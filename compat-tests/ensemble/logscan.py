"""Reads the members' logs after a scenario: what Java must never log when ruzk is a member, and which
sync mode (DIFF, SNAP, TRUNC) every learner got.

Why here and not in the tests: a Java member that disagrees with a ruzk peer rarely fails a client
call; it logs (a digest mismatch, an unknown packet, a learner handler dying on a bad record) and
carries on, so the logs are where interop bugs show first. The phrases are Java 3.8.0's
(`LearnerHandler`, `Learner`, `Follower`, `Leader`, `DataTree`, `FastLeaderElection`,
`QuorumCnxManager` in release-3.8.0-1); ruzk logs the same sync phrases so one matcher reads both.

Java's own 3.8.0 bugs (protocol.md Addendum: an NPE in syncWithLeader under load, "NEWLEADER ACK from
a different epoch" = ZOOKEEPER-4685, "Digests are not matching" after a DIFF sync and a restart =
ZOOKEEPER-4643/4785) are reported but fail only ensembles that contain ruzk.
"""

import re
from dataclasses import dataclass, field

JAVA_LINE = re.compile(r"^(?P<time>\d\d:\d\d:\d\d\.\d{3}) \[(?P<thread>.*)\] (?P<level>TRACE|DEBUG|INFO|WARN|ERROR) "
                       r"(?P<logger>\S+) - (?P<msg>.*)$")

# (name, regex on the message, known Java 3.8.0 bug that may also show in all-Java ensembles or None)
# Java 3.8.0 logs "Digests are not matching" by itself in two cases seen here: on *every* member for
# a create whose op and flags disagree (op 1 with CONTAINER flags 4, op 19 with flags 0: the leader's
# precomputed TxnDigest differs from its own tree after apply; mntr zk_digest_mismatches_count), and on
# a follower after a DIFF sync and restart (ZOOKEEPER-4643/4785). With ruzk members a mismatch counts
# as Java's own only if a Java member that leads logged one in the same scan window.
DIGEST = re.compile(r"Digests are not matching|First digest mismatch on txn")
JAVA_DIGEST_NOTE = ("Java 3.8.0's own: create op/flags mismatch (op 1 + container flags, op 19 + flags 0) "
                    "or ZOOKEEPER-4643/4785")
PEER_STATE = re.compile(r"org\.apache\.zookeeper\.server\.quorum\.QuorumPeer - (LEADING|FOLLOWING|OBSERVING|LOOKING)$|"
                        r"PeerState set to (LOOKING)")

FORBIDDEN = [
    ("NEWLEADER ACK from a different epoch", r"NEWLEADER ACK from sid: \d+ is from a different epoch",
     "ZOOKEEPER-4685"),
    ("follower ahead", r"Follower is ahead of the leader", None),
    ("UNMATCHED_TXN_COMMIT", r"Committing zxid 0x[0-9a-f]+ but next pending txn", None),
    ("commit without txn", r"Committing [0-9a-f]+ without seeing txn", None),
    ("JVM exit", r"Exiting JVM with code|Fatal error, JVM should exit", None),
    ("unknown packet", r"Unknown packet type|unexpected quorum packet|Got unexpected packet from leader", None),
    ("bad first packet", r"is not FOLLOWERINFO or OBSERVERINFO|is not ACKEPOCH|"
                         r"First packet should have been NEWLEADER|Next packet was supposed to be an ACK", None),
    ("bad snapshot stream", r"Missing signature", None),
    ("UPTODATE after start", r"Received an UPTODATE message after (Follower|Observer) started", None),
    ("observer got proposal/commit", r"^Ignoring (proposal|commit)$", None),
    ("unexpected sync", r"Not expecting a sync", None),
    ("leader commit order", r"Commiting zxid 0x[0-9a-f]+ from \S+ not first|Going to commit null|"
                            r"Trying to commit future proposal|Committed request not found on toBeApplied", None),
    ("epoch regression", r"Proposed leader epoch .* is less than our accepted epoch|"
                         r"Leaders epoch, \d+ is less than accepted epoch", None),
    ("truncate failed", r"Not able to truncate the log", None),
    ("election message", r"Got a short response from server|partial / malformed response message|"
                         r"Notification state unrecognized|Initial message parsing error|Invalid server id|"
                         r"Something went wrong while processing config received", None),
    ("bad learner packet", r"Got more than just an xid", None),
    ("session renew", r"expired right after being renewed", None),
    ("database load", r"Unable to load database on disk|Unable to run quorum server", None),
]
FORBIDDEN = [(n, re.compile(r), k) for n, r, k in FORBIDDEN]

# Messages that come with a stack trace and are normal when a peer was killed, stopped or lost its
# quorum, as long as the exception is a socket-level one.
PEER_LOSS = re.compile(r"Unexpected exception in LearnerHandler|Exception when following the leader|"
                       r"Exception when observing the leader|Connection broken for id|Unexpected exception$|"
                       r"Exception while sending packets in LearnerHandler|Exception when using channel|"
                       r"Exception handling connection, addr|Exception while connecting to quorum learner|"
                       r"Severe unrecoverable error, from thread")
SOCKET_LEVEL = re.compile(r"java\.io\.EOFException|java\.net\.SocketException|SocketTimeoutException|"
                          r"Connection reset|Broken pipe|Socket closed|Read timed out|InterruptedException|"
                          r"EndOfStreamException|ClosedChannelException|Connection refused|"
                          r"Failed connect to|connectToLeader exceeded on retries")
# Client connections closing (NIOServerCnxn "Unexpected exception" + EndOfStreamException) are normal.
CLIENT_CNXN_LOGGER = re.compile(r"ServerCnxn$")
NPE = re.compile(r"NullPointerException")

# Sync mode phrases. Learner side (authoritative; the member's own log):
LEARNER_SYNC = [
    ("DIFF", re.compile(r"Getting a diff from the leader 0x(?P<zxid>[0-9a-f]+)")),
    ("SNAP", re.compile(r"Getting a snapshot from leader 0x(?P<zxid>[0-9a-f]+)")),
    ("TRUNC", re.compile(r"Truncating log to get in sync with the leader 0x(?P<zxid>[0-9a-f]+)")),
]
# Where a leader's DIFF comes from (LearnerHandler.syncFollower), logged between the two lines below.
DIFF_SOURCES = [
    ("committedLog", re.compile(r"Using committedLog for peer sid: (?P<sid>\d+)")),
    ("txnlog+committedLog", re.compile(r"Use txnlog and committedLog for peer sid: (?P<sid>\d+)")),
]
# Leader side (LearnerHandler): the decision, tied to the learner by sid or by the handler thread.
LEADER_SYNC_START = re.compile(r"Synchronizing with Learner sid: (?P<sid>\d+) maxCommittedLog=0x(?P<max>[0-9a-f]+) "
                               r"minCommittedLog=0x(?P<min>[0-9a-f]+) lastProcessedZxid=0x(?P<last>[0-9a-f]+) "
                               r"peerLastZxid=0x(?P<peer>[0-9a-f]+)")
LEADER_SYNC = [
    ("DIFF", re.compile(r"Sending DIFF zxid=0x(?P<zxid>[0-9a-f]+) +for peer sid: (?P<sid>\d+)")),
    # Java also logs "Sending TRUNC" when it queues an empty DIFF for a new-epoch peer zxid
    # (LearnerHandler.queueCommittedProposals, last if-block): resolved below with peerLastZxid.
    ("TRUNC", re.compile(r"Sending TRUNC zxid=0x(?P<zxid>[0-9a-f]+) +for peer sid: (?P<sid>\d+)")),
    ("SNAP", re.compile(r"Sending snapshot last zxid of peer is 0x(?P<peer>[0-9a-f]+), zxid of leader is "
                        r"0x[0-9a-f]+, send zxid of db as 0x(?P<zxid>[0-9a-f]+)(?:.*for peer sid: (?P<sid>\d+))?")),
]


@dataclass
class Entry:
    sid: int
    kind: str
    lineno: int
    head: str
    time: str = ""
    thread: str = ""
    level: str = ""
    logger: str = ""
    msg: str = ""
    cont: list = field(default_factory=list)

    def text(self, max_cont=6):
        lines = [self.head] + self.cont[:max_cont]
        if len(self.cont) > max_cont:
            lines.append("\t... %d more lines" % (len(self.cont) - max_cont))
        return "\n".join(lines)


@dataclass
class Finding:
    sid: int
    severity: str  # "forbidden", "known-java-bug", "peer-loss"
    rule: str
    entry: Entry
    note: str = ""


@dataclass
class SyncEvent:
    learner: int
    mode: str
    zxid: int
    side: str  # "learner" (from the learner's log) or "leader" (from the leader's log, about learner)
    reporter: int
    time: str
    peer_last_zxid: int = None
    source: str = ""  # leader side: "committedLog", "txnlog+committedLog" or "" (not logged)

    def describe(self):
        if self.side == "learner":
            return "m%d got %s 0x%x" % (self.learner, self.mode, self.zxid)
        return "leader m%d sent m%d %s 0x%x%s" % (self.reporter, self.learner, self.mode, self.zxid,
                                                   " from %s" % self.source if self.source else "")


class Report:
    def __init__(self, ensemble_name, has_ruzk):
        self.ensemble_name = ensemble_name
        self.has_ruzk = has_ruzk
        self.findings = []
        self.syncs = []
        self.scanned = {}  # sid -> bytes scanned of Java output

    def forbidden(self):
        return [f for f in self.findings if f.severity == "forbidden"]

    def failed(self):
        return bool(self.forbidden())

    def learner_modes(self, sid):
        """Sync modes learner `sid` reported in its own log, in order."""
        return [e.mode for e in self.syncs if e.side == "learner" and e.learner == sid]

    def leader_modes(self, sid):
        return [e.mode for e in self.syncs if e.side == "leader" and e.learner == sid]

    def render(self, max_each=8):
        out = ["log scan of ensemble %s (%s): %d forbidden, %d known Java bugs, %d explained by a "
               "stopped/killed peer; sync events: %s"
               % (self.ensemble_name, "with ruzk" if self.has_ruzk else "all Java", len(self.forbidden()),
                  sum(f.severity == "known-java-bug" for f in self.findings),
                  sum(f.severity == "peer-loss" for f in self.findings),
                  "; ".join(e.describe() for e in self.syncs) or "none")]
        for sev in ("forbidden", "known-java-bug"):
            fs = [f for f in self.findings if f.severity == sev]
            for f in fs[:max_each]:
                out.append("  %s [%s] member %d (%s) line %d%s:\n    %s" % (
                    sev.upper(), f.rule, f.sid, f.entry.kind, f.entry.lineno, " - " + f.note if f.note else "",
                    f.entry.text().replace("\n", "\n    ")))
            if len(fs) > max_each:
                out.append("  ... %d more %s findings" % (len(fs) - max_each, sev))
        return "\n".join(out)


def parse_entries(sid, kind, text, first_lineno):
    """Groups Java log lines into entries (a header line plus its stack-trace continuation)."""
    entries = []
    for i, line in enumerate(text.split("\n")):
        m = JAVA_LINE.match(line) if kind == "java" else None
        if m:
            entries.append(Entry(sid, kind, first_lineno + i, line, m["time"], m["thread"], m["level"],
                                 m["logger"], m["msg"]))
        elif kind != "java" or line.startswith("==== harness"):
            entries.append(Entry(sid, kind, first_lineno + i, line, msg=line))
        elif entries and line.strip():
            entries[-1].cont.append(line)
        elif line.strip():
            entries.append(Entry(sid, kind, first_lineno + i, line, msg=line))
    return entries


class LogScanner:
    """Scans each member's log incrementally: every call reads what was written since the last one."""

    def __init__(self, ens):
        self.ens = ens
        self.offsets = {m.sid: 0 for m in ens}
        self.lines_seen = {m.sid: 0 for m in ens}
        self.event_index = 0
        # LearnerHandler thread name -> learner sid, per reporting member (names get reused).
        self.threads = {}
        self.sources = {}
        self.leading = {}  # sid -> True while the member's own log says LEADING

    def scan(self):
        ens = self.ens
        events = ens.events[self.event_index:]
        self.event_index = len(ens.events)
        disrupted = {sid for _, what, sid in events if what in ("kill", "stop", "pause", "stop-timeout", "resume")
                     or what.startswith("replace")}
        report = Report(ens.name, ens.has_ruzk())
        self.digests = []  # (member, entry) of this window, classified once every log is read
        for m in ens:
            self._scan_member(m, disrupted, report)
        leader_saw = any(self.leading.get(m.sid) for m, _ in self.digests)
        for m, e in self.digests:
            own = not report.has_ruzk or leader_saw
            report.findings.append(Finding(m.sid, "known-java-bug" if own else "forbidden", "digest mismatch", e,
                                           JAVA_DIGEST_NOTE if own else "no leading Java member logged one"))
        return report

    def _chunks(self, m):
        """(kind, text) pieces of the log written since the last scan, split at incarnations."""
        try:
            with open(m.log_path, "rb") as f:
                data = f.read()
        except OSError:
            return []
        start = self.offsets[m.sid]
        self.offsets[m.sid] = len(data)
        bounds = [(k, off) for k, off in m.segments] + [(None, len(data))]
        out = []
        for (kind, a), (_, b) in zip(bounds, bounds[1:]):
            lo, hi = max(a, start), b
            if lo < hi:
                out.append((kind, data[lo:hi].decode(errors="replace")))
        return out

    def _scan_member(self, m, disrupted, report):
        for kind, text in self._chunks(m):
            first = self.lines_seen[m.sid] + 1
            self.lines_seen[m.sid] += text.count("\n")
            entries = parse_entries(m.sid, kind, text, first)
            if kind == "java":
                report.scanned[m.sid] = report.scanned.get(m.sid, 0) + len(text)
                for e in entries:
                    self._classify(m, e, disrupted, report)
            for e in entries:
                self._sync_phrases(m, e, report)

    def _classify(self, m, e, disrupted, report):
        whole = e.msg + "\n" + "\n".join(e.cont)
        g = PEER_STATE.search(e.head)
        if g:
            self.leading[m.sid] = (g.group(1) == "LEADING")
            return
        if DIGEST.search(e.msg):
            self.digests.append((m, e))
            return
        for name, rx, known in FORBIDDEN:
            if rx.search(e.msg):
                sev = "known-java-bug" if known and not report.has_ruzk else "forbidden"
                report.findings.append(Finding(m.sid, sev, name, e, known or ""))
                return
        if NPE.search(whole) and "SendAckRequestProcessor.flush" in whole and disrupted:
            # Java 3.8.0 follower whose leader connection is already gone (learner.sock is null).
            report.findings.append(Finding(m.sid, "peer-loss", "NPE in SendAckRequestProcessor.flush", e,
                                           "Java 3.8.0 after losing its leader; disrupted: %s" % sorted(disrupted)))
            return
        if NPE.search(whole):
            known = "syncWithLeader" in whole
            sev = "known-java-bug" if known and not report.has_ruzk else "forbidden"
            report.findings.append(Finding(m.sid, sev, "NullPointerException", e,
                                           "protocol.md Addendum: Java 3.8.0 NPE in syncWithLeader" if known else ""))
            return
        if e.level in ("WARN", "ERROR") and not CLIENT_CNXN_LOGGER.search(e.logger) and PEER_LOSS.search(e.msg):
            if e.cont and not SOCKET_LEVEL.search(whole):
                report.findings.append(Finding(m.sid, "forbidden", "quorum exception", e,
                                               "not a socket-level exception"))
            elif SOCKET_LEVEL.search(whole) or not e.cont:
                if e.logger.endswith("QuorumCnxManager"):
                    # Election channels: the sid tie-break drops one of every two connections, and a
                    # member that starts makes its peers reconnect; a bad election message shows up
                    # as one of the FORBIDDEN "election message" lines instead.
                    report.findings.append(Finding(m.sid, "peer-loss", "election channel churn", e))
                elif disrupted:
                    report.findings.append(Finding(m.sid, "peer-loss", "peer went away", e,
                                                   "members disrupted in this scenario: %s" % sorted(disrupted)))
                else:
                    report.findings.append(Finding(m.sid, "forbidden", "peer connection lost", e,
                                                   "no member was stopped, killed or paused in this scenario"))

    def _sync_phrases(self, m, e, report):
        msg = e.msg
        for mode, rx in LEARNER_SYNC:
            g = rx.search(msg)
            if g:
                report.syncs.append(SyncEvent(m.sid, mode, int(g["zxid"], 16), "learner", m.sid, e.time))
                return
        g = LEADER_SYNC_START.search(msg)
        if g:
            learner, peer = int(g["sid"]), int(g["peer"], 16)
            self.threads[(m.sid, e.thread)] = (learner, peer)
            self.sources.pop((m.sid, e.thread), None)
            last, top = int(g["last"], 16), int(g["max"], 16)
            if peer != last and peer > top and peer & 0xFFFFFFFF and top:
                # Java logs this TRUNC (peer ahead of the committed log) at DEBUG only.
                report.syncs.append(SyncEvent(learner, "TRUNC", top, "leader", m.sid, e.time, peer))
            return
        for source, rx in DIFF_SOURCES:
            g = rx.search(msg)
            if g:
                self.sources[(m.sid, e.thread)] = source
                return
        for mode, rx in LEADER_SYNC:
            g = rx.search(msg)
            if not g:
                continue
            learner, peer = self.threads.get((m.sid, e.thread), (None, None))
            source = self.sources.pop((m.sid, e.thread), "")
            if g.groupdict().get("sid"):
                learner = int(g["sid"])
            if learner is None:
                return
            if mode == "TRUNC" and peer is not None and peer & 0xFFFFFFFF == 0:
                mode = "DIFF"  # Java's mislabelled empty DIFF for a new-epoch peer zxid
            last = report.syncs[-1] if report.syncs else None
            if (mode == "TRUNC" and last is not None and last.side == "leader" and last.learner == learner
                    and last.mode == "TRUNC" and last.zxid == int(g["zxid"], 16) and last.reporter == m.sid):
                return  # already inferred from the Synchronizing line (a leader that logs it at INFO)
            report.syncs.append(SyncEvent(learner, mode, int(g["zxid"], 16), "leader", m.sid, e.time, peer,
                                          source if mode == "DIFF" else ""))
            return


def scan(ens, _events=None):
    """One-shot scan of everything the ensemble's members logged."""
    return LogScanner(ens).scan()
