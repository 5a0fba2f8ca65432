/**
 * Slows down password guessing, per client address, in this process's memory (bounded map). Policy:
 *  - failures are counted per address in a window (default 15 min) that starts at the first failure;
 *  - after `freeFailures` failures (default 5), each further FAILED answer is delayed:
 *    250 ms, 500 ms, 1 s, then 2 s (the cap). A correct credential is never delayed, so clients that
 *    share an address with a misconfigured one (Salesforce's egress IPs, a NAT) keep working;
 *  - from `lockoutFailures` (default 50) failures of one user name from one address, that name is refused
 *    from that address with 429 + Retry-After (end of the window) BEFORE any password work, and from 20
 *    times as many failures (any names) the whole address is, so a flood of guesses cannot burn scrypt
 *    CPU; other names from a shared address (Salesforce's egress IPs, a NAT) keep working below that, and
 *    a header that already verified (the authenticator's success cache) always passes.
 * A missing header is not a failure (clients first ask without credentials, then answer the challenge).
 */

export interface FailureThrottleOptions {
  readonly windowMs?: number;
  readonly freeFailures?: number;
  readonly baseDelayMs?: number;
  readonly maxDelayMs?: number;
  readonly lockoutFailures?: number;
  /** Addresses tracked at most; beyond it expired, then oldest entries are dropped. */
  readonly maxEntries?: number;
}

export type ThrottleDecision =
  | { readonly kind: 'allow' }
  | { readonly kind: 'refuse'; readonly retryAfterSeconds: number; readonly failures: number };

interface Slot {
  count: number;
  readonly startMs: number;
}

export class FailureThrottle {
  readonly windowMs: number;
  readonly freeFailures: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly lockoutFailures: number;
  readonly maxEntries: number;
  private readonly slots = new Map<string, Slot>();

  constructor(opts: FailureThrottleOptions = {}) {
    this.windowMs = opts.windowMs ?? 15 * 60_000;
    this.freeFailures = opts.freeFailures ?? 5;
    this.baseDelayMs = opts.baseDelayMs ?? 250;
    this.maxDelayMs = opts.maxDelayMs ?? 2000;
    this.lockoutFailures = opts.lockoutFailures ?? 50;
    this.maxEntries = opts.maxEntries ?? 10_000;
  }

  private live(addr: string, nowMs: number): Slot | undefined {
    const s = this.slots.get(addr);
    if (s !== undefined && nowMs - s.startMs >= this.windowMs) {
      this.slots.delete(addr);
      return undefined;
    }
    return s;
  }

  /** Failures counted for `addr` in the current window. */
  failures(addr: string, now: Date): number {
    return this.live(addr, now.getTime())?.count ?? 0;
  }

  /** Before verifying: is this key (an address, or an address and user name) locked out? */
  check(addr: string, now: Date, lockoutFailures = this.lockoutFailures): ThrottleDecision {
    const nowMs = now.getTime();
    const s = this.live(addr, nowMs);
    if (s === undefined || s.count < lockoutFailures) return { kind: 'allow' };
    return { kind: 'refuse', retryAfterSeconds: Math.max(1, Math.ceil((s.startMs + this.windowMs - nowMs) / 1000)), failures: s.count };
  }

  /** Records a failure; returns how long to hold the failed answer back (0 below the threshold). */
  recordFailure(addr: string, now: Date): number {
    const nowMs = now.getTime();
    let s = this.live(addr, nowMs);
    if (s === undefined) {
      this.makeRoom(nowMs);
      s = { count: 0, startMs: nowMs };
      this.slots.set(addr, s);
    }
    s.count += 1;
    return this.delayFor(s.count);
  }

  /** Delay of the n-th failure in a window. */
  delayFor(n: number): number {
    if (n <= this.freeFailures) return 0;
    const exp = Math.min(n - this.freeFailures - 1, 16);
    return Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** exp);
  }

  get size(): number {
    return this.slots.size;
  }

  private makeRoom(nowMs: number): void {
    if (this.slots.size < this.maxEntries) return;
    for (const [k, s] of this.slots) if (nowMs - s.startMs >= this.windowMs) this.slots.delete(k);
    // Still full: drop the oldest windows (Map keeps insertion order).
    for (const k of this.slots.keys()) {
      if (this.slots.size < this.maxEntries) break;
      this.slots.delete(k);
    }
  }
}
