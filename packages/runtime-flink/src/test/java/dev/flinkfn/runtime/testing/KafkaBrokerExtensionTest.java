package dev.flinkfn.runtime.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Runs real clients against the broker that {@link KafkaBrokerExtension} starts. */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class KafkaBrokerExtensionTest {

    @RegisterExtension
    static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension();

    @Test
    void brokerIsASingleNodeClusterOnLoopback() throws Exception {
        assertThat(KAFKA.bootstrapServers()).matches("127\\.0\\.0\\.1:\\d+");
        int port = Integer.parseInt(KAFKA.bootstrapServers().split(":")[1]);
        try (Admin admin = Admin.create(KAFKA.clientProperties())) {
            Collection<Node> nodes = admin.describeCluster().nodes().get(30, TimeUnit.SECONDS);
            assertThat(nodes).hasSize(1);
            Node node = nodes.iterator().next();
            assertThat(node.id()).isEqualTo(1);
            assertThat(node.host()).isEqualTo("127.0.0.1");
            assertThat(node.port()).isEqualTo(port);
        }
    }

    @Test
    void transactionalRecordsAreReadBackWithReadCommitted() throws Exception {
        String topic = "flinkfn-tx-" + UUID.randomUUID();
        TopicPartition tp = new TopicPartition(topic, 0);

        // 1. create the topic with the AdminClient and check it exists as asked
        try (Admin admin = Admin.create(KAFKA.clientProperties())) {
            admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get(60, TimeUnit.SECONDS);
            assertThat(admin.listTopics().names().get(30, TimeUnit.SECONDS)).contains(topic);
            TopicDescription d = admin.describeTopics(List.of(topic)).allTopicNames().get(30, TimeUnit.SECONDS).get(topic);
            assertThat(d.partitions()).hasSize(1);
            assertThat(d.partitions().get(0).replicas()).hasSize(1);
        }

        // 2. one committed transaction with 3 records, then an aborted one with 1 record
        Properties pp = KAFKA.clientProperties();
        pp.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "flinkfn-test-" + UUID.randomUUID());
        pp.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        pp.put(ProducerConfig.ACKS_CONFIG, "all");
        // what Flink's KafkaSink uses by default: needs transaction.max.timeout.ms >= 1 h on the broker
        pp.put(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, (int) TimeUnit.HOURS.toMillis(1));
        pp.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 60_000);
        pp.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        pp.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(pp)) {
            producer.initTransactions();
            producer.beginTransaction();
            for (int i = 1; i <= 3; i++) {
                producer.send(new ProducerRecord<>(topic, "k" + i, "committed-" + i));
            }
            producer.commitTransaction();

            producer.beginTransaction();
            producer.send(new ProducerRecord<>(topic, "k4", "aborted-4")).get(30, TimeUnit.SECONDS);
            producer.abortTransaction();
        }

        // 3. read_committed through a consumer group: exactly the 3 committed records, in order
        String group = "flinkfn-test-group-" + UUID.randomUUID();
        List<ConsumerRecord<String, String>> committed = readToEnd(topic, tp, "read_committed", group);
        assertThat(committed).extracting(ConsumerRecord::key).containsExactly("k1", "k2", "k3");
        assertThat(committed).extracting(ConsumerRecord::value)
                .containsExactly("committed-1", "committed-2", "committed-3");
        assertThat(committed).extracting(ConsumerRecord::offset).containsExactly(0L, 1L, 2L);

        // the group's offset was committed through the group coordinator (__consumer_offsets)
        try (Admin admin = Admin.create(KAFKA.clientProperties())) {
            Map<TopicPartition, OffsetAndMetadata> offsets =
                    admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get(30, TimeUnit.SECONDS);
            // 3 records + commit marker + aborted record + abort marker
            assertThat(offsets).containsKey(tp);
            assertThat(offsets.get(tp).offset()).isEqualTo(6L);
        }

        // 4. control: read_uncommitted does see the aborted record, so the filtering above was real
        List<ConsumerRecord<String, String>> all = readToEnd(topic, tp, "read_uncommitted", null);
        assertThat(all).extracting(ConsumerRecord::value)
                .containsExactly("committed-1", "committed-2", "committed-3", "aborted-4");
    }

    /** Polls until the consumer's position reaches the partition's end offset (the LSO for read_committed). */
    private static List<ConsumerRecord<String, String>> readToEnd(
            String topic, TopicPartition tp, String isolation, String group) {
        Properties cp = KAFKA.clientProperties();
        cp.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, isolation);
        cp.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        cp.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        cp.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        cp.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        if (group != null) {
            cp.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        }
        List<ConsumerRecord<String, String>> out = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(cp)) {
            if (group != null) {
                consumer.subscribe(List.of(topic));
            } else {
                consumer.assign(List.of(tp));
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            long end = -1;
            while (System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(200)).forEach(out::add);
                Set<TopicPartition> assigned = consumer.assignment();
                if (!assigned.contains(tp)) {
                    continue;
                }
                if (end < 0) {
                    end = consumer.endOffsets(List.of(tp), Duration.ofSeconds(30)).get(tp);
                }
                if (consumer.position(tp, Duration.ofSeconds(30)) >= end) {
                    if (group != null) {
                        consumer.commitSync(Duration.ofSeconds(30));
                    }
                    return out;
                }
            }
            throw new AssertionError("did not reach the end offset " + end + " of " + tp + " (" + isolation
                    + ") within 60 s; got " + out);
        }
    }
}
