/**
 * Identical reads in flight share one execution, and no answer is older than its request.
 *
 * A read whose statement text and parameters equal those of a read already running does not join that
 * execution: it started before this request arrived, so its snapshot could miss a write committed just
 * before. The request waits instead for the next execution of the same statement, which starts when the
 * running one settles, and which serves every identical request that arrived in the meantime. Each answer
 * therefore comes from a snapshot taken after its request arrived and before its response: what a separate
 * execution would have given (a client that wrote and then reads sees its write). A read with no identical
 * twin in flight runs at once, as before.
 *
 * Under a burst of one URL (a list view that many Salesforce users open, a dashboard's refresh) the database
 * runs that statement at most twice at a time instead of once per request. The rows are shared between the
 * requests: callers must not change them. Only statements without side effects may be passed here.
 */

interface Waiter<T> {
  resolve(value: T): void;
  reject(reason: unknown): void;
}

interface Slot<T> {
  /** requests that arrived while an execution ran: the next execution serves them */
  waiting: Waiter<T>[] | undefined;
}

/** A key for the parameters when every one is a plain value (anything else is not coalesced). */
function valuesKey(values: readonly unknown[]): string | undefined {
  for (const v of values) {
    if (v !== null && typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') return undefined;
  }
  return JSON.stringify(values);
}

export class ReadCoalescer<T> {
  /** statement text -> parameters key -> slot; a text's map goes when its last slot does */
  private readonly slots = new Map<string, Map<string, Slot<T>>>();
  /** executions started (Db.readExecutions; tests count them) */
  executions = 0;

  run(text: string, values: readonly unknown[], exec: () => Promise<T>): Promise<T> {
    const vk = valuesKey(values);
    if (vk === undefined) return exec();
    let byValues = this.slots.get(text);
    const slot = byValues?.get(vk);
    if (slot !== undefined) {
      return new Promise<T>((resolve, reject) => (slot.waiting ??= []).push({ resolve, reject }));
    }
    if (byValues === undefined) this.slots.set(text, (byValues = new Map()));
    const fresh: Slot<T> = { waiting: undefined };
    byValues.set(vk, fresh);
    return this.execute(text, vk, fresh, exec);
  }

  /** Runs exec; when it settles, runs it once more for the requests that arrived meanwhile, or frees the slot. */
  private execute(text: string, vk: string, slot: Slot<T>, exec: () => Promise<T>): Promise<T> {
    this.executions++;
    let p: Promise<T>;
    try {
      p = exec();
    } catch (e) {
      p = Promise.reject(e);
    }
    const settled = (): void => {
      const waiting = slot.waiting;
      if (waiting === undefined) {
        const byValues = this.slots.get(text);
        byValues?.delete(vk);
        if (byValues?.size === 0) this.slots.delete(text);
        return;
      }
      slot.waiting = undefined;
      this.execute(text, vk, slot, exec).then(
        (v) => { for (const w of waiting) w.resolve(v); },
        (e: unknown) => { for (const w of waiting) w.reject(e); },
      );
    };
    p.then(settled, settled);
    return p;
  }
}
