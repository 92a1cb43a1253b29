package dev.flinkfn.runtime.job;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flinkfn.runtime.artifact.Manifest;
import dev.flinkfn.runtime.operators.SlidingSlices;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.streaming.api.windowing.windows.TimeWindow;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Which windows keep their state in slices, and the slices: {@link FunctionPipeline#slices} and {@link SlidingSlices}
 * against the golden cases of the rule's home, packages/sdk/src/slices.ts, which the sidecar and the engine read too.
 */
class SlicedWindowsGoldenTest {

    private static final ObjectMapper JSON = new ObjectMapper().configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    @TestFactory
    List<DynamicTest> theRuntimeSlicesExactlyTheWindowsTheSdkSays() throws Exception {
        Path root = Path.of(System.getProperty("basedir", System.getProperty("user.dir"))).resolve("../..").normalize();
        JsonNode golden = JSON.readTree(root.resolve("packages/sdk/test/golden/sliced-windows.json").toFile());
        List<DynamicTest> tests = new ArrayList<>();
        for (JsonNode c : golden.get("cases")) {
            tests.add(DynamicTest.dynamicTest(c.get("name").asText(), () -> {
                Manifest.Window window = JSON.treeToValue(c.get("window"), Manifest.Window.class);
                SlidingSlices slices = FunctionPipeline.slices(window);
                if (c.get("sliceMs").isNull()) {
                    assertThat(slices).isNull();
                } else {
                    assertThat(slices).isNotNull();
                    assertThat(slices.sliceSize()).isEqualTo(c.get("sliceMs").asLong());
                    for (JsonNode element : c.get("elements")) {
                        TimeWindow slice = slices.sliceOf(element.get("ts").asLong());
                        assertThat(List.of(slice.getStart(), slice.getEnd())).as("slice of %s", element.get("ts"))
                                .isEqualTo(List.of(element.get("slice").get(0).asLong(), element.get("slice").get(1).asLong()));
                        List<Long> ends = new ArrayList<>();
                        for (long end = slices.firstWindowEnd(slice); end <= slices.lastWindowEnd(slice); end += slices.slide()) {
                            ends.add(end);
                        }
                        List<Long> expected = new ArrayList<>();
                        element.get("windowEnds").forEach(e -> expected.add(e.asLong()));
                        assertThat(ends).as("windows containing the slice of %s", element.get("ts")).isEqualTo(expected);
                    }
                }
            }));
        }
        assertThat(tests).hasSizeGreaterThan(5);
        return tests;
    }
}
