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
import org.apache.flink.types.StringValue;

/**
 * Serializes {@link StageRecord}s between operators: sink index, partition, nullable key, nullable payload. Records are immutable,
 * so a copy is the record itself. Stage records never go into state, so the format can change with the runtime jar.
 */
public final class StageRecordSerializer extends TypeSerializerSingleton<StageRecord> {

    private static final long serialVersionUID = 1L;

    public static final StageRecordSerializer INSTANCE = new StageRecordSerializer();

    @Override
    public boolean isImmutableType() {
        return true;
    }

    @Override
    public StageRecord createInstance() {
        return StageRecord.sink(0, null, new byte[0]);
    }

    @Override
    public StageRecord copy(StageRecord from) {
        return from;
    }

    @Override
    public StageRecord copy(StageRecord from, StageRecord reuse) {
        return from;
    }

    @Override
    public int getLength() {
        return -1;
    }

    @Override
    public void serialize(StageRecord record, DataOutputView target) throws IOException {
        target.writeInt(record.sinkIndex);
        target.writeInt(record.partition);
        StringValue.writeString(record.key, target);
        if (record.payload == null) {
            target.writeInt(-1);
        } else {
            target.writeInt(record.payload.length);
            target.write(record.payload);
        }
    }

    @Override
    public StageRecord deserialize(DataInputView source) throws IOException {
        int sinkIndex = source.readInt();
        int partition = source.readInt();
        String key = StringValue.readString(source);
        int length = source.readInt();
        byte[] payload = null;
        if (length >= 0) {
            payload = new byte[length];
            source.readFully(payload);
        }
        return new StageRecord(sinkIndex, partition, key, payload);
    }

    @Override
    public StageRecord deserialize(StageRecord reuse, DataInputView source) throws IOException {
        return deserialize(source);
    }

    @Override
    public void copy(DataInputView source, DataOutputView target) throws IOException {
        serialize(deserialize(source), target);
    }

    @Override
    public TypeSerializerSnapshot<StageRecord> snapshotConfiguration() {
        return new Snapshot();
    }

    /** Restores the serializer; it has no configuration. */
    public static final class Snapshot extends SimpleTypeSerializerSnapshot<StageRecord> {
        public Snapshot() {
            super(() -> INSTANCE);
        }
    }

    /** Makes {@code TypeInformation.of(StageRecord.class)} use this serializer (through {@code @TypeInfo}). */
    public static final class TypeInfoFactory extends org.apache.flink.api.common.typeinfo.TypeInfoFactory<StageRecord> {
        @Override
        public TypeInformation<StageRecord> createTypeInfo(Type type, Map<String, TypeInformation<?>> genericParameters) {
            return new StageRecordTypeInfo();
        }
    }

    /** The type information of {@link StageRecord}: not a key type, one opaque field as far as Flink is concerned. */
    public static final class StageRecordTypeInfo extends TypeInformation<StageRecord> {
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
        public Class<StageRecord> getTypeClass() {
            return StageRecord.class;
        }

        @Override
        public boolean isKeyType() {
            return false;
        }

        @Override
        public TypeSerializer<StageRecord> createSerializer(SerializerConfig config) {
            return INSTANCE;
        }

        @Override
        public String toString() {
            return "StageRecord";
        }

        @Override
        public boolean equals(Object obj) {
            return obj instanceof StageRecordTypeInfo;
        }

        @Override
        public int hashCode() {
            return StageRecordTypeInfo.class.hashCode();
        }

        @Override
        public boolean canEqual(Object obj) {
            return obj instanceof StageRecordTypeInfo;
        }
    }
}
