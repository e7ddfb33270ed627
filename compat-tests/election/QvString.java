import java.io.StringReader;
import java.util.Properties;
import org.apache.zookeeper.server.quorum.flexible.QuorumHierarchical;
import org.apache.zookeeper.server.quorum.flexible.QuorumMaj;
import org.apache.zookeeper.server.quorum.flexible.QuorumVerifier;

/** Prints Java 3.8.0's QuorumVerifier.toString for QV texts given as arguments (for ruzk's golden tests). */
public class QvString {
    public static void main(String[] args) throws Exception {
        for (String text : args) {
            Properties p = new Properties();
            p.load(new StringReader(text));
            boolean hier = false;
            for (Object k : p.keySet()) {
                String key = k.toString().trim();
                if (key.startsWith("group") || key.startsWith("weight")) hier = true;
            }
            QuorumVerifier qv = hier ? new QuorumHierarchical(p) : new QuorumMaj(p);
            System.out.println("----");
            System.out.println(qv.toString());
        }
    }
}
