package dev.flinkfn.runtime.operators;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.junit.jupiter.api.Test;

class SourceRecordSerializerTest {

    @Test
    void recordsKeepWhereTheyWereReadAndMarkersStayMarkers() throws Exception {
        List<SourceRecord> records = List.of(
                SourceRecord.of("orders.v2", 3, 1_234_567_890_123L, 1_700_000_000_123L, bytes("{\"id\":1}")),
                SourceRecord.of(1, bytes("no topic")),
                SourceRecord.assigned(2),
                SourceRecord.noPartitions());
        DataOutputSerializer out = new DataOutputSerializer(64);
        for (SourceRecord record : records) {
            SourceRecordSerializer.INSTANCE.serialize(record, out);
        }
        DataInputDeserializer in = new DataInputDeserializer(out.getCopyOfBuffer());
        for (SourceRecord record : records) {
            SourceRecord read = SourceRecordSerializer.INSTANCE.deserialize(in);
            assertThat(read.partition).isEqualTo(record.partition);
            assertThat(read.value).isEqualTo(record.value);
            assertThat(read.isAssignment()).isEqualTo(record.isAssignment());
            assertThat(read.hasSource()).isEqualTo(record.hasSource());
            if (record.hasSource()) {
                assertThat(read.topic).isEqualTo(record.topic);
                assertThat(read.offset).isEqualTo(record.offset);
                assertThat(read.timestamp).isEqualTo(record.timestamp);
            }
        }
        assertThat(in.available()).isZero();
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }
}
