package dev.flinkfn.runtime.sidecar;

import dev.flinkfn.runtime.sidecar.SidecarProtocol.HelloMessage;
import dev.flinkfn.runtime.sidecar.SidecarProtocol.HelloOkMessage;
import dev.flinkfn.runtime.sidecar.SidecarProtocol.Request;
import dev.flinkfn.runtime.sidecar.SidecarProtocol.Response;
import java.io.EOFException;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;

/**
 * A scripted stand-in for the sidecar on a real Unix domain socket, for what the real one never does on purpose:
 * stall, answer out of order, break the protocol. It serves one connection with the given behaviour.
 */
final class FakeSidecar implements AutoCloseable {

    /** What the fake does with the connection once the operator has connected. */
    @FunctionalInterface
    interface Behaviour {
        void serve(Connection connection) throws Exception;
    }

    final Path socket;
    private final ServerSocketChannel server;
    private final Thread thread;
    private volatile Connection connection;

    private FakeSidecar(Path socket, Behaviour behaviour) throws IOException {
        this.socket = socket;
        this.server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(socket));
        this.thread = new Thread(() -> {
            try {
                connection = new Connection(server.accept());
                behaviour.serve(connection);
            } catch (Exception e) {
                // the test closed the fake, or the client went away: the test's assertions tell what matters
            }
        }, "fake-sidecar");
        thread.setDaemon(true);
        thread.start();
    }

    static FakeSidecar start(Path directory, Behaviour behaviour) throws IOException {
        return new FakeSidecar(directory.resolve("fake.sock"), behaviour);
    }

    @Override
    public void close() throws Exception {
        server.close();
        Connection c = connection;
        if (c != null) {
            c.close();
        }
        thread.interrupt();
        thread.join(5000);
    }

    /** The operator's connection, seen from the sidecar's side. */
    static final class Connection {
        private final SocketChannel channel;

        Connection(SocketChannel channel) {
            this.channel = channel;
        }

        /** Reads the HELLO and answers it like the real sidecar would. */
        HelloMessage hello(String functionName) throws Exception {
            HelloMessage hello = (HelloMessage) read();
            write(new HelloOkMessage(hello.id(), SidecarProtocol.PROTOCOL_VERSION, functionName));
            return hello;
        }

        Request read() throws IOException {
            ByteBuffer header = readFully(4);
            ByteBuffer rest = readFully(header.getInt(0));
            byte[] frame = new byte[4 + rest.capacity()];
            header.get(0, frame, 0, 4);
            rest.get(0, frame, 4, rest.capacity());
            return SidecarProtocol.decodeRequest(frame);
        }

        void write(Response response) throws IOException {
            writeRaw(SidecarProtocol.encodeResponse(response));
        }

        void writeRaw(byte[] bytes) throws IOException {
            ByteBuffer buffer = ByteBuffer.wrap(bytes);
            while (buffer.hasRemaining()) {
                channel.write(buffer);
            }
        }

        /** Reads and discards everything until the operator closes the connection. */
        void ignoreEverything() throws IOException {
            ByteBuffer sink = ByteBuffer.allocate(8192);
            while (channel.read(sink) >= 0) {
                sink.clear();
            }
        }

        void close() throws IOException {
            channel.close();
        }

        private ByteBuffer readFully(int size) throws IOException {
            ByteBuffer buffer = ByteBuffer.allocate(size);
            while (buffer.hasRemaining()) {
                if (channel.read(buffer) < 0) {
                    throw new EOFException("the operator closed the connection");
                }
            }
            return buffer.flip();
        }
    }
}
