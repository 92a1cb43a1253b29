package dev.flinkfn.runtime.operators;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.apache.flink.streaming.api.windowing.windows.TimeWindow;
import org.junit.jupiter.api.Test;

/** The bookkeeping of windows kept in the sidecar: slots, due times and waiting events (the requests are the operator's). */
class HeldWindowsTest {

    private final HeldWindows held = new HeldWindows();

    private static TimeWindow window(long start) {
        return new TimeWindow(start, start + 10);
    }

    private static byte[] event(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    private static List<String> texts(List<byte[]> events) {
        return events.stream().map(e -> new String(e, StandardCharsets.UTF_8)).toList();
    }

    @Test
    void eachWindowOfAKeyGetsOneSlotAndItsEventsWaitInArrivalOrderUntilDrained() {
        assertThat(held.add("a", window(0), 9, event("a1"))).isTrue();
        assertThat(held.add("b", window(0), 9, event("b1"))).isTrue();
        assertThat(held.add("a", window(0), 9, event("a2"))).isFalse();
        assertThat(held.add("a", window(10), 19, event("a3"))).isTrue();

        List<HeldWindows.Held> waiting = held.drainWaiting();
        assertThat(waiting).extracting(h -> h.key + "@" + h.window.getStart() + "#" + h.slot)
                .containsExactly("a@0#0", "b@0#1", "a@10#2");
        assertThat(texts(waiting.get(0).takeEvents())).containsExactly("a1", "a2");
        assertThat(waiting.get(0).takeEvents()).isNull(); // handed over once
        assertThat(held.drainWaiting()).isEmpty();

        held.add("b", window(0), 9, event("b2")); // waits again, in the slot it has
        assertThat(held.drainWaiting()).extracting(h -> h.slot).containsExactly(1);
        assertThat(held.size()).isEqualTo(3);
    }

    @Test
    void aWatermarkRemovesExactlyTheWindowsDueAtOrBeforeItAndTheirSlotsAreReused() {
        held.add("a", window(0), 9, event("a"));
        held.add("b", window(10), 19, event("b"));
        held.add("c", window(20), 29, event("c"));
        held.drainWaiting();

        assertThat(held.removeDue(8)).isEmpty();
        assertThat(held.removeDue(19)).extracting(h -> h.key).containsExactly("a", "b");
        assertThat(held.size()).isEqualTo(1);
        assertThat(held.add("a", window(0), 9, event("again"))).isTrue(); // forgotten: kept anew
        assertThat(held.add("d", window(30), 39, event("d"))).isTrue();
        assertThat(held.drainWaiting()).extracting(h -> h.slot).containsExactlyInAnyOrder(0, 1); // freed slots, no new ones

        assertThat(held.removeAll()).extracting(h -> h.key).containsExactlyInAnyOrder("a", "c", "d");
        assertThat(held.size()).isZero();
        assertThat(held.removeDue(Long.MAX_VALUE)).isEmpty();
    }

    @Test
    void slotsStayBelowTheMostEverKeptAtOnceHoweverManyWindowsComeAndGo() {
        int maxSlot = -1;
        for (int round = 0; round < 1_000; round++) {
            for (int key = 0; key < 100; key++) {
                held.add("k" + key, window(round * 10L), round * 10L + 9, event("e"));
            }
            for (HeldWindows.Held window : held.drainWaiting()) {
                maxSlot = Math.max(maxSlot, window.slot);
                window.takeEvents();
            }
            held.removeDue(round * 10L + 9);
        }
        assertThat(maxSlot).isEqualTo(99);
    }

    @Test
    void windowsAreNeverTakenBackWithEventsNotCombinedYet() {
        held.add("a", window(0), 9, event("a"));
        assertThatThrownBy(() -> held.removeDue(9)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(held::removeAll).isInstanceOf(IllegalStateException.class);
    }
}
