// Exercises Curator 5.4 recipes against the server and asserts their results: InterProcessMutex,
// LeaderLatch, LeaderSelector, CuratorCache, DistributedAtomicLong, DistributedQueue, PersistentNode,
// PersistentTtlNode and ServiceDiscovery. Prints "PASS name" / "FAIL name: why" per recipe.

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.atomic.AtomicValue;
import org.apache.curator.framework.recipes.atomic.DistributedAtomicLong;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.apache.curator.framework.recipes.cache.CuratorCacheListener;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.framework.recipes.leader.LeaderSelector;
import org.apache.curator.framework.recipes.leader.LeaderSelectorListenerAdapter;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.apache.curator.framework.recipes.nodes.PersistentNode;
import org.apache.curator.framework.recipes.nodes.PersistentTtlNode;
import org.apache.curator.framework.recipes.queue.DistributedQueue;
import org.apache.curator.framework.recipes.queue.QueueBuilder;
import org.apache.curator.framework.recipes.queue.QueueConsumer;
import org.apache.curator.framework.recipes.queue.QueueSerializer;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.retry.ExponentialBackoffRetry;
import org.apache.curator.x.discovery.ServiceDiscovery;
import org.apache.curator.x.discovery.ServiceDiscoveryBuilder;
import org.apache.curator.x.discovery.ServiceInstance;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.data.Stat;

public class CuratorCheck {
    interface Check {
        void run() throws Exception;
    }

    static int failures = 0;
    static String host;
    static String base;
    static final List<CuratorFramework> clients = new ArrayList<>();

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

    interface Cond {
        boolean ok() throws Exception;
    }

    static void waitUntil(Cond c, String what) throws Exception {
        long deadline = System.currentTimeMillis() + 30000;
        while (!c.ok()) {
            if (System.currentTimeMillis() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(20);
        }
    }

    static CuratorFramework client() throws Exception {
        CuratorFramework c = CuratorFrameworkFactory.builder()
                .connectString(host)
                .sessionTimeoutMs(15000)
                .connectionTimeoutMs(15000)
                .retryPolicy(new ExponentialBackoffRetry(100, 5))
                .build();
        c.start();
        expect(c.blockUntilConnected(30, TimeUnit.SECONDS), "curator connected");
        clients.add(c);
        return c;
    }

    public static void main(String[] args) throws Exception {
        host = System.getenv().getOrDefault("ZK_HOST", "127.0.0.1:2181");
        base = "/curator-" + Long.toHexString(System.nanoTime());
        CuratorFramework main = client();
        main.create().forPath(base);

        check("InterProcessMutex", () -> {
            String lockPath = base + "/lock";
            AtomicInteger inside = new AtomicInteger();
            AtomicInteger maxInside = new AtomicInteger();
            AtomicInteger done = new AtomicInteger();
            ExecutorService pool = Executors.newFixedThreadPool(3);
            List<Future<?>> fs = new ArrayList<>();
            for (int t = 0; t < 3; t++) {
                CuratorFramework c = client();
                fs.add(pool.submit(() -> {
                    InterProcessMutex m = new InterProcessMutex(c, lockPath);
                    for (int i = 0; i < 5; i++) {
                        expect(m.acquire(30, TimeUnit.SECONDS), "acquired");
                        try {
                            int now = inside.incrementAndGet();
                            maxInside.accumulateAndGet(now, Math::max);
                            Thread.sleep(5);
                            inside.decrementAndGet();
                            done.incrementAndGet();
                        } finally {
                            m.release();
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : fs) {
                f.get(120, TimeUnit.SECONDS);
            }
            pool.shutdown();
            expectEq(15, done.get(), "critical sections");
            expectEq(1, maxInside.get(), "mutual exclusion");
            expectEq(Collections.emptyList(), main.getChildren().forPath(lockPath), "lock nodes cleaned up");
        });

        check("LeaderLatch", () -> {
            String p = base + "/latch";
            List<LeaderLatch> latches = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                LeaderLatch l = new LeaderLatch(client(), p, "id" + i);
                l.start();
                latches.add(l);
            }
            waitUntil(() -> latches.stream().filter(LeaderLatch::hasLeadership).count() == 1, "one leader");
            LeaderLatch leader = latches.stream().filter(LeaderLatch::hasLeadership).findFirst().get();
            expectEq(leader.getId(), latches.get(0).getLeader().getId(), "everyone agrees on the leader");
            leader.close();
            latches.remove(leader);
            waitUntil(() -> latches.stream().filter(LeaderLatch::hasLeadership).count() == 1, "a new leader");
            expectEq(2, latches.get(0).getParticipants().size(), "participants");
            for (LeaderLatch l : latches) {
                l.close();
            }
        });

        check("LeaderSelector", () -> {
            String p = base + "/selector";
            AtomicInteger leaders = new AtomicInteger();
            AtomicInteger concurrent = new AtomicInteger();
            AtomicInteger maxConcurrent = new AtomicInteger();
            List<String> who = new CopyOnWriteArrayList<>();
            List<LeaderSelector> sels = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                String name = "sel" + i;
                LeaderSelector s = new LeaderSelector(client(), p, new LeaderSelectorListenerAdapter() {
                    public void takeLeadership(CuratorFramework c) throws Exception {
                        maxConcurrent.accumulateAndGet(concurrent.incrementAndGet(), Math::max);
                        who.add(name);
                        leaders.incrementAndGet();
                        Thread.sleep(100);
                        concurrent.decrementAndGet();
                    }
                });
                s.setId(name);
                s.autoRequeue();
                s.start();
                sels.add(s);
            }
            waitUntil(() -> leaders.get() >= 4, "4 leadership terms");
            for (LeaderSelector s : sels) {
                s.close();
            }
            expectEq(1, maxConcurrent.get(), "one leader at a time");
            expect(who.contains("sel0") && who.contains("sel1"), "both selectors led: " + who);
        });

        check("CuratorCache", () -> {
            String p = base + "/cache";
            main.create().forPath(p);
            List<String> events = new CopyOnWriteArrayList<>();
            CuratorCache cache = CuratorCache.build(main, p);
            CountDownLatch initialized = new CountDownLatch(1);
            cache.listenable().addListener(CuratorCacheListener.builder()
                    .forCreates(n -> events.add("create " + n.getPath() + " " + new String(n.getData(), StandardCharsets.UTF_8)))
                    .forChanges((o, n) -> events.add("change " + n.getPath() + " " + new String(n.getData(), StandardCharsets.UTF_8)))
                    .forDeletes(o -> events.add("delete " + o.getPath()))
                    .forInitialized(initialized::countDown)
                    .build());
            cache.start();
            expect(initialized.await(30, TimeUnit.SECONDS), "cache initialized");
            main.create().forPath(p + "/a", "1".getBytes(StandardCharsets.UTF_8));
            waitUntil(() -> events.contains("create " + p + "/a 1"), "create event " + events);
            main.setData().forPath(p + "/a", "2".getBytes(StandardCharsets.UTF_8));
            waitUntil(() -> events.contains("change " + p + "/a 2"), "change event " + events);
            main.delete().forPath(p + "/a");
            waitUntil(() -> events.contains("delete " + p + "/a"), "delete event " + events);
            expect(!cache.get(p + "/a").isPresent(), "deleted node gone from cache");
            cache.close();
        });

        check("DistributedAtomicLong", () -> {
            String p = base + "/counter";
            ExecutorService pool = Executors.newFixedThreadPool(3);
            List<Future<?>> fs = new ArrayList<>();
            for (int t = 0; t < 3; t++) {
                CuratorFramework c = client();
                fs.add(pool.submit(() -> {
                    DistributedAtomicLong n = new DistributedAtomicLong(c, p, new ExponentialBackoffRetry(10, 29));
                    for (int i = 0; i < 20; i++) {
                        AtomicValue<Long> v = n.increment();
                        expect(v.succeeded(), "increment succeeded");
                    }
                    return null;
                }));
            }
            for (Future<?> f : fs) {
                f.get(120, TimeUnit.SECONDS);
            }
            pool.shutdown();
            DistributedAtomicLong n = new DistributedAtomicLong(main, p, new ExponentialBackoffRetry(10, 5));
            expectEq(60L, n.get().postValue(), "final counter");
        });

        check("DistributedQueue", () -> {
            String p = base + "/queue";
            List<String> got = new CopyOnWriteArrayList<>();
            QueueSerializer<String> ser = new QueueSerializer<String>() {
                public byte[] serialize(String item) {
                    return item.getBytes(StandardCharsets.UTF_8);
                }

                public String deserialize(byte[] bytes) {
                    return new String(bytes, StandardCharsets.UTF_8);
                }
            };
            QueueConsumer<String> consumer = new QueueConsumer<String>() {
                public void consumeMessage(String message) {
                    got.add(message);
                }

                public void stateChanged(CuratorFramework c, ConnectionState s) {
                }
            };
            DistributedQueue<String> consumerQ = QueueBuilder.builder(client(), consumer, ser, p).buildQueue();
            consumerQ.start();
            DistributedQueue<String> producerQ = QueueBuilder.builder(client(), null, ser, p).buildQueue();
            producerQ.start();
            List<String> sent = new ArrayList<>();
            for (int i = 0; i < 25; i++) {
                sent.add("item-" + i);
                producerQ.put("item-" + i);
            }
            waitUntil(() -> got.size() >= 25, "25 messages, have " + got.size());
            expectEq(sent, new ArrayList<>(got), "all messages, in order");
            producerQ.close();
            consumerQ.close();
        });

        check("PersistentNode", () -> {
            String p = base + "/pnode";
            CuratorFramework c = client();
            PersistentNode node = new PersistentNode(c, CreateMode.EPHEMERAL, false, p, "hello".getBytes(StandardCharsets.UTF_8));
            node.start();
            expect(node.waitForInitialCreate(30, TimeUnit.SECONDS), "initial create");
            Stat st = main.checkExists().forPath(p);
            expect(st != null, "node exists");
            expectEq(c.getZookeeperClient().getZooKeeper().getSessionId(), st.getEphemeralOwner(), "owner");
            main.delete().forPath(p);  // someone removes it: the recipe recreates it
            waitUntil(() -> main.checkExists().forPath(p) != null, "recreated");
            expectEq("hello", new String(main.getData().forPath(p), StandardCharsets.UTF_8), "data");
            node.close();
            waitUntil(() -> main.checkExists().forPath(p) == null, "removed on close");
        });

        check("PersistentTtlNode", () -> {
            String p = base + "/ttlnode";
            PersistentTtlNode node = new PersistentTtlNode(client(), p, 3000, "ttl".getBytes(StandardCharsets.UTF_8));
            node.start();
            expect(node.waitForInitialCreate(30, TimeUnit.SECONDS), "initial create");
            Stat st = main.checkExists().forPath(p);
            expect(st != null, "ttl node exists");
            expectEq(0L, st.getEphemeralOwner(), "TTL node shows owner 0");
            expectEq("ttl", new String(main.getData().forPath(p), StandardCharsets.UTF_8), "data");
            waitUntil(() -> main.checkExists().forPath(p + "/touch") != null, "touch child");
            Thread.sleep(4500);  // longer than the TTL: the touch node keeps it alive
            expect(main.checkExists().forPath(p) != null, "kept alive while touched");
            node.close();
            // without its touch child the TTL node is reaped (check interval 1 s in the tests)
            waitUntil(() -> main.checkExists().forPath(p) == null, "TTL node reaped after close");
        });

        check("ServiceDiscovery", () -> {
            String p = base + "/services";
            ServiceDiscovery<Void> sd1 = ServiceDiscoveryBuilder.builder(Void.class).client(client()).basePath(p).build();
            ServiceDiscovery<Void> sd2 = ServiceDiscoveryBuilder.builder(Void.class).client(client()).basePath(p).build();
            sd1.start();
            sd2.start();
            ServiceInstance<Void> a = ServiceInstance.<Void>builder().name("web").address("10.0.0.1").port(8080).build();
            ServiceInstance<Void> b = ServiceInstance.<Void>builder().name("web").address("10.0.0.2").port(8081).build();
            sd1.registerService(a);
            sd2.registerService(b);
            ServiceDiscovery<Void> reader = ServiceDiscoveryBuilder.builder(Void.class).client(main).basePath(p).build();
            reader.start();
            expectEq(Collections.singletonList("web"), new ArrayList<>(reader.queryForNames()), "names");
            Collection<ServiceInstance<Void>> all = reader.queryForInstances("web");
            List<Integer> ports = new ArrayList<>();
            for (ServiceInstance<Void> si : all) {
                ports.add(si.getPort());
            }
            Collections.sort(ports);
            expectEq(List.of(8080, 8081), ports, "instances");
            expectEq("10.0.0.1", reader.queryForInstance("web", a.getId()).getAddress(), "by id");
            sd2.unregisterService(b);
            waitUntil(() -> reader.queryForInstances("web").size() == 1, "one instance left");
            sd1.close();  // instances are ephemeral: closing removes them
            waitUntil(() -> reader.queryForInstances("web").isEmpty(), "no instance left");
            sd2.close();
            reader.close();
        });

        for (CuratorFramework c : clients) {
            if (c != main) {
                c.close();
            }
        }
        try {
            main.delete().deletingChildrenIfNeeded().forPath(base);
        } catch (Exception e) {
            System.out.println("cleanup failed: " + e);
        }
        main.close();
        System.out.println("DONE failures=" + failures);
        System.exit(failures == 0 ? 0 : 1);
    }
}
