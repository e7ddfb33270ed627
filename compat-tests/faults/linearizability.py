"""A linearizability checker for per-znode histories: Wing & Gong's search with Lowe's memoisation,
the algorithm Porcupine implements (no Python port of a maintained checker exists in our registries,
so this is a direct implementation of the published algorithm, with unit tests that make it fail).

Model: one znode as a register with a version, state (exists, data, version):
  create(v)      -> ok, state (True, v, 0)         | NodeExists
  set(v)         -> ok version+1, state updated     | NoNode
  cas(v, ev)     -> set only if version == ev       | BadVersion | NoNode
  delete()       -> ok, state (False, None, 0)      | NoNode
  read()         -> (data, version) | NoNode         (a `sync` then `getData` on one session)

An operation is {"id", "key", "f", "arg", "invoke", "complete", "outcome", "result"}:
  outcome "ok": it completed and `result` is what the server answered (an error code such as
  "NodeExists" is a definite answer too: the op took effect as a no-op at one instant);
  outcome "unknown": the client lost the connection or timed out, so it may or may not have taken
  effect, at any instant after `invoke`. It is given complete = +inf and accepts whatever result the
  model produces, which covers both "happened (at some point)" and "never happened" (it is then
  linearized after everything else, where it changes nothing that was observed).
Linearizability is local (Herlihy & Wing), so each znode's history is checked on its own.
"""

import math

INITIAL = (False, None, 0)


def step(state, op):
    """Applies op to state. Returns (result, new state)."""
    exists, data, version = state
    f = op["f"]
    if f == "read":
        return ((data, version) if exists else "NoNode"), state
    if f == "create":
        if exists:
            return "NodeExists", state
        return "ok", (True, op["arg"], 0)
    if f == "set":
        if not exists:
            return "NoNode", state
        return version + 1, (True, op["arg"], version + 1)
    if f == "cas":
        value, expected = op["arg"]
        if not exists:
            return "NoNode", state
        if version != expected:
            return "BadVersion", state
        return version + 1, (True, value, version + 1)
    if f == "delete":
        if not exists:
            return "NoNode", state
        return "ok", INITIAL
    raise ValueError("unknown op kind %r" % f)


def _normalise(result):
    # JSON round trips turn tuples into lists; results compare as tuples.
    return tuple(result) if isinstance(result, list) else result


class _Node:
    __slots__ = ("op", "idx", "is_call", "match", "prev", "next", "time")

    def __init__(self, op, idx, is_call, time):
        self.op, self.idx, self.is_call, self.time = op, idx, is_call, time
        self.match = self.prev = self.next = None


def check_key(ops, initial=INITIAL):
    """Returns (True, None) if the history is linearizable, else (False, explanation)."""
    events = []
    for i, op in enumerate(ops):
        inv = op["invoke"]
        ret = op["complete"] if op["outcome"] == "ok" else math.inf
        if ret < inv:
            raise ValueError("op %s completes before it is invoked" % op)
        call, rnode = _Node(op, i, True, inv), _Node(op, i, False, ret)
        call.match = rnode
        events.append((inv, 0, i, call))
        events.append((ret, 1, i, rnode))
    # Calls before returns at equal times: such ops count as concurrent (the lenient reading).
    events.sort(key=lambda e: (e[0], e[1], e[2]))
    head = _Node(None, -1, False, -math.inf)
    prev = head
    for _, _, _, n in events:
        prev.next, n.prev = n, prev
        prev = n

    def lift(call):
        call.prev.next = call.next
        call.next.prev = call.prev
        r = call.match
        r.prev.next = r.next
        if r.next is not None:
            r.next.prev = r.prev

    def unlift(call):
        r = call.match
        r.prev.next = r
        if r.next is not None:
            r.next.prev = r
        call.prev.next = call
        call.next.prev = call

    state = initial
    linearized = 0
    cache = set()
    stack = []
    entry = head.next
    best = (0, None, None)  # (ops linearized, blocking op, state there)
    while head.next is not None:
        if entry.is_call:
            op = entry.op
            result, new_state = step(state, op)
            if op["outcome"] != "ok" or _normalise(op["result"]) == result:
                lin2 = linearized | (1 << entry.idx)
                key = (lin2, new_state)
                if key not in cache:
                    cache.add(key)
                    stack.append((entry, state))
                    state, linearized = new_state, lin2
                    lift(entry)
                    entry = head.next
                    continue
            entry = entry.next
        else:
            # A return whose call is still unlinearized: nothing before it can be placed next.
            if len(stack) >= best[0]:
                best = (len(stack), entry.op, state)
            if not stack:
                return False, _explain(ops, best)
            call, state = stack.pop()
            linearized &= ~(1 << call.idx)
            unlift(call)
            entry = call.next
    return True, None


def _fmt(op):
    end = "?" if op["outcome"] != "ok" else "%.3f" % op["complete"]
    return "[%s %s %s %r -> %s %r, %.3f..%s]" % (op.get("process", "?"), op["key"], op["f"], op["arg"],
                                                   op["outcome"], op.get("result"), op["invoke"], end)


def _explain(ops, best):
    n, blocking, state = best
    lines = ["at most %d of %d ops linearize; then no order fits op %s (model state there: %r)"
             % (n, len(ops), _fmt(blocking) if blocking else "?", state)]
    if blocking is not None:
        lo = blocking["invoke"] - 1.0
        hi = blocking["complete"] if blocking["outcome"] == "ok" else math.inf
        near = [o for o in ops if o["invoke"] <= hi and (o["outcome"] != "ok" or o["complete"] >= lo)]
        near.sort(key=lambda o: o["invoke"])
        lines.append("ops overlapping it (%d):" % len(near))
        lines += ["  " + _fmt(o) for o in near[:25]]
    return "\n".join(lines)


def check_history(history):
    """history: list of ops (any keys). Returns {key: explanation} for each non-linearizable key."""
    by_key = {}
    for op in history:
        by_key.setdefault(op["key"], []).append(op)
    bad = {}
    for key, ops in sorted(by_key.items()):
        ok, why = check_key(ops)
        if not ok:
            bad[key] = why
    return bad
