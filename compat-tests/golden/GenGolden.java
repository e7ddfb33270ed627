// Golden-bytes generator for ruzk's Jute records, run against Debian's Java ZooKeeper 3.8.0 jars.
//
// Why: every Rust record in src/jute/ must match what the real Java classes write, byte for byte.
// This program builds each jute-generated record (and the hand-written framings: multi, connect
// with/without the readOnly byte, txn entries) with distinctive values, serialises it with
// BinaryOutputArchive, writes <Class>[.<case>].bin and describes the values in manifest.txt.
//
// Usage: java GenGolden records <outdir>      write all record goldens + manifest.txt
//        java GenGolden multi-client <host:port>   run a few multi/multiRead calls (for wire capture)
//
// Manifest format (parsed by tests/golden.rs): blocks separated by blank lines; each block starts
// with "[<file>]", then "class=<java class or pseudo class>", then one "key=value" per field.
// Nested records use dotted keys (stat.czxid), lists use key.len=N and key.<i>[.field];
// a null list/string/buffer is "key=null". Ints, longs: decimal. Booleans: true/false.
// Strings: "..." with backslash escapes for backslash, quote, newline, CR, tab and u+4-hex-digit for other controls (other characters as raw UTF-8).
// Buffers: hex:<lowercase hex>. A trailing readOnly byte that was not written has no key.
import java.io.*;
import java.lang.reflect.*;
import java.nio.charset.StandardCharsets;
import java.nio.file.*;
import java.util.*;
import org.apache.jute.BinaryOutputArchive;
import org.apache.jute.Record;
import org.apache.zookeeper.*;
import org.apache.zookeeper.data.*;
import org.apache.zookeeper.proto.*;
import org.apache.zookeeper.server.persistence.Util;
import org.apache.zookeeper.txn.*;

public class GenGolden {
    static Path outDir;
    static StringBuilder manifest = new StringBuilder();
    static Set<String> files = new HashSet<>();

    // ---- manifest value formatting ----
    static String hex(byte[] b) {
        StringBuilder s = new StringBuilder("hex:");
        for (byte x : b) s.append(String.format("%02x", x & 0xff));
        return s.toString();
    }

    static String str(String s) {
        if (s == null) return "null";
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '\\': b.append("\\\\"); break;
                case '"': b.append("\\\""); break;
                case '\n': b.append("\\n"); break;
                case '\r': b.append("\\r"); break;
                case '\t': b.append("\\t"); break;
                default:
                    if (c < 0x20 || c == 0x7f) b.append(String.format("\\u%04x", (int) c));
                    else b.append(c);
            }
        }
        return b.append('"').toString();
    }

    static void kv(StringBuilder m, String key, String value) {
        m.append(key).append('=').append(value).append('\n');
    }

    /** Dumps any value reachable from a jute record: primitives, String, byte[], List, Record. */
    static void dumpValue(StringBuilder m, String key, Object v) throws Exception {
        if (v == null) {
            kv(m, key, "null");
        } else if (v instanceof Integer || v instanceof Long) {
            kv(m, key, v.toString());
        } else if (v instanceof Boolean) {
            kv(m, key, v.toString());
        } else if (v instanceof String) {
            kv(m, key, str((String) v));
        } else if (v instanceof byte[]) {
            kv(m, key, hex((byte[]) v));
        } else if (v instanceof List) {
            List<?> l = (List<?>) v;
            kv(m, key + ".len", Integer.toString(l.size()));
            for (int i = 0; i < l.size(); i++) dumpValue(m, key + "." + i, l.get(i));
        } else if (v instanceof Record) {
            dumpRecord(m, key + ".", (Record) v);
        } else {
            throw new IllegalArgumentException("cannot dump " + v.getClass());
        }
    }

    /** Jute-generated classes hold exactly their schema fields as private instance fields. */
    static void dumpRecord(StringBuilder m, String prefix, Record r) throws Exception {
        for (Field f : r.getClass().getDeclaredFields()) {
            if (Modifier.isStatic(f.getModifiers())) continue;
            f.setAccessible(true);
            dumpValue(m, prefix + f.getName(), f.get(r));
        }
    }

    static byte[] ser(Record r) throws IOException {
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        BinaryOutputArchive a = BinaryOutputArchive.getArchive(bos);
        r.serialize(a, "");
        return bos.toByteArray();
    }

    static String fileName(String cls, String kase) {
        return cls + (kase == null ? "" : "." + kase) + ".bin";
    }

    static void write(String file, String cls, byte[] bytes, String fields) throws IOException {
        if (!files.add(file)) throw new IllegalStateException("duplicate case " + file);
        Files.write(outDir.resolve(file), bytes);
        manifest.append('[').append(file).append("]\n");
        kv(manifest, "class", cls);
        manifest.append(fields).append('\n');
    }

    /** A plain jute record: bytes from serialize(), fields by reflection. */
    static void rec(String kase, Record r) throws Exception {
        StringBuilder m = new StringBuilder();
        dumpRecord(m, "", r);
        write(fileName(r.getClass().getSimpleName(), kase), r.getClass().getName(), ser(r), m.toString());
    }

    // ---- distinctive values ----
    static final String UNI = "/gölden/日本/ü-\u00e9\u0394";

    static Stat stat() {
        return new Stat(0x0102030405060708L, -2L, 1700000000123L, -1700000000123L, -1, 0x7fffffff,
                Integer.MIN_VALUE, 0x8000000000000000L, 5, -7, 0x7fffffffffffffffL);
    }

    static Stat stat2() {
        return new Stat(3, 3, 1764000000000L, 1764000000001L, 0, 0, 0, 0x0100000c31aa0000L, 0, 0, 3);
    }

    static List<ACL> acls() {
        return Arrays.asList(new ACL(31, new Id("world", "anyone")),
                new ACL(-1, new Id("digest", "ü:x+/=")),
                new ACL(0, new Id("ip", "127.0.0.1/8")));
    }

    static byte[] data() {
        return new byte[] {0, 1, 2, (byte) 0x7f, (byte) 0x80, (byte) 0xff, 'h', 'i'};
    }

    static byte[] pw() {
        byte[] p = new byte[16];
        for (int i = 0; i < 16; i++) p[i] = (byte) (0xf0 + i * 7);
        return p;
    }

    static final byte[] EMPTY = new byte[0];

    static void records() throws Exception {
        // data.*
        rec(null, new Id("digest", "user:hash=ü"));
        rec("empty", new Id("", ""));
        rec("null", new Id(null, null));
        // A supplementary character is written as CESU-8 (two 3-byte surrogates), U+0000 as 0x00.
        rec("supplementary", new Id("s", "x\uD83D\uDE00\u0000y"));
        rec(null, new ACL(31, new Id("world", "anyone")));
        rec("neg", new ACL(-1, new Id("auth", "")));
        rec(null, stat());
        rec("zero", new Stat());
        rec(null, new StatPersisted(-9, 0x0102030405060708L, 1700000000123L, -5, -1, 0x7fffffff,
                Integer.MIN_VALUE, 0xff00000000001234L, 0x7fffffffffffffffL));
        rec(null, new ClientInfo("ip", "127.0.0.1"));
        rec("unicode", new ClientInfo("digest", "ü日本"));

        // proto.* headers
        rec(null, new RequestHeader(1, 1));
        rec("ping", new RequestHeader(-2, 11));
        rec("auth", new RequestHeader(-4, 100));
        rec("min", new RequestHeader(Integer.MIN_VALUE, -11));
        rec(null, new ReplyHeader(7, 0x100000001L, -101));
        rec("notification", new ReplyHeader(-1, -1L, 0));
        rec(null, new MultiHeader(1, false, -1));
        rec("done", new MultiHeader(-1, true, -1));
        rec("error", new MultiHeader(-1, false, -103));

        // proto.* requests and responses
        rec(null, new SetWatches(0x1234567890L, Arrays.asList("/a", UNI), Arrays.asList("/x"),
                Arrays.asList("/", "/c/d")));
        rec("empty", new SetWatches(-1L, new ArrayList<>(), new ArrayList<>(), new ArrayList<>()));
        rec("null", new SetWatches(0L, null, Arrays.asList("/e"), null));
        rec(null, new SetWatches2(77L, Arrays.asList("/d"), Arrays.asList("/e1", "/e2"), new ArrayList<>(),
                Arrays.asList("/p"), Arrays.asList(UNI, "/r")));
        rec(null, new AuthPacket(0, "digest", "user:pässword".getBytes(StandardCharsets.UTF_8)));
        rec("empty", new AuthPacket(-3, "", EMPTY));
        rec("null", new AuthPacket(0, "ip", null));
        rec(null, new GetDataRequest(UNI, true));
        rec("nowatch", new GetDataRequest("/a", false));
        rec(null, new SetDataRequest("/a", data(), -1));
        rec("nulldata", new SetDataRequest("/a", null, 7));
        rec("emptydata", new SetDataRequest(UNI, EMPTY, Integer.MIN_VALUE));
        rec(null, new ReconfigRequest("server.4=127.0.0.1:2888:3888;2181", "2,3", null, -1L));
        rec("nulls", new ReconfigRequest(null, null, null, 0x100000000L));
        rec("empty", new ReconfigRequest("", "", "server.1=h:1:2", 5L));
        rec(null, new SetDataResponse(stat()));
        rec(null, new GetSASLRequest(data()));
        rec("empty", new GetSASLRequest(EMPTY));
        rec("null", new GetSASLRequest(null));
        rec(null, new SetSASLRequest(data()));
        rec(null, new SetSASLResponse(data()));
        rec("null", new SetSASLResponse(null));
        rec(null, new CreateRequest(UNI, data(), acls(), 3));
        rec("nulldata", new CreateRequest("/a/s-", null, acls().subList(0, 1), 2));
        rec("emptydata", new CreateRequest("/a", EMPTY, acls().subList(0, 1), 0));
        rec("nullacl", new CreateRequest("/n", data(), null, -1));
        rec("emptyacl", new CreateRequest("/n", data(), new ArrayList<>(), 4));
        rec(null, new CreateTTLRequest("/ttl", data(), acls(), 5, 0x7fffffffffffL));
        rec("neg", new CreateTTLRequest("/ttl", null, null, 6, -1L));
        rec(null, new DeleteRequest(UNI, -1));
        rec("version", new DeleteRequest("/a", 5));
        rec(null, new GetChildrenRequest("/", true));
        rec("nowatch", new GetChildrenRequest(UNI, false));
        rec(null, new GetAllChildrenNumberRequest(UNI));
        rec(null, new GetChildren2Request("/", true));
        rec("nowatch", new GetChildren2Request(UNI, false));
        rec(null, new CheckVersionRequest("/a", Integer.MAX_VALUE));
        rec("neg", new CheckVersionRequest(UNI, -1));
        rec(null, new SyncRequest(UNI));
        rec(null, new SyncResponse("/"));
        rec(null, new GetACLRequest(UNI));
        rec(null, new SetACLRequest("/a", acls(), -1));
        rec("nullacl", new SetACLRequest("/a", null, 3));
        rec("emptyacl", new SetACLRequest("/a", new ArrayList<>(), 0));
        rec(null, new SetACLResponse(stat()));
        rec(null, new AddWatchRequest(UNI, 0));
        rec("recursive", new AddWatchRequest("/", 1));
        rec(null, new WatcherEvent(3, 3, "/a"));
        rec("neg", new WatcherEvent(-1, -112, UNI));
        rec("emptypath", new WatcherEvent(-1, 3, ""));
        rec(null, new ErrorResponse(0));
        rec("nonode", new ErrorResponse(-101));
        rec(null, new CreateResponse("/a/s-0000000000"));
        rec(null, new Create2Response(UNI, stat()));
        rec(null, new ExistsRequest("/nonexist", true));
        rec("nowatch", new ExistsRequest(UNI, false));
        rec(null, new ExistsResponse(stat2()));
        rec(null, new GetDataResponse(data(), stat()));
        rec("nulldata", new GetDataResponse(null, stat2()));
        rec("emptydata", new GetDataResponse(EMPTY, stat2()));
        rec(null, new GetChildrenResponse(Arrays.asList("a", "ü", "zookeeper")));
        rec("empty", new GetChildrenResponse(new ArrayList<>()));
        rec(null, new GetAllChildrenNumberResponse(-3));
        rec(null, new GetChildren2Response(Arrays.asList("x"), stat()));
        rec(null, new GetACLResponse(acls(), stat()));
        rec("empty", new GetACLResponse(new ArrayList<>(), stat2()));
        rec(null, new CheckWatchesRequest(UNI, 1));
        rec("any", new CheckWatchesRequest("/a", 3));
        rec(null, new RemoveWatchesRequest("/a", 2));
        rec("any", new RemoveWatchesRequest(UNI, 3));
        rec(null, new GetEphemeralsRequest("/e"));
        rec("null", new GetEphemeralsRequest(null));
        rec("empty", new GetEphemeralsRequest(""));
        rec(null, new GetEphemeralsResponse(Arrays.asList("/e/1", UNI)));
        rec(null, new WhoAmIResponse(Arrays.asList(new ClientInfo("ip", "127.0.0.1"),
                new ClientInfo("digest", "u"))));
        rec("empty", new WhoAmIResponse(new ArrayList<>()));
        rec(null, new GetMaxChildrenRequest("/a"));
        rec(null, new GetMaxChildrenResponse(-1));
        rec(null, new SetMaxChildrenRequest("/a", 10));

        // txn.*
        rec(null, new TxnHeader(0x0100000c31aa0000L, 42, 0x200000003L, 1764000000123L, 1));
        rec("neg", new TxnHeader(0L, 0, -1L, -1L, -11));
        rec(null, new CreateTxn("/a", "hello".getBytes(StandardCharsets.UTF_8), acls().subList(0, 1), false, 1));
        rec("ephemeral", new CreateTxn(UNI, null, acls(), true, -1));
        rec("emptydata", new CreateTxn("/e", EMPTY, acls().subList(0, 1), true, 0x7fffffff));
        rec(null, new CreateTxnV0("/a", data(), acls().subList(0, 1), true));
        rec(null, new CreateContainerTxn("/cont", "x".getBytes(StandardCharsets.UTF_8), acls(), 2));
        rec("nulldata", new CreateContainerTxn(UNI, null, acls().subList(0, 1), -1));
        rec(null, new CreateTTLTxn("/ttl", "x".getBytes(StandardCharsets.UTF_8), acls().subList(0, 1), 3, 60000L));
        rec("neg", new CreateTTLTxn(UNI, null, acls(), -4, -1L));
        rec(null, new DeleteTxn(UNI));
        rec(null, new SetDataTxn("/a", data(), 1));
        rec("nulldata", new SetDataTxn(UNI, null, -1));
        rec(null, new CheckVersionTxn("/a", -103));
        rec(null, new SetACLTxn(UNI, acls(), 2));
        rec("empty", new SetACLTxn("/a", new ArrayList<>(), -1));
        rec(null, new CreateSessionTxn(30000));
        rec("neg", new CreateSessionTxn(-1));
        rec(null, new CloseSessionTxn(Arrays.asList("/e1", UNI)));
        rec("empty", new CloseSessionTxn(new ArrayList<>()));
        rec(null, new ErrorTxn(-5));
        rec(null, new org.apache.zookeeper.txn.Txn(1, ser(new CreateTxn("/m", data(), acls(), false, 4))));
        rec("empty", new org.apache.zookeeper.txn.Txn(-1, EMPTY));
        rec(null, new TxnDigest(2, 0x51c6d660L));
        rec("neg", new TxnDigest(-1, -0x7123456789abcdefL));
        rec(null, new SetMaxChildrenTxn("/a", 3));
        multiTxn();
        txnEntries();
    }

    /** MultiTxn with its sub-records described field by field (not as opaque Txn.data). */
    static void multiTxn() throws Exception {
        Object[][] subs = {
            {1, new CreateTxn("/m", data(), acls().subList(0, 1), false, 4)},
            {19, new CreateContainerTxn("/c", EMPTY, acls().subList(0, 1), 5)},
            {21, new CreateTTLTxn("/t", null, acls().subList(0, 1), 6, 1000L)},
            {2, new DeleteTxn("/d")},
            {5, new SetDataTxn("/a", "zz".getBytes(StandardCharsets.UTF_8), 1)},
            {7, new SetACLTxn("/a", acls(), 3)},
            {13, new CheckVersionTxn("/a", 1)},
            {-1, new ErrorTxn(-103)},
        };
        multiTxnCase(null, subs);
        // the failed-multi shape Java logs: every sub-txn an ErrorTxn
        multiTxnCase("failed", new Object[][] {{-1, new ErrorTxn(0)}, {-1, new ErrorTxn(-103)},
                {-1, new ErrorTxn(-2)}});
    }

    static void multiTxnCase(String kase, Object[][] subs) throws Exception {
        List<org.apache.zookeeper.txn.Txn> txns = new ArrayList<>();
        StringBuilder m = new StringBuilder();
        kv(m, "txns.len", Integer.toString(subs.length));
        for (int i = 0; i < subs.length; i++) {
            int type = (Integer) subs[i][0];
            Record r = (Record) subs[i][1];
            txns.add(new org.apache.zookeeper.txn.Txn(type, ser(r)));
            kv(m, "txns." + i + ".type", Integer.toString(type));
            dumpRecord(m, "txns." + i + ".", r);
        }
        MultiTxn mt = new MultiTxn(txns);
        write(fileName("MultiTxn", kase), mt.getClass().getName(), ser(mt), m.toString());
    }

    /** Util.marshallTxnEntry: TxnHeader ‖ record ‖ [TxnDigest], as in the log and proposals. */
    static void txnEntry(String kase, TxnHeader h, Record txn, TxnDigest d) throws Exception {
        byte[] b = d == null ? Util.marshallTxnEntry(h, txn) : Util.marshallTxnEntry(h, txn, d);
        StringBuilder m = new StringBuilder();
        dumpRecord(m, "hdr.", h);
        dumpRecord(m, "txn.", txn);
        if (d != null) dumpRecord(m, "digest.", d);
        write(fileName("TxnEntry", kase), "TxnEntry", b, m.toString());
    }

    static void txnEntries() throws Exception {
        long sid = 0x0100000c31aa0000L;
        txnEntry("createSession", new TxnHeader(sid, 0, 1, 1764000000000L, -10), new CreateSessionTxn(30000),
                new TxnDigest(2, 0x51c6d660L));
        txnEntry("create", new TxnHeader(sid, 1, 2, 1764000000001L, 1),
                new CreateTxn("/a", "hello".getBytes(StandardCharsets.UTF_8), acls().subList(0, 1), false, 1),
                new TxnDigest(2, 0x8e9a63e6L));
        txnEntry("create2", new TxnHeader(sid, 2, 3, 1764000000002L, 15),
                new CreateTxn("/a/s-0000000000", null, acls().subList(0, 1), false, 1), new TxnDigest(2, -5L));
        txnEntry("deleteContainer", new TxnHeader(0, 0, 4, 1764000000003L, 20), new DeleteTxn("/cont"),
                new TxnDigest(2, 7L));
        txnEntry("reconfig", new TxnHeader(sid, 3, 5, 1764000000004L, 16),
                new SetDataTxn("/zookeeper/config", "server.1=x".getBytes(StandardCharsets.UTF_8), -1), null);
        txnEntry("error", new TxnHeader(sid, 4, 6, 1764000000005L, -1), new ErrorTxn(-5), null);
        txnEntry("closeSession", new TxnHeader(sid, 5, 7, 1764000000006L, -11),
                new CloseSessionTxn(Arrays.asList("/e1")), new TxnDigest(2, 1L));
        List<org.apache.zookeeper.txn.Txn> txns = new ArrayList<>();
        txns.add(new org.apache.zookeeper.txn.Txn(1, ser(new CreateTxn("/m", EMPTY, acls().subList(0, 1), false, 3))));
        txns.add(new org.apache.zookeeper.txn.Txn(5, ser(new SetDataTxn("/a", "zz".getBytes(StandardCharsets.UTF_8), 1))));
        TxnHeader mh = new TxnHeader(sid, 6, 8, 1764000000007L, 14);
        byte[] b = Util.marshallTxnEntry(mh, new MultiTxn(txns), new TxnDigest(2, 99L));
        StringBuilder m = new StringBuilder();
        dumpRecord(m, "hdr.", mh);
        kv(m, "txn.txns.len", "2");
        kv(m, "txn.txns.0.type", "1");
        dumpRecord(m, "txn.txns.0.", new CreateTxn("/m", EMPTY, acls().subList(0, 1), false, 3));
        kv(m, "txn.txns.1.type", "5");
        dumpRecord(m, "txn.txns.1.", new SetDataTxn("/a", "zz".getBytes(StandardCharsets.UTF_8), 1));
        dumpRecord(m, "digest.", new TxnDigest(2, 99L));
        write(fileName("TxnEntry", "multi"), "TxnEntry", b, m.toString());
    }

    // ---- multi ----
    static void multiOps(String kase, List<Op> ops) throws Exception {
        MultiOperationRecord r = new MultiOperationRecord(ops);
        StringBuilder m = new StringBuilder();
        kv(m, "ops.len", Integer.toString(ops.size()));
        for (int i = 0; i < ops.size(); i++) {
            kv(m, "ops." + i + ".type", Integer.toString(ops.get(i).getType()));
            dumpRecord(m, "ops." + i + ".", ops.get(i).toRequestRecord());
        }
        write(fileName("MultiOperationRecord", kase), r.getClass().getName(), ser(r), m.toString());
    }

    static void multis() throws Exception {
        List<ACL> open = ZooDefs.Ids.OPEN_ACL_UNSAFE;
        multiOps(null, Arrays.asList(
                Op.create("/m", data(), open, CreateMode.PERSISTENT),
                Op.create("/m/s-", null, acls(), CreateMode.EPHEMERAL_SEQUENTIAL),
                Op.create("/c", EMPTY, open, CreateMode.CONTAINER),
                Op.create("/t", data(), open, CreateMode.PERSISTENT_WITH_TTL, 60000L),
                Op.create("/t2", null, open, CreateMode.PERSISTENT_SEQUENTIAL_WITH_TTL, 1L),
                Op.create(UNI, data(), open, 1),
                Op.delete("/d", -1),
                Op.setData("/a", "zz".getBytes(StandardCharsets.UTF_8), 3),
                Op.setData("/b", null, -1),
                Op.check("/a", 4)));
        multiOps("read", Arrays.asList(Op.getChildren("/"), Op.getData(UNI), Op.getChildren("/x")));
        multiOps("empty", new ArrayList<>());

        // Java's Op API never puts create2 (15) into a multi, but servers accept it; build that
        // framing from the same Java records MultiOperationRecord uses.
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        BinaryOutputArchive a = BinaryOutputArchive.getArchive(bos);
        CreateRequest cr = new CreateRequest("/c2", data(), open, 0);
        new MultiHeader(15, false, -1).serialize(a, "");
        cr.serialize(a, "");
        new MultiHeader(-1, true, -1).serialize(a, "");
        StringBuilder m = new StringBuilder();
        kv(m, "ops.len", "1");
        kv(m, "ops.0.type", "15");
        dumpRecord(m, "ops.0.", cr);
        write(fileName("MultiOperationRecord", "create2"), MultiOperationRecord.class.getName(), bos.toByteArray(),
                m.toString());

        multiResults(null, Arrays.asList(new OpResult.CreateResult("/m"), new OpResult.CreateResult(UNI, stat()),
                new OpResult.DeleteResult(), new OpResult.SetDataResult(stat2()), new OpResult.CheckResult()));
        multiResults("failed", Arrays.asList(new OpResult.ErrorResult(0), new OpResult.ErrorResult(-103),
                new OpResult.ErrorResult(-2)));
        multiResults("read", Arrays.asList(new OpResult.GetChildrenResult(Arrays.asList("a", "ü")),
                new OpResult.GetDataResult(data(), stat()), new OpResult.GetDataResult(null, stat2()),
                new OpResult.GetDataResult(EMPTY, stat2()), new OpResult.ErrorResult(-101),
                new OpResult.GetChildrenResult(new ArrayList<>())));
        multiResults("empty", new ArrayList<>());
    }

    static void multiResults(String kase, List<OpResult> results) throws Exception {
        MultiResponse r = new MultiResponse();
        StringBuilder m = new StringBuilder();
        kv(m, "results.len", Integer.toString(results.size()));
        for (int i = 0; i < results.size(); i++) {
            OpResult o = results.get(i);
            r.add(o);
            String p = "results." + i + ".";
            kv(m, p + "type", Integer.toString(o.getType()));
            if (o instanceof OpResult.CreateResult) {
                OpResult.CreateResult c = (OpResult.CreateResult) o;
                kv(m, p + "path", str(c.getPath()));
                if (o.getType() == ZooDefs.OpCode.create2) dumpRecord(m, p + "stat.", c.getStat());
            } else if (o instanceof OpResult.SetDataResult) {
                dumpRecord(m, p + "stat.", ((OpResult.SetDataResult) o).getStat());
            } else if (o instanceof OpResult.GetChildrenResult) {
                dumpValue(m, p + "children", ((OpResult.GetChildrenResult) o).getChildren());
            } else if (o instanceof OpResult.GetDataResult) {
                dumpValue(m, p + "data", ((OpResult.GetDataResult) o).getData());
                dumpRecord(m, p + "stat.", ((OpResult.GetDataResult) o).getStat());
            } else if (o instanceof OpResult.ErrorResult) {
                kv(m, p + "err", Integer.toString(((OpResult.ErrorResult) o).getErr()));
            }
        }
        write(fileName("MultiResponse", kase), r.getClass().getName(), ser(r), m.toString());
    }

    // ---- connect: the 3.8.0 jute records lack readOnly; client and server append it by hand ----
    static void connect() throws Exception {
        connectReq(null, new ConnectRequest(0, 0L, 30000, 0L, new byte[16]), Boolean.FALSE);
        connectReq("legacy", new ConnectRequest(0, 0L, 30000, 0L, new byte[16]), null);
        connectReq("readonly", new ConnectRequest(0, 0x300000005L, 4000, 0x0100000c31aa0000L, pw()), Boolean.TRUE);
        connectReq("nullpasswd", new ConnectRequest(0, -1L, -1, -1L, null), Boolean.FALSE);
        connectResp(null, new ConnectResponse(0, 30000, 0x0100000c31aa0000L, pw()), Boolean.FALSE);
        connectResp("legacy", new ConnectResponse(0, 30000, 0x0100000c31aa0000L, pw()), null);
        connectResp("readonly", new ConnectResponse(0, 4000, 0x7f0000000000ffffL, pw()), Boolean.TRUE);
        connectResp("invalid", new ConnectResponse(0, 0, 0L, new byte[16]), Boolean.FALSE);
    }

    static byte[] withRo(Record r, Boolean ro) throws IOException {
        // ClientCnxnSocket.connect / ZooKeeperServer.finishSessionInit: record, then writeBool.
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        BinaryOutputArchive a = BinaryOutputArchive.getArchive(bos);
        r.serialize(a, "connect");
        if (ro != null) a.writeBool(ro, "readOnly");
        return bos.toByteArray();
    }

    static void connectReq(String kase, ConnectRequest r, Boolean ro) throws Exception {
        StringBuilder m = new StringBuilder();
        dumpRecord(m, "", r);
        if (ro != null) kv(m, "readOnly", ro.toString());
        write(fileName("ConnectRequest", kase), r.getClass().getName(), withRo(r, ro), m.toString());
    }

    static void connectResp(String kase, ConnectResponse r, Boolean ro) throws Exception {
        StringBuilder m = new StringBuilder();
        dumpRecord(m, "", r);
        if (ro != null) kv(m, "readOnly", ro.toString());
        write(fileName("ConnectResponse", kase), r.getClass().getName(), withRo(r, ro), m.toString());
    }

    // ---- a client that issues multis, for the wire capture ----
    static void multiClient(String hostPort) throws Exception {
        final java.util.concurrent.CountDownLatch up = new java.util.concurrent.CountDownLatch(1);
        ZooKeeper zk = new ZooKeeper(hostPort, 30000, e -> {
            if (e.getState() == Watcher.Event.KeeperState.SyncConnected) up.countDown();
        });
        up.await();
        List<ACL> open = ZooDefs.Ids.OPEN_ACL_UNSAFE;
        zk.multi(Arrays.asList(Op.create("/golden/m", "m".getBytes(StandardCharsets.UTF_8), open,
                CreateMode.PERSISTENT), Op.setData("/golden/m", "mm".getBytes(StandardCharsets.UTF_8), 0),
                Op.check("/golden/m", 1)));
        try {
            zk.multi(Arrays.asList(Op.create("/golden/m2", null, open, CreateMode.PERSISTENT),
                    Op.check("/golden/m", 9), Op.delete("/golden/m", -1)));
        } catch (KeeperException expected) {
            System.err.println("failed multi as expected: " + expected.code());
        }
        zk.multi(Arrays.asList(Op.getChildren("/golden"), Op.getData("/golden/m"), Op.getData("/golden/none")));
        zk.close();
    }

    public static void main(String[] args) throws Exception {
        if (args.length == 2 && args[0].equals("multi-client")) {
            multiClient(args[1]);
            return;
        }
        if (args.length != 2 || !args[0].equals("records")) {
            System.err.println("usage: GenGolden records <outdir> | multi-client <host:port>");
            System.exit(2);
        }
        outDir = Paths.get(args[1]);
        Files.createDirectories(outDir);
        records();
        multis();
        connect();
        Files.write(outDir.resolve("manifest.txt"), manifest.toString().getBytes(StandardCharsets.UTF_8));
        System.err.println("wrote " + files.size() + " cases to " + outDir);
    }
}
