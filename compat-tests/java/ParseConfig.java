// Prints what Java ZooKeeper 3.8's QuorumPeerConfig makes of a zoo.cfg, one `key=value` per
// line, in the format src/config.rs's compat test prints for ruzk. Used to (re)generate
// tests/data/config/*.expected; see tests/data/config/README.md.
import java.net.InetSocketAddress;
import org.apache.zookeeper.server.quorum.QuorumPeerConfig;

public class ParseConfig {
    static final String[] PROPS = {
        "zookeeper.snapCount", "zookeeper.preAllocSize", "zookeeper.forceSync", "zookeeper.4lw.commands.whitelist",
        "zookeeper.extendedTypesEnabled", "zookeeper.digest.enabled", "zookeeper.admin.enableServer",
        "zookeeper.admin.serverPort", "zookeeper.skipACL", "jute.maxbuffer", "zookeeper.jute.maxbuffer",
        "readonlymode.enabled", "zookeeper.readonlymode.enabled",
    };

    static String addr(InetSocketAddress a) {
        return a == null ? "none" : a.getHostString() + ":" + a.getPort();
    }

    public static void main(String[] args) {
        QuorumPeerConfig c = new QuorumPeerConfig();
        try {
            c.parse(args[0]);
        } catch (Exception e) {
            // The message is informational: ruzk words its errors differently (it names the line).
            System.out.println("result=error");
            for (Throwable t = e; t != null; t = t.getCause()) {
                System.out.println("java_error=" + t.getClass().getSimpleName() + ": " + t.getMessage());
            }
            return;
        }
        StringBuilder o = new StringBuilder("result=ok\n");
        o.append("dataDir=").append(c.getDataDir()).append('\n');
        o.append("dataLogDir=").append(c.getDataLogDir()).append('\n');
        o.append("clientPortAddress=").append(addr(c.getClientPortAddress())).append('\n');
        o.append("secureClientPortAddress=").append(addr(c.getSecureClientPortAddress())).append('\n');
        o.append("tickTime=").append(c.getTickTime()).append('\n');
        o.append("maxClientCnxns=").append(c.getMaxClientCnxns()).append('\n');
        o.append("minSessionTimeout=").append(c.getMinSessionTimeout()).append('\n');
        o.append("maxSessionTimeout=").append(c.getMaxSessionTimeout()).append('\n');
        o.append("initLimit=").append(c.getInitLimit()).append('\n');
        o.append("syncLimit=").append(c.getSyncLimit()).append('\n');
        o.append("peerType=").append(c.getPeerType().ordinal()).append('\n');
        o.append("snapRetainCount=").append(c.getSnapRetainCount()).append('\n');
        o.append("purgeInterval=").append(c.getPurgeInterval()).append('\n');
        o.append("serverId=").append(c.getServerId()).append('\n');
        o.append("distributed=").append(c.isDistributed()).append('\n');
        o.append("standaloneEnabled=").append(QuorumPeerConfig.isStandaloneEnabled()).append('\n');
        o.append("reconfigEnabled=").append(QuorumPeerConfig.isReconfigEnabled()).append('\n');
        o.append("localSessionsEnabled=").append(c.areLocalSessionsEnabled()).append('\n');
        o.append("clientPortListenBacklog=").append(c.getClientPortListenBacklog()).append('\n');
        o.append("metricsProvider=").append(c.getMetricsProviderConfiguration()).append('\n');
        o.append("qv=").append(c.getQuorumVerifier() == null ? "none"
                : c.getQuorumVerifier().toString().replace("\n", "\\n")).append('\n');
        for (String p : PROPS) {
            o.append("prop.").append(p).append('=').append(System.getProperty(p, "<unset>")).append('\n');
        }
        System.out.print(o);
    }
}
