package dev.flinkfn.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Runs the placeholder pipeline on a real Flink MiniCluster (one TaskManager, two slots). */
class MiniClusterSmokeTest {

    @RegisterExtension
    static final MiniClusterExtension MINI_CLUSTER =
            new MiniClusterExtension(
                    new MiniClusterResourceConfiguration.Builder()
                            .setNumberTaskManagers(1)
                            .setNumberSlotsPerTaskManager(2)
                            .build());

    @Test
    void pipelineUpperCasesEveryRecordOnTheMiniCluster() throws Exception {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(2);

        List<String> out =
                FlinkfnRuntimeJob.pipeline(env, List.of("alpha", "beta", "gamma", "delta"))
                        .executeAndCollect(100);

        assertThat(out).containsExactlyInAnyOrder("ALPHA", "BETA", "GAMMA", "DELTA");
    }

    @Test
    void parsesAJsonArrayOfStringsAsInput() throws Exception {
        assertThat(FlinkfnRuntimeJob.parseInput("[\"x\", \"y\"]")).containsExactly("x", "y");
        assertThatThrownBy(() -> FlinkfnRuntimeJob.parseInput("{\"x\":1}"))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> FlinkfnRuntimeJob.parseInput("[1]"))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
