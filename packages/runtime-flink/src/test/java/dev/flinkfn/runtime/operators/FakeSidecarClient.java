package dev.flinkfn.runtime.operators;

import dev.flinkfn.runtime.sidecar.SidecarClient;
import dev.flinkfn.runtime.sidecar.SidecarProtocol;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

/**
 * A sidecar without a Node process, for operator tests. Records are {@code key:timestamp} text (a record starting
 * with {@code bad} is a dead letter); accumulators count events; a fired window emits {@code key@start-end=count}.
 * Every request is recorded, and answers can be delayed or withheld to test bundling and the watermark hold.
 */
final class FakeSidecarClient implements SidecarClient {

    final List<String> requests = Collections.synchronizedList(new ArrayList<>());
    /** How answers are completed: at once (default), on another thread later, or never. */
    volatile Executor answer = Runnable::run;
    volatile boolean neverAnswer;
    /** While set, answers are held in {@link #held} (in request order) until a test releases them, in any order. */
    volatile boolean holdAnswers;
    final List<Runnable> held = Collections.synchronizedList(new ArrayList<>());

    /** Where the operator wants the handler's metrics; a record starting with {@code counted} counts one. */
    volatile java.util.function.Consumer<List<SidecarProtocol.MetricUpdate>> metricsListener;

    @Override
    public void setMetricsListener(java.util.function.Consumer<List<SidecarProtocol.MetricUpdate>> listener) {
        metricsListener = listener;
    }

    @Override
    public CompletableFuture<List<List<SidecarProtocol.Output>>> process(List<byte[]> records) {
        requests.add("process " + records.size());
        List<List<SidecarProtocol.Output>> results = new ArrayList<>();
        long counted = records.stream().filter(r -> new String(r, StandardCharsets.UTF_8).startsWith("counted")).count();
        if (counted > 0 && metricsListener != null) {
            metricsListener.accept(List.of(new SidecarProtocol.CounterUpdate("counted", counted),
                    new SidecarProtocol.GaugeUpdate("last-bundle", records.size()),
                    new SidecarProtocol.HistogramUpdate("bundle-size", new long[] {records.size()})));
        }
        for (byte[] record : records) {
            String text = new String(record, StandardCharsets.UTF_8);
            if (text.startsWith("bad")) {
                results.add(List.of(new SidecarProtocol.DeadLetterOutput(("{\"stage\":\"handle\",\"raw\":\"" + text + "\"}").getBytes(StandardCharsets.UTF_8))));
            } else {
                String[] parts = text.split(":");
                results.add(List.of(new SidecarProtocol.ElementOutput(parts[0], Long.parseLong(parts[1]), record)));
            }
        }
        return answer(results);
    }

    @Override
    public CompletableFuture<List<SidecarProtocol.AggregateResult>> aggregate(List<SidecarProtocol.AggregateGroup> groups) {
        requests.add("aggregate " + groups.size() + " groups " + groups.stream().mapToInt(g -> g.events().size()).sum() + " events");
        List<SidecarProtocol.AggregateResult> results = new ArrayList<>();
        for (SidecarProtocol.AggregateGroup group : groups) {
            long count = group.accumulator() == null ? 0 : Long.parseLong(new String(group.accumulator(), StandardCharsets.UTF_8));
            results.add(new SidecarProtocol.AggregateResult(bytes(String.valueOf(count + group.events().size())), List.of()));
        }
        return answer(results);
    }

    /** The counts COMBINE keeps, by slot, as the sidecar keeps accumulators per connection. */
    final java.util.Map<Integer, Long> kept = new java.util.HashMap<>();

    @Override
    public CompletableFuture<List<List<byte[]>>> combine(List<SidecarProtocol.CombineGroup> groups) {
        requests.add("combine " + groups.size() + " groups " + groups.stream().mapToInt(g -> g.events().size()).sum() + " events");
        List<List<byte[]>> results = new ArrayList<>();
        for (SidecarProtocol.CombineGroup group : groups) {
            long count;
            if (group.held()) {
                Long keptCount = kept.get(group.slot());
                if (keptCount == null) {
                    return failed("COMBINE continues slot " + group.slot() + ", which keeps nothing");
                }
                count = keptCount;
            } else {
                count = group.accumulator() == null ? 0 : Long.parseLong(new String(group.accumulator(), StandardCharsets.UTF_8));
            }
            kept.put(group.slot(), count + group.events().size());
            results.add(List.of());
        }
        return answer(results);
    }

    @Override
    public CompletableFuture<List<SidecarProtocol.AggregateResult>> take(List<Integer> slots) {
        requests.add("take " + slots.size());
        List<SidecarProtocol.AggregateResult> results = new ArrayList<>();
        for (int slot : slots) {
            Long count = kept.remove(slot);
            if (count == null) {
                return failed("TAKE of slot " + slot + ", which keeps nothing");
            }
            results.add(new SidecarProtocol.AggregateResult(bytes(String.valueOf(count)), List.of()));
        }
        return answer(results);
    }

    private static <T> CompletableFuture<T> failed(String message) {
        CompletableFuture<T> failed = new CompletableFuture<>();
        failed.completeExceptionally(new IllegalStateException(message));
        return failed;
    }

    @Override
    public CompletableFuture<List<SidecarProtocol.MergeResult>> merge(List<SidecarProtocol.MergeRequest> merges) {
        requests.add("merge " + merges.size());
        List<SidecarProtocol.MergeResult> results = new ArrayList<>();
        for (SidecarProtocol.MergeRequest merge : merges) {
            long sum = merge.accumulators().stream().mapToLong(a -> Long.parseLong(new String(a, StandardCharsets.UTF_8))).sum();
            results.add(new SidecarProtocol.MergeResult(bytes(String.valueOf(sum)), List.of()));
        }
        return answer(results);
    }

    /** The events each FIRE of a {@code process} function carried, as {@code key@start-end [event, ...]}. */
    final List<String> firedEvents = Collections.synchronizedList(new ArrayList<>());

    @Override
    public CompletableFuture<List<List<SidecarProtocol.Output>>> fire(List<SidecarProtocol.FireRequest> fires) {
        requests.add("fire " + fires.size());
        for (SidecarProtocol.FireRequest fire : fires) {
            if (fire.events() != null) {
                firedEvents.add(fire.key() + "@" + fire.start() + "-" + fire.end() + " "
                        + fire.events().stream().map(e -> new String(e, StandardCharsets.UTF_8)).toList());
            }
        }
        List<List<SidecarProtocol.Output>> results = new ArrayList<>();
        for (SidecarProtocol.FireRequest fire : fires) {
            String count;
            if (fire.accumulator() != null) {
                count = new String(fire.accumulator(), StandardCharsets.UTF_8);
            } else if (fire.events() != null) {
                count = String.valueOf(fire.events().size());
            } else {
                Long kept = this.kept.remove(fire.slot());
                if (kept == null) {
                    return failed("FIRE of slot " + fire.slot() + ", which keeps nothing");
                }
                count = String.valueOf(kept);
            }
            results.add(List.of(new SidecarProtocol.SinkOutput(0, fire.key(), bytes(fire.key() + "@" + fire.start() + "-" + fire.end() + "=" + count))));
        }
        return answer(results);
    }

    @Override
    public void close() {}

    private <T> CompletableFuture<T> answer(T value) {
        CompletableFuture<T> future = new CompletableFuture<>();
        if (holdAnswers) {
            held.add(() -> future.complete(value));
        } else if (!neverAnswer) {
            answer.execute(() -> future.complete(value));
        }
        return future;
    }

    static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }
}
