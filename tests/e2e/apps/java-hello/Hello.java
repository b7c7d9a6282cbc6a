// Says who runs it, with which Java, and how many CAs the JVM's default trust store holds.
import com.sun.security.auth.module.UnixSystem;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;

public class Hello {
    public static void main(String[] args) throws Exception {
        UnixSystem unix = new UnixSystem();
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init((KeyStore) null);
        int trusted = 0;
        for (var tm : tmf.getTrustManagers()) {
            if (tm instanceof X509TrustManager x) {
                X509Certificate[] issuers = x.getAcceptedIssuers();
                trusted += issuers.length;
            }
        }
        System.out.printf("hello from java %s uid=%d gid=%d cwd=%s trusted=%d%n",
            System.getProperty("java.version"), unix.getUid(), unix.getGid(),
            System.getProperty("user.dir"), trusted);
    }
}
