/**
 * The accumulators one operator connection has the sidecar keep between bundles (COMBINE and TAKE, protocol.ts).
 * Keeping them here saves, per bundle and window, the operator's state read and write and a JSON parse and
 * stringify of the accumulator: a window's accumulator crosses the socket twice (at its first COMBINE and at TAKE)
 * instead of twice per bundle.
 */
import type { DeadLetter, FunctionHost, LiveAccumulator } from '@flinkfn/host';
import { ProtocolError, type WindowRef, utf8Text as text } from './protocol.js';

interface Held {
  live: LiveAccumulator;
  /** The JSON text the first COMBINE started from: what TAKE hands back if the accumulator stopped being JSON. */
  base: string | null;
}

export class HeldAccumulators {
  private readonly held = new Map<string, Held>();

  constructor(private readonly host: FunctionHost) {}

  /** How many windows' accumulators are kept (for tests and diagnostics). */
  get size(): number {
    return this.held.size;
  }

  /**
   * Adds events to a window's kept accumulator. `from` is undefined to continue the one kept, or the accumulator to
   * start from (null: none yet), replacing a kept one.
   */
  combine(window: WindowRef, from: Uint8Array | null | undefined, events: readonly unknown[], deadLetters: DeadLetter[]): void {
    const id = windowIdOf(window);
    let slot: Held | undefined;
    if (from === undefined) {
      slot = this.held.get(id);
      if (slot === undefined) throw new ProtocolError(`COMBINE continues window ${describe(window)}, which this connection does not keep`);
    } else {
      const base = from === null ? null : text(from);
      slot = { live: this.host.liveAccumulator(base), base };
      this.held.set(id, slot);
    }
    this.host.addInto(slot.live, events, deadLetters);
  }

  /**
   * Forgets a window's accumulator and gives it as a value for `result` (FIRE mode 2): the window fires from memory,
   * never serialized. Null when none was created (an accumulator may itself be the value null).
   */
  fire(window: WindowRef): { value: unknown } | null {
    const slot = this.forget(window, 'FIRE');
    return slot.live.created ? { value: slot.live.value } : null;
  }

  /** Hands over a window's accumulator as JSON text (null: none was created) and forgets it. */
  take(window: WindowRef, deadLetters: DeadLetter[]): string | null {
    const slot = this.forget(window, 'TAKE');
    if (!slot.live.created) return null;
    return this.host.serializeAccumulator(slot.live, deadLetters) ?? slot.base;
  }

  private forget(window: WindowRef, request: 'FIRE' | 'TAKE'): Held {
    const id = windowIdOf(window);
    const slot = this.held.get(id);
    if (slot === undefined) throw new ProtocolError(`${request} of window ${describe(window)}, which this connection does not keep`);
    this.held.delete(id);
    return slot;
  }
}

function windowIdOf(window: WindowRef): string {
  // Start and end are integers, so the first two separators are unambiguous and the key may contain anything.
  return `${window.start}/${window.end}/${window.key}`;
}

function describe(window: WindowRef): string {
  return `[${window.start}, ${window.end}) of key ${JSON.stringify(window.key)}`;
}
