import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.apache.curator.RetryPolicy;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.apache.curator.retry.ExponentialBackoffRetry;

// The seed's 12306 ticket office (002, §4.13): threads sell tickets under
// one InterProcessMutex on /lock. As in the seed, one instance (one
// client, one lock object, one ticket count) is shared by the threads.
// Changed so that a run ends and can be checked: the connect string is an
// argument, the loop ends when the tickets are gone, a ticket is sold only
// when acquire succeeded (the seed sells, and releases, even after a
// timed-out acquire), and each sale is printed as "SOLD <ticket>".
public class Ticket12306 implements Runnable {
    private int tickets = 10; // the database's ticket count
    private InterProcessMutex lock;
    private final AtomicInteger inside = new AtomicInteger();
    final CuratorFramework client;

    public Ticket12306(String connect) {
        RetryPolicy retryPolicy = new ExponentialBackoffRetry(3000, 10);
        client = CuratorFrameworkFactory.builder()
            .connectString(connect)
            .sessionTimeoutMs(60 * 1000)
            .connectionTimeoutMs(15 * 1000)
            .retryPolicy(retryPolicy)
            .build();
        client.start();
        lock = new InterProcessMutex(client, "/lock");
    }

    @Override
    public void run() {
        while (true) {
            boolean acquired = false;
            try {
                acquired = lock.acquire(3, TimeUnit.SECONDS);
                if (!acquired) {
                    System.out.println("TIMEOUT " + Thread.currentThread().getName());
                    continue;
                }
                if (inside.incrementAndGet() != 1) {
                    System.out.println("OVERLAP " + Thread.currentThread().getName());
                }
                if (tickets > 0) {
                    System.out.println("SOLD " + tickets + " " + Thread.currentThread().getName());
                    Thread.sleep(100);
                    tickets--;
                }
                inside.decrementAndGet();
                if (tickets == 0) {
                    return;
                }
            } catch (Exception e) {
                e.printStackTrace();
                System.out.println("ERROR " + e);
                return;
            } finally {
                if (acquired) {
                    try {
                        lock.release();
                    } catch (Exception e) {
                        e.printStackTrace();
                        System.out.println("ERROR " + e);
                    }
                }
            }
        }
    }
}
