/**
 * A bounded memo per owner (an entity set: sets are rebuilt on every catalog load, so a reload starts
 * empty memos), least recently used entries first out. It holds what the pure stages derive from a
 * request's shape: SQL text (read.ts) and, in the read handler, whole planned pages per URL options:
 * clients repeat the same URLs (a Salesforce list view, a dashboard tile), and planning and compiling a
 * filtered page allocated ~20 KB and took ~25 us a request.
 */
import type { QueryOptions } from '../odata/query-options.js';

export class Memo<V> {
  private readonly byOwner = new WeakMap<object, Map<string, V>>();
  constructor(private readonly max: number) {}

  get(owner: object, key: string, build: () => V): V {
    let m = this.byOwner.get(owner);
    if (!m) this.byOwner.set(owner, (m = new Map()));
    const hit = m.get(key);
    if (hit !== undefined) {
      m.delete(key);
      m.set(key, hit);
      return hit;
    }
    const v = build(); // a stage that throws (a bad query) caches nothing
    m.set(key, v);
    if (m.size > this.max) m.delete(m.keys().next().value as string);
    return v;
  }
}

const ABSENT = '\u0001';

/** Every query option that shapes a plan, plus the extra parts given (page size, format). */
export function optionsKey(o: QueryOptions, ...extra: readonly (string | number | boolean)[]): string {
  let k = extra.join('\u0002');
  for (const v of [o.filter, o.select, o.orderby, o.search, o.top, o.skip, o.count, o.skiptoken, o.format]) k += `\u0000${v === undefined ? ABSENT : String(v)}`;
  for (const [name, value] of o.aliases) k += `\u0000@${name}=${value}`;
  return k;
}
