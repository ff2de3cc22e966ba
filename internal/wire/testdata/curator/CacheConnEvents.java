import java.io.BufferedReader;
import java.io.Closeable;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;

import org.apache.curator.framework.recipes.cache.ChildData;
import org.apache.curator.framework.recipes.cache.NodeCache;
import org.apache.curator.framework.recipes.cache.PathChildrenCache;
import org.apache.curator.framework.recipes.cache.TreeCache;
import org.apache.curator.retry.RetryForever;

// CacheConnEvents prints what a Curator TreeCache tells its listener, for
// the comparison with zk's recipes caches (TestCuratorCacheConnEvents).
// Usage: CacheConnEvents <connect> <root> <sessionTimeoutMs> [tree|children|node].
// It starts a TreeCache on <root> (or a PathChildrenCache, started with
// POST_INITIALIZED_EVENT, or a NodeCache) and prints "EVENT <type> <path>
// <data>" for each event (path and data "-" when there are none; a
// NodeCache's listener is told no event: it prints NODE_CHANGED and the
// cache's current data, path and data "-" when the node is gone), in the
// order the listener is called, and "STATE <state>" for each state its
// client's connection takes (a NodeCache tells none), until its standard
// input is closed; then it closes
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
        c.getConnectionStateListenable().addListener((client, state) -> {
            System.out.println("STATE " + state);
            System.out.flush();
        });
        String kind = args.length > 3 ? args[3] : "tree";
        Closeable cache;
        if (kind.equals("children")) {
            PathChildrenCache pc = new PathChildrenCache(c, args[1], true);
            pc.getListenable().addListener((client, event) -> print(event.getType().toString(), event.getData()));
            pc.start(PathChildrenCache.StartMode.POST_INITIALIZED_EVENT);
            cache = pc;
        } else if (kind.equals("node")) {
            NodeCache nc = new NodeCache(c, args[1]);
            nc.getListenable().addListener(() -> print("NODE_CHANGED", nc.getCurrentData()));
            nc.start();
            cache = nc;
        } else {
            TreeCache tc = TreeCache.newBuilder(c, args[1]).build();
            tc.getListenable().addListener((client, event) -> print(event.getType().toString(), event.getData()));
            tc.start();
            cache = tc;
        }
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        while (in.readLine() != null) {
        }
        cache.close();
        c.close();
        System.out.println("END");
    }

    // print prints one event: its type, and the path and data of d.
    private static void print(String type, ChildData d) {
        String path = d == null ? "-" : d.getPath();
        String data = d == null || d.getData() == null ? "-" : new String(d.getData(), StandardCharsets.UTF_8);
        System.out.println("EVENT " + type + " " + path + " " + data);
        System.out.flush();
    }
}
