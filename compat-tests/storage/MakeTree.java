// Drives a Java ZooKeeper 3.8 server through every txn type the storage tests need:
// all node kinds, ACL kinds, sessions with ephemerals (one closed, one left open), a failed
// multi, an ok multi, error txns, and enough writes to roll several logs at a small snapCount.
// Usage: java -cp <zookeeper jars>:. MakeTree host:port
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.Id;
import org.apache.zookeeper.data.Stat;
import org.apache.zookeeper.server.auth.DigestAuthenticationProvider;

public class MakeTree {
    static ZooKeeper connect(String hp, int timeout) throws Exception {
        CountDownLatch up = new CountDownLatch(1);
        ZooKeeper zk = new ZooKeeper(hp, timeout, e -> {
            if (e.getState() == org.apache.zookeeper.Watcher.Event.KeeperState.SyncConnected) {
                up.countDown();
            }
        });
        if (!up.await(20, TimeUnit.SECONDS)) {
            throw new IllegalStateException("no connection to " + hp);
        }
        return zk;
    }

    static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static void expectFailure(Runnable r) {
        try {
            r.run();
        } catch (RuntimeException e) {
            return;
        }
    }

    public static void main(String[] args) throws Exception {
        String hp = args[0];
        ZooKeeper a = connect(hp, 30000);
        List<ACL> open = ZooDefs.Ids.OPEN_ACL_UNSAFE;
        a.create("/a", b("hello"), open, CreateMode.PERSISTENT);
        a.create("/a/s-", null, open, CreateMode.PERSISTENT_SEQUENTIAL);
        a.create("/a/e-", new byte[0], open, CreateMode.EPHEMERAL_SEQUENTIAL);
        a.create("/c2", b("two"), open, CreateMode.PERSISTENT, new Stat()); // create2 (op 15)
        a.create("/cont", b("x"), open, CreateMode.CONTAINER);
        a.create("/cont/child", b("c"), open, CreateMode.PERSISTENT);
        a.create("/ttl", b("x"), open, CreateMode.PERSISTENT_WITH_TTL, new Stat(), 60000);
        a.create("/ttlseq-", b("y"), open, CreateMode.PERSISTENT_SEQUENTIAL_WITH_TTL, new Stat(), 120000);
        String digest = DigestAuthenticationProvider.generateDigest("user:secret");
        List<ACL> mixed = new ArrayList<>();
        mixed.add(new ACL(ZooDefs.Perms.ALL, new Id("digest", digest)));
        mixed.add(new ACL(ZooDefs.Perms.READ, ZooDefs.Ids.ANYONE_ID_UNSAFE));
        a.create("/acl", b("guarded"), mixed, CreateMode.PERSISTENT);
        a.create("/ip", b("ip"), Arrays.asList(new ACL(ZooDefs.Perms.READ | ZooDefs.Perms.WRITE, new Id("ip", "127.0.0.1"))), CreateMode.PERSISTENT);
        a.create("/readonly", null, ZooDefs.Ids.READ_ACL_UNSAFE, CreateMode.PERSISTENT);
        a.create("/\u00fcn\u00efc\u00f6de-\u65e5\u672c", b("\u00e9t\u00e9"), open, CreateMode.PERSISTENT);
        a.setData("/a", b("zz"), -1);
        a.setACL("/a", Arrays.asList(new ACL(ZooDefs.Perms.READ | ZooDefs.Perms.ADMIN, ZooDefs.Ids.ANYONE_ID_UNSAFE)), 0);
        a.setACL("/a", open, -1);
        a.delete("/a/s-0000000000", -1);
        // Error txns: NodeExists, BadVersion, NoNode on delete.
        try { a.create("/a", null, open, CreateMode.PERSISTENT); } catch (KeeperException.NodeExistsException e) { }
        try { a.setData("/a", b("q"), 42); } catch (KeeperException.BadVersionException e) { }
        try { a.delete("/nothere", -1); } catch (KeeperException.NoNodeException e) { }
        // A failed multi (the delete fails) and a successful one (create2 in multi, check, setData).
        try {
            a.multi(Arrays.asList(Op.create("/m", b("m"), open, CreateMode.PERSISTENT), Op.delete("/nothere", -1), Op.setData("/a", b("never"), -1)));
        } catch (KeeperException e) { }
        a.multi(Arrays.asList(Op.create("/m", b("m"), open, CreateMode.PERSISTENT),
                              Op.create("/m2", null, open, CreateMode.PERSISTENT),
                              Op.check("/a", 1),
                              Op.setData("/a", b("multi"), -1),
                              Op.delete("/m2", -1)));
        // Session b: one ephemeral, then a clean close (closeSession txn listing it).
        ZooKeeper bz = connect(hp, 10000);
        bz.create("/b-eph", b("b"), open, CreateMode.EPHEMERAL);
        bz.close();
        // Bulk writes so several logs and snapshots appear at a small snapCount.
        a.create("/n", null, open, CreateMode.PERSISTENT);
        for (int i = 0; i < 40; i++) {
            a.create("/n/" + i, b("value-" + i), open, CreateMode.PERSISTENT);
            if (i % 3 == 0) a.setData("/n/" + i, new byte[0], -1);
            if (i % 5 == 0) a.delete("/n/" + i, -1);
        }
        // Session c stays open (ephemeral kept) until the server is killed.
        ZooKeeper cz = connect(hp, 40000);
        cz.create("/c-eph", b("c"), open, CreateMode.EPHEMERAL);
        cz.create("/n/c-seq-", b("c"), open, CreateMode.EPHEMERAL_SEQUENTIAL);
        for (int i = 40; i < 52; i++) {
            a.create("/n/" + i, b("tail-" + i), open, CreateMode.PERSISTENT);
        }
        a.setData("/n/41", b("last"), -1);
        System.out.printf("sessions a=0x%x b=0x%x c=0x%x%n", a.getSessionId(), bz.getSessionId(), cz.getSessionId());
        // Leave a and c open: exit without closing so the server keeps both sessions.
        Runtime.getRuntime().halt(0);
    }
}
