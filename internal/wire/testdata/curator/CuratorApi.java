import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.apache.curator.RetryPolicy;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.api.BackgroundCallback;
import org.apache.curator.framework.api.CuratorEvent;
import org.apache.curator.retry.ExponentialBackoffRetry;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.data.Stat;

// The seed's Curator walk-through (002, §4.2 to §4.6): the same calls, in a
// main instead of JUnit methods, against the address given as argument.
// Every line the test checks starts with "STEP".
public class CuratorApi {
    static CuratorFramework client;

    public static void main(String[] args) throws Exception {
        testConnect(args[0]);
        testCreate();
        testCreate2();
        testCreate3();
        testCreate4();
        testGet1();
        testGet2();
        testGet3();
        testSet();
        testSetForVersion();
        testDelete();
        testDelete2();
        testDelete3();
        client.create().forPath("/app1"); // testDelete4 deletes /app1 again
        testDelete4();
        client.close();
        System.out.println("STEP done");
    }

    // 4.2: connect, with a namespace.
    static void testConnect(String connect) {
        RetryPolicy retryPolicy = new ExponentialBackoffRetry(3000, 10);
        client = CuratorFrameworkFactory.builder()
            .connectString(connect)
            .sessionTimeoutMs(60 * 1000)
            .connectionTimeoutMs(15 * 1000)
            .retryPolicy(retryPolicy)
            .namespace("itheima")
            .build();
        client.start();
    }

    // 4.3: create.
    static void testCreate() throws Exception {
        String path = client.create().forPath("/app2", "hehe".getBytes());
        System.out.println("STEP create " + path);
    }

    static void testCreate2() throws Exception {
        // Without data Curator stores the client's IP address.
        String path = client.create().forPath("/app1");
        System.out.println("STEP create2 " + path);
    }

    static void testCreate3() throws Exception {
        String path = client.create().withMode(CreateMode.EPHEMERAL).forPath("/app3");
        System.out.println("STEP create3 " + path);
    }

    static void testCreate4() throws Exception {
        String path = client.create().creatingParentsIfNeeded().forPath("/app4/p1");
        System.out.println("STEP create4 " + path);
    }

    // 4.4: read.
    static void testGet1() throws Exception {
        byte[] data = client.getData().forPath("/app1");
        System.out.println("STEP get1 " + new String(data));
    }

    static void testGet2() throws Exception {
        List<String> path = client.getChildren().forPath("/");
        java.util.Collections.sort(path);
        System.out.println("STEP get2 " + path);
    }

    static void testGet3() throws Exception {
        Stat status = new Stat();
        client.getData().storingStatIn(status).forPath("/app1");
        System.out.println("STEP get3 version=" + status.getVersion() + " czxid>0=" + (status.getCzxid() > 0)
            + " dataLength=" + status.getDataLength());
    }

    // 4.5: set.
    static void testSet() throws Exception {
        client.setData().forPath("/app1", "itcast".getBytes());
        System.out.println("STEP set " + new String(client.getData().forPath("/app1")));
    }

    static void testSetForVersion() throws Exception {
        Stat status = new Stat();
        client.getData().storingStatIn(status).forPath("/app1");
        int version = status.getVersion();
        client.setData().withVersion(version).forPath("/app1", "hehe".getBytes());
        try {
            client.setData().withVersion(version).forPath("/app1", "stale".getBytes());
            System.out.println("STEP setForVersion stale version accepted");
        } catch (org.apache.zookeeper.KeeperException.BadVersionException e) {
            System.out.println("STEP setForVersion " + version + " " + new String(client.getData().forPath("/app1")) + " BadVersion");
        }
    }

    // 4.6: delete.
    static void testDelete() throws Exception {
        client.delete().forPath("/app1");
        System.out.println("STEP delete " + (client.checkExists().forPath("/app1") == null));
    }

    static void testDelete2() throws Exception {
        client.delete().deletingChildrenIfNeeded().forPath("/app4");
        System.out.println("STEP delete2 " + (client.checkExists().forPath("/app4") == null));
    }

    static void testDelete3() throws Exception {
        client.delete().guaranteed().forPath("/app2");
        System.out.println("STEP delete3 " + (client.checkExists().forPath("/app2") == null));
    }

    static void testDelete4() throws Exception {
        final CountDownLatch called = new CountDownLatch(1);
        client.delete().guaranteed().inBackground(new BackgroundCallback() {
            @Override
            public void processResult(CuratorFramework client, CuratorEvent event) throws Exception {
                System.out.println("STEP delete4 " + event.getType() + " " + event.getResultCode() + " " + event.getPath());
                called.countDown();
            }
        }).forPath("/app1");
        if (!called.await(20, TimeUnit.SECONDS)) {
            System.out.println("STEP delete4 no callback");
        }
    }
}
