package dev.flinkfn.runtime;

import dev.flinkfn.runtime.artifact.Artifact;
import dev.flinkfn.runtime.artifact.Manifest;
import dev.flinkfn.runtime.job.ArtifactSidecarFactory;
import dev.flinkfn.runtime.job.FunctionPipeline;
import dev.flinkfn.runtime.job.JobOptions;
import dev.flinkfn.runtime.job.KafkaConnectors;
import dev.flinkfn.runtime.operators.BundleOptions;
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
 * </pre>
 */
public final class FlinkfnRuntimeJob {

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
        if (manifest.parallelism() != null) {
            env.setParallelism(manifest.parallelism());
        }

        KafkaConnectors kafka = new KafkaConnectors(bootstrap, deployment, options.kafkaProperties());
        DataStream<byte[]> records = env
                .fromSource(kafka.source(manifest.source()), WatermarkStrategy.noWatermarks(), "kafka: " + manifest.source().topic())
                .uid("flinkfn-source");
        FunctionPipeline.Streams streams = FunctionPipeline.build(
                records,
                manifest,
                new ArtifactSidecarFactory(location, artifact.id(), sidecarConfig(options)),
                bundleOptions(options),
                manifest.window() != null ? FunctionPipeline.boundedOutOfOrderness(manifest.window()) : s -> s);
        kafka.attachSinks(manifest, streams);

        env.execute("flinkfn: " + manifest.name());
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
