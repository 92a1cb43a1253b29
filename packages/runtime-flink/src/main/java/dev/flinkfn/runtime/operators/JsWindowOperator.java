package dev.flinkfn.runtime.operators;

import static org.apache.flink.util.Preconditions.checkNotNull;

import dev.flinkfn.runtime.sidecar.SidecarProtocol;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.base.array.BytePrimitiveArraySerializer;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.api.java.typeutils.runtime.TupleSerializer;
import org.apache.flink.runtime.state.VoidNamespace;
import org.apache.flink.runtime.state.VoidNamespaceSerializer;
import org.apache.flink.runtime.state.internal.InternalListState;
import org.apache.flink.streaming.api.operators.InternalTimer;
import org.apache.flink.streaming.api.operators.InternalTimerService;
import org.apache.flink.streaming.api.operators.Triggerable;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.api.windowing.assigners.MergingWindowAssigner;
import org.apache.flink.streaming.api.windowing.assigners.WindowAssigner;
import org.apache.flink.streaming.api.windowing.windows.TimeWindow;
import org.apache.flink.streaming.runtime.operators.windowing.MergingWindowSet;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keyed windows whose functions run in the sidecar. Flink keeps everything that needs fault tolerance: accumulators
 * (or, for {@code process} functions, the window's events) in keyed state namespaced by window, timers in the timer
 * service, and session bookkeeping in Flink's own {@link MergingWindowSet}. The semantics are those of Flink's
 * {@code WindowOperator} with {@code EventTimeTrigger}/{@code ProcessingTimeTrigger}: an element goes to every window
 * that is not late; a window fires when time reaches its last millisecond, or at once when it is already past it
 * (a late firing); state is dropped at the last millisecond plus the allowed lateness; an element skipped by all its
 * windows and itself late goes to the late output.
 *
 * <p>The sidecar is never called per element. {@code add} runs in bundles: elements wait in memory, grouped by key
 * and window, and one AGGREGATE request updates every touched accumulator. All windows that fire on one watermark go
 * in one FIRE request. The bundle is flushed before anything reads an accumulator: before firing, before merging two
 * sessions' accumulators, before a watermark advances the timers, and before a checkpoint barrier, so the
 * accumulators in state are always complete when they are read or snapshotted.
 *
 * <p><b>Sliding event-time windows whose accumulator merges</b> ({@link SlidingSlices}, given only then) keep one
 * accumulator per key and slice instead of one per key and window, as Flink SQL's slicing windows do: an element is
 * added to its slice only, and a window that fires merges the slices it covers (one MERGE request for every window
 * that fires on a watermark, then the FIRE request). The trigger and lateness rules stay those above, applied to the
 * windows the slice belongs to. Timers are per key and window end, chained: an element registers the end of the
 * first window of its slice that has not fired; a window that fires registers the next one when a slice it shares
 * with it holds data. A window's cleanup time (its end plus the allowed lateness) drops the slices no later window
 * covers.
 *
 * <p>A savepoint of a version that kept these windows per window restores accumulators per window: the slicing path
 * reads such a window's accumulator along with its slices whenever it fires, and drops it at its cleanup time (see
 * {@link #restoredWindowAccumulators}), so windows open at the upgrade keep what they had.
 *
 * <p>Event-time windows of an aggregate (not sessions, not {@code process}) combine in memory, as Flink SQL's window
 * aggregation does (FLIP-145's window buffer): the sidecar keeps the accumulator of a window that is not due yet from
 * one bundle to the next (COMBINE), so a bundle costs no state read or write and no accumulator crossing the socket,
 * and a kept window has no timer: the watermark finds the kept windows it makes due in an index by window end (one
 * lookup per watermark, as Flink SQL's slicing operator keeps one timer per slice end). Without allowed lateness a
 * due window fires straight from the sidecar's memory (FIRE mode 2) and never reaches state; with lateness its
 * accumulator goes into state (TAKE) with its timers, before the watermark runs them, so late firings and cleanup
 * work as before. Before a checkpoint barrier, at finish and above {@link #MAX_HELD} kept windows every kept
 * accumulator goes into state with its timers (TAKE), so a snapshot holds everything. A window that is already due
 * (late firings) takes the state path, so a kept window is never due. The slicing path keeps slices so, each until
 * the first window covering it is due, when it always goes into state (a slice does not fire; its windows' timers,
 * registered when it was first kept, fire them from state).
 */
public class JsWindowOperator extends AbstractSidecarOperator<StageRecord> implements Triggerable<String, TimeWindow> {

    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(JsWindowOperator.class);

    /** Kept accumulators above which all are taken back into state: bounds the sidecar's memory per subtask. */
    static final int MAX_HELD = 50_000;

    // --- configuration -----------------------------------------------------------------------------------------

    private final WindowAssigner<Object, TimeWindow> assigner;
    private final long allowedLateness;
    private final boolean processFunction;
    private final boolean lateOutput;
    /** Set for sliding event-time windows of a merging accumulator: the slicing path; null: one state per window. */
    private final SlidingSlices slices;
    /** Whether accumulators of windows not due yet are kept in the sidecar between bundles (see the class comment). */
    private final boolean holdAccumulators;

    // --- state and timers --------------------------------------------------------------------------------------

    private transient TypeSerializer<TimeWindow> windowSerializer;
    private transient ValueStateDescriptor<byte[]> accumulatorDescriptor;
    private transient ValueStateDescriptor<byte[]> sliceDescriptor;
    private transient ListStateDescriptor<byte[]> eventsDescriptor;
    private transient ListState<Tuple2<TimeWindow, TimeWindow>> mergingSetsState;
    private transient InternalTimerService<TimeWindow> timers;
    /**
     * The slicing path restored accumulators kept per window (by an earlier version, or by another subtask before a
     * rescale): windows open then hold events in their own accumulator as well as in slices until their cleanup. Their
     * timers are namespaced by window in both paths, so the restored ones fire and clean them up.
     */
    private transient boolean restoredWindowAccumulators;

    // --- runtime -----------------------------------------------------------------------------------------------

    private transient WindowAssigner.WindowAssignerContext assignerContext;
    /** Elements waiting for AGGREGATE, by (key, state window), in arrival order. */
    private transient LinkedHashMap<Tuple2<String, TimeWindow>, List<byte[]>> bundle;
    private transient int bundleSize;
    private transient long bundleStartedAt;
    /** Windows that fired and wait for one FIRE request. */
    private transient List<SidecarProtocol.FireRequest> pendingFires;
    /** Windows of {@link #pendingFires} (by index) whose slices are merged first, in one MERGE request. */
    private transient List<Integer> pendingMergeAt;
    private transient List<SidecarProtocol.MergeRequest> pendingMerges;
    /** Windows whose accumulators the sidecar keeps (or will keep after the next COMBINE). */
    private transient HeldWindows held;
    /** What a window in state holds: an accumulator, or for {@code process} functions its events. */
    private transient WindowContents contents;

    /**
     * @param slices the slices of the sliding event-time windows {@code assigner} makes, when the accumulator merges
     *     (then state is kept per slice); null: state per window
     */
    @SuppressWarnings("unchecked")
    public JsWindowOperator(
            WindowAssigner<?, TimeWindow> assigner,
            long allowedLateness,
            boolean processFunction,
            boolean lateOutput,
            SlidingSlices slices,
            SidecarClientFactory clientFactory,
            BundleOptions bundleOptions) {
        super(clientFactory, bundleOptions);
        this.assigner = (WindowAssigner<Object, TimeWindow>) checkNotNull(assigner);
        this.allowedLateness = assigner.isEventTime() ? allowedLateness : 0;
        this.processFunction = processFunction;
        this.lateOutput = lateOutput;
        if (slices != null && (processFunction || !assigner.isEventTime() || assigner instanceof MergingWindowAssigner)) {
            throw new IllegalArgumentException("slices are for sliding event-time windows of an aggregate");
        }
        this.slices = slices;
        this.holdAccumulators = !processFunction && assigner.isEventTime() && !(assigner instanceof MergingWindowAssigner);
    }

    // --- lifecycle ---------------------------------------------------------------------------------------------

    @Override
    @SuppressWarnings({"unchecked", "rawtypes"})
    public void open() throws Exception {
        super.open();
        windowSerializer = new TimeWindow.Serializer();
        accumulatorDescriptor = new ValueStateDescriptor<>("accumulator", BytePrimitiveArraySerializer.INSTANCE);
        // A name of its own: state written per window by an earlier version is never read as a slice's.
        sliceDescriptor = new ValueStateDescriptor<>("slice-accumulator", BytePrimitiveArraySerializer.INSTANCE);
        eventsDescriptor = new ListStateDescriptor<>("events", BytePrimitiveArraySerializer.INSTANCE);
        if (assigner instanceof MergingWindowAssigner) {
            TupleSerializer<Tuple2<TimeWindow, TimeWindow>> pairs =
                    new TupleSerializer<>((Class) Tuple2.class, new TypeSerializer[] {windowSerializer, windowSerializer});
            InternalListState<String, VoidNamespace, Tuple2<TimeWindow, TimeWindow>> sets =
                    (InternalListState<String, VoidNamespace, Tuple2<TimeWindow, TimeWindow>>) getOrCreateKeyedState(
                            VoidNamespaceSerializer.INSTANCE, new ListStateDescriptor<>("merging-window-set", pairs));
            sets.setCurrentNamespace(VoidNamespace.INSTANCE); // one set per key, as in Flink's WindowOperator
            mergingSetsState = sets;
        }
        timers = getInternalTimerService("window-timers", windowSerializer, this);
        restoredWindowAccumulators = slices != null && holdsEntries(accumulatorDescriptor.getName());
        if (restoredWindowAccumulators) {
            LOG.info("{}: restored accumulators kept per window (a savepoint of a version without slices): the windows "
                    + "they belong to fire with them merged into their slices until their cleanup", getOperatorName());
        }
        assignerContext = new WindowAssigner.WindowAssignerContext() {
            @Override
            public long getCurrentProcessingTime() {
                return timers.currentProcessingTime();
            }
        };
        bundle = new LinkedHashMap<>();
        pendingFires = new ArrayList<>();
        pendingMergeAt = new ArrayList<>();
        pendingMerges = new ArrayList<>();
        held = new HeldWindows();
        contents = processFunction ? new EventListContents() : new AccumulatorContents();
    }

    @Override
    public void processElement(StreamRecord<StageRecord> element) throws Exception {
        String key = element.getValue().key;
        byte[] event = element.getValue().payload;
        long timestamp = assigner.isEventTime() ? element.getTimestamp() : timers.currentProcessingTime();
        if (slices != null) {
            processSliced(key, event, timestamp);
            return;
        }
        Collection<TimeWindow> windows = assigner.assignWindows(event, timestamp, assignerContext);

        boolean skipped = true;
        if (mergingSetsState != null) {
            MergingWindowSet<TimeWindow> sessions = mergingWindowSet();
            for (TimeWindow window : windows) {
                TimeWindow actual = sessions.addWindow(window, (result, merged, stateResult, mergedStates) ->
                        onMerge(key, result, merged, stateResult, mergedStates));
                if (isWindowLate(actual)) {
                    sessions.retireWindow(actual);
                    continue;
                }
                skipped = false;
                TimeWindow stateWindow = sessions.getStateWindow(actual);
                contents.add(key, stateWindow, event);
                onElementTrigger(key, actual, stateWindow);
                registerCleanupTimer(actual);
            }
            sessions.persist();
        } else {
            for (TimeWindow window : windows) {
                if (isWindowLate(window)) {
                    continue;
                }
                skipped = false;
                if (holdAccumulators && window.maxTimestamp() > timers.currentWatermark()) {
                    keep(key, window, window.maxTimestamp(), event);
                    continue;
                }
                contents.add(key, window, event);
                onElementTrigger(key, window, window);
                registerCleanupTimer(window);
            }
        }
        if (skipped && isElementLate(timestamp) && lateOutput) {
            output.collect(Tags.LATE, new StreamRecord<>(event, timestamp));
        }
        if (bundleSize >= bundleOptions.maxSize()) {
            flushBundle();
        }
    }

    /**
     * The slicing path of {@link #processElement}: the same windows, lateness and late firings, but the element is
     * added to its slice once and only the first window still to fire gets a timer.
     */
    private void processSliced(String key, byte[] event, long timestamp) throws Exception {
        TimeWindow slice = slices.sliceOf(timestamp);
        long watermark = timers.currentWatermark();
        // A slice none of whose windows is due yet is kept in the sidecar until the first of them is.
        long firstDue = slices.firstWindowEnd(slice) - 1;
        boolean kept = holdAccumulators && firstDue > watermark;
        boolean timersRegistered = false;
        boolean added = false;
        for (long end = slices.firstWindowEnd(slice); end <= slices.lastWindowEnd(slice); end += slices.slide()) {
            TimeWindow window = slices.windowEndingAt(end);
            if (isWindowLate(window)) {
                continue;
            }
            if (!added) {
                if (kept) {
                    // Kept before: its first window's timers are registered (nothing fired or deleted them since).
                    timersRegistered = !keep(key, slice, firstDue, event);
                } else {
                    addToBundle(key, slice, event);
                }
                added = true;
            }
            if (window.maxTimestamp() <= watermark) {
                // A late firing, at once and with this element counted, as in the per-window path.
                flushBundle();
                collectSlicedFire(key, window);
                flushFires();
                registerCleanupTimer(window);
            } else {
                // The first window still to fire; the later ones are registered by the chain in onSlicedTimer.
                if (!timersRegistered) {
                    registerTimer(window.maxTimestamp(), window);
                    registerCleanupTimer(window);
                }
                break;
            }
        }
        if (!added && isElementLate(timestamp) && lateOutput) {
            output.collect(Tags.LATE, new StreamRecord<>(event, timestamp));
        }
        if (bundleSize >= bundleOptions.maxSize()) {
            flushBundle();
        }
    }

    @Override
    public void processWatermark(Watermark mark) throws Exception {
        // Accumulators must be complete, and in state, before timers read them.
        flushBundle();
        takeDue(mark.getTimestamp());
        if (timeServiceManager != null) {
            timeServiceManager.advanceWatermark(mark);
        }
        flushFires();
        output.emitWatermark(mark);
    }

    @Override
    public void prepareSnapshotPreBarrier(long checkpointId) throws Exception {
        // The bundle and the pending fires live in memory only: settle them before the barrier so that the snapshot
        // holds every element that came before it; kept accumulators are not state either.
        flushBundle();
        takeAllHeld();
        flushFires();
        super.prepareSnapshotPreBarrier(checkpointId);
    }

    @Override
    public void finish() throws Exception {
        try {
            flushBundle();
            takeAllHeld();
            flushFires();
        } finally {
            super.finish();
        }
    }

    // --- timers (Flink's triggers) -----------------------------------------------------------------------------

    @Override
    public void onEventTime(InternalTimer<String, TimeWindow> timer) throws Exception {
        onTimer(timer, true);
    }

    @Override
    public void onProcessingTime(InternalTimer<String, TimeWindow> timer) throws Exception {
        // Processing-time timers come one at a time from the mailbox: settle the bundle first (it may hold this
        // window's elements), then fire; the FIRE request goes out with the next flush.
        flushBundle();
        onTimer(timer, false);
        scheduleBundleTimer(getProcessingTimeService().getCurrentProcessingTime());
    }

    private void onTimer(InternalTimer<String, TimeWindow> timer, boolean eventTime) throws Exception {
        if (eventTime != assigner.isEventTime()) {
            return;
        }
        TimeWindow window = timer.getNamespace();
        if (slices != null) {
            onSlicedTimer(timer.getKey(), window, timer.getTimestamp());
            return;
        }
        MergingWindowSet<TimeWindow> sessions = mergingSetsState != null ? mergingWindowSet() : null;
        TimeWindow stateWindow = sessions != null ? sessions.getStateWindow(window) : window;
        if (stateWindow == null) {
            return; // merged into another session, whose own timers are registered
        }
        if (timer.getTimestamp() == window.maxTimestamp()) {
            contents.fire(timer.getKey(), window, stateWindow);
        }
        if (timer.getTimestamp() == cleanupTime(window)) {
            contents.clear(stateWindow);
            if (timer.getTimestamp() != window.maxTimestamp()) {
                deleteTimer(window.maxTimestamp(), window); // without lateness it is the timer firing now
            }
            if (sessions != null) {
                sessions.retireWindow(window);
                sessions.persist();
            }
        }
    }

    /**
     * A window of the slicing path reached its end (fire, and chain the next window when it shares a slice holding
     * data) or its cleanup time (drop the slices that no later window covers).
     */
    private void onSlicedTimer(String key, TimeWindow window, long time) throws Exception {
        TimeWindow next = slices.next(window);
        if (time == window.maxTimestamp() && collectSlicedFire(key, window)) {
            registerTimer(next.maxTimestamp(), next);
            registerCleanupTimer(next);
        }
        if (time == cleanupTime(window)) {
            for (long start = window.getStart(); start < next.getStart(); start += slices.sliceSize()) {
                sliceAccumulator(new TimeWindow(start, start + slices.sliceSize())).clear();
            }
            if (restoredWindowAccumulators) {
                accumulator(window).clear();
            }
        }
    }

    /** The bundle time bound and the flush of processing-time firings. */
    @Override
    protected void onBundleTimer(long time) throws Exception {
        if (bundleSize > 0 && time - bundleStartedAt >= bundleOptions.maxTime().toMillis()) {
            flushBundle();
        }
        flushFires();
        if (bundleSize > 0) {
            scheduleBundleTimer(bundleStartedAt);
        }
    }

    // --- Flink's trigger and lateness rules ----------------------------------------------------------------------

    private void onElementTrigger(String key, TimeWindow window, TimeWindow stateWindow) throws Exception {
        if (assigner.isEventTime() && window.maxTimestamp() <= timers.currentWatermark()) {
            // EventTimeTrigger fires at once when the watermark is already past the window: a late firing. Each late
            // element fires separately with the accumulator including it, so settle the bundle and fire now.
            flushBundle();
            contents.fire(key, window, stateWindow);
            flushFires();
        } else {
            registerTimer(window.maxTimestamp(), window);
        }
    }

    private void onMerge(
            String key,
            TimeWindow result,
            Collection<TimeWindow> mergedWindows,
            TimeWindow stateResult,
            Collection<TimeWindow> mergedStateWindows)
            throws Exception {
        long now = assigner.isEventTime() ? timers.currentWatermark() : timers.currentProcessingTime();
        if (result.maxTimestamp() > now) {
            registerTimer(result.maxTimestamp(), result);
        }
        for (TimeWindow merged : mergedWindows) {
            deleteTimer(merged.maxTimestamp(), merged);
            long cleanup = cleanupTime(merged);
            if (cleanup != merged.maxTimestamp() && cleanup != Long.MAX_VALUE) {
                deleteTimer(cleanup, merged);
            }
        }
        if (!mergedStateWindows.isEmpty()) {
            contents.merge(key, stateResult, mergedStateWindows);
        }
    }

    private boolean isWindowLate(TimeWindow window) {
        return assigner.isEventTime() && cleanupTime(window) <= timers.currentWatermark();
    }

    private boolean isElementLate(long timestamp) {
        return assigner.isEventTime() && timestamp + allowedLateness <= timers.currentWatermark();
    }

    private long cleanupTime(TimeWindow window) {
        if (!assigner.isEventTime()) {
            return window.maxTimestamp();
        }
        long cleanup = window.maxTimestamp() + allowedLateness;
        return cleanup >= window.maxTimestamp() ? cleanup : Long.MAX_VALUE;
    }

    private void registerCleanupTimer(TimeWindow window) {
        long cleanup = cleanupTime(window);
        // Without lateness the cleanup time is the window's end, whose timer the trigger has just registered (a window
        // it would not register for is already late and skipped): registering it again is a wasted lookup per element.
        if (cleanup != Long.MAX_VALUE && cleanup != window.maxTimestamp()) {
            registerTimer(cleanup, window);
        }
    }

    private void registerTimer(long time, TimeWindow window) {
        if (assigner.isEventTime()) {
            timers.registerEventTimeTimer(window, time);
        } else {
            timers.registerProcessingTimeTimer(window, time);
        }
    }

    private void deleteTimer(long time, TimeWindow window) {
        if (assigner.isEventTime()) {
            timers.deleteEventTimeTimer(window, time);
        } else {
            timers.deleteProcessingTimeTimer(window, time);
        }
    }

    // --- state -------------------------------------------------------------------------------------------------

    private MergingWindowSet<TimeWindow> mergingWindowSet() throws Exception {
        @SuppressWarnings("unchecked")
        MergingWindowAssigner<Object, TimeWindow> merging = (MergingWindowAssigner<Object, TimeWindow>) (Object) assigner;
        return new MergingWindowSet<>(merging, mergingSetsState);
    }

    /** Queues an element for the AGGREGATE of its state window (a slice in the slicing path). */
    private void addToBundle(String key, TimeWindow stateWindow, byte[] event) {
        bundle.computeIfAbsent(Tuple2.of(key, stateWindow), k -> new ArrayList<>()).add(event);
        countInBundle();
    }

    /**
     * Queues an element for the COMBINE of a kept accumulator: a window's, or in the slicing path a slice's, taken back
     * into state when the watermark reaches {@code dueAt}. Returns whether it was not kept yet.
     */
    private boolean keep(String key, TimeWindow stateWindow, long dueAt, byte[] event) {
        boolean first = held.add(key, stateWindow, dueAt, event);
        countInBundle();
        return first;
    }

    /** Counts an element waiting for the next flush; the first of a bundle starts the bundle's time bound. */
    private void countInBundle() {
        if (bundleSize == 0) {
            bundleStartedAt = getProcessingTimeService().getCurrentProcessingTime();
            scheduleBundleTimer(bundleStartedAt);
        }
        bundleSize++;
    }

    /**
     * Queues the firing of a window of the slicing path with its slices' accumulators (merged first when there are
     * several). Returns whether a slice it shares with the next window holds data, i.e. whether that one will fire.
     */
    private boolean collectSlicedFire(String key, TimeWindow window) throws Exception {
        long nextStart = slices.next(window).getStart();
        List<byte[]> accumulators = new ArrayList<>();
        if (restoredWindowAccumulators) {
            byte[] restored = accumulator(window).value();
            if (restored != null) {
                accumulators.add(restored); // the window's events from before the restore
            }
        }
        boolean nextHasData = false;
        for (long start = window.getStart(); start < window.getEnd(); start += slices.sliceSize()) {
            byte[] accumulator = sliceAccumulator(new TimeWindow(start, start + slices.sliceSize())).value();
            if (accumulator != null) {
                accumulators.add(accumulator);
                nextHasData |= start >= nextStart;
            }
        }
        if (accumulators.size() > 1) {
            pendingMergeAt.add(pendingFires.size());
            pendingMerges.add(new SidecarProtocol.MergeRequest(key, window.getStart(), window.getEnd(), accumulators));
            pendingFires.add(null); // the merged accumulator, once MERGE answered
        } else if (accumulators.size() == 1) {
            pendingFires.add(new SidecarProtocol.FireRequest(key, window.getStart(), window.getEnd(), accumulators.get(0), null));
        }
        return nextHasData;
    }

    /** Whether the keyed state named so holds any entry of this subtask's key groups (restored, when called in open). */
    private boolean holdsEntries(String stateName) {
        try (Stream<Tuple2<String, TimeWindow>> entries =
                this.<String>getKeyedStateBackend().<TimeWindow>getKeysAndNamespaces(stateName)) {
            return entries.findAny().isPresent();
        }
    }

    private ValueState<byte[]> accumulator(TimeWindow window) throws Exception {
        return getPartitionedState(window, windowSerializer, accumulatorDescriptor);
    }

    private ValueState<byte[]> sliceAccumulator(TimeWindow slice) throws Exception {
        return getPartitionedState(slice, windowSerializer, sliceDescriptor);
    }

    private ListState<byte[]> events(TimeWindow window) throws Exception {
        return getPartitionedState(window, windowSerializer, eventsDescriptor);
    }

    // --- what a window in state holds ----------------------------------------------------------------------------

    /**
     * What a window in keyed state holds, as Flink's {@code WindowOperator} keeps its window state behind one
     * appending-state interface: an accumulator that the sidecar updates in bundles, or, for {@code process} functions,
     * the window's events. Every method runs under the current key, the window's; the state window is the one
     * {@link MergingWindowSet} keeps a session's state under (for other windows, the window itself).
     */
    private interface WindowContents {
        void add(String key, TimeWindow stateWindow, byte[] event) throws Exception;

        /** Queues the window's firing with what it holds; a window holding nothing does not fire. */
        void fire(String key, TimeWindow window, TimeWindow stateWindow) throws Exception;

        void clear(TimeWindow stateWindow) throws Exception;

        /** Merges what sessions that an element bridged hold into the resulting session's state window. */
        void merge(String key, TimeWindow target, Collection<TimeWindow> sources) throws Exception;
    }

    /** An accumulator per window: elements wait in the bundle, and one AGGREGATE updates every touched window. */
    private final class AccumulatorContents implements WindowContents {
        @Override
        public void add(String key, TimeWindow stateWindow, byte[] event) {
            addToBundle(key, stateWindow, event);
        }

        @Override
        public void fire(String key, TimeWindow window, TimeWindow stateWindow) throws Exception {
            byte[] accumulator = accumulator(stateWindow).value();
            if (accumulator != null) {
                pendingFires.add(new SidecarProtocol.FireRequest(key, window.getStart(), window.getEnd(), accumulator, null));
            }
        }

        @Override
        public void clear(TimeWindow stateWindow) throws Exception {
            accumulator(stateWindow).clear();
        }

        @Override
        public void merge(String key, TimeWindow target, Collection<TimeWindow> sources) throws Exception {
            flushBundle(); // the bundle may hold elements of any of these sessions
            List<byte[]> accumulators = new ArrayList<>();
            byte[] first = accumulator(target).value();
            if (first != null) {
                accumulators.add(first);
            }
            for (TimeWindow source : sources) {
                byte[] accumulator = accumulator(source).value();
                if (accumulator != null) {
                    accumulators.add(accumulator);
                }
                accumulator(source).clear();
            }
            if (accumulators.size() > 1) {
                SidecarProtocol.MergeResult merged = await(client.merge(List.of(
                        new SidecarProtocol.MergeRequest(key, target.getStart(), target.getEnd(), accumulators)))).get(0);
                deadLetters(merged.deadLetters());
                accumulator(target).update(merged.accumulator());
            } else if (accumulators.size() == 1) {
                accumulator(target).update(accumulators.get(0));
            }
        }
    }

    /** The events themselves, for {@code process} functions: they go straight to list state, with no sidecar call. */
    private final class EventListContents implements WindowContents {
        @Override
        public void add(String key, TimeWindow stateWindow, byte[] event) throws Exception {
            events(stateWindow).add(event);
        }

        @Override
        public void fire(String key, TimeWindow window, TimeWindow stateWindow) throws Exception {
            List<byte[]> stored = new ArrayList<>();
            Iterable<byte[]> events = events(stateWindow).get();
            if (events != null) {
                events.forEach(stored::add);
            }
            if (!stored.isEmpty()) {
                pendingFires.add(new SidecarProtocol.FireRequest(key, window.getStart(), window.getEnd(), null, stored));
            }
        }

        @Override
        public void clear(TimeWindow stateWindow) throws Exception {
            events(stateWindow).clear();
        }

        @Override
        public void merge(String key, TimeWindow target, Collection<TimeWindow> sources) throws Exception {
            // getPartitionedState hands out one state object per descriptor and only moves its namespace, so read
            // each source completely before switching to the target.
            List<byte[]> moved = new ArrayList<>();
            for (TimeWindow source : sources) {
                ListState<byte[]> from = events(source);
                Iterable<byte[]> stored = from.get();
                if (stored != null) {
                    stored.forEach(moved::add);
                }
                from.clear();
            }
            if (!moved.isEmpty()) {
                events(target).addAll(moved);
            }
        }
    }

    // --- talking to the sidecar ----------------------------------------------------------------------------------

    /**
     * Sends every waiting element: those of kept windows in one COMBINE, the others in one AGGREGATE whose new
     * accumulators are stored. Takes every kept accumulator back when too many are kept. Reading and writing state
     * moves the current key from one window's key to the next; the caller's is restored, so that whatever it does
     * next (a firing, a timer, a merge) stays on its own key.
     */
    private void flushBundle() throws Exception {
        if (bundleSize == 0) {
            return;
        }
        Object callersKey = getCurrentKey();
        bundleSize = 0;
        combineHeld();
        aggregateIntoState();
        if (held.size() > MAX_HELD) {
            takeAllHeld();
        }
        if (callersKey != null) {
            setCurrentKey(callersKey);
        }
    }

    private void combineHeld() throws Exception {
        List<HeldWindows.Held> waiting = held.drainWaiting();
        if (waiting.isEmpty()) {
            return;
        }
        List<SidecarProtocol.CombineGroup> groups = new ArrayList<>(waiting.size());
        for (HeldWindows.Held window : waiting) {
            if (window.inSidecar) {
                groups.add(new SidecarProtocol.CombineGroup(window.slot, true, null, window.takeEvents()));
            } else {
                // First COMBINE of this window since it was last taken: start from what state holds (null: create).
                setCurrentKey(window.key);
                byte[] stored = stateOf(window.window).value();
                groups.add(new SidecarProtocol.CombineGroup(window.slot, false, stored, window.takeEvents()));
                window.inSidecar = true;
                window.fromState = stored != null;
            }
        }
        for (List<byte[]> letters : await(client.combine(groups))) {
            deadLetters(letters);
        }
    }

    /**
     * The kept windows whose last millisecond the watermark has reached: without lateness they fire from the sidecar
     * (their FIRE goes with the timers' firings of this watermark), with lateness they go into state with their
     * timers, which this watermark then runs. Their slots are reused only by later COMBINEs, which the sidecar
     * handles after that FIRE: nothing keeps a window between here and the flushFires that ends this watermark.
     */
    private void takeDue(long watermark) throws Exception {
        List<HeldWindows.Held> due = held.removeDue(watermark);
        if (due.isEmpty()) {
            return;
        }
        if (allowedLateness > 0 || slices != null) {
            take(due); // a slice never fires itself: its windows' timers read it from state
            return;
        }
        for (HeldWindows.Held window : due) {
            if (window.fromState) {
                // Part of it went into state at a checkpoint (with a timer that will now find nothing to fire).
                setCurrentKey(window.key);
                accumulator(window.window).clear();
            }
            pendingFires.add(SidecarProtocol.FireRequest.kept(
                    window.key, window.window.getStart(), window.window.getEnd(), window.slot));
        }
    }

    private void takeAllHeld() throws Exception {
        if (held.size() > 0) {
            take(held.removeAll());
        }
    }

    /**
     * TAKE: the sidecar hands the accumulators over and forgets them; they go into keyed state, with the timers a
     * window in state needs (EventTimeTrigger's and the cleanup timer). A slice's windows have theirs already: the
     * slicing path registers them when the slice is first kept.
     */
    private void take(List<HeldWindows.Held> windows) throws Exception {
        List<Integer> slots = new ArrayList<>(windows.size());
        for (HeldWindows.Held window : windows) {
            slots.add(window.slot);
        }
        List<SidecarProtocol.AggregateResult> results = await(client.take(slots));
        for (int i = 0; i < windows.size(); i++) {
            SidecarProtocol.AggregateResult result = results.get(i);
            if (result.accumulator() != null) {
                TimeWindow window = windows.get(i).window;
                setCurrentKey(windows.get(i).key);
                stateOf(window).update(result.accumulator());
                if (slices == null) {
                    registerTimer(window.maxTimestamp(), window);
                    registerCleanupTimer(window);
                }
            }
            deadLetters(result.deadLetters());
        }
    }

    /** Sends the elements of windows kept in state in one AGGREGATE request and stores the new accumulators. */
    private void aggregateIntoState() throws Exception {
        if (bundle.isEmpty()) {
            return;
        }
        List<Tuple2<String, TimeWindow>> order = new ArrayList<>(bundle.keySet());
        List<SidecarProtocol.AggregateGroup> groups = new ArrayList<>(order.size());
        for (Map.Entry<Tuple2<String, TimeWindow>, List<byte[]>> entry : bundle.entrySet()) {
            Tuple2<String, TimeWindow> target = entry.getKey();
            setCurrentKey(target.f0);
            groups.add(new SidecarProtocol.AggregateGroup(
                    target.f0, target.f1.getStart(), target.f1.getEnd(), stateOf(target.f1).value(), entry.getValue()));
        }
        bundle = new LinkedHashMap<>();
        List<SidecarProtocol.AggregateResult> results = await(client.aggregate(groups));
        for (int i = 0; i < order.size(); i++) {
            Tuple2<String, TimeWindow> target = order.get(i);
            SidecarProtocol.AggregateResult result = results.get(i);
            if (result.accumulator() != null) {
                setCurrentKey(target.f0);
                stateOf(target.f1).update(result.accumulator());
            }
            deadLetters(result.deadLetters());
        }
    }

    /** The accumulator state of a bundle's target: its slice in the slicing path, else its window. */
    private ValueState<byte[]> stateOf(TimeWindow stateWindow) throws Exception {
        return slices != null ? sliceAccumulator(stateWindow) : accumulator(stateWindow);
    }

    /**
     * Sends the windows that fired in one FIRE request and emits their results; windows of several slices have their
     * slices merged first, all in one MERGE request.
     */
    private void flushFires() throws Exception {
        if (pendingFires.isEmpty()) {
            return;
        }
        List<SidecarProtocol.FireRequest> fires = pendingFires;
        pendingFires = new ArrayList<>();
        if (!pendingMerges.isEmpty()) {
            List<SidecarProtocol.MergeRequest> merges = pendingMerges;
            List<Integer> mergeAt = pendingMergeAt;
            pendingMerges = new ArrayList<>();
            pendingMergeAt = new ArrayList<>();
            List<SidecarProtocol.MergeResult> merged = await(client.merge(merges));
            for (int i = 0; i < merges.size(); i++) {
                SidecarProtocol.MergeRequest merge = merges.get(i);
                deadLetters(merged.get(i).deadLetters());
                fires.set(mergeAt.get(i), new SidecarProtocol.FireRequest(
                        merge.key(), merge.start(), merge.end(), merged.get(i).accumulator(), null));
            }
        }
        // Kept windows that a watermark makes due are queued before the timers' firings of the same watermark (windows
        // in state since a barrier): fire in window-end order, as Flink's timers do, so each key's results stay in
        // order. The sort is stable: windows with the same end keep their order.
        fires.sort(Comparator.comparingLong(SidecarProtocol.FireRequest::end));
        List<List<SidecarProtocol.Output>> results = await(client.fire(fires));
        for (int i = 0; i < fires.size(); i++) {
            long timestamp = fires.get(i).end() - 1;
            for (SidecarProtocol.Output out : results.get(i)) {
                if (out instanceof SidecarProtocol.SinkOutput sink) {
                    output.collect(new StreamRecord<>(StageRecord.sink(sink.sinkIndex(), sink.key(), sink.value()), timestamp));
                } else if (out instanceof SidecarProtocol.DeadLetterOutput letter) {
                    output.collect(Tags.DEAD_LETTERS, new StreamRecord<>(DeadLetterContext.withTime(
                            letter.deadLetter(), getProcessingTimeService().getCurrentProcessingTime()), timestamp));
                }
            }
        }
    }

    private void deadLetters(List<byte[]> letters) {
        long now = getProcessingTimeService().getCurrentProcessingTime();
        for (byte[] letter : letters) {
            // The window stage's records crossed a shuffle without their offsets: its dead letters say the time only.
            output.collect(Tags.DEAD_LETTERS, new StreamRecord<>(DeadLetterContext.withTime(letter, now)));
        }
    }
}
