package dev.flinkfn.runtime.sidecar;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.apache.flink.util.InstantiationUtil;
import org.junit.jupiter.api.Test;

class SidecarConfigTest {

    @Test
    void processModeHasTheDocumentedDefaults() {
        SidecarConfig config = SidecarConfig.process("node", "/opt/flinkfn/sidecar/bin/flinkfn-sidecar.js");
        assertThat(config.mode()).isEqualTo(SidecarConfig.Mode.PROCESS);
        assertThat(config.command()).containsExactly("node", "/opt/flinkfn/sidecar/bin/flinkfn-sidecar.js");
        assertThat(config.socketPath()).isNull();
        assertThat(config.startupTimeout()).isEqualTo(Duration.ofSeconds(30));
        assertThat(config.requestTimeout()).isEqualTo(Duration.ofSeconds(60));
    }

    @Test
    void aConfigSurvivesJavaSerializationLikeAnOperatorField() throws Exception {
        for (SidecarConfig config : List.of(
                SidecarConfig.process(List.of("node", "sidecar.js")).withRequestTimeout(Duration.ofMillis(1500)),
                SidecarConfig.external(Path.of("/run/flinkfn/sidecar.sock")).withStartupTimeout(Duration.ofMinutes(2)))) {
            SidecarConfig copy = InstantiationUtil.clone(config);
            assertThat(copy).isEqualTo(config).isNotSameAs(config);
            assertThat(copy.toString()).isEqualTo(config.toString());
        }
    }

    @Test
    void emptyCommandsAndNonPositiveTimeoutsAreRefused() {
        assertThatThrownBy(() -> SidecarConfig.process(List.of())).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> SidecarConfig.external(" ")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> SidecarConfig.process("node").withRequestTimeout(Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("requestTimeout must be positive");
    }

    @Test
    void timeoutsAreWrittenTheWayPeopleWriteThem() {
        assertThat(Durations.format(Duration.ofSeconds(60))).isEqualTo("60 s");
        assertThat(Durations.format(Duration.ofMillis(400))).isEqualTo("400 ms");
        assertThat(SidecarConfig.external("/s.sock").toString())
                .isEqualTo("SidecarConfig{EXTERNAL, socket=/s.sock, startupTimeout=30 s, requestTimeout=60 s}");
    }
}
