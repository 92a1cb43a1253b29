package dev.flinkfn.runtime.sidecar;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.flinkfn.runtime.sidecar.GoldenFrames.Frame;
import dev.flinkfn.runtime.sidecar.SidecarProtocol.FireRequest;
import dev.flinkfn.runtime.sidecar.SidecarProtocol.Message;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The Java codec against the golden frames the TypeScript sidecar is tested with: both directions, byte for byte, so
 * the two implementations cannot drift apart unnoticed.
 */
class SidecarProtocolTest {

    static Stream<Frame> goldenFrames() {
        return GoldenFrames.load().stream();
    }

    @Test
    void theGoldenFramesCoverEveryMessageType() {
        assertThat(goldenFrames().map(f -> f.message().get("type").asText()).distinct())
                .containsExactlyInAnyOrder("HELLO", "PROCESS", "AGGREGATE", "COMBINE", "TAKE", "MERGE", "FIRE", "SHUTDOWN",
                        "HELLO_OK", "PROCESSED", "AGGREGATED", "COMBINED", "TAKEN", "MERGED", "FIRED", "METRICS", "ERROR");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("goldenFrames")
    void everyGoldenFrameDecodesToItsMessage(Frame frame) throws Exception {
        Message decoded = frame.isRequest()
                ? SidecarProtocol.decodeRequest(frame.bytes())
                : SidecarProtocol.decodeResponse(frame.bytes());
        assertThat(GoldenFrames.toJson(decoded)).isEqualTo(frame.message());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("goldenFrames")
    void everyGoldenMessageEncodesToItsBytes(Frame frame) throws Exception {
        byte[] encoded = frame.isRequest()
                ? SidecarProtocol.encodeRequest(GoldenFrames.toRequest(frame.message()))
                : SidecarProtocol.encodeResponse(GoldenFrames.toResponse(frame.message()));
        assertThat(HexFormat.of().formatHex(encoded)).isEqualTo(HexFormat.of().formatHex(frame.bytes()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("goldenFrames")
    void everyTruncationOfAGoldenFrameIsRejected(Frame frame) {
        byte[] bytes = frame.bytes();
        int type = bytes[4] & 0xFF;
        int id = ByteBuffer.wrap(bytes).getInt(5);
        for (int length = SidecarProtocol.HEADER_BYTES; length < bytes.length; length++) {
            ByteBuffer body = ByteBuffer.wrap(bytes, SidecarProtocol.HEADER_BYTES, length - SidecarProtocol.HEADER_BYTES)
                    .slice();
            assertThatThrownBy(() -> decode(frame, type, id, body))
                    .as("body cut to %d bytes", length - SidecarProtocol.HEADER_BYTES)
                    .isInstanceOf(SidecarProtocolException.class)
                    .hasMessageContaining("frame ends in the middle of a field");
        }
        for (int length = 0; length < bytes.length; length++) {
            byte[] cut = Arrays.copyOf(bytes, length);
            assertThatThrownBy(() -> decodeFrame(frame, cut)).isInstanceOf(SidecarProtocolException.class);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("goldenFrames")
    void bytesLeftOverAtTheEndOfAFrameAreRejected(Frame frame) {
        byte[] bytes = frame.bytes();
        ByteBuffer body = ByteBuffer.allocate(bytes.length - SidecarProtocol.HEADER_BYTES + 1);
        body.put(bytes, SidecarProtocol.HEADER_BYTES, bytes.length - SidecarProtocol.HEADER_BYTES).put((byte) 0).flip();
        assertThatThrownBy(() -> decode(frame, bytes[4] & 0xFF, 1, body))
                .isInstanceOf(SidecarProtocolException.class)
                .hasMessage("1 unexpected bytes at the end of a frame");
    }

    @Test
    void unknownMessageTypesAreRejectedInBothDirections() {
        assertThatThrownBy(() -> SidecarProtocol.decodeRequest(0x55, 1, ByteBuffer.allocate(0)))
                .isInstanceOf(SidecarProtocolException.class)
                .hasMessage("unknown request type 0x55");
        assertThatThrownBy(() -> SidecarProtocol.decodeResponse(SidecarProtocol.PROCESS, 1, ByteBuffer.allocate(4)))
                .isInstanceOf(SidecarProtocolException.class)
                .hasMessage("unknown response type PROCESS");
        assertThatThrownBy(() -> SidecarProtocol.decodeRequest(SidecarProtocol.HELLO_OK, 1, ByteBuffer.allocate(0)))
                .isInstanceOf(SidecarProtocolException.class)
                .hasMessage("unknown request type HELLO_OK");
    }

    @Test
    void unknownOutputKindsAreRejected() {
        ByteBuffer body = ByteBuffer.allocate(9).putInt(1).putInt(1).put((byte) 3).flip();
        assertThatThrownBy(() -> SidecarProtocol.decodeResponse(SidecarProtocol.PROCESSED, 1, body))
                .isInstanceOf(SidecarProtocolException.class)
                .hasMessage("unknown output kind 3");
    }

    @Test
    void unknownFireModesAreRejected() {
        ByteBuffer body = ByteBuffer.allocate(26).putInt(1).putInt(1).put((byte) 'k').putLong(0).putLong(10)
                .put((byte) 3).flip();
        assertThatThrownBy(() -> SidecarProtocol.decodeRequest(SidecarProtocol.FIRE, 1, body))
                .isInstanceOf(SidecarProtocolException.class)
                .hasMessage("unknown fire mode 3");
    }

    @Test
    void aCorruptCountFailsOnTheMissingDataInsteadOfAllocatingForIt() {
        ByteBuffer huge = ByteBuffer.allocate(4).putInt(Integer.MAX_VALUE).flip();
        assertThatThrownBy(() -> SidecarProtocol.decodeRequest(SidecarProtocol.PROCESS, 1, huge))
                .isInstanceOf(SidecarProtocolException.class)
                .hasMessage("frame ends in the middle of a field");
        ByteBuffer negative = ByteBuffer.allocate(4).putInt(-2).flip();
        assertThatThrownBy(() -> SidecarProtocol.decodeRequest(SidecarProtocol.PROCESS, 1, negative))
                .isInstanceOf(SidecarProtocolException.class)
                .hasMessage("length or count 4294967294 is too large");
    }

    @Test
    void aFrameWhoseLengthFieldDisagreesWithItsSizeIsRejected() {
        byte[] frame = HexFormat.of().parseHex("000000067f00000009");
        assertThatThrownBy(() -> SidecarProtocol.decodeRequest(frame))
                .isInstanceOf(SidecarProtocolException.class)
                .hasMessage("the frame's length field says 6 bytes follow, but 5 do");
    }

    @Test
    void aFireCarriesAnAccumulatorOrEventsOrNeitherButNotBoth() {
        assertThatThrownBy(() -> new FireRequest("k", 0, 1, new byte[0], List.of()))
                .isInstanceOf(IllegalArgumentException.class);
        assertThat(FireRequest.kept("k", 0, 1, 3).mode()).isEqualTo(SidecarProtocol.FIRE_MODE_KEPT);
        assertThatThrownBy(() -> new FireRequest("k", 0, 1, null, null)).isInstanceOf(IllegalArgumentException.class);
        assertThat(new FireRequest("k", 0, 1, new byte[0], null).mode()).isEqualTo(SidecarProtocol.FIRE_MODE_AGGREGATE);
        assertThat(new FireRequest("k", 0, 1, null, List.of()).mode()).isEqualTo(SidecarProtocol.FIRE_MODE_PROCESS);
    }

    @Test
    void theConstantsMatchTheSpecification() throws Exception {
        // the version's one home is packages/sidecar/src/protocol.ts
        String typescript = Files.readString(GoldenFrames.moduleDirectory()
                .resolve(Path.of("..", "sidecar", "src", "protocol.ts")).normalize());
        Matcher version = Pattern.compile("export const PROTOCOL_VERSION = (\\d+);").matcher(typescript);
        assertThat(version.find()).isTrue();
        assertThat(SidecarProtocol.PROTOCOL_VERSION).isEqualTo(Integer.parseInt(version.group(1)));
        assertThat(typescript).contains("METRICS: 0x30,")
                .contains("export const MetricKind = { COUNTER: 0, GAUGE: 1, HISTOGRAM: 2 } as const;");
        assertThat(SidecarProtocol.METRICS).isEqualTo(0x30);
        assertThat(List.of(SidecarProtocol.METRIC_COUNTER, SidecarProtocol.METRIC_GAUGE, SidecarProtocol.METRIC_HISTOGRAM))
                .containsExactly(0, 1, 2);
        assertThat(SidecarProtocol.NO_TIMESTAMP).isEqualTo(Long.MIN_VALUE);
        assertThat(List.of(SidecarProtocol.OUTPUT_SINK, SidecarProtocol.OUTPUT_ELEMENT, SidecarProtocol.OUTPUT_DEAD_LETTER))
                .containsExactly(0, 1, 2);
    }

    private static Message decode(Frame frame, int type, int id, ByteBuffer body) throws SidecarProtocolException {
        return frame.isRequest()
                ? SidecarProtocol.decodeRequest(type, id, body)
                : SidecarProtocol.decodeResponse(type, id, body);
    }

    private static Message decodeFrame(Frame frame, byte[] bytes) throws SidecarProtocolException {
        return frame.isRequest() ? SidecarProtocol.decodeRequest(bytes) : SidecarProtocol.decodeResponse(bytes);
    }
}
