package dev.flinkfn.runtime.operators;

import java.io.IOException;
import java.lang.reflect.Type;
import java.util.Map;
import org.apache.flink.api.common.serialization.SerializerConfig;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeutils.SimpleTypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.base.TypeSerializerSingleton;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;

/**
 * Serializes {@link SourceRecord}s: partition, then the value's length (-1 for an assignment marker) and bytes, then
 * (for a record) its topic (empty: none), offset and timestamp. Records are immutable, so a copy is the record itself.
 * They never go into state.
 */
public final class SourceRecordSerializer extends TypeSerializerSingleton<SourceRecord> {

    private static final long serialVersionUID = 1L;

    public static final SourceRecordSerializer INSTANCE = new SourceRecordSerializer();

    @Override
    public boolean isImmutableType() {
        return true;
    }

    @Override
    public SourceRecord createInstance() {
        return SourceRecord.assigned(0);
    }

    @Override
    public SourceRecord copy(SourceRecord from) {
        return from;
    }

    @Override
    public SourceRecord copy(SourceRecord from, SourceRecord reuse) {
        return from;
    }

    @Override
    public int getLength() {
        return -1;
    }

    @Override
    public void serialize(SourceRecord record, DataOutputView target) throws IOException {
        target.writeInt(record.partition);
        if (record.value == null) {
            target.writeInt(-1);
        } else {
            target.writeInt(record.value.length);
            target.write(record.value);
            target.writeUTF(record.topic == null ? "" : record.topic);
            target.writeLong(record.offset);
            target.writeLong(record.timestamp);
        }
    }

    @Override
    public SourceRecord deserialize(DataInputView source) throws IOException {
        int partition = source.readInt();
        int length = source.readInt();
        if (length < 0) {
            return SourceRecord.assigned(partition);
        }
        byte[] value = new byte[length];
        source.readFully(value);
        String topic = source.readUTF();
        long offset = source.readLong();
        long timestamp = source.readLong();
        return SourceRecord.read(topic.isEmpty() ? null : topic, partition, offset, timestamp, value);
    }

    @Override
    public SourceRecord deserialize(SourceRecord reuse, DataInputView source) throws IOException {
        return deserialize(source);
    }

    @Override
    public void copy(DataInputView source, DataOutputView target) throws IOException {
        serialize(deserialize(source), target);
    }

    @Override
    public TypeSerializerSnapshot<SourceRecord> snapshotConfiguration() {
        return new Snapshot();
    }

    /** Restores the serializer; it has no configuration. */
    public static final class Snapshot extends SimpleTypeSerializerSnapshot<SourceRecord> {
        public Snapshot() {
            super(() -> INSTANCE);
        }
    }

    /** Makes {@code TypeInformation.of(SourceRecord.class)} use this serializer (through {@code @TypeInfo}). */
    public static final class TypeInfoFactory extends org.apache.flink.api.common.typeinfo.TypeInfoFactory<SourceRecord> {
        @Override
        public TypeInformation<SourceRecord> createTypeInfo(Type type, Map<String, TypeInformation<?>> genericParameters) {
            return new SourceRecordTypeInfo();
        }
    }

    /** The type information of {@link SourceRecord}: not a key type, one opaque field as far as Flink is concerned. */
    public static final class SourceRecordTypeInfo extends TypeInformation<SourceRecord> {
        private static final long serialVersionUID = 1L;

        @Override
        public boolean isBasicType() {
            return false;
        }

        @Override
        public boolean isTupleType() {
            return false;
        }

        @Override
        public int getArity() {
            return 1;
        }

        @Override
        public int getTotalFields() {
            return 1;
        }

        @Override
        public Class<SourceRecord> getTypeClass() {
            return SourceRecord.class;
        }

        @Override
        public boolean isKeyType() {
            return false;
        }

        @Override
        public TypeSerializer<SourceRecord> createSerializer(SerializerConfig config) {
            return INSTANCE;
        }

        @Override
        public String toString() {
            return "SourceRecord";
        }

        @Override
        public boolean equals(Object obj) {
            return obj instanceof SourceRecordTypeInfo;
        }

        @Override
        public int hashCode() {
            return SourceRecordTypeInfo.class.hashCode();
        }

        @Override
        public boolean canEqual(Object obj) {
            return obj instanceof SourceRecordTypeInfo;
        }
    }
}
