/*
 * One OpenSearch node in this JVM, for tests and local use; blocks until killed.
 *   java -cp 'classes:lib/*' dev.retimuad.services.OpenSearchNode BASE_DIR [HTTP_PORT] [HOST]
 * Started by scripts/services/opensearch.sh, which passes the cache dir and waits
 * for HTTP on 127.0.0.1:9200. Security plugin is not on the classpath: plain HTTP.
 */
package dev.retimuad.services;

import static org.codelibs.opensearch.runner.OpenSearchRunner.newConfigs;

import java.util.concurrent.CountDownLatch;
import org.codelibs.opensearch.runner.OpenSearchRunner;

public final class OpenSearchNode {
  private OpenSearchNode() {}

  public static void main(String[] args) throws Exception {
    if (args.length < 1) {
      System.err.println("usage: OpenSearchNode BASE_DIR [HTTP_PORT] [HOST]");
      System.exit(2);
    }
    final String baseDir = args[0];
    final int httpPort = args.length > 1 ? Integer.parseInt(args[1]) : 9200;
    final String host = args.length > 2 ? args[2] : "127.0.0.1";

    final OpenSearchRunner runner = new OpenSearchRunner();
    runner.onBuild((number, settings) -> {
      // Explicit ports: the runner would otherwise pick the next free one, and
      // callers could not tell where the node ended up.
      settings.put("network.host", host);
      settings.put("http.port", httpPort);
      settings.put("transport.port", httpPort + 100);
      // Dev machines run with little free disk; watermarks would turn indices read-only.
      settings.put("cluster.routing.allocation.disk.threshold_enabled", false);
      settings.put("action.auto_create_index", true);
    });
    runner.build(newConfigs().basePath(baseDir).numOfNode(1).clusterName("retimuad-test"));
    runner.ensureYellow();

    final CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      try {
        runner.close();
      } catch (Exception e) {
        System.err.println("close failed: " + e);
      } finally {
        stopped.countDown();
      }
    }, "opensearch-node-shutdown"));
    System.out.println("READY http://" + host + ":" + httpPort);
    System.out.flush();
    stopped.await();
  }
}
