package dev.flinkfn.runtime.operators;

import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.util.OutputTag;

/** Side outputs of the flinkfn operators; both carry JSON bytes. */
public final class Tags {
    /** Events (or windows) whose user code failed, and records that could not be decoded. */
    public static final OutputTag<byte[]> DEAD_LETTERS =
            new OutputTag<>("dead-letters", PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO);
    /** Events too late for every window they belong to. */
    public static final OutputTag<byte[]> LATE =
            new OutputTag<>("late", PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO);

    private Tags() {}
}
