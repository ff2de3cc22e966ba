import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.cache.ChildData;
import org.apache.curator.framework.recipes.cache.TreeCache;
import org.apache.curator.retry.RetryForever;

// CacheConnEvents prints what a Curator TreeCache tells its listener, for
// the comparison with zk's recipes caches (TestCuratorCacheConnEvents).
// Usage: CacheConnEvents <connect> <root> <sessionTimeoutMs>. It starts a
// TreeCache on <root> and prints "EVENT <type> <path> <data>" for each
// event (path and data "-" when there are none), in the order the
// listener is called, until its standard input is closed; then it closes
// the cache and the client and prints "END". It exits by itself after two
// minutes whatever happens.
public class CacheConnEvents {
    public static void main(String[] args) throws Exception {
        ScheduledExecutorService bound = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r);
            t.setDaemon(true);
            return t;
        });
        bound.schedule(() -> {
            System.out.println("ERROR still running after two minutes");
            System.out.flush();
            Runtime.getRuntime().halt(3);
        }, 2, TimeUnit.MINUTES);
        int timeout = Integer.parseInt(args[2]);
        CuratorFramework c = CuratorFrameworkFactory.newClient(args[0], timeout, timeout, new RetryForever(100));
        c.start();
        if (!c.blockUntilConnected(20, TimeUnit.SECONDS)) {
            System.out.println("ERROR not connected");
            c.close();
            return;
        }
        TreeCache cache = TreeCache.newBuilder(c, args[1]).build();
        cache.getListenable().addListener((client, event) -> {
            ChildData d = event.getData();
            String path = d == null ? "-" : d.getPath();
            String data = d == null || d.getData() == null ? "-" : new String(d.getData(), StandardCharsets.UTF_8);
            System.out.println("EVENT " + event.getType() + " " + path + " " + data);
            System.out.flush();
        });
        cache.start();
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        while (in.readLine() != null) {
        }
        cache.close();
        c.close();
        System.out.println("END");
    }
}
