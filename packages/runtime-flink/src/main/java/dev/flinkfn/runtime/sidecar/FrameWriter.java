package dev.flinkfn.runtime.sidecar;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * Appends big-endian fields to a growing heap buffer and finishes frames by patching their length. One writer is
 * reused for every frame a connection sends (under the connection's write lock), so encoding allocates nothing but
 * the UTF-8 bytes of strings once the buffer has reached the size of a typical bundle.
 *
 * <p>Heap, not direct: Flink sizes a TaskManager's direct memory tightly, and a bundle can be large. The socket
 * write hands the JDK at most {@link #MAX_WRITE_CHUNK} bytes at a time, so its per-thread temporary direct buffer
 * stays small too.
 */
final class FrameWriter {

    /** Starting capacity: fits a bundle of a thousand small JSON records. */
    static final int INITIAL_CAPACITY = 64 * 1024;

    /** A buffer grown beyond this for one huge frame is dropped afterwards rather than kept for the task's life. */
    static final int RETAINED_CAPACITY = 16 * 1024 * 1024;

    /** The most bytes handed to one {@code write} call (see the class comment). */
    static final int MAX_WRITE_CHUNK = 1024 * 1024;

    private ByteBuffer buffer = ByteBuffer.allocate(INITIAL_CAPACITY);
    private int frameStart = -1;

    /** Starts a frame: reserves the length field and writes type and id. */
    FrameWriter begin(int type, int id) throws SidecarProtocolException {
        if (frameStart >= 0) {
            throw new IllegalStateException("a frame is already being written");
        }
        reserve(SidecarProtocol.HEADER_BYTES);
        frameStart = buffer.position();
        buffer.putInt(0).put((byte) type).putInt(id);
        return this;
    }

    /** Patches the length of the frame begun last. */
    FrameWriter end() {
        if (frameStart < 0) {
            throw new IllegalStateException("no frame was begun");
        }
        buffer.putInt(frameStart, buffer.position() - frameStart - 4);
        frameStart = -1;
        return this;
    }

    FrameWriter u8(int value) throws SidecarProtocolException {
        reserve(1);
        buffer.put((byte) value);
        return this;
    }

    FrameWriter u16(int value) throws SidecarProtocolException {
        if (value < 0 || value > 0xFFFF) {
            throw new SidecarProtocolException("the value " + value + " does not fit an unsigned 16-bit field");
        }
        reserve(2);
        buffer.putShort((short) value);
        return this;
    }

    FrameWriter u32(int value) throws SidecarProtocolException {
        reserve(4);
        buffer.putInt(value);
        return this;
    }

    FrameWriter i64(long value) throws SidecarProtocolException {
        reserve(8);
        buffer.putLong(value);
        return this;
    }

    FrameWriter f64(double value) throws SidecarProtocolException {
        reserve(8);
        buffer.putDouble(value);
        return this;
    }

    FrameWriter bytes(byte[] value) throws SidecarProtocolException {
        reserve(4 + value.length);
        buffer.putInt(value.length).put(value);
        return this;
    }

    FrameWriter nbytes(byte[] value) throws SidecarProtocolException {
        if (value == null) {
            return u32(-1);
        }
        return bytes(value);
    }

    FrameWriter str(String value) throws SidecarProtocolException {
        return bytes(value.getBytes(StandardCharsets.UTF_8));
    }

    FrameWriter nstr(String value) throws SidecarProtocolException {
        return value == null ? u32(-1) : str(value);
    }

    /**
     * The frames written since the last {@link #reset()}, ready to be written to a channel (position 0, limit at the
     * end). The buffer stays owned by this writer: use it before the next {@code begin}.
     */
    ByteBuffer written() {
        if (frameStart >= 0) {
            throw new IllegalStateException("a frame is still being written");
        }
        ByteBuffer view = buffer.duplicate();
        view.flip();
        return view;
    }

    /** A copy of the frames written since the last reset. */
    byte[] toByteArray() {
        ByteBuffer view = written();
        byte[] out = new byte[view.remaining()];
        view.get(out);
        return out;
    }

    /** Forgets the frames written; drops a buffer that one huge frame grew beyond {@link #RETAINED_CAPACITY}. */
    void reset() {
        frameStart = -1;
        if (buffer.capacity() > RETAINED_CAPACITY) {
            buffer = ByteBuffer.allocate(INITIAL_CAPACITY);
        } else {
            buffer.clear();
        }
    }

    private void reserve(int size) throws SidecarProtocolException {
        if (buffer.remaining() >= size) {
            return;
        }
        long needed = (long) buffer.position() + size;
        if (needed - (frameStart < 0 ? 0 : frameStart) - 4 > SidecarProtocol.MAX_FRAME_LENGTH) {
            throw new SidecarProtocolException("a frame would be larger than the protocol's limit of "
                    + SidecarProtocol.MAX_FRAME_LENGTH + " bytes; send smaller bundles");
        }
        long capacity = Math.max((long) buffer.capacity() * 2, needed);
        ByteBuffer grown = ByteBuffer.allocate((int) Math.min(capacity, Integer.MAX_VALUE - 16));
        buffer.flip();
        grown.put(buffer);
        buffer = grown;
    }
}
