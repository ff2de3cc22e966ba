import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.apache.curator.RetryPolicy;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.apache.curator.retry.ExponentialBackoffRetry;

// The seed's LockTest (002, §4.13): two threads, "携程" and "飞猪", share one
// Ticket12306. Then the same office with several clients: each thread has
// its own client (its own session) and its own InterProcessMutex on
// /lock, and the ticket count lives in the node /tickets, so only the lock
// keeps two sellers from selling the same ticket.
public class LockTest {
    public static void main(String[] args) throws Exception {
        String connect = args[0];
        Ticket12306 ticket12306 = new Ticket12306(connect);
        Thread t1 = new Thread(ticket12306, "携程");
        Thread t2 = new Thread(ticket12306, "飞猪");
        t1.start();
        t2.start();
        t1.join();
        t2.join();
        ticket12306.client.close();
        System.out.println("SEED DONE");

        int sellers = Integer.parseInt(args[1]);
        int total = Integer.parseInt(args[2]);
        CuratorFramework setup = client(connect);
        setup.create().forPath("/tickets", Integer.toString(total).getBytes());
        setup.close();
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < sellers; i++) {
            final String name = "seller-" + i;
            Thread t = new Thread(() -> sell(connect, name), name);
            threads.add(t);
            t.start();
        }
        for (Thread t : threads) {
            t.join();
        }
        System.out.println("MANY DONE");
    }

    static CuratorFramework client(String connect) {
        RetryPolicy retryPolicy = new ExponentialBackoffRetry(3000, 10);
        CuratorFramework client = CuratorFrameworkFactory.builder()
            .connectString(connect)
            .sessionTimeoutMs(60 * 1000)
            .connectionTimeoutMs(15 * 1000)
            .retryPolicy(retryPolicy)
            .build();
        client.start();
        return client;
    }

    // sell sells tickets from /tickets under the lock until none is left.
    static void sell(String connect, String name) {
        CuratorFramework client = client(connect);
        InterProcessMutex lock = new InterProcessMutex(client, "/lock");
        try {
            while (true) {
                if (!lock.acquire(30, TimeUnit.SECONDS)) {
                    System.out.println("TIMEOUT " + name);
                    continue;
                }
                try {
                    int left = Integer.parseInt(new String(client.getData().forPath("/tickets")));
                    if (left == 0) {
                        return;
                    }
                    System.out.println("MANYSOLD " + left + " " + name);
                    Thread.sleep(2); // widen the window a broken lock would leave
                    client.setData().forPath("/tickets", Integer.toString(left - 1).getBytes());
                } finally {
                    lock.release();
                }
            }
        } catch (Exception e) {
            e.printStackTrace();
            System.out.println("ERROR " + name + " " + e);
        } finally {
            client.close();
        }
    }
}
