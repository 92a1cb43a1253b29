package dev.flinkfn.runtime.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.flinkfn.runtime.artifact.Manifest;
import dev.flinkfn.runtime.operators.SourceRecord;
import dev.flinkfn.runtime.operators.StageRecord;
import dev.flinkfn.runtime.testing.KafkaBrokerExtension;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.streaming.api.CheckpointingMode;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The job's Kafka source and exactly-once sink ({@link KafkaConnectors}) on a broker's secured listeners, with client
 * properties in the form the deployer passes as {@code --kafka-property} ({@code jobKafkaProperties} in
 * packages/deploy/src/clients/kafka.ts): the SASL user and password are {@code ${env:NAME}} references that Kafka's
 * EnvVarConfigProvider resolves from this JVM's environment (set by Surefire, as a TaskManager's would be), and the CA is
 * a PEM trust store. Each case reads a topic written on the PLAINTEXT listener through the secured one and writes it to
 * a topic in transactions; the committed output must be the input. A wrong password must fail the job.
 */
class SecuredKafkaConnectorsTest {

    private static final String USER = requiredEnv("FLINKFN_TEST_KAFKA_USERNAME");
    private static final String PASSWORD = requiredEnv("FLINKFN_TEST_KAFKA_PASSWORD");

    @RegisterExtension
    static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension().withSaslUser(USER, PASSWORD);

    @RegisterExtension
    static final MiniClusterExtension FLINK = new MiniClusterExtension(
            new MiniClusterResourceConfiguration.Builder().setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2).build());

    private static final String INPUT = "secured-in";
    private static final int EVENTS = 50;

    @BeforeAll
    static void fillInput() throws Exception {
        KAFKA.createTopics(2, INPUT);
        Properties props = KAFKA.clientProperties();
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer())) {
            for (int i = 0; i < EVENTS; i++) {
                producer.send(new ProducerRecord<>(INPUT, ("{\"id\":" + i + "}").getBytes(StandardCharsets.UTF_8))).get();
            }
        }
    }

    @Test
    void saslPlaintextWithPlain() throws Exception {
        relay(KAFKA.secureListeners().saslPlaintext(), sasl("SASL_PLAINTEXT", "PLAIN", "org.apache.kafka.common.security.plain.PlainLoginModule"));
    }

    @Test
    void saslSslWithScramSha256() throws Exception {
        relay(KAFKA.secureListeners().saslSsl(), withTrustStore(sasl("SASL_SSL", "SCRAM-SHA-256", "org.apache.kafka.common.security.scram.ScramLoginModule")));
    }

    @Test
    void saslSslWithScramSha512() throws Exception {
        relay(KAFKA.secureListeners().saslSsl(), withTrustStore(sasl("SASL_SSL", "SCRAM-SHA-512", "org.apache.kafka.common.security.scram.ScramLoginModule")));
    }

    @Test
    void sslWithoutSasl() throws Exception {
        Map<String, String> props = new LinkedHashMap<>();
        props.put("security.protocol", "SSL");
        relay(KAFKA.secureListeners().ssl(), withTrustStore(props));
    }

    /** The listeners do authenticate: the same job with another variable as its password fails (no vacuous passes). */
    @Test
    void aWrongPasswordFailsTheJob() {
        Map<String, String> props = sasl("SASL_SSL", "SCRAM-SHA-512", "org.apache.kafka.common.security.scram.ScramLoginModule");
        props.put("sasl.jaas.config", props.get("sasl.jaas.config").replace("${env:FLINKFN_TEST_KAFKA_PASSWORD}", "${env:FLINKFN_TEST_KAFKA_USERNAME}"));
        assertThatThrownBy(() -> relay(KAFKA.secureListeners().saslSsl(), withTrustStore(props)))
                .hasStackTraceContaining("SaslAuthenticationException");
    }

    /** SASL settings as the deployer writes them: secrets only as environment references. */
    private static Map<String, String> sasl(String protocol, String mechanism, String loginModule) {
        Map<String, String> props = new LinkedHashMap<>();
        props.put("security.protocol", protocol);
        props.put("sasl.mechanism", mechanism);
        props.put("sasl.jaas.config", loginModule
                + " required username=\"${env:FLINKFN_TEST_KAFKA_USERNAME}\" password=\"${env:FLINKFN_TEST_KAFKA_PASSWORD}\";");
        props.put("config.providers", "env");
        props.put("config.providers.env.class", "org.apache.kafka.common.config.provider.EnvVarConfigProvider");
        return props;
    }

    private static Map<String, String> withTrustStore(Map<String, String> props) {
        props.put("ssl.truststore.type", "PEM");
        props.put("ssl.truststore.location", KAFKA.secureListeners().caFile().toString());
        return props;
    }

    /** Runs source → sink on the secured listener until the input's end, then reads the committed output. */
    private void relay(String bootstrap, Map<String, String> clientProperties) throws Exception {
        String run = UUID.randomUUID().toString().substring(0, 8);
        String output = "secured-out-" + run;
        String deadLetters = "secured-dead-letters-" + run;
        KAFKA.createTopics(1, output, deadLetters);
        Manifest manifest = new Manifest(1, 1, "test", "secured", new Manifest.Source(INPUT, "json", "earliest"),
                List.of(new Manifest.Sink("main", output, "ephemeral", 1)),
                new Manifest.SideOutputs(null, new Manifest.Topic(deadLetters, "ephemeral", 1)),
                true, null, 1, List.of(), null);

        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        Configuration config = new Configuration();
        config.set(RestartStrategyOptions.RESTART_STRATEGY, "none");
        env.configure(config);
        env.enableCheckpointing(300, CheckpointingMode.EXACTLY_ONCE);
        env.setParallelism(2);
        KafkaConnectors kafka = new KafkaConnectors(bootstrap, run, clientProperties);
        DataStream<SourceRecord> records = env.fromSource(
                kafka.source(manifest.source(), OffsetsInitializer.latest()), WatermarkStrategy.noWatermarks(), "kafka");
        DataStream<StageRecord> results = records.filter(r -> r.value != null)
                .map(r -> StageRecord.sink(0, null, r.value)).returns(TypeInformation.of(StageRecord.class));
        DataStream<byte[]> none = results.filter(r -> false).map(r -> r.payload).returns(byte[].class);
        kafka.attachSinks(manifest, new FunctionPipeline.Streams(results, null, none));
        env.execute("secured relay " + run);

        assertThat(readCommitted(output, EVENTS)).containsExactlyInAnyOrderElementsOf(expected());
    }

    private static List<String> expected() {
        List<String> values = new ArrayList<>();
        for (int i = 0; i < EVENTS; i++) {
            values.add("{\"id\":" + i + "}");
        }
        return values;
    }

    /** Reads committed records on the PLAINTEXT listener until `count` arrived or 3 minutes passed. */
    private static List<String> readCommitted(String topic, int count) {
        Properties props = KAFKA.clientProperties();
        props.put("group.id", "secured-reader-" + topic);
        props.put("auto.offset.reset", "earliest");
        props.put("isolation.level", "read_committed");
        List<String> values = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            consumer.subscribe(List.of(topic));
            long deadline = System.currentTimeMillis() + Duration.ofMinutes(3).toMillis();
            while (values.size() < count && System.currentTimeMillis() < deadline) {
                for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(500))) {
                    values.add(new String(record.value(), StandardCharsets.UTF_8));
                }
            }
        }
        return values;
    }

    private static String requiredEnv(String name) {
        String value = System.getenv(name);
        if (value == null || value.isEmpty()) {
            throw new IllegalStateException(name + " is not set: Surefire sets it (packages/runtime-flink/pom.xml); run the test with mvn");
        }
        return value;
    }
}
