"""Unit tests of the linearizability checker: histories it must accept and histories it must reject
(stale reads, lost writes, double CAS, values from nowhere, a value flipping back)."""

import random
import time

from linearizability import check_history, check_key, step, INITIAL


def op(f, arg, invoke, complete, result, outcome="ok", key="/k", process=0):
    return {"key": key, "f": f, "arg": arg, "invoke": invoke, "complete": complete, "outcome": outcome,
            "result": result, "process": process}


def test_model_steps():
    assert step(INITIAL, op("create", b"a", 0, 1, "ok")) == ("ok", (True, b"a", 0))
    s = (True, b"a", 0)
    assert step(s, op("create", b"b", 0, 1, "ok")) == ("NodeExists", s)
    assert step(s, op("set", b"b", 0, 1, 1)) == (1, (True, b"b", 1))
    assert step(s, op("cas", (b"c", 1), 0, 1, 1)) == ("BadVersion", s)
    assert step(s, op("cas", (b"c", 0), 0, 1, 1)) == (1, (True, b"c", 1))
    assert step(s, op("read", None, 0, 1, None)) == ((b"a", 0), s)
    assert step(s, op("delete", None, 0, 1, "ok")) == ("ok", INITIAL)
    assert step(INITIAL, op("delete", None, 0, 1, "ok")) == ("NoNode", INITIAL)
    assert step(INITIAL, op("set", b"x", 0, 1, 1)) == ("NoNode", INITIAL)


def test_sequential_history_accepted():
    h = [op("create", b"a", 0, 1, "ok"), op("read", None, 2, 3, (b"a", 0)), op("set", b"b", 4, 5, 1),
         op("cas", (b"c", 1), 6, 7, 2), op("read", None, 8, 9, (b"c", 2)), op("delete", None, 10, 11, "ok"),
         op("read", None, 12, 13, "NoNode")]
    assert check_key(h) == (True, None)


def test_stale_read_rejected():
    h = [op("create", b"a", 0, 1, "ok"), op("read", None, 2, 3, "NoNode")]
    ok, why = check_key(h)
    assert not ok
    assert why.splitlines()[0] == ("at most 1 of 2 ops linearize; then no order fits op "
                                   "[0 /k read None -> ok 'NoNode', 2.000..3.000] (model state there: (True, b'a', 0))")


def test_lost_write_rejected():
    h = [op("create", b"a", 0, 1, "ok"), op("set", b"b", 2, 3, 1), op("read", None, 4, 5, (b"a", 0))]
    assert not check_key(h)[0]


def test_concurrent_read_may_see_either():
    w = op("set", b"b", 2, 6, 1, process=1)
    base = op("create", b"a", 0, 1, "ok")
    assert check_key([base, w, op("read", None, 3, 4, (b"a", 0))])[0]
    assert check_key([base, w, op("read", None, 3, 4, (b"b", 1))])[0]
    # ... but two reads in sequence cannot see the new value and then the old one.
    assert not check_key([base, w, op("read", None, 3, 3.5, (b"b", 1)), op("read", None, 3.6, 4, (b"a", 0))])[0]


def test_unknown_write_may_or_may_not_happen():
    base = op("create", b"a", 0, 1, "ok")
    u = op("set", b"u", 2, None, None, outcome="unknown", process=1)
    assert check_key([base, u, op("read", None, 10, 11, (b"u", 1))])[0]  # it happened
    assert check_key([base, u, op("read", None, 10, 11, (b"a", 0))])[0]  # it did not
    # It may take effect long after the client gave up, but then stays.
    assert not check_key([base, u, op("read", None, 10, 11, (b"u", 1)), op("read", None, 12, 13, (b"a", 0))])[0]
    # An unknown write cannot take effect before it was invoked.
    assert not check_key([base, op("read", None, 1.5, 1.8, (b"u", 1)), u])[0]


def test_value_from_nowhere_rejected():
    assert not check_key([op("create", b"a", 0, 1, "ok"), op("read", None, 2, 3, (b"zz", 0))])[0]


def test_double_cas_rejected():
    base = op("create", b"a", 0, 1, "ok")
    c1 = op("cas", (b"x", 0), 2, 5, 1, process=1)
    c2 = op("cas", (b"y", 0), 2, 5, 1, process=2)
    assert not check_key([base, c1, c2])[0]
    c2_lost = op("cas", (b"y", 0), 2, 5, "BadVersion", process=2)
    assert check_key([base, c1, c2_lost])[0]


def test_cas_depends_on_unknown_set():
    base = op("create", b"a", 0, 1, "ok")
    u = op("set", b"u", 2, None, None, outcome="unknown", process=1)
    cas = op("cas", (b"c", 1), 3, 4, 2, process=2)  # succeeds only if u happened first
    assert check_key([base, u, cas])[0]
    assert not check_key([base, cas])[0]


def test_wrong_version_in_set_reply_rejected():
    assert not check_key([op("create", b"a", 0, 1, "ok"), op("set", b"b", 2, 3, 5)])[0]


def test_check_history_reports_only_bad_keys():
    h = [op("create", b"a", 0, 1, "ok", key="/good"), op("read", None, 2, 3, (b"a", 0), key="/good"),
         op("create", b"a", 0, 1, "ok", key="/bad"), op("read", None, 2, 3, "NoNode", key="/bad")]
    assert sorted(check_history(h)) == ["/bad"]


def _random_valid_history(rng, n, processes, unknown_every):
    """Simulates a real register with concurrent clients so the history is linearizable by
    construction; some ops lose their reply."""
    state = INITIAL
    t = 0.0
    hist, pending = [], []
    for i in range(n):
        f = rng.choice(["read", "set", "cas", "create", "delete", "read"])
        arg = b"v%d" % i if f in ("set", "create") else (b"v%d" % i, rng.randrange(3)) if f == "cas" else None
        o = op(f, arg, t, None, None, process=i % processes)
        t += rng.random()
        result, state = step(state, o)  # takes effect now, between invoke and complete
        t += rng.random()
        o["complete"] = t + rng.random()
        o["result"] = result
        if f != "read" and unknown_every and i % unknown_every == 0:
            o["outcome"], o["complete"], o["result"] = "unknown", None, None
        hist.append(o)
        pending.append(o)
    return hist


def test_random_valid_histories_accepted_quickly():
    rng = random.Random(7)
    t0 = time.monotonic()
    for _ in range(20):
        h = _random_valid_history(rng, 150, 5, 10)
        ok, why = check_key(h)
        assert ok, why
    assert time.monotonic() - t0 < 30


def test_random_histories_with_a_corrupted_read_rejected():
    rng = random.Random(11)
    rejected = 0
    for _ in range(20):
        h = _random_valid_history(rng, 60, 3, 0)
        reads = [o for o in h if o["f"] == "read" and o["result"] != "NoNode"]
        if not reads:
            continue
        victim = rng.choice(reads)
        victim["result"] = (b"never-written", victim["result"][1])
        assert not check_key(h)[0]
        rejected += 1
    assert rejected >= 10
