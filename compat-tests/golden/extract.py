#!/usr/bin/env python3
"""Turns proxy.py's frame log into tests/data/golden/wire/*.bin plus wire/manifest.txt.

Why: tests/golden.rs decodes each captured frame with the matching Rust type and re-encodes it
byte for byte. This script only names the frames and records values it can read independently
(headers, connect fields, first-field paths, watcher events); the Rust test checks those values and
the exact round trip. Frames are the payload without the 4-byte length prefix.

usage: extract.py FRAMES.jsonl OUTDIR
"""
import json
import os
import struct
import sys

# op code -> (name, request record, success response record); None = no body
OPS = {
    1: ("create", "CreateRequest", "CreateResponse"),
    2: ("delete", "DeleteRequest", None),
    3: ("exists", "ExistsRequest", "ExistsResponse"),
    4: ("getData", "GetDataRequest", "GetDataResponse"),
    5: ("setData", "SetDataRequest", "SetDataResponse"),
    6: ("getACL", "GetACLRequest", "GetACLResponse"),
    7: ("setACL", "SetACLRequest", "SetACLResponse"),
    8: ("getChildren", "GetChildrenRequest", "GetChildrenResponse"),
    9: ("sync", "SyncRequest", "SyncResponse"),
    11: ("ping", None, None),
    12: ("getChildren2", "GetChildren2Request", "GetChildren2Response"),
    14: ("multi", "MultiOperationRecord", "MultiResponse"),
    15: ("create2", "CreateRequest", "Create2Response"),
    22: ("multiRead", "MultiOperationRecord", "MultiResponse"),
    16: ("reconfig", "ReconfigRequest", "GetDataResponse"),
    17: ("checkWatches", "CheckWatchesRequest", None),
    18: ("removeWatches", "RemoveWatchesRequest", None),
    19: ("createContainer", "CreateRequest", "Create2Response"),
    21: ("createTTL", "CreateTTLRequest", "Create2Response"),
    100: ("auth", "AuthPacket", None),
    101: ("setWatches", "SetWatches", None),
    105: ("setWatches2", "SetWatches2", None),
    103: ("getEphemerals", "GetEphemeralsRequest", "GetEphemeralsResponse"),
    104: ("getAllChildrenNumber", "GetAllChildrenNumberRequest", "GetAllChildrenNumberResponse"),
    106: ("addWatch", "AddWatchRequest", "ErrorResponse"),
    107: ("whoAmI", None, "WhoAmIResponse"),
    -11: ("closeSession", None, None),
}
# requests whose record starts with a ustring path
PATH_FIRST = {1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 15, 17, 18, 19, 21, 103, 104, 106}


def jstr(b):
    s = b.decode("utf-8")
    out = '"'
    for ch in s:
        if ch in '\\"':
            out += "\\" + ch
        elif ord(ch) < 0x20:
            out += "\\u%04x" % ord(ch)
        else:
            out += ch
    return out + '"'


def read_ustring(b, off):
    (n,) = struct.unpack_from(">i", b, off)
    if n < 0:
        return "null", off + 4
    return jstr(b[off + 4:off + 4 + n]), off + 4 + n


def main():
    frames_path, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    for f in os.listdir(out):
        if f.endswith(".bin"):
            os.remove(os.path.join(out, f))
    frames = [json.loads(l) for l in open(frames_path)]
    pending = {}  # (conn, xid) -> (op, request number in its connection)
    nreq = {}
    first = {}  # (conn, dir) -> seen connect already
    notes = {}
    manifest = []

    def emit(name, header, body, values):
        manifest.append("[%s]\nclass=wire\nheader=%s\nbody=%s\n%s\n" % (
            name, header or "none", body or "none", "".join("%s=%s\n" % kv for kv in values)))

    for fr in frames:
        conn, d, b = fr["conn"], fr["dir"], bytes.fromhex(fr["hex"])
        if d == "drop":
            continue
        key = (conn, d)
        if key not in first:
            first[key] = True
            if d == "c2s":
                pv, lz, to, sid = struct.unpack_from(">iqiq", b, 0)
                name = "c%d.connect.request.bin" % conn
                vals = [("protocolVersion", pv), ("lastZxidSeen", lz), ("timeOut", to), ("sessionId", sid)]
                if len(b) == 45:
                    vals.append(("readOnly", "true" if b[44] else "false"))
                emit(name, None, "ConnectRequest", vals)
            else:
                pv, to, sid = struct.unpack_from(">iiq", b, 0)
                name = "c%d.connect.response.bin" % conn
                vals = [("protocolVersion", pv), ("timeOut", to), ("sessionId", sid)]
                if len(b) == 37:
                    vals.append(("readOnly", "true" if b[36] else "false"))
                emit(name, None, "ConnectResponse", vals)
            open(os.path.join(out, name), "wb").write(b)
            continue
        if d == "c2s":
            xid, op = struct.unpack_from(">ii", b, 0)
            if op not in OPS:
                print("skipping unknown op", op, file=sys.stderr)
                continue
            # named by position, not xid: the C client's xids start from the clock
            n = nreq.get(conn, 0) + 1
            nreq[conn] = n
            pending[(conn, xid)] = (op, n)
            opname, req, _ = OPS[op]
            name = "c%d.%02d.%s.request.bin" % (conn, n, opname)
            vals = [("xid", xid), ("type", op)]
            if op in PATH_FIRST:
                vals.append(("path", read_ustring(b, 8)[0]))
            emit(name, "RequestHeader", req, vals)
        else:
            xid, zxid, err = struct.unpack_from(">iqi", b, 0)
            vals = [("xid", xid), ("zxid", zxid), ("err", err)]
            if xid == -1:
                k = notes.get(conn, 0)
                notes[conn] = k + 1
                typ, state = struct.unpack_from(">ii", b, 16)
                vals += [("event.type", typ), ("event.state", state), ("event.path", read_ustring(b, 24)[0])]
                name = "c%d.notification%d.bin" % (conn, k)
                emit(name, "ReplyHeader", "WatcherEvent", vals)
            else:
                found = pending.pop((conn, xid), None)
                if found is None:
                    print("reply without request, xid", xid, file=sys.stderr)
                    continue
                op, n = found
                opname, _, resp = OPS[op]
                name = "c%d.%02d.%s.reply.bin" % (conn, n, opname)
                emit(name, "ReplyHeader", resp if err == 0 else None, vals)
        open(os.path.join(out, name), "wb").write(b)
    open(os.path.join(out, "manifest.txt"), "w", encoding="utf-8").write("".join(manifest))
    print("wrote %d wire frames to %s" % (len(manifest), out), file=sys.stderr)


if __name__ == "__main__":
    main()
