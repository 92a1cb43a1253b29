package dev.flinkfn.runtime.operators;

import static org.apache.flink.util.Preconditions.checkNotNull;

import dev.flinkfn.runtime.sidecar.SidecarProtocol.CounterUpdate;
import dev.flinkfn.runtime.sidecar.SidecarProtocol.GaugeUpdate;
import dev.flinkfn.runtime.sidecar.SidecarProtocol.HistogramUpdate;
import dev.flinkfn.runtime.sidecar.SidecarProtocol.MetricUpdate;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.runtime.metrics.DescriptiveStatisticsHistogram;

/**
 * The handler's own metrics ({@code ctx.metrics} in the function) as Flink metrics of the operator that runs it, in
 * the group {@value #GROUP}: {@code <operator>.flinkfn.<name>} per subtask, so Flink's UI, REST API and reporters see
 * them, and they go with the operator (the job). Registered at their first update from the sidecar. Updates arrive on
 * the sidecar client's reader thread, one connection per operator instance, so each metric has one writer.
 */
final class HandlerMetrics implements Consumer<List<MetricUpdate>> {

    /** The operator's metric subgroup that holds the handler's metrics. */
    static final String GROUP = "flinkfn";
    /** How many recent values a histogram's statistics cover. */
    static final int HISTOGRAM_WINDOW = 1000;

    private final MetricGroup group;
    private final Map<String, Counter> counters = new HashMap<>();
    private final Map<String, LastValue> gauges = new HashMap<>();
    private final Map<String, Histogram> histograms = new HashMap<>();

    /** {@code operatorGroup}: the operator's metric group; the handler's metrics go into its {@value #GROUP} subgroup. */
    HandlerMetrics(MetricGroup operatorGroup) {
        this.group = checkNotNull(operatorGroup).addGroup(GROUP);
    }

    @Override
    public void accept(List<MetricUpdate> updates) {
        for (MetricUpdate update : updates) {
            if (update instanceof CounterUpdate counter) {
                counters.computeIfAbsent(counter.name(), group::counter).inc(counter.increment());
            } else if (update instanceof GaugeUpdate gauge) {
                gauges.computeIfAbsent(gauge.name(), name -> group.gauge(name, new LastValue())).value = gauge.value();
            } else {
                HistogramUpdate histogram = (HistogramUpdate) update;
                Histogram target = histograms.computeIfAbsent(histogram.name(),
                        name -> group.histogram(name, new DescriptiveStatisticsHistogram(HISTOGRAM_WINDOW)));
                for (long value : histogram.values()) {
                    target.update(value);
                }
            }
        }
    }

    /**
     * A gauge of the last value the handler set; read by reporters on other threads. A Double: in the REST API its text
     * ("2.0") is what tells it from a counter ("2") for {@code flinkfn status} (packages/deploy observe/handler-metrics.ts).
     */
    private static final class LastValue implements Gauge<Double> {
        volatile double value;

        @Override
        public Double getValue() {
            return value;
        }
    }
}
