// Drives the server with the real Java client (Debian's zookeeper.jar 3.8.0): main ops, watches,
// multi, persistent watches, getConfig, ACLs, and watch restore after a dropped connection (through
// a local TCP proxy that can cut every connection). Prints "PASS name" / "FAIL name: why" per check;
// test_java_clients.py compiles and runs it and turns each line into a pytest result.

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.zookeeper.AddWatchMode;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.OpResult;
import org.apache.zookeeper.WatchedEvent;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.ClientInfo;
import org.apache.zookeeper.data.Id;
import org.apache.zookeeper.data.Stat;
import org.apache.zookeeper.server.auth.DigestAuthenticationProvider;

public class JavaClientCheck {
    interface Check {
        void run() throws Exception;
    }

    static String host;
    static String base;
    static int failures = 0;

    static void check(String name, Check c) {
        long t0 = System.currentTimeMillis();
        try {
            c.run();
            System.out.println("PASS " + name + " (" + (System.currentTimeMillis() - t0) + " ms)");
        } catch (Throwable t) {
            failures++;
            System.out.println("FAIL " + name + ": " + t);
            t.printStackTrace(System.out);
        }
        System.out.flush();
    }

    static void expect(boolean cond, String what) {
        if (!cond) {
            throw new AssertionError(what);
        }
    }

    static void expectEq(Object want, Object got, String what) {
        if (want == null ? got != null : !want.equals(got)) {
            throw new AssertionError(what + ": expected <" + want + "> got <" + got + ">");
        }
    }

    static void expectErr(KeeperException.Code code, Check c) throws Exception {
        try {
            c.run();
        } catch (KeeperException e) {
            expectEq(code, e.code(), "error code");
            return;
        }
        throw new AssertionError("expected " + code + " but the call succeeded");
    }

    static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** Collects events; waitFor polls with a deadline instead of assuming speed. */
    static class Events implements Watcher {
        final List<String> items = new CopyOnWriteArrayList<>();

        public void process(WatchedEvent e) {
            if (e.getType() != Event.EventType.None) {
                items.add(e.getType() + " " + e.getPath());
            }
        }

        List<String> waitFor(int n) throws InterruptedException {
            long deadline = System.currentTimeMillis() + 20000;
            while (items.size() < n && System.currentTimeMillis() < deadline) {
                Thread.sleep(20);
            }
            return new ArrayList<>(items);
        }

        List<String> settle(int n) throws InterruptedException {
            waitFor(n);
            Thread.sleep(500);
            return new ArrayList<>(items);
        }
    }

    static ZooKeeper connect(String hostPort, Watcher extra) throws Exception {
        CountDownLatch up = new CountDownLatch(1);
        ZooKeeper zk = new ZooKeeper(hostPort, 15000, e -> {
            if (e.getState() == Watcher.Event.KeeperState.SyncConnected) {
                up.countDown();
            }
            if (extra != null) {
                extra.process(e);
            }
        });
        if (!up.await(30, TimeUnit.SECONDS)) {
            zk.close();
            throw new AssertionError("no SyncConnected within 30 s to " + hostPort);
        }
        return zk;
    }

    /** A loopback TCP proxy whose connections can all be cut at once. */
    static class Proxy implements Runnable {
        final ServerSocket ss;
        final String upHost;
        final int upPort;
        final List<Socket> open = new CopyOnWriteArrayList<>();
        volatile boolean paused = false;

        Proxy(String hostPort) throws Exception {
            ss = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
            String[] hp = hostPort.split(":");
            upHost = hp[0];
            upPort = Integer.parseInt(hp[1]);
            Thread t = new Thread(this, "proxy");
            t.setDaemon(true);
            t.start();
        }

        String address() {
            return "127.0.0.1:" + ss.getLocalPort();
        }

        public void run() {
            while (true) {
                try {
                    Socket down = ss.accept();
                    if (paused) {
                        down.close();
                        continue;
                    }
                    Socket up = new Socket();
                    up.connect(new InetSocketAddress(upHost, upPort));
                    open.add(down);
                    open.add(up);
                    pump(down, up);
                    pump(up, down);
                } catch (Exception e) {
                    return;
                }
            }
        }

        void pump(Socket from, Socket to) {
            Thread t = new Thread(() -> {
                byte[] buf = new byte[65536];
                try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
                    int n;
                    while ((n = in.read(buf)) >= 0) {
                        out.write(buf, 0, n);
                        out.flush();
                    }
                } catch (Exception ignored) {
                    // cut by cutAll or by the peer
                }
                try {
                    from.close();
                    to.close();
                } catch (Exception ignored) {
                    // already closed
                }
            });
            t.setDaemon(true);
            t.start();
        }

        void cutAll() throws Exception {
            for (Socket s : open) {
                s.close();
            }
            open.clear();
        }
    }

    public static void main(String[] args) throws Exception {
        host = System.getenv().getOrDefault("ZK_HOST", "127.0.0.1:2181");
        String superAuth = System.getenv().getOrDefault("ZK_SUPER", "super:compat-super-secret");
        base = "/java-client-" + Long.toHexString(System.nanoTime());
        ZooKeeper zk = connect(host, null);
        zk.create(base, new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);

        check("crud", () -> {
            Stat st = new Stat();
            String p = zk.create(base + "/n", b("v0"), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT, st);
            expectEq(base + "/n", p, "create path");
            expectEq(st.getCzxid(), st.getMzxid(), "create2 czxid==mzxid");
            expectEq(2, st.getDataLength(), "dataLength");
            Stat st2 = new Stat();
            expectEq("v0", new String(zk.getData(p, false, st2), StandardCharsets.UTF_8), "getData");
            expectEq(st, st2, "create2 stat equals getData stat");
            Stat st3 = zk.setData(p, b("v1"), 0);
            expectEq(1, st3.getVersion(), "version after set");
            expectErr(KeeperException.Code.BADVERSION, () -> zk.setData(p, b("v2"), 0));
            expectEq(null, zk.exists(base + "/none", false), "exists missing");
            expectErr(KeeperException.Code.NODEEXISTS,
                    () -> zk.create(p, null, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT));
            zk.create(p + "/c", null, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            expectErr(KeeperException.Code.NOTEMPTY, () -> zk.delete(p, -1));
            Stat cst = new Stat();
            expectEq(Arrays.asList("c"), zk.getChildren(p, false, cst), "children");
            expectEq(1, cst.getNumChildren(), "numChildren");
            expectEq(1, cst.getCversion(), "cversion");
            expectEq(null, zk.getData(p + "/c", false, null), "null data stays null");
            zk.delete(p + "/c", 0);
            expectErr(KeeperException.Code.BADVERSION, () -> zk.delete(p, 0));
            zk.delete(p, 1);
            expectErr(KeeperException.Code.NONODE, () -> zk.getData(p, false, null));
        });

        check("createModes", () -> {
            Stat st = new Stat();
            zk.create(base + "/eph", null, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL, st);
            expectEq(zk.getSessionId(), st.getEphemeralOwner(), "ephemeralOwner");
            String s1 = zk.create(base + "/seq-", null, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT_SEQUENTIAL);
            expectEq(base + "/seq-0000000002", s1, "sequential name");
            String s2 = zk.create(base + "/eseq-", null, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL_SEQUENTIAL);
            expectEq(base + "/eseq-0000000003", s2, "ephemeral sequential name");
            Stat cs = new Stat();
            zk.create(base + "/cont", null, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.CONTAINER, cs);
            expectEq(0L, cs.getEphemeralOwner(), "container owner");
            Stat ts = new Stat();
            zk.create(base + "/ttl", null, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT_WITH_TTL, ts, 60000);
            expectEq(0L, ts.getEphemeralOwner(), "ttl owner");
            String ts2 = zk.create(base + "/tseq-", null, ZooDefs.Ids.OPEN_ACL_UNSAFE,
                    CreateMode.PERSISTENT_SEQUENTIAL_WITH_TTL, null, 60000);
            expectEq(base + "/tseq-0000000006", ts2, "ttl sequential name");
            List<String> eph = zk.getEphemerals(base);
            Collections.sort(eph);
            expectEq(Arrays.asList(base + "/eph", s2), eph, "getEphemerals");
            expectEq(6, zk.getAllChildrenNumber(base), "getAllChildrenNumber");
        });

        check("watches", () -> {
            String p = base + "/w";
            Events data = new Events();
            Events exist = new Events();
            Events child = new Events();
            expectEq(null, zk.exists(p, exist), "exists before create");
            zk.getChildren(base, child);
            zk.create(p, null, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            zk.getData(p, data, null);
            zk.setData(p, b("x"), -1);
            zk.setData(p, b("y"), -1);
            expectEq(Arrays.asList("NodeCreated " + p), exist.settle(1), "exists watch");
            expectEq(Arrays.asList("NodeChildrenChanged " + base), child.settle(1), "child watch");
            expectEq(Arrays.asList("NodeDataChanged " + p), data.settle(1), "data watch one-shot");
            Events del = new Events();
            zk.exists(p, del);
            zk.delete(p, -1);
            expectEq(Arrays.asList("NodeDeleted " + p), del.settle(1), "delete event");
        });

        check("removeWatches", () -> {
            String p = base + "/rw";
            zk.create(p, null, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            Events w1 = new Events();
            zk.getData(p, w1, null);
            zk.removeWatches(p, w1, Watcher.WatcherType.Data, false);
            expectErr(KeeperException.Code.NOWATCHER, () -> zk.removeWatches(p, w1, Watcher.WatcherType.Data, false));
            Events w2 = new Events();
            zk.getChildren(p, w2);
            zk.removeAllWatches(p, Watcher.WatcherType.Any, false);
            zk.setData(p, b("z"), -1);
            zk.create(p + "/k", null, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            Thread.sleep(500);
            // only the client-generated removal notices, no server events
            expectEq(Arrays.asList("DataWatchRemoved " + p), w1.items, "removed data watch silent");
            expectEq(Arrays.asList("ChildWatchRemoved " + p), w2.items, "removed child watch silent");
        });

        check("multi", () -> {
            String p = base + "/m";
            List<OpResult> ok = zk.multi(Arrays.asList(
                    Op.create(p, b("a"), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT),
                    Op.setData(p, b("b"), 0),
                    Op.check(p, 1),
                    Op.create(p + "/s-", null, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT_SEQUENTIAL)));
            expectEq(4, ok.size(), "results");
            expectEq(p, ((OpResult.CreateResult) ok.get(0)).getPath(), "create result");
            expectEq(1, ((OpResult.SetDataResult) ok.get(1)).getStat().getVersion(), "set result");
            expectEq(p + "/s-0000000000", ((OpResult.CreateResult) ok.get(3)).getPath(), "seq in multi");
            try {
                zk.multi(Arrays.asList(
                        Op.create(p + "/x", null, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT),
                        Op.delete(p + "/nonexistent", -1),
                        Op.setData(p, b("c"), -1)));
                throw new AssertionError("multi should have failed");
            } catch (KeeperException e) {
                expectEq(KeeperException.Code.NONODE, e.code(), "multi error");
                List<OpResult> rs = e.getResults();
                expectEq(3, rs.size(), "failed results");
                expectEq(0, ((OpResult.ErrorResult) rs.get(0)).getErr(), "op before failure");
                expectEq(-101, ((OpResult.ErrorResult) rs.get(1)).getErr(), "failing op");
                expectEq(-2, ((OpResult.ErrorResult) rs.get(2)).getErr(), "op after failure");
            }
            expectEq(null, zk.exists(p + "/x", false), "rolled back");
            expectEq("b", new String(zk.getData(p, false, null), StandardCharsets.UTF_8), "data untouched");
            List<OpResult> rd = zk.multi(Arrays.asList(Op.getData(p), Op.getChildren(p)));
            expectEq("b", new String(((OpResult.GetDataResult) rd.get(0)).getData(), StandardCharsets.UTF_8), "multiRead data");
            expectEq(Arrays.asList("s-0000000000"), ((OpResult.GetChildrenResult) rd.get(1)).getChildren(), "multiRead children");
        });

        check("persistentWatches", () -> {
            String p = base + "/pw";
            Events pw = new Events();
            Events rw = new Events();
            zk.addWatch(p, pw, AddWatchMode.PERSISTENT);
            zk.addWatch(p, rw, AddWatchMode.PERSISTENT_RECURSIVE);
            zk.create(p, null, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            zk.create(p + "/a", null, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            zk.setData(p + "/a", b("1"), -1);
            zk.setData(p, b("1"), -1);
            zk.delete(p + "/a", -1);
            // 3.8 keeps one mode per (connection, path): both watchers share the server-side
            // registration for p, so each sees the union of events delivered for p
            List<String> want = Arrays.asList("NodeCreated " + p, "NodeCreated " + p + "/a",
                    "NodeDataChanged " + p + "/a", "NodeDataChanged " + p, "NodeDeleted " + p + "/a");
            expectEq(want, rw.settle(5), "recursive watch events");
            List<String> got = pw.settle(2);
            expect(got.contains("NodeCreated " + p) && got.contains("NodeDataChanged " + p),
                    "persistent watch saw its node events: " + got);
            for (String ev : got) {
                expect(ev.endsWith(" " + p), "persistent (non-recursive) watcher got a descendant event: " + got);
            }
            zk.removeWatches(p, rw, Watcher.WatcherType.Any, false);
            zk.removeWatches(p, pw, Watcher.WatcherType.Any, false);
        });

        check("getConfig", () -> {
            Stat st = new Stat();
            byte[] cfg = zk.getConfig(false, st);
            // run.sh *-ensemble passes the QV string every member must serve; standalone: empty.
            String want = System.getenv().getOrDefault("ZK_ENSEMBLE_CONFIG", "");
            expectEq(want, new String(cfg, StandardCharsets.UTF_8), "config data");
            expectEq(-1, st.getAversion(), "config aversion");
        });

        check("aclAndWhoAmI", () -> {
            ZooKeeper a = connect(host, null);
            ZooKeeper anon = connect(host, null);
            try {
                a.addAuthInfo("digest", b("javauser:pw"));
                String p = base + "/acl";
                a.create(p, b("s"), ZooDefs.Ids.CREATOR_ALL_ACL, CreateMode.PERSISTENT);
                List<ACL> acl = a.getACL(p, new Stat());
                expectEq(1, acl.size(), "acl entries");
                expectEq(new Id("digest", DigestAuthenticationProvider.generateDigest("javauser:pw")),
                        acl.get(0).getId(), "auth expanded to digest");
                expectErr(KeeperException.Code.NOAUTH, () -> anon.getData(p, false, null));
                expectErr(KeeperException.Code.NOAUTH, () -> anon.setData(p, b("x"), -1));
                expectErr(KeeperException.Code.INVALIDACL,
                        () -> anon.create(base + "/acl2", null, ZooDefs.Ids.CREATOR_ALL_ACL, CreateMode.PERSISTENT));
                List<String> who = new ArrayList<>();
                for (ClientInfo ci : a.whoAmI()) {
                    who.add(ci.getAuthScheme() + ":" + ci.getUser());
                }
                Collections.sort(who);
                expectEq(Arrays.asList("digest:javauser", "ip:127.0.0.1"), who, "whoAmI");
                anon.addAuthInfo("digest", b(superAuth));
                expectEq("s", new String(anon.getData(p, false, null), StandardCharsets.UTF_8), "super reads");
            } finally {
                a.close();
                anon.close();
            }
        });

        check("syncAndEphemeralsOnClose", () -> {
            ZooKeeper e = connect(host, null);
            e.create(base + "/gone", null, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL);
            CountDownLatch synced = new CountDownLatch(1);
            String[] syncPath = new String[1];
            int[] rc = new int[]{99};
            e.sync(base, (r, path, ctx) -> {
                rc[0] = r;
                syncPath[0] = path;
                synced.countDown();
            }, null);
            expect(synced.await(20, TimeUnit.SECONDS), "sync callback");
            expectEq(0, rc[0], "sync rc");
            expectEq(base, syncPath[0], "sync path");
            e.close();
            long deadline = System.currentTimeMillis() + 10000;
            while (zk.exists(base + "/gone", false) != null && System.currentTimeMillis() < deadline) {
                Thread.sleep(20);
            }
            expectEq(null, zk.exists(base + "/gone", false), "ephemeral removed on close");
        });

        check("watchRestore", () -> {
            Proxy proxy = new Proxy(host);
            List<Watcher.Event.KeeperState> states = new CopyOnWriteArrayList<>();
            ZooKeeper r = connect(proxy.address(), e -> {
                if (e.getType() == Watcher.Event.EventType.None) {
                    states.add(e.getState());
                }
            });
            try {
                String p = base + "/restore";
                zk.create(p, null, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
                zk.create(p + "/d", null, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
                r.create(p + "/eph", null, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL);
                long sid = r.getSessionId();
                Events data = new Events();
                Events exist = new Events();
                Events child = new Events();
                Events pers = new Events();
                r.getData(p + "/d", data, null);
                r.exists(p + "/later", exist);
                r.getChildren(p, child);
                r.addWatch(p + "/pers", pers, AddWatchMode.PERSISTENT);
                proxy.paused = true;
                proxy.cutAll();
                long deadline = System.currentTimeMillis() + 20000;
                while (!states.contains(Watcher.Event.KeeperState.Disconnected)
                        && System.currentTimeMillis() < deadline) {
                    Thread.sleep(10);
                }
                expect(states.contains(Watcher.Event.KeeperState.Disconnected), "saw Disconnected");
                // changes while the client is away: setWatches must report them on reconnect
                zk.setData(p + "/d", b("changed"), -1);
                zk.create(p + "/later", null, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
                Thread.sleep(300);
                expectEq(Collections.emptyList(), data.items, "no event while disconnected");
                proxy.paused = false;
                expectEq(Arrays.asList("NodeDataChanged " + p + "/d"), data.settle(1), "data watch restored");
                expectEq(Arrays.asList("NodeCreated " + p + "/later"), exist.settle(1), "exists watch restored");
                expectEq(Arrays.asList("NodeChildrenChanged " + p), child.settle(1), "child watch restored");
                expectEq(sid, r.getSessionId(), "same session");
                expect(r.exists(p + "/eph", false) != null, "ephemeral kept across reconnect");
                // the persistent watch came back through setWatches2 and is still armed
                zk.create(p + "/pers", null, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
                zk.setData(p + "/pers", b("1"), -1);
                expectEq(Arrays.asList("NodeCreated " + p + "/pers", "NodeDataChanged " + p + "/pers"),
                        pers.settle(2), "persistent watch restored");
            } finally {
                r.close();
            }
        });

        try {
            ZooKeeper su = connect(host, null);
            su.addAuthInfo("digest", b(superAuth));
            org.apache.zookeeper.ZKUtil.deleteRecursive(su, base);
            su.close();
        } catch (Exception e) {
            System.out.println("cleanup failed: " + e);
        }
        zk.close();
        System.out.println("DONE failures=" + failures);
        System.exit(failures == 0 ? 0 : 1);
    }
}
