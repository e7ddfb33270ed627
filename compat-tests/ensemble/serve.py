"""`serve.py`: runs one ensemble in the foreground for shell scripts (compat-tests/run.sh).

Owns the process that keeps an ensemble alive while another program (pytest on the client suites)
uses it: it writes a JSON env file once the ensemble serves (ZK_HOST = a follower by default, so
writes are forwarded), obeys `restart SID [TERM|KILL]` and `quit` lines on a Unix socket (so a test's
ZK_RESTART restarts the member it talks to, through the one process that owns the members), and on
SIGTERM stops everything and prints the Java log scan. Exit status: 0 clean, 1 a member died,
2 the ensemble never served, 3 forbidden lines in a Java log.
"""

import argparse
import json
import os
import signal
import socket
import sys

import ensemble as E
import logscan


def serve(args):
    props = list(args.prop)
    ens = E.Ensemble(args.topology, props=props, cfg=args.cfg, name=args.topology, java_heap=args.java_heap,
                     super_password=args.super_password, quick_jit=False)
    ctl_path = os.path.join(ens.dir, "control.sock")
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(ctl_path)
    srv.listen(4)
    stop = {"now": False}

    def on_term(signum, frame):
        stop["now"] = True

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    status = 0
    try:
        ens.start()
        if ens.leader_kind:
            ens.force_leader_kind(ens.leader_kind, timeout=args.timeout)
        else:
            ens.wait_ready(args.timeout)
        if args.target == "leader":
            target = ens.leader()
        else:
            fs = ens.followers()
            # The highest sid, so that "session id top byte = server id" differs from a standalone's 1.
            target = max([f for f in fs if f.kind == args.target_kind] or fs, key=lambda f: f.sid)
        info = {
            "ZK_HOST": target.hostport, "ZK_ENSEMBLE": ens.name, "ZK_SERVER_ID": str(target.sid),
            "ZK_SERVER_MODE": target.mode(), "ZK_SERVER_KIND": target.kind, "ZK_SERVER_LOG": target.log_path,
            "ZK_ALL_HOSTS": ens.connect_string(), "ZK_ENSEMBLE_CONTROL": ctl_path, "ZK_ENSEMBLE_DIR": ens.dir,
            "ZK_ENSEMBLE_CONFIG": ens.qv_string(),
        }
        tmp = args.env_file + ".tmp"
        with open(tmp, "w") as f:
            json.dump(info, f)
        os.rename(tmp, args.env_file)
        print("ensemble %s ready: leader %d, clients go to %s" % (ens.name, ens.leader().sid, target.name),
              flush=True)
        srv.settimeout(0.5)
        while not stop["now"]:
            for m in ens:
                if m.proc is not None and m.proc.poll() is not None:
                    print("ensemble: %s exited with status %s; log tail:\n%s"
                          % (m.name, m.proc.returncode, m.log_tail()), flush=True)
                    m.proc = None
                    status = 1
            try:
                conn, _ = srv.accept()
            except socket.timeout:
                continue
            with conn:
                conn.settimeout(5)
                line = conn.recv(1024).decode().strip()
                reply = "ok"
                try:
                    words = line.split()
                    if words[:1] == ["restart"]:
                        m = ens[int(words[1])]
                        m.restart(words[2] if len(words) > 2 else "TERM")
                        ens.wait_ready(args.timeout, "restart %d requested by a test" % m.sid)
                    elif words[:1] == ["keep"]:
                        ens.keep = True  # the client run failed: keep the member logs
                    elif words[:1] == ["quit"]:
                        stop["now"] = True
                    else:
                        reply = "error: unknown command %r" % line
                except Exception as e:  # report to the caller, keep serving
                    reply = "error: %s" % e
                conn.sendall(reply.encode() + b"\n")
    except (E.WaitTimeout, E.HarnessError) as e:
        print("ensemble: %s" % e, flush=True)
        status = 2
    finally:
        srv.close()
        report = logscan.scan(ens)
        print(report.render(), flush=True)
        if report.failed():
            status = status or 3
        if status and not ens.keep:
            ens.keep = True
        ens.close()
    return status


def control(sock_path, words, timeout=300.0):
    """Client side of the control socket (`serve.py --ctl SOCK restart SID KILL`)."""
    c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    c.settimeout(timeout)
    c.connect(sock_path)
    c.sendall(" ".join(words).encode() + b"\n")
    reply = c.recv(4096).decode().strip()
    c.close()
    if reply != "ok":
        print("serve.py: %s" % reply, file=sys.stderr)
        return 1
    return 0


def main():
    if len(sys.argv) > 2 and sys.argv[1] == "--ctl":
        return control(sys.argv[2], sys.argv[3:])
    s = argparse.ArgumentParser(description="Run one ensemble in the foreground (for shell scripts).")
    s.add_argument("--topology", default="java3",
                   choices=sorted(t for t, v in E.TOPOLOGIES.items() if not v.get("rolling")))
    s.add_argument("--env-file", required=True, help="written (JSON) once the ensemble serves")
    s.add_argument("--target", choices=["follower", "leader"], default="follower",
                   help="the member whose address goes to ZK_HOST")
    s.add_argument("--target-kind", choices=["java", "ruzk"], help="prefer a follower of this kind")
    s.add_argument("--prop", action="append", default=[], metavar="KEY=VALUE", help="-D for every member")
    s.add_argument("--cfg", action="append", default=[], metavar="LINE", help="zoo.cfg line for every member")
    s.add_argument("--timeout", type=float, default=120.0)
    s.add_argument("--java-heap", default="256m")
    s.add_argument("--super-password", default=E.SUPER_PASSWORD, help="password of the digest user `super`")
    args = s.parse_args()
    return serve(args)


if __name__ == "__main__":
    sys.exit(main())
