package org.beuwi.neo4j;

import java.nio.file.Files;
import java.time.Duration;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

import org.neo4j.configuration.GraphDatabaseInternalSettings;
import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.configuration.connectors.HttpConnector;
import org.neo4j.configuration.helpers.SocketAddress;
import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.dbms.api.DatabaseManagementServiceBuilder;
import org.neo4j.exceptions.KernelException;
import org.neo4j.graphdb.GraphDatabaseService;
import org.neo4j.kernel.api.procedure.GlobalProcedures;
import org.neo4j.kernel.internal.GraphDatabaseAPI;

/**
 * Neo4j 5 Community in this process, its store under a directory, Bolt on a loopback port, auth on.
 *
 * Arguments: STORE_DIR PORT [APOC_CLASS...]. The password of the `neo4j` user comes from the environment variable
 * BEUWI_NEO4J_PASSWORD (never the command line, which every local user can read). Each APOC_CLASS (e.g.
 * apoc.coll.Coll, for the benchmark's baseline) is registered with its procedures and functions; APOC core must then
 * be on the class path, where its kernel extension is found (a plugin directory is not scanned for extensions in an
 * embedded database, and APOC's procedures need that extension). Prints "ready bolt://127.0.0.1:PORT" once Bolt answers and
 * shuts the database down cleanly on SIGTERM, then prints "stopped: the store is closed". Failures print one "error: ..." line and exit 2.
 */
public final class Launcher {
    private Launcher() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            System.err.println("error: usage: Launcher STORE_DIR PORT [APOC_CLASS...]");
            System.exit(2);
        }
        Path store = Path.of(args[0]).toAbsolutePath();
        int port = Integer.parseInt(args[1]);
        String password = System.getenv("BEUWI_NEO4J_PASSWORD");
        if (password == null || password.length() < 8) {
            System.err.println("error: BEUWI_NEO4J_PASSWORD must hold the password (at least 8 characters)");
            System.exit(2);
        }
        Files.createDirectories(store);
        DatabaseManagementServiceBuilder builder = new DatabaseManagementServiceBuilder(store)
                .setConfig(BoltConnector.enabled, true)
                .setConfig(BoltConnector.listen_address, new SocketAddress("127.0.0.1", port))
                .setConfig(HttpConnector.enabled, false)
                .setConfig(GraphDatabaseSettings.auth_enabled, true)
                .setConfig(GraphDatabaseSettings.logs_directory, store.resolve("logs"))
                .setConfig(GraphDatabaseSettings.pagecache_memory, 256L * 1024 * 1024)
                .setConfig(GraphDatabaseSettings.transaction_timeout, Duration.ofMinutes(10))
                // A busy server sends NOOPs every second while a query runs, and tells the driver so: the driver then
                // gives up on a server silent for 5 s (frozen, or its host gone) instead of waiting forever.
                .setConfig(BoltConnector.connection_keep_alive, Duration.ofSeconds(1))
                .setConfig(BoltConnector.connection_keep_alive_probes, 5)
                // Netty's quiet period (seconds) after the last connection: 5 s, twice, on every stop by default.
                .setConfig(GraphDatabaseInternalSettings.netty_server_shutdown_quiet_period, 0);
        DatabaseManagementService service;
        try {
            service = builder.build();
        } catch (RuntimeException exc) {
            System.err.println("error: Neo4j did not start: " + rootCause(exc));
            System.exit(2);
            return;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            service.shutdown();
            System.out.println("stopped: the store is closed");  // the JVM then exits 143 (128 + SIGTERM)
            System.out.flush();
            stopped.countDown();
        }, "beuwi-shutdown"));
        try {
            service.database(GraphDatabaseSettings.SYSTEM_DATABASE_NAME).executeTransactionally(
                    "ALTER USER neo4j SET PASSWORD $password CHANGE NOT REQUIRED", Map.of("password", password));
        } catch (RuntimeException exc) {
            if (!rootCause(exc).contains("Old password and new password cannot be the same")) {  // a restart
                System.err.println("error: could not set the password of user neo4j: " + rootCause(exc));
                System.exit(2);
            }
        }
        GraphDatabaseService db = service.database(GraphDatabaseSettings.DEFAULT_DATABASE_NAME);
        try {
            GlobalProcedures procedures = ((GraphDatabaseAPI) db).getDependencyResolver()
                    .resolveDependency(GlobalProcedures.class);
            for (int i = 2; i < args.length; i++) {
                Class<?> type = Class.forName(args[i]);
                procedures.registerProcedure(type);
                procedures.registerFunction(type);
            }
        } catch (ClassNotFoundException | KernelException exc) {
            System.err.println("error: could not register " + rootCause(exc));
            System.exit(2);
        }
        db.executeTransactionally("RETURN 1");
        System.out.println("ready bolt://127.0.0.1:" + port);
        System.out.flush();
        stopped.await();
    }

    private static String rootCause(Throwable exc) {
        Throwable cause = exc;
        StringBuilder message = new StringBuilder(String.valueOf(exc.getMessage()));
        while (cause.getCause() != null && cause.getCause() != cause) {
            cause = cause.getCause();
            if (cause.getMessage() != null && message.indexOf(cause.getMessage()) < 0) {
                message.append(": ").append(cause.getMessage());
            }
        }
        return message.toString().replace('\n', ' ');
    }
}
