package dev.flinkfn.runtime.sidecar;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads big-endian fields from one frame's body, checking every length against what is left, so that a truncated
 * or corrupt frame becomes a {@link SidecarProtocolException} instead of an out-of-bounds error or a huge
 * allocation. Byte fields are copied out: the body usually lives in the connection's reused read buffer.
 */
final class FrameReader {

    /** Reads one element of a list. */
    @FunctionalInterface
    interface Item<T> {
        T read() throws SidecarProtocolException;
    }

    private final ByteBuffer body;

    FrameReader(ByteBuffer body) {
        this.body = body;
    }

    int u8() throws SidecarProtocolException {
        need(1);
        return body.get() & 0xFF;
    }

    int u16() throws SidecarProtocolException {
        need(2);
        return body.getShort() & 0xFFFF;
    }

    /** An unsigned 32-bit count or length; one that cannot be a Java array size is a protocol error. */
    int u32() throws SidecarProtocolException {
        need(4);
        int value = body.getInt();
        if (value < 0) {
            throw new SidecarProtocolException("length or count " + Integer.toUnsignedString(value) + " is too large");
        }
        return value;
    }

    long i64() throws SidecarProtocolException {
        need(8);
        return body.getLong();
    }

    double f64() throws SidecarProtocolException {
        need(8);
        return body.getDouble();
    }

    byte[] bytes() throws SidecarProtocolException {
        int length = u32();
        need(length);
        byte[] value = new byte[length];
        body.get(value);
        return value;
    }

    /** {@code nbytes}: an i32 length where −1 means null. */
    byte[] nbytes() throws SidecarProtocolException {
        need(4);
        if (body.getInt(body.position()) == -1) {
            body.position(body.position() + 4);
            return null;
        }
        return bytes();
    }

    String str() throws SidecarProtocolException {
        return new String(bytes(), StandardCharsets.UTF_8);
    }

    String nstr() throws SidecarProtocolException {
        byte[] value = nbytes();
        return value == null ? null : new String(value, StandardCharsets.UTF_8);
    }

    /** A {@code u32 n, n × item} list. */
    /** {@code u32 m, m × i64}: checked against the bytes left before anything is allocated. */
    long[] i64Array() throws SidecarProtocolException {
        int n = u32();
        need((int) Math.min(Integer.MAX_VALUE, 8L * n));
        long[] values = new long[n];
        for (int i = 0; i < n; i++) {
            values[i] = body.getLong();
        }
        return values;
    }

    <T> List<T> list(Item<T> item) throws SidecarProtocolException {
        int n = u32();
        // Every item takes at least one byte: a corrupt count fails on the data, not with an enormous allocation.
        List<T> items = new ArrayList<>(Math.min(n, body.remaining()));
        for (int i = 0; i < n; i++) {
            items.add(item.read());
        }
        return items;
    }

    void done() throws SidecarProtocolException {
        if (body.hasRemaining()) {
            throw new SidecarProtocolException(body.remaining() + " unexpected bytes at the end of a frame");
        }
    }

    private void need(int size) throws SidecarProtocolException {
        if (body.remaining() < size) {
            throw new SidecarProtocolException("frame ends in the middle of a field");
        }
    }
}
