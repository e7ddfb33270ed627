#!/usr/bin/env python3
"""Recording TCP proxy for ZooKeeper client traffic (stdlib only).

Why: the golden tests want a few frames exactly as a real Java 3.8.0 client and server put them on
the wire, in addition to the records GenGolden serialises directly. Each accepted connection is
forwarded to the target; every length-prefixed frame in either direction is appended to a JSON-lines
log (conn, dir, seq, payload hex; the 4-byte length prefix is not stored). With --drop-on, any
client frame containing those bytes closes that connection instead of being forwarded, so the
client reconnects and replays its watches (setWatches / setWatches2).

usage: proxy.py LISTEN_PORT TARGET_PORT LOG [--drop-on TEXT]
"""
import json
import socket
import sys
import threading

lock = threading.Lock()


def read_exact(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


def pump(conn_id, direction, src, dst, log, drop_on, both):
    seq = 0
    try:
        while True:
            hdr = read_exact(src, 4)
            if hdr is None:
                break
            n = int.from_bytes(hdr, "big", signed=True)
            if n < 0 or n > 16 * 1024 * 1024:
                break
            body = read_exact(src, n)
            if body is None:
                break
            with lock:
                if direction == "c2s" and drop_on and drop_on in body:
                    log.write(json.dumps({"conn": conn_id, "dir": "drop", "seq": seq, "hex": body.hex()}) + "\n")
                    log.flush()
                    for s in both:
                        try:
                            s.shutdown(socket.SHUT_RDWR)
                        except OSError:
                            pass
                    return
                log.write(json.dumps({"conn": conn_id, "dir": direction, "seq": seq, "hex": body.hex()}) + "\n")
                log.flush()
            seq += 1
            dst.sendall(hdr + body)
    except OSError:
        pass
    finally:
        for s in both:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def main():
    args = sys.argv[1:]
    drop_on = None
    if "--drop-on" in args:
        i = args.index("--drop-on")
        drop_on = args[i + 1].encode()
        del args[i:i + 2]
    listen_port, target_port, log_path = int(args[0]), int(args[1]), args[2]
    log = open(log_path, "a", encoding="ascii")
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", listen_port))
    srv.listen(8)
    print("proxy listening on", listen_port, flush=True)
    conn_id = 0
    while True:
        c, _ = srv.accept()
        try:
            s = socket.create_connection(("127.0.0.1", target_port))
        except OSError:
            c.close()
            continue
        both = (c, s)
        for t in (threading.Thread(target=pump, args=(conn_id, "c2s", c, s, log, drop_on, both), daemon=True),
                  threading.Thread(target=pump, args=(conn_id, "s2c", s, c, log, None, both), daemon=True)):
            t.start()
        conn_id += 1


if __name__ == "__main__":
    main()
