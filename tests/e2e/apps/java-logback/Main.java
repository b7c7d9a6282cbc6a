import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

public class Main {
    private static final Logger LOG = LoggerFactory.getLogger("app");

    public static void main(String[] args) throws Exception {
        LOG.info("java-logback app started");
        while (true) {
            Thread.sleep(1000);
        }
    }
}
