package papers;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Map;

import org.opensearch.analysis.common.CommonAnalysisPlugin;
import org.opensearch.common.settings.Settings;
import org.opensearch.env.Environment;
import org.opensearch.index.mapper.MapperExtrasPlugin;
import org.opensearch.node.InternalSettingsPreparer;
import org.opensearch.painless.PainlessPlugin;
import org.opensearch.plugins.Plugin;
import org.opensearch.transport.Netty4Plugin;

/**
 * One OpenSearch 2.19 node on localhost, for the tests: the server and its modules come
 * from Maven Central (no distribution is downloaded), loaded from the classpath as
 * OpenSearch's own test nodes load them. Not its test framework: with randomizedtesting
 * on the classpath a node believes it runs inside a test and refuses to start.
 *
 * Arguments: NAME HTTP_PORT TRANSPORT_PORT HOME SEEDS MANAGERS ROLES, where SEEDS are the
 * transport addresses of the cluster, MANAGERS the names of the cluster-manager-eligible
 * nodes that bootstrap it, and ROLES this node's roles (cluster_manager,data or data).
 */
public final class Node {
    static final class ClasspathNode extends org.opensearch.node.Node {
        ClasspathNode(Environment environment, Collection<Class<? extends Plugin>> plugins) {
            super(environment, plugins, true);
        }
    }

    public static void main(String[] args) throws Exception {
        String name = args[0];
        Path home = Path.of(args[3]);
        Files.createDirectories(home.resolve("data"));
        Settings settings = Settings.builder()
            .put("cluster.name", "jupyter-papers-test")
            .put("node.name", name)
            .put("path.home", home.toString())
            .put("path.data", home.resolve("data").toString())
            .put("network.host", "127.0.0.1")
            .put("http.port", Integer.parseInt(args[1]))
            .put("transport.port", Integer.parseInt(args[2]))
            .put("http.type", "netty4")
            .put("transport.type", "netty4")
            .putList("discovery.seed_hosts", Arrays.asList(args[4].split(",")))
            .putList("cluster.initial_cluster_manager_nodes", Arrays.asList(args[5].split(",")))
            .putList("node.roles", Arrays.asList(args[6].split(",")))
            .put("cluster.routing.allocation.disk.threshold_enabled", false)
            .build();
        Environment environment = InternalSettingsPreparer.prepareEnvironment(settings, Map.of(), null, () -> name);
        ClasspathNode node = new ClasspathNode(environment,
            List.of(Netty4Plugin.class, CommonAnalysisPlugin.class, MapperExtrasPlugin.class, PainlessPlugin.class));
        node.start();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                node.close();
            } catch (Exception error) {
                error.printStackTrace();
            }
        }));
        System.out.println("started " + name);
        System.out.flush();
        Thread.currentThread().join();
    }
}
