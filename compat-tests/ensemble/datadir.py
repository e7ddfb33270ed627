"""Reads the zxids a member has in its txn logs (Java's format, protocol.md §5.2), without the server.

Why: the TRUNC scenario must prove that the old leader really logged proposals the quorum never
committed before it is killed; neither `srvr` (last applied zxid) nor a client can see those.
"""

import os
import struct

LOG_MAGIC = b"ZKLG"


def logged_zxids(data_dir):
    """Every zxid in `data_dir/version-2/log.*`, in file order. Stops at the zero padding (EOF) or a
    torn tail, as Java's reader does."""
    vdir = os.path.join(data_dir, "version-2")
    try:
        names = sorted((n for n in os.listdir(vdir) if n.startswith("log.")), key=lambda n: int(n[4:], 16))
    except (OSError, ValueError):
        return []
    out = []
    for name in names:
        with open(os.path.join(vdir, name), "rb") as f:
            data = f.read()
        if data[:4] != LOG_MAGIC:
            continue
        pos = 16  # magic, version, dbid
        while pos + 12 <= len(data):
            crc, length = struct.unpack_from(">qi", data, pos)
            if length <= 0 or pos + 12 + length + 1 > len(data):
                break
            entry = data[pos + 12:pos + 12 + length]
            if len(entry) < 20:
                break
            (zxid,) = struct.unpack_from(">q", entry, 12)  # TxnHeader: clientId, cxid, zxid, time, type
            out.append(zxid)
            pos += 12 + length + 1  # + the 'B' end-of-record marker
    return out


def last_logged_zxid(data_dir):
    z = logged_zxids(data_dir)
    return max(z) if z else 0
