package dev.flinkfn.runtime.bench;

import static dev.flinkfn.runtime.bench.BenchArgs.value;
import static dev.flinkfn.runtime.bench.BenchArgs.median;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flinkfn.runtime.artifact.Artifact;
import dev.flinkfn.runtime.artifact.Manifest;
import dev.flinkfn.runtime.job.FunctionPipeline;
import dev.flinkfn.runtime.job.KafkaConnectors;
import dev.flinkfn.runtime.operators.SidecarClientFactory;
import dev.flinkfn.runtime.operators.SourceRecord;
import dev.flinkfn.runtime.operators.StageRecord;
import dev.flinkfn.runtime.sidecar.SidecarConfig;
import dev.flinkfn.runtime.sidecar.Sidecars;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.streaming.api.CheckpointingMode;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * End to end through a real Kafka broker: the stateless map in TypeScript (through the sidecar) against the same
 * function in Java, both with the runtime job's own connectors ({@link KafkaConnectors}: Kafka source reading
 * committed, exactly-once transactional Kafka sinks for results and dead letters), on a local environment
 * (MiniCluster) with parallelism 1 and checkpoints every {@code --checkpoint-interval-ms}.
 *
 * <p>The input topic (the function's source topic, one partition) is filled once with {@code --records}
 * {@link ThroughputBenchmark#order 100-byte orders}; every run reads all of it (a fresh consumer group, bounded at
 * the end offsets) and writes its results to the function's sink topic with fresh transactional ids. A run's
 * records/s is records / the job's net runtime (start to finish, including the final checkpoint that commits the
 * last transaction). After each run the committed results are counted with a read_committed consumer; a run that
 * did not commit exactly {@code --records} results fails the benchmark.
 *
 * <pre>java … KafkaBenchmark --bootstrap host:port --artifact &lt;stateless-map&gt; --sidecar &lt;js&gt;
 *     [--records 1000000] [--runs 3] [--checkpoint-interval-ms 1000]</pre>
 */
public final class KafkaBenchmark {

    private static final ObjectMapper JSON = new ObjectMapper();

    public static void main(String[] args) throws Exception {
        List<String> a = Arrays.asList(args);
        String bootstrap = value(a, "--bootstrap", null);
        Path file = Path.of(value(a, "--artifact", null));
        String sidecar = value(a, "--sidecar", null);
        long records = Long.parseLong(value(a, "--records", "1000000"));
        int runs = Integer.parseInt(value(a, "--runs", "3"));
        long interval = Long.parseLong(value(a, "--checkpoint-interval-ms", "1000"));
        // --variant js|java: one variant only (diagnosis); --kafka-property k=v (repeatable): for every Kafka client
        String variant = value(a, "--variant", "both");
        Map<String, String> clientProperties = new java.util.LinkedHashMap<>();
        for (int i = 0; i < a.size() - 1; i++) {
            if (a.get(i).equals("--kafka-property")) {
                String[] kv = a.get(i + 1).split("=", 2);
                clientProperties.put(kv[0], kv[1]);
            }
        }
        Artifact artifact = Artifact.read(file.toString(), null);
        Manifest manifest = artifact.manifest();
        // a fresh input topic (the function's source topic plus a suffix) holds exactly the records of this benchmark
        Manifest.Source source = new Manifest.Source(manifest.source().topic() + "-" + UUID.randomUUID().toString().substring(0, 8),
                manifest.source().format(), manifest.source().startFrom());
        String input = source.topic();
        String output = manifest.sinks().get(0).topic();

        try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
            Set<String> existing = admin.listTopics().names().get(60, TimeUnit.SECONDS);
            List<NewTopic> topics = new ArrayList<>();
            for (String topic : List.of(input, output, manifest.sideOutputs().deadLetter().topic())) {
                if (!existing.contains(topic)) {
                    topics.add(new NewTopic(topic, 1, (short) 1));
                }
            }
            admin.createTopics(topics).all().get(60, TimeUnit.SECONDS);
        }
        double fillSeconds = fill(bootstrap, input, records);
        System.err.printf("[KafkaBenchmark] %d records in %s in %.1f s%n", records, input, fillSeconds);

        Run run = new Run(bootstrap, artifact, source, file, sidecar, interval, output, clientProperties);
        List<Boolean> variants = variant.equals("both") ? List.of(false, true) : List.of(variant.equals("js"));
        // warm-up: a tenth of the topic, each variant
        for (boolean variantJs : variants) {
            run.once(variantJs, Math.max(10_000, records / 10));
        }
        List<Double> java = new ArrayList<>();
        List<Double> js = new ArrayList<>();
        ArrayNode committed = JSON.createArrayNode();
        for (int i = 0; i < runs; i++) {
            for (boolean variantJs : variants) {
                long[] result = run.once(variantJs, records);
                (variantJs ? js : java).add(records * 1000.0 / result[0]);
                committed.add(result[1]);
                System.err.printf("[KafkaBenchmark] %s run %d: %.0f records/s, %d results committed%n",
                        variantJs ? "js" : "java", i + 1, records * 1000.0 / result[0], result[1]);
            }
        }
        ObjectNode out = JSON.createObjectNode()
                .put("kafka", true).put("scenario", "stateless-map").put("records", records).put("runs", runs)
                .put("delivery", "exactly-once").put("checkpointIntervalMs", interval)
                .put("fillRecordsPerSecond", Math.round(records / fillSeconds));
        ObjectNode properties = out.putObject("kafkaProperties");
        clientProperties.forEach(properties::put);
        if (!java.isEmpty()) {
            stats(out.putObject("java"), java);
        }
        if (!js.isEmpty()) {
            stats(out.putObject("js"), js);
        }
        if (!java.isEmpty() && !js.isEmpty()) {
            out.put("ratio", Math.round(median(js) / median(java) * 1000) / 1000.0);
        }
        out.set("committedPerRun", committed);
        System.out.println(JSON.writeValueAsString(out));
    }

    /** Produces the orders; returns the seconds it took (acknowledged by the broker). */
    private static double fill(String bootstrap, String topic, long records) {
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap);
        p.put("acks", "all");
        p.put("linger.ms", "20");
        p.put("batch.size", String.valueOf(512 * 1024));
        long started = System.nanoTime();
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
            for (long i = 0; i < records; i++) {
                producer.send(new ProducerRecord<>(topic, 0, null, ThroughputBenchmark.order(i)));
            }
            producer.flush();
        }
        return (System.nanoTime() - started) / 1e9;
    }

    /** What one run needs. */
    record Run(String bootstrap, Artifact artifact, Manifest.Source source, Path file, String sidecar, long intervalMs, String output,
            Map<String, String> clientProperties) {

        /** Reads the first {@code records} of the input; returns {net runtime ms, committed results}. */
        long[] once(boolean js, long records) throws Exception {
            Manifest manifest = artifact.manifest();
            TopicPartition in = new TopicPartition(source.topic(), 0);
            TopicPartition out = new TopicPartition(output, 0);
            long before = endOffset(out);

            StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(1, new Configuration());
            env.enableCheckpointing(intervalMs, CheckpointingMode.EXACTLY_ONCE);
            // a fresh consumer group (so every run starts at the beginning) and fresh transactional ids
            String deployment = "bench-" + (js ? "js-" : "java-") + UUID.randomUUID().toString().substring(0, 8);
            KafkaConnectors kafka = new KafkaConnectors(bootstrap, deployment, clientProperties);
            DataStream<SourceRecord> orders = env
                    .fromSource(kafka.source(source, OffsetsInitializer.offsets(Map.of(in, records))),
                            WatermarkStrategy.noWatermarks(), "kafka: " + in.topic());
            FunctionPipeline.Streams streams;
            if (js) {
                String path = file.toString();
                String id = artifact.id();
                List<String> command = List.of(("node " + sidecar).trim().split("\\s+"));
                SidecarClientFactory factory = () -> Sidecars.open(SidecarConfig.process(command), Path.of(path), id);
                streams = FunctionPipeline.build(orders, manifest, factory, ThroughputBenchmark.bundleOptions(), s -> s);
            } else {
                // the same sinks as the TypeScript job: results to the sink topic, an (empty) dead-letter stream
                DataStream<byte[]> values = orders.filter(r -> !r.isAssignment()).map(r -> r.value)
                        .returns(PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO);
                DataStream<StageRecord> results = values.map(new JavaTotalRecord()).returns(TypeInformation.of(StageRecord.class));
                DataStream<byte[]> deadLetters = values.filter(r -> false).returns(PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO);
                streams = new FunctionPipeline.Streams(results, null, deadLetters);
            }
            kafka.attachSinks(manifest, streams);
            JobExecutionResult result = env.execute((js ? "js" : "java") + " kafka stateless-map");
            long committed = countCommitted(out, before);
            if (committed != records) {
                throw new IllegalStateException((js ? "js" : "java") + ": " + committed + " results committed, expected " + records);
            }
            return new long[] {result.getNetRuntime(), committed};
        }

        private KafkaConsumer<byte[], byte[]> consumer() {
            Properties p = new Properties();
            p.put("bootstrap.servers", bootstrap);
            p.put("isolation.level", "read_committed");
            p.put("enable.auto.commit", "false");
            p.put("max.poll.records", "10000");
            return new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        }

        /** The last stable offset (read_committed end offset). */
        private long endOffset(TopicPartition partition) {
            try (KafkaConsumer<byte[], byte[]> consumer = consumer()) {
                return consumer.endOffsets(List.of(partition)).get(partition);
            }
        }

        /** Committed records from {@code from} to the last stable offset. */
        private long countCommitted(TopicPartition partition, long from) {
            try (KafkaConsumer<byte[], byte[]> consumer = consumer()) {
                consumer.assign(List.of(partition));
                consumer.seek(partition, from);
                long end = consumer.endOffsets(List.of(partition)).get(partition);
                long count = 0;
                long deadline = System.currentTimeMillis() + 120_000;
                while (consumer.position(partition) < end && System.currentTimeMillis() < deadline) {
                    ConsumerRecords<byte[], byte[]> polled = consumer.poll(Duration.ofMillis(500));
                    count += polled.count();
                }
                return count;
            }
        }
    }

    /** {@link ThroughputBenchmark.JavaTotal} as a sink record (no key), as the JS stage emits it. */
    static final class JavaTotalRecord implements MapFunction<byte[], StageRecord> {
        private static final long serialVersionUID = 1L;
        private final ThroughputBenchmark.JavaTotal total = new ThroughputBenchmark.JavaTotal();

        @Override
        public StageRecord map(byte[] value) throws Exception {
            return StageRecord.sink(0, null, total.map(value));
        }
    }

    private static void stats(ObjectNode target, List<Double> values) {
        List<Double> sorted = new ArrayList<>(values);
        sorted.sort(Double::compare);
        target.put("median", Math.round(median(values))).put("min", Math.round(sorted.get(0)))
                .put("max", Math.round(sorted.get(sorted.size() - 1)));
        ArrayNode runs = target.putArray("runs");
        values.forEach(v -> runs.add(Math.round(v)));
    }

    private KafkaBenchmark() {}
}
