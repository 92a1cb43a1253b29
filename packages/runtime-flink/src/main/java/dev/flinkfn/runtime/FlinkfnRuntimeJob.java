package dev.flinkfn.runtime;

import dev.flinkfn.runtime.artifact.Artifact;
import dev.flinkfn.runtime.artifact.Manifest;
import dev.flinkfn.runtime.job.ArtifactSidecarFactory;
import dev.flinkfn.runtime.job.FunctionSettings;
import dev.flinkfn.runtime.job.FunctionPipeline;
import dev.flinkfn.runtime.job.JobOptions;
import dev.flinkfn.runtime.job.KafkaConnectors;
import dev.flinkfn.runtime.job.PartitionTrackingKafkaSource;
import dev.flinkfn.runtime.operators.BundleOptions;
import dev.flinkfn.runtime.operators.SidecarClientFactory;
import dev.flinkfn.runtime.operators.SourceRecord;
import dev.flinkfn.runtime.sidecar.SidecarConfig;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.streaming.api.CheckpointingMode;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * The one runtime job for every flinkfn function (the shaded jar's Main-Class). It reads an artifact, verifies it
 * against its id, and builds the function's pipeline from the manifest: Kafka source → JS stage → watermarks →
 * keyBy → window operator → exactly-once Kafka sinks for results, late data and dead letters.
 *
 * <pre>
 * --artifact file:///…/&lt;sha256&gt;.flinkfn | s3://bucket/…   (required)
 * --artifact-id &lt;sha256&gt;           (default: from a content-addressed file name)
 * --bootstrap-servers host:port     (required)
 * --deployment-id &lt;id&gt;             (names the consumer group and transactional ids; default: the function name)
 * --sidecar-command "node /…/flinkfn-sidecar.js"   (process mode: each subtask spawns one)
 * --sidecar-socket /…/sidecar.sock  (external mode: connect to a sidecar container instead)
 * --checkpoint-interval-ms 10000    --bundle-size 250  --bundle-time-ms 1  --bundle-in-flight 4
 * --kafka-property key=value        (repeatable: SASL/TLS settings for every Kafka client)
 * --parallelism N                   (default: the manifest's parallelism, else the cluster's default)
 * </pre>
 *
 * <p>Rescaling: every stateful operator has a fixed uid and the maximum parallelism is fixed at
 * {@link #MAX_PARALLELISM}, so a savepoint taken at one parallelism restores at any other up to that maximum.
 */
public final class FlinkfnRuntimeJob {

    /**
     * The number of key groups: the upper bound of the parallelism and part of every savepoint's keyed state, so it must
     * never change for a deployment. 128 is what Flink chose by default for every parallelism up to 85, so savepoints
     * taken before it was fixed restore unchanged.
     */
    public static final int MAX_PARALLELISM = 128;

    private FlinkfnRuntimeJob() {}

    public static void main(String[] args) throws Exception {
        JobOptions options = JobOptions.parse(args);
        String location = options.get("artifact");
        Artifact artifact = Artifact.read(location, options.get("artifact-id"));
        Manifest manifest = artifact.manifest();
        String bootstrap = options.get("bootstrap-servers");
        if (bootstrap == null) {
            throw new IllegalArgumentException("--bootstrap-servers host:port is required");
        }
        String deployment = options.get("deployment-id", manifest.name());

        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.enableCheckpointing(options.getLong("checkpoint-interval-ms", 10_000), CheckpointingMode.EXACTLY_ONCE);
        Integer parallelism = parallelism(options, manifest);
        if (parallelism != null) {
            env.setParallelism(parallelism);
        }

        KafkaConnectors kafka = new KafkaConnectors(bootstrap, deployment, options.kafkaProperties());
        BundleOptions bundles = bundleOptions(options);
        // The client's request timeout allows for async work waiting its turn in the sidecar (BundleOptions#forAsync).
        SidecarConfig sidecar = sidecarConfig(options)
                .withRequestTimeout(FunctionPipeline.stageBundles(manifest, bundles).requestTimeout());
        define(env, manifest, kafka, kafka.source(manifest.source()),
                new ArtifactSidecarFactory(location, artifact.id(), sidecar, FunctionSettings.fromOptions(options)), bundles);
        env.execute("flinkfn: " + manifest.name());
    }

    /**
     * The job's graph on {@code env}: Kafka source → JS stage → watermarks per partition → keyBy → window operator →
     * exactly-once Kafka sinks, with the fixed maximum parallelism and the operator uids that savepoints are matched
     * by. Tests build the same graph with a bounded source or a sidecar factory of their own.
     */
    public static void define(StreamExecutionEnvironment env, Manifest manifest, KafkaConnectors kafka,
            PartitionTrackingKafkaSource source, SidecarClientFactory sidecar, BundleOptions bundles) {
        env.setMaxParallelism(MAX_PARALLELISM);
        DataStream<SourceRecord> records = env
                .fromSource(source, WatermarkStrategy.noWatermarks(), "kafka: " + manifest.source().topic())
                .uid("flinkfn-source");
        FunctionPipeline.Streams streams = FunctionPipeline.build(records, manifest, sidecar, bundles,
                manifest.window() != null ? FunctionPipeline.partitionWatermarks(manifest.window(), false) : s -> s);
        kafka.attachSinks(manifest, streams);
    }

    /** {@code --parallelism} (an upgrade at another parallelism) wins over the manifest's; null for the cluster default. */
    static Integer parallelism(JobOptions options, Manifest manifest) {
        long fromOptions = options.getLong("parallelism", 0);
        if (fromOptions < 0 || fromOptions > MAX_PARALLELISM) {
            throw new IllegalArgumentException("--parallelism must be between 1 and " + MAX_PARALLELISM + ", got " + fromOptions);
        }
        if (fromOptions > 0) {
            return (int) fromOptions;
        }
        return manifest.parallelism();
    }

    static SidecarConfig sidecarConfig(JobOptions options) {
        String socket = options.get("sidecar-socket");
        if (socket != null) {
            return SidecarConfig.external(socket);
        }
        String command = options.get("sidecar-command", System.getenv().getOrDefault("FLINKFN_SIDECAR_COMMAND", ""));
        if (command.isBlank()) {
            throw new IllegalArgumentException("--sidecar-command \"node /path/to/flinkfn-sidecar.js\" (process mode) or"
                    + " --sidecar-socket /path (external mode) is required; FLINKFN_SIDECAR_COMMAND works too");
        }
        List<String> parts = Arrays.asList(command.trim().split("\\s+"));
        return SidecarConfig.process(parts);
    }

    static BundleOptions bundleOptions(JobOptions options) {
        BundleOptions d = BundleOptions.DEFAULTS;
        return new BundleOptions(
                (int) options.getLong("bundle-size", d.maxSize()),
                Duration.ofMillis(options.getLong("bundle-time-ms", d.maxTime().toMillis())),
                (int) options.getLong("bundle-in-flight", d.maxInFlight()),
                Duration.ofMillis(options.getLong("request-timeout-ms", d.requestTimeout().toMillis())));
    }
}
