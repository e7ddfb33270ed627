"""multi / multiRead at the byte level: result types and the exact failure encoding Java 3.8.0 sends."""

import zkproto as zp


def multi_body(ops):
    out = b""
    for op, body in ops:
        out += zp.i32(op) + zp.boolean(False) + zp.i32(-1) + body
    return out + zp.i32(-1) + zp.boolean(True) + zp.i32(-1)


def read_results(reader):
    results = []
    while True:
        typ, done, err = reader.i32(), reader.boolean(), reader.i32()
        if done:
            assert (typ, err) == (-1, -1)
            break
        if typ == -1:
            body_err = reader.i32()
            assert body_err == err
            results.append(("error", err))
        elif typ == zp.CREATE:
            results.append(("create", reader.ustring()))
        elif typ == zp.CREATE2:
            results.append(("create2", reader.ustring(), reader.stat()))
        elif typ == zp.DELETE:
            results.append(("delete",))
        elif typ == zp.SET_DATA:
            results.append(("set", reader.stat()))
        elif typ == zp.CHECK:
            results.append(("check",))
        elif typ == zp.GET_DATA:
            results.append(("get", reader.buffer(), reader.stat()))
        elif typ == zp.GET_CHILDREN:
            results.append(("children", sorted(reader.str_vec())))
        else:
            raise AssertionError(f"unexpected result type {typ}")
    assert reader.done()
    return results


def test_multi_failure_exact_bytes(root):
    with zp.session() as c:
        rep = c.call(
            zp.MULTI,
            multi_body(
                [
                    (zp.CREATE, zp.create_req(root + "/m1")),
                    (zp.CHECK, zp.ustring(root) + zp.i32(42)),
                    (zp.SET_DATA, zp.ustring(root) + zp.buffer(b"x") + zp.i32(-1)),
                ]
            ),
        )
        assert rep.err == 0
        assert rep.body == bytes.fromhex(
            "ffffffff00000000000000000"
            "0ffffffff00ffffff99ffffff99"
            "ffffffff00fffffffefffffffe"
            "ffffffff01ffffffff"
        )
        assert c.call(zp.EXISTS, zp.path_watch(root + "/m1")).err == -101


def test_multi_success_result_types(root):
    with zp.session() as c:
        rep = c.call(
            zp.MULTI,
            multi_body(
                [
                    (zp.CREATE, zp.create_req(root + "/a", b"A")),
                    (zp.CREATE2, zp.create_req(root + "/b", b"B")),  # 3.8 answers it as a plain create
                    (zp.CREATE, zp.create_req(root + "/s-", b"", flags=2)),
                    (zp.SET_DATA, zp.ustring(root + "/a") + zp.buffer(b"AA") + zp.i32(0)),
                    (zp.CHECK, zp.ustring(root + "/a") + zp.i32(1)),
                    (zp.DELETE, zp.ustring(root + "/b") + zp.i32(0)),
                ]
            ),
        )
        assert rep.err == 0
        res = read_results(rep.reader())
        assert [r[0] for r in res] == ["create", "create", "create", "set", "check", "delete"]
        assert res[0][1] == root + "/a" and res[1][1] == root + "/b"
        assert res[2][1] == root + "/s-0000000002"
        st = res[3][1]
        assert st["version"] == 1 and st["dataLength"] == 2
        assert st["czxid"] == st["mzxid"] == rep.zxid  # one zxid for all sub-ops


def test_multi_read(root):
    with zp.session() as c:
        c.call(zp.CREATE, zp.create_req(root + "/r", b"data"))
        c.call(zp.CREATE, zp.create_req(root + "/r/k1"))
        rep = c.call(
            zp.MULTI_READ,
            multi_body(
                [
                    (zp.GET_DATA, zp.path_watch(root + "/r")),
                    (zp.GET_CHILDREN, zp.path_watch(root + "/r")),
                    (zp.GET_DATA, zp.path_watch(root + "/missing")),
                    (zp.GET_CHILDREN, zp.path_watch(root)),
                ]
            ),
        )
        assert rep.err == 0
        res = read_results(rep.reader())
        assert res[0][0] == "get" and res[0][1] == b"data" and res[0][2]["numChildren"] == 1
        assert res[1] == ("children", ["k1"])
        assert res[2] == ("error", -101)  # independent failures in multiRead
        assert res[3] == ("children", ["r"])


def test_multi_mixing_read_and_write_is_rejected(root):
    with zp.session() as c:
        rep = c.call(
            zp.MULTI,
            multi_body([(zp.CREATE, zp.create_req(root + "/mix")), (zp.GET_DATA, zp.path_watch(root))]),
        )
        # Java refuses the whole request at decode time ("Mixing different kind of ops")
        assert (rep.err, rep.body) == (-5, b"")
        assert c.call(zp.EXISTS, zp.path_watch(root + "/mix")).err == -101


def test_write_op_inside_multi_read_is_rejected(root):
    with zp.session() as c:
        rep = c.call(zp.MULTI_READ, multi_body([(zp.CREATE, zp.create_req(root + "/w"))]))
        assert rep.err == -5  # (Java 3.8.0 also sends a bare end marker as body; clients ignore it)
        assert c.call(zp.EXISTS, zp.path_watch(root + "/w")).err == -101


def test_empty_multi(root):
    with zp.session() as c:
        before = c.call(zp.EXISTS, zp.path_watch(root))
        rep = c.call(zp.MULTI, multi_body([]))
        assert (rep.err, rep.body) == (0, bytes.fromhex("ffffffff01ffffffff"))
        assert rep.zxid > before.zxid  # an empty multi is still a txn
        rep = c.call(zp.MULTI_READ, multi_body([]))
        assert (rep.err, rep.body) == (0, bytes.fromhex("ffffffff01ffffffff"))
