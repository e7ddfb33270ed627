// The real Java client (Debian's zookeeper.jar 3.8.0) doing SASL DIGEST-MD5 with the JAAS
// "Client" section it is given (-Djava.security.auth.login.config): prints one line per
// observation, which check.py compares between the Java server and ruzk.
// Usage: JavaSaslCheck HOST ACL_PATH

import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.ClientInfo;

public class JavaSaslCheck {
    public static void main(String[] args) throws Exception {
        String host = args[0];
        String path = args[1];
        CountDownLatch done = new CountDownLatch(1);
        AtomicReference<String> state = new AtomicReference<>("none");
        ZooKeeper zk = new ZooKeeper(host, 10000, e -> {
            Watcher.Event.KeeperState s = e.getState();
            if (s == Watcher.Event.KeeperState.SaslAuthenticated || s == Watcher.Event.KeeperState.AuthFailed) {
                state.compareAndSet("none", s.toString());
                done.countDown();
            }
        });
        if (!done.await(20, TimeUnit.SECONDS)) {
            System.out.println("auth=timeout");
        } else {
            System.out.println("auth=" + state.get());
        }
        try {
            List<ClientInfo> who = zk.whoAmI();
            StringBuilder sb = new StringBuilder();
            for (ClientInfo ci : who) {
                if (!ci.getAuthScheme().equals("ip")) {
                    sb.append(ci.getAuthScheme()).append(':').append(ci.getUser()).append(' ');
                }
            }
            System.out.println("whoami=" + sb.toString().trim());
        } catch (Exception e) {
            System.out.println("whoami=" + (e instanceof KeeperException ? ((KeeperException) e).code() : e.getClass().getSimpleName()));
        }
        try {
            byte[] d = zk.getData(path, false, null);
            System.out.println("read=" + new String(d, "UTF-8"));
        } catch (KeeperException e) {
            System.out.println("read=" + e.code());
        }
        zk.close();
    }
}
