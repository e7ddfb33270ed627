// Parses a JAAS file with the JDK's own ConfigFile and prints what it read ("ok" and, for each
// section named on the command line, its modules, flags and options sorted by key) or
// "error <message>". gen_jaas_expected.sh records this next to each file in tests/data/jaas;
// src/config/jaas.rs must read every file the same way.
import java.io.File;
import java.util.Map;
import java.util.TreeMap;
import javax.security.auth.login.AppConfigurationEntry;
import javax.security.auth.login.Configuration;

public class JaasParse {
    public static void main(String[] a) {
        try {
            Configuration c = new com.sun.security.auth.login.ConfigFile(new File(a[0]).toURI());
            System.out.println("ok");
            for (int i = 1; i < a.length; i++) {
                AppConfigurationEntry[] es = c.getAppConfigurationEntry(a[i]);
                if (es == null) {
                    System.out.println("absent " + a[i]);
                    continue;
                }
                System.out.println("section " + a[i]);
                for (AppConfigurationEntry e : es) {
                    String flag = e.getControlFlag().toString().replace("LoginModuleControlFlag: ", "");
                    System.out.println("module " + e.getLoginModuleName() + " " + flag);
                    for (Map.Entry<String, ?> o : new TreeMap<String, Object>(e.getOptions()).entrySet()) {
                        System.out.println("option " + o.getKey() + "=" + o.getValue());
                    }
                }
            }
        } catch (SecurityException e) {
            System.out.println("error " + e.getMessage());
        }
    }
}
