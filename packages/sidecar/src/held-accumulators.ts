/**
 * The accumulators one operator connection has the sidecar keep between bundles (COMBINE, FIRE mode 2 and TAKE,
 * protocol.ts), in slots the operator numbers. Keeping them here saves, per bundle and window, the operator's state
 * read and write and a JSON parse and stringify of the accumulator; numbered slots save looking a window up by key
 * and bounds (the operator has already found it in its own index).
 */
import type { DeadLetter, FunctionHost, LiveAccumulator } from '@flinkfn/host';
import { ProtocolError, utf8Text as text } from './protocol.js';

/** Slots are small numbers the operator reuses; a larger one is a corrupt frame, not a reason to grow an array. */
const MAX_SLOT = 2 ** 24;

interface Held {
  live: LiveAccumulator;
  /** The JSON text the slot started from: what TAKE hands back if the accumulator stopped being JSON. */
  base: string | null;
}

export class HeldAccumulators {
  private readonly slots: Array<Held | undefined> = [];
  private kept = 0;

  constructor(private readonly host: FunctionHost) {}

  /** How many slots keep an accumulator (for tests and diagnostics). */
  get size(): number {
    return this.kept;
  }

  /**
   * Adds events to a slot's accumulator. `from` is undefined to continue what the slot keeps, or the accumulator to
   * start it from (null: none yet), replacing what it kept.
   */
  combine(slot: number, from: Uint8Array | null | undefined, events: readonly unknown[], deadLetters: DeadLetter[]): void {
    let held: Held | undefined;
    if (from === undefined) {
      held = this.slots[slot];
      if (held === undefined) throw new ProtocolError(`COMBINE continues slot ${slot}, which keeps nothing`);
    } else {
      if (!Number.isInteger(slot) || slot < 0 || slot >= MAX_SLOT) throw new ProtocolError(`slot ${slot} is not below ${MAX_SLOT}`);
      const base = from === null ? null : text(from);
      held = { live: this.host.liveAccumulator(base), base };
      if (this.slots[slot] === undefined) this.kept++;
      this.slots[slot] = held;
    }
    this.host.addInto(held.live, events, deadLetters);
  }

  /**
   * Frees a slot and gives its accumulator as a value for `result` (FIRE mode 2): the window fires from memory,
   * never serialized. Null when none was created (an accumulator may itself be the value null).
   */
  fire(slot: number): { value: unknown } | null {
    const held = this.free(slot, 'FIRE');
    return held.live.created ? { value: held.live.value } : null;
  }

  /** Frees a slot and hands its accumulator over as JSON text (null: none was created). */
  take(slot: number, deadLetters: DeadLetter[]): string | null {
    const held = this.free(slot, 'TAKE');
    if (!held.live.created) return null;
    return this.host.serializeAccumulator(held.live, deadLetters) ?? held.base;
  }

  private free(slot: number, request: 'FIRE' | 'TAKE'): Held {
    const held = this.slots[slot];
    if (held === undefined) throw new ProtocolError(`${request} of slot ${slot}, which keeps nothing`);
    this.slots[slot] = undefined;
    this.kept--;
    return held;
  }
}
