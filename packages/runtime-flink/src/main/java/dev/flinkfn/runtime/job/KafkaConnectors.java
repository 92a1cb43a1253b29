package dev.flinkfn.runtime.job;

import dev.flinkfn.runtime.artifact.Manifest;
import dev.flinkfn.runtime.operators.StageRecord;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.flink.api.common.serialization.DeserializationSchema;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.streaming.api.datastream.DataStream;
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

    private final String bootstrapServers;
    private final String deploymentId;
    private final Map<String, String> clientProperties;

    public KafkaConnectors(String bootstrapServers, String deploymentId, Map<String, String> clientProperties) {
        this.bootstrapServers = bootstrapServers;
        this.deploymentId = deploymentId;
        this.clientProperties = clientProperties;
    }

    /** The function's source: bounded at the offsets of the job's start when the manifest says {@code until: latest}. */
    public KafkaSource<byte[]> source(Manifest.Source source) {
        return source(source, source.isBounded() ? OffsetsInitializer.latest() : null);
    }

    /** The source, bounded at {@code stoppingOffsets} when given (tests replaying a fixed input). */
    public KafkaSource<byte[]> source(Manifest.Source source, OffsetsInitializer stoppingOffsets) {
        OffsetResetStrategy reset = "latest".equals(source.startFrom()) ? OffsetResetStrategy.LATEST : OffsetResetStrategy.EARLIEST;
        var builder = KafkaSource.<byte[]>builder();
        if (stoppingOffsets != null) {
            builder.setBounded(stoppingOffsets);
        }
        return builder
                .setBootstrapServers(bootstrapServers)
                .setTopics(source.topic())
                .setGroupId("flinkfn-" + deploymentId)
                .setStartingOffsets(OffsetsInitializer.committedOffsets(reset))
                .setValueOnlyDeserializer(new RawBytes())
                .setProperties(properties())
                .setProperty("isolation.level", "read_committed")
                .build();
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

    /** Kafka values as they are. */
    static final class RawBytes implements DeserializationSchema<byte[]> {
        private static final long serialVersionUID = 1L;

        @Override
        public byte[] deserialize(byte[] message) {
            return message;
        }

        @Override
        public boolean isEndOfStream(byte[] nextElement) {
            return false;
        }

        @Override
        public TypeInformation<byte[]> getProducedType() {
            return PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO;
        }
    }
}
