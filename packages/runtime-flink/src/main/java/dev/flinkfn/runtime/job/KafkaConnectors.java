package dev.flinkfn.runtime.job;

import dev.flinkfn.runtime.artifact.Manifest;
import dev.flinkfn.runtime.operators.SourceRecord;
import dev.flinkfn.runtime.operators.StageRecord;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.KafkaSourceOptions;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetResetStrategy;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * Kafka source and exactly-once sinks of a deployment. Records are raw bytes end to end: the sidecar decodes and
 * encodes JSON, the JVM never parses it. Every sink is transactional with a per-deployment, per-topic transactional
 * id prefix and a transaction timeout below the broker's default maximum (15 min); consumers of the results must
 * read with {@code isolation.level=read_committed}.
 */
public final class KafkaConnectors {

    /** Below Kafka's default transaction.max.timeout.ms (15 min), far above a checkpoint plus a restart. */
    static final String TRANSACTION_TIMEOUT_MS = "600000";

    /** How often the source looks for new partitions of its topic (Flink's default is 5 minutes). */
    static final String PARTITION_DISCOVERY_INTERVAL_MS = "10000";

    private final String bootstrapServers;
    private final String deploymentId;
    private final Map<String, String> clientProperties;

    public KafkaConnectors(String bootstrapServers, String deploymentId, Map<String, String> clientProperties) {
        this.bootstrapServers = bootstrapServers;
        this.deploymentId = deploymentId;
        this.clientProperties = clientProperties;
    }

    /** The function's source: bounded at the offsets of the job's start when the manifest says {@code until: latest}. */
    public PartitionTrackingKafkaSource source(Manifest.Source source) {
        return source(source, source.isBounded() ? OffsetsInitializer.latest() : null);
    }

    /**
     * The source, bounded at {@code stoppingOffsets} when given (tests replaying a fixed input). Records carry their
     * partition, and readers announce the partitions assigned to them (see {@link PartitionTrackingKafkaSource}).
     */
    public PartitionTrackingKafkaSource source(Manifest.Source source, OffsetsInitializer stoppingOffsets) {
        OffsetResetStrategy reset = "latest".equals(source.startFrom()) ? OffsetResetStrategy.LATEST : OffsetResetStrategy.EARLIEST;
        var builder = KafkaSource.<SourceRecord>builder();
        if (stoppingOffsets != null) {
            builder.setBounded(stoppingOffsets);
        }
        Properties properties = properties();
        // Partitions added to the topic while the job runs are read (from their beginning) within this interval.
        properties.putIfAbsent(KafkaSourceOptions.PARTITION_DISCOVERY_INTERVAL_MS.key(), PARTITION_DISCOVERY_INTERVAL_MS);
        return new PartitionTrackingKafkaSource(builder
                .setBootstrapServers(bootstrapServers)
                .setTopics(source.topic())
                .setGroupId("flinkfn-" + deploymentId)
                .setStartingOffsets(OffsetsInitializer.committedOffsets(reset))
                .setDeserializer(new RecordsWithPartition())
                .setProperties(properties)
                .setProperty("isolation.level", "read_committed")
                .build());
    }

    /** Results to their sinks by index, late events and dead letters to their topics. */
    public void attachSinks(Manifest manifest, FunctionPipeline.Streams streams) {
        List<Manifest.Sink> sinks = manifest.sinks();
        for (int i = 0; i < sinks.size(); i++) {
            final int index = i;
            String topic = sinks.get(i).topic();
            DataStream<StageRecord> forSink = sinks.size() == 1
                    ? streams.results()
                    : streams.results().filter(r -> r.sinkIndex == index).name("route to " + topic);
            forSink.sinkTo(sink(topic, (StageRecord r) -> new ProducerRecord<>(topic,
                            r.key == null ? null : r.key.getBytes(StandardCharsets.UTF_8), r.payload)))
                    .name("kafka: " + topic).uid("flinkfn-sink-" + topic);
        }
        if (streams.late() != null) {
            String topic = manifest.sideOutputs().late().topic();
            streams.late().sinkTo(sink(topic, (byte[] v) -> new ProducerRecord<>(topic, null, v)))
                    .name("kafka: " + topic).uid("flinkfn-late-" + topic);
        }
        String deadLetters = manifest.sideOutputs().deadLetter().topic();
        streams.deadLetters().sinkTo(sink(deadLetters, (byte[] v) -> new ProducerRecord<>(deadLetters, null, v)))
                .name("kafka: " + deadLetters).uid("flinkfn-dead-letters-" + deadLetters);
    }

    private <T> KafkaSink<T> sink(String topic, RecordMaker<T> maker) {
        return KafkaSink.<T>builder()
                .setBootstrapServers(bootstrapServers)
                .setRecordSerializer((KafkaRecordSerializationSchema<T>) (element, context, timestamp) -> maker.make(element))
                .setKafkaProducerConfig(properties())
                .setDeliveryGuarantee(DeliveryGuarantee.EXACTLY_ONCE)
                .setTransactionalIdPrefix("flinkfn-" + deploymentId + "-" + topic)
                .setProperty("transaction.timeout.ms", TRANSACTION_TIMEOUT_MS)
                .build();
    }

    private Properties properties() {
        Properties properties = new Properties();
        properties.putAll(clientProperties);
        return properties;
    }

    @FunctionalInterface
    private interface RecordMaker<T> extends java.io.Serializable {
        ProducerRecord<byte[], byte[]> make(T element);
    }

    /** Kafka values as they are, with their partition; a null value (tombstone) is an empty record. */
    static final class RecordsWithPartition implements KafkaRecordDeserializationSchema<SourceRecord> {
        private static final long serialVersionUID = 1L;
        private static final byte[] EMPTY = new byte[0];

        @Override
        public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<SourceRecord> out) {
            out.collect(SourceRecord.of(record.topic(), record.partition(), record.offset(), record.timestamp(),
                    record.value() == null ? EMPTY : record.value()));
        }

        @Override
        public TypeInformation<SourceRecord> getProducedType() {
            return TypeInformation.of(SourceRecord.class);
        }
    }
}
