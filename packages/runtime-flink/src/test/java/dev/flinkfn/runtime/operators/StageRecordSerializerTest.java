package dev.flinkfn.runtime.operators;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.junit.jupiter.api.Test;

class StageRecordSerializerTest {

    private static final List<StageRecord> RECORDS = List.of(
            StageRecord.sink(0, null, bytes("{\"total\":3}")),
            StageRecord.sink(2, "user-ü", bytes("[]")),
            StageRecord.element("", bytes("")),
            StageRecord.element("k".repeat(70_000), bytes("{\"big\":\"" + "x".repeat(100_000) + "\"}")),
            StageRecord.sink(1, "no payload", null));

    @Test
    void typeInformationOfStageRecordUsesTheOwnSerializerNotThePojoOne() {
        TypeSerializer<StageRecord> serializer =
                TypeInformation.of(StageRecord.class).createSerializer(new SerializerConfigImpl());
        assertThat(serializer).isSameAs(StageRecordSerializer.INSTANCE);
    }

    @Test
    void everyRecordSurvivesSerializationFieldForField() throws Exception {
        DataInputDeserializer in = new DataInputDeserializer(serializeAll());
        for (StageRecord record : RECORDS) {
            assertThat(StageRecordSerializer.INSTANCE.deserialize(in)).isEqualTo(record);
        }
        assertThat(in.available()).isZero();
    }

    @Test
    void copyingBetweenViewsWritesTheSameBytes() throws Exception {
        byte[] original = serializeAll();
        DataInputDeserializer in = new DataInputDeserializer(original);
        DataOutputSerializer copied = new DataOutputSerializer(64);
        for (int i = 0; i < RECORDS.size(); i++) {
            StageRecordSerializer.INSTANCE.copy(in, copied);
        }
        assertThat(copied.getCopyOfBuffer()).isEqualTo(original);
    }

    @Test
    void aCopyIsTheImmutableRecordItself() {
        StageRecord record = RECORDS.get(1);
        assertThat(StageRecordSerializer.INSTANCE.isImmutableType()).isTrue();
        assertThat(StageRecordSerializer.INSTANCE.copy(record)).isSameAs(record);
    }

    @Test
    void theSnapshotRestoresTheSameSerializer() throws Exception {
        TypeSerializerSnapshot<StageRecord> snapshot = StageRecordSerializer.INSTANCE.snapshotConfiguration();
        DataOutputSerializer out = new DataOutputSerializer(16);
        snapshot.writeSnapshot(out);
        TypeSerializerSnapshot<StageRecord> restored = new StageRecordSerializer.Snapshot();
        restored.readSnapshot(snapshot.getCurrentVersion(), new DataInputDeserializer(out.getCopyOfBuffer()),
                getClass().getClassLoader());
        assertThat(restored.restoreSerializer()).isSameAs(StageRecordSerializer.INSTANCE);
    }

    private static byte[] serializeAll() throws Exception {
        DataOutputSerializer out = new DataOutputSerializer(64);
        for (StageRecord record : RECORDS) {
            StageRecordSerializer.INSTANCE.serialize(record, out);
        }
        return out.getCopyOfBuffer();
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }
}
