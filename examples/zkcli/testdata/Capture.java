import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import org.apache.zookeeper.ZooKeeperMain;

/**
 * Runs ZooKeeper's zkCli (ZooKeeperMain) unchanged, on a standard input
 * that prints a marker line each time zkCli asks for more input: zkCli
 * reads the next line only once it has run the previous one, so the marker
 * says where one command's output ends. capture.py sends a line only after
 * a marker. A short pause before each marker lets the events the command
 * caused (printed by zkCli's event thread) arrive first.
 */
public class Capture {
    static final String MARKER = "\u0001zkcli-capture-ready";

    public static void main(String[] args) throws Exception {
        System.setIn(new FilterInputStream(System.in) {
            private boolean first = true;

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                try {
                    Thread.sleep(first ? 3000 : 500); // first: the connection's event
                    first = false;
                } catch (InterruptedException e) {
                    throw new IOException(e);
                }
                System.err.flush();
                System.out.println(MARKER);
                System.out.flush();
                return super.read(b, off, len);
            }
        });
        ZooKeeperMain.main(args);
    }
}
