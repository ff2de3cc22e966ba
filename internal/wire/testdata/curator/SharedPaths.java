import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.atomic.AtomicValue;
import org.apache.curator.framework.recipes.atomic.DistributedAtomicLong;
import org.apache.curator.framework.recipes.barriers.DistributedDoubleBarrier;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.apache.curator.framework.recipes.queue.DistributedQueue;
import org.apache.curator.framework.recipes.queue.QueueBuilder;
import org.apache.curator.framework.recipes.queue.QueueSerializer;
import org.apache.curator.retry.RetryNTimes;

// SharedPaths is the Curator side of a recipe that a Go process (zk's
// package recipes) uses on the same path; the Go test drives the other
// side. Usage: SharedPaths <connect> <step> <path> [arg]. It prints one
// line per result.
public class SharedPaths {
    // connect returns a started client on connect, or null (it printed
    // why) if it could not connect.
    static CuratorFramework connect(String connect) throws InterruptedException {
        CuratorFramework c = CuratorFrameworkFactory.newClient(connect, 10000, 5000, new RetryNTimes(5, 200));
        c.start();
        if (!c.blockUntilConnected(20, TimeUnit.SECONDS)) {
            System.out.println("ERROR not connected");
            c.close();
            return null;
        }
        return c;
    }

    public static void main(String[] args) throws Exception {
        CuratorFramework c = connect(args[0]);
        if (c == null) {
            return;
        }
        String path = args[2];
        try {
            switch (args[1]) {
            case "queue-put":
                queuePut(c, path, args[3]);
                break;
            case "increment":
                AtomicValue<Long> v = new DistributedAtomicLong(c, path, new RetryNTimes(20, 10)).increment();
                System.out.println("INCREMENT " + v.succeeded() + " " + v.preValue() + " " + v.postValue());
                break;
            case "double-barrier":
                DistributedDoubleBarrier b = new DistributedDoubleBarrier(c, path, Integer.parseInt(args[3]));
                System.out.println("ENTERED " + b.enter(20, TimeUnit.SECONDS));
                System.out.flush();
                System.out.println("LEFT " + b.leave(20, TimeUnit.SECONDS));
                break;
            case "mutex-hold":
                InterProcessMutex held = new InterProcessMutex(c, path);
                held.acquire();
                System.out.println("HELD");
                System.out.flush();
                new BufferedReader(new InputStreamReader(System.in)).readLine(); // until the test says
                held.release();
                System.out.println("RELEASED");
                break;
            case "mutex-wait":
                InterProcessMutex m = new InterProcessMutex(c, path);
                System.out.println("WAITING");
                System.out.flush();
                if (m.acquire(20, TimeUnit.SECONDS)) {
                    System.out.println("ACQUIRED");
                    m.release();
                } else {
                    System.out.println("ERROR timed out");
                }
                break;
            default:
                System.out.println("ERROR unknown step " + args[1]);
            }
        } finally {
            c.close();
        }
    }

    // queuePut starts a producer, then, once the test says (a Go consumer
    // has emptied the queue meanwhile), puts one item and lists the queue.
    static void queuePut(CuratorFramework c, String path, String item) throws Exception {
        QueueSerializer<String> text = new QueueSerializer<String>() {
            public byte[] serialize(String s) {
                return s.getBytes(StandardCharsets.UTF_8);
            }

            public String deserialize(byte[] b) {
                return new String(b, StandardCharsets.UTF_8);
            }
        };
        DistributedQueue<String> q = QueueBuilder.builder(c, null, text, path).buildQueue();
        q.start();
        System.out.println("STARTED");
        System.out.flush();
        new BufferedReader(new InputStreamReader(System.in)).readLine();
        q.put(item);
        System.out.println("FLUSHED " + q.flushPuts(10, TimeUnit.SECONDS));
        System.out.println("ITEMS " + c.getChildren().forPath(path).size());
        q.close();
    }
}
