package dev.flinkfn.runtime.operators;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.NavigableMap;
import java.util.TreeMap;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.streaming.api.windowing.windows.TimeWindow;

/**
 * The windows (in the slicing path, the slices) whose accumulators the sidecar keeps between bundles, for
 * {@link JsWindowOperator}: the slot that holds each in the sidecar, the watermark at which each is due, and the events
 * waiting for the next COMBINE. Bookkeeping only, in memory only: the operator sends the requests, and takes every
 * kept accumulator into keyed state before a checkpoint barrier, so none of this is ever snapshotted.
 *
 * <p>Slots are numbered by the operator and reused from a free list, so the sidecar can keep them in an array-like
 * table and the numbers stay small (below the protocol's 2^24) however many windows come and go.
 */
final class HeldWindows {

    /** A kept window (or slice) of a key. */
    static final class Held {
        final String key;
        final TimeWindow window;
        /** The sidecar's slot for it. */
        final int slot;
        /** Whether a COMBINE has started it in the sidecar (else the next one starts it from state). */
        boolean inSidecar;
        /** Whether that COMBINE started from an accumulator in state (which firing from the sidecar must clear). */
        boolean fromState;
        /** Events for the next COMBINE; null when none wait. */
        private List<byte[]> events;
        /** Whether it is in the waiting list (until drained, even if its events were taken). */
        private boolean waiting;

        private Held(String key, TimeWindow window, int slot) {
            this.key = key;
            this.window = window;
            this.slot = slot;
        }

        /** The events for the next COMBINE, handed over once (the next event starts a new list). */
        List<byte[]> takeEvents() {
            List<byte[]> taken = events;
            events = null;
            return taken;
        }
    }

    private final HashMap<Tuple2<String, TimeWindow>, Held> byId = new HashMap<>();
    /** The same windows by the watermark at which each is due: one lookup finds every window a watermark makes due. */
    private final TreeMap<Long, List<Held>> byDueTime = new TreeMap<>();
    /** Kept windows with events waiting for the next COMBINE, in arrival order. */
    private List<Held> waiting = new ArrayList<>();
    private int[] freeSlots = new int[64];
    private int freeSlotCount;
    private int nextSlot;

    /**
     * Queues an event for the accumulator of {@code window} of {@code key}, kept until the watermark reaches
     * {@code dueAt}. Returns whether the window was not kept yet (it got a slot now).
     */
    boolean add(String key, TimeWindow window, long dueAt, byte[] event) {
        Tuple2<String, TimeWindow> id = Tuple2.of(key, window);
        Held held = byId.get(id);
        boolean first = held == null;
        if (first) {
            held = new Held(key, window, freeSlotCount > 0 ? freeSlots[--freeSlotCount] : nextSlot++);
            byId.put(id, held);
            byDueTime.computeIfAbsent(dueAt, t -> new ArrayList<>()).add(held);
        }
        if (held.events == null) {
            held.events = new ArrayList<>();
        }
        if (!held.waiting) {
            held.waiting = true;
            waiting.add(held);
        }
        held.events.add(event);
        return first;
    }

    /**
     * The kept windows with events waiting, in the order their first waiting event came; none wait afterwards. The
     * caller takes each one's events ({@link Held#takeEvents}); events it leaves wait for the next drain.
     */
    List<Held> drainWaiting() {
        List<Held> drained = waiting;
        waiting = new ArrayList<>();
        for (Held held : drained) {
            held.waiting = false;
        }
        return drained;
    }

    /**
     * Forgets the kept windows due at {@code watermark} and returns them. Their slots are free at once: the caller
     * sends what happens to them (TAKE, or FIRE mode 2) before any later COMBINE could reuse a slot, and the sidecar
     * handles requests in order.
     */
    List<Held> removeDue(long watermark) {
        if (!waiting.isEmpty()) {
            throw new IllegalStateException("kept windows are taken back with events not combined yet");
        }
        if (byDueTime.isEmpty() || byDueTime.firstKey() > watermark) {
            return List.of();
        }
        NavigableMap<Long, List<Held>> due = byDueTime.headMap(watermark, true);
        List<Held> removed = new ArrayList<>();
        due.values().forEach(removed::addAll);
        due.clear();
        for (Held held : removed) {
            byId.remove(Tuple2.of(held.key, held.window));
            freeSlot(held.slot);
        }
        return removed;
    }

    /** Forgets every kept window and returns them; their slots are free at once, as in {@link #removeDue}. */
    List<Held> removeAll() {
        if (!waiting.isEmpty()) {
            throw new IllegalStateException("kept windows are taken back with events not combined yet");
        }
        List<Held> removed = new ArrayList<>(byId.values());
        byId.clear();
        byDueTime.clear();
        for (Held held : removed) {
            freeSlot(held.slot);
        }
        return removed;
    }

    int size() {
        return byId.size();
    }

    private void freeSlot(int slot) {
        if (freeSlotCount == freeSlots.length) {
            freeSlots = Arrays.copyOf(freeSlots, freeSlots.length * 2);
        }
        freeSlots[freeSlotCount++] = slot;
    }
}
