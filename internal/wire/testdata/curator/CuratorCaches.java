import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import org.apache.curator.RetryPolicy;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.apache.curator.framework.recipes.cache.CuratorCacheListener;
import org.apache.curator.framework.recipes.cache.NodeCache;
import org.apache.curator.framework.recipes.cache.NodeCacheListener;
import org.apache.curator.framework.recipes.cache.PathChildrenCache;
import org.apache.curator.framework.recipes.cache.PathChildrenCacheEvent;
import org.apache.curator.framework.recipes.cache.PathChildrenCacheListener;
import org.apache.curator.framework.recipes.cache.TreeCache;
import org.apache.curator.framework.recipes.cache.TreeCacheEvent;
import org.apache.curator.framework.recipes.cache.TreeCacheListener;
import org.apache.curator.retry.ExponentialBackoffRetry;

// The seed's caches (002, §4.8 to §4.10): NodeCache on /app1,
// PathChildrenCache on /app2 (with data), TreeCache on /app2, each with the
// seed's listener; instead of the seed's endless loop, a second client
// makes changes and the program waits until every cache reported them.
// Curator 5's CuratorCache (persistent recursive watch) runs beside them.
// Every line the test checks starts with "SEEN".
public class CuratorCaches {
    static final BlockingQueue<String> seen = new LinkedBlockingQueue<>();

    static CuratorFramework connect(String connect) {
        RetryPolicy retryPolicy = new ExponentialBackoffRetry(3000, 10);
        CuratorFramework client = CuratorFrameworkFactory.builder()
            .connectString(connect)
            .sessionTimeoutMs(60 * 1000)
            .connectionTimeoutMs(15 * 1000)
            .retryPolicy(retryPolicy)
            .namespace("itheima")
            .build();
        client.start();
        return client;
    }

    static void see(String what) {
        System.out.println("SEEN " + what);
        seen.add(what);
    }

    public static void main(String[] args) throws Exception {
        CuratorFramework client = connect(args[0]);
        CuratorFramework other = connect(args[0]);
        client.create().forPath("/app1", "start".getBytes());
        client.create().forPath("/app2", "parent".getBytes());

        // 4.8 NodeCache
        final NodeCache nodeCache = new NodeCache(client, "/app1");
        nodeCache.getListenable().addListener(new NodeCacheListener() {
            @Override
            public void nodeChanged() throws Exception {
                byte[] data = nodeCache.getCurrentData() == null ? null : nodeCache.getCurrentData().getData();
                see("node " + (data == null ? "<gone>" : new String(data)));
            }
        });
        nodeCache.start(true);

        // 4.9 PathChildrenCache
        PathChildrenCache pathChildrenCache = new PathChildrenCache(client, "/app2", true);
        pathChildrenCache.getListenable().addListener(new PathChildrenCacheListener() {
            @Override
            public void childEvent(CuratorFramework c, PathChildrenCacheEvent event) throws Exception {
                PathChildrenCacheEvent.Type type = event.getType();
                if (event.getData() == null) {
                    see("children " + type);
                    return;
                }
                String data = event.getData().getData() == null ? "" : new String(event.getData().getData());
                see("children " + type + " " + event.getData().getPath() + " " + data);
            }
        });
        pathChildrenCache.start();

        // 4.10 TreeCache
        TreeCache treeCache = new TreeCache(client, "/app2");
        treeCache.getListenable().addListener(new TreeCacheListener() {
            @Override
            public void childEvent(CuratorFramework c, TreeCacheEvent event) throws Exception {
                if (event.getData() == null) {
                    see("tree " + event.getType());
                    return;
                }
                byte[] d = event.getData().getData();
                see("tree " + event.getType() + " " + event.getData().getPath() + " " + (d == null ? "" : new String(d)));
            }
        });
        treeCache.start();

        // Curator 5's CuratorCache (addWatch PERSISTENT_RECURSIVE), on a
        // client of its own: ZooKeeper 3.8.0 keeps one watch mode per path
        // and connection, so a persistent watch there would replace the
        // TreeCache's watches (ZOOKEEPER-4466; zk keeps both).
        CuratorFramework third = connect(args[0]);
        CuratorCache curatorCache = CuratorCache.build(third, "/app2");
        curatorCache.listenable().addListener(CuratorCacheListener.builder()
            .forCreates(n -> see("curator created " + n.getPath() + " " + new String(n.getData())))
            .forChanges((o, n) -> see("curator changed " + n.getPath() + " " + new String(n.getData())))
            .forDeletes(o -> see("curator deleted " + o.getPath()))
            .forInitialized(() -> see("curator initialized"))
            .build());
        curatorCache.start();

        expect("tree INITIALIZED", "curator initialized", "tree NODE_ADDED /app2 parent");

        other.setData().forPath("/app1", "itcast".getBytes());
        expect("node itcast");
        other.create().forPath("/app2/c1", "one".getBytes());
        expect("children CHILD_ADDED /app2/c1 one", "tree NODE_ADDED /app2/c1 one",
            "curator created /app2/c1 one");
        other.setData().forPath("/app2/c1", "two".getBytes());
        expect("children CHILD_UPDATED /app2/c1 two", "tree NODE_UPDATED /app2/c1 two",
            "curator changed /app2/c1 two");
        other.create().creatingParentsIfNeeded().forPath("/app2/c1/g1", "deep".getBytes());
        expect("tree NODE_ADDED /app2/c1/g1 deep", "curator created /app2/c1/g1 deep");
        other.delete().deletingChildrenIfNeeded().forPath("/app2/c1");
        expect("children CHILD_REMOVED /app2/c1 two", "tree NODE_REMOVED /app2/c1/g1 deep",
            "tree NODE_REMOVED /app2/c1 two", "curator deleted /app2/c1/g1",
            "curator deleted /app2/c1");
        other.delete().forPath("/app1");
        expect("node <gone>");

        curatorCache.close();
        treeCache.close();
        pathChildrenCache.close();
        nodeCache.close();
        third.close();
        other.close();
        client.close();
        System.out.println("SEEN done");
    }

    // expect waits until every event was seen (in any order among them).
    static void expect(String... events) throws Exception {
        java.util.Set<String> want = new java.util.HashSet<>(java.util.Arrays.asList(events));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!want.isEmpty()) {
            String e = seen.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
            if (e == null) {
                System.out.println("MISSING " + want);
                System.exit(1);
            }
            want.remove(e);
        }
    }
}
