import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.cache.ChildData;
import org.apache.curator.framework.recipes.cache.TreeCache;
import org.apache.curator.framework.recipes.cache.TreeCacheEvent;

// CompressedCache is the Curator side of the compressed-data exchange with
// a Go process (zk's recipes.Compress and WithCompressedData). Usage:
// CompressedCache <connect> <root>. It writes <root>/java and
// <root>/java-empty compressed (the default GzipCompressionProvider), then
// reads the tree below <root> with a TreeCache built with compressed data
// and prints "SEEN <name> <length> <data>" for each child of <root>, then
// "READ <name> <data>" for each read with getData().decompressed(), then
// "END".
public class CompressedCache {
    public static void main(String[] args) throws Exception {
        CuratorFramework c = SharedPaths.connect(args[0]);
        if (c == null) {
            return;
        }
        String root = args[1];
        c.create().compressed().forPath(root + "/java", "from curator".getBytes(StandardCharsets.UTF_8));
        c.create().compressed().forPath(root + "/java-empty", new byte[0]);
        CountDownLatch initialized = new CountDownLatch(1);
        TreeCache cache = TreeCache.newBuilder(c, root).setDataIsCompressed(true).build();
        cache.getListenable().addListener((client, event) -> {
            if (event.getType() == TreeCacheEvent.Type.INITIALIZED) {
                initialized.countDown();
            }
        });
        cache.start();
        if (!initialized.await(20, TimeUnit.SECONDS)) {
            System.out.println("ERROR the cache did not initialize");
            return;
        }
        Map<String, ChildData> kids = new TreeMap<>(cache.getCurrentChildren(root));
        for (Map.Entry<String, ChildData> e : kids.entrySet()) {
            byte[] d = e.getValue().getData();
            String s = d == null ? "null" : new String(d, StandardCharsets.UTF_8);
            System.out.println("SEEN " + e.getKey() + " " + (d == null ? -1 : d.length) + " " + (s.length() > 40 ? s.substring(0, 40) : s));
        }
        for (String name : kids.keySet()) {
            byte[] d = c.getData().decompressed().forPath(root + "/" + name);
            String s = new String(d, StandardCharsets.UTF_8);
            System.out.println("READ " + name + " " + (s.length() > 40 ? s.substring(0, 40) : s));
        }
        System.out.println("END");
        cache.close();
        c.close();
    }
}
