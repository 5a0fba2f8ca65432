/** Tables, ratios and targets, as markdown for the terminal and JSON for bench/results.json. */
import type { DataInfo } from './db.js';
import type { Measured, WalkResult } from './load.js';

export type WorkloadResult = { status: 'ok' | 'n/a' | 'check failed' | 'error'; reason?: string; url?: string; roundsRps?: number[]; roundsP50?: number[] } & Partial<Measured>;

export interface ServerResult {
  name: string;
  label: string;
  auth: string;
  available: boolean;
  reason?: string;
  startSeconds?: number;
  idleRssMB?: number | null;
  workloads: Record<string, WorkloadResult>;
  walk?: Partial<WalkResult> & { problem?: string };
}

const ORDER = ['W1', 'W2', 'W3', 'W4', 'W4p1', 'W4s', 'W5', 'W6', 'W8'];
const f = (n: number | null | undefined, d = 0) => (n === null || n === undefined || Number.isNaN(n) ? '–' : n.toFixed(d));
const ratio = (a: number | null | undefined, b: number | null | undefined): number | null =>
  a === null || a === undefined || b === null || b === undefined || b === 0 ? null : a / b;

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b), m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/**
 * a/b for one measure. When both ran the same rounds, each round's servers ran within the same minutes
 * (one after the other), so the ratio is taken per round and the median of those ratios is reported: a
 * ratio of the two medians could compare a fast round of one server with a slow round of the other when
 * the shared machine's speed drifts. Otherwise, the ratio of the two rows.
 */
function paired(a: WorkloadResult | undefined, b: WorkloadResult | undefined, measure: 'rps' | 'p50'): { value: number | null; rounds?: number[] } {
  const ra = measure === 'rps' ? a?.roundsRps : a?.roundsP50, rb = measure === 'rps' ? b?.roundsRps : b?.roundsP50;
  if (ra && rb && ra.length === rb.length && ra.length > 1 && rb.every((x) => x > 0)) {
    const rounds = ra.map((x, i) => x / rb[i]!);
    return { value: median(rounds), rounds: rounds.map((x) => Math.round(x * 100) / 100) };
  }
  return { value: ratio(a?.[measure], b?.[measure]) };
}

interface Target { target: string; result: 'PASS' | 'FAIL' | 'n/a'; value: string }

const verdict = (pass: boolean | null): Target['result'] => (pass === null ? 'n/a' : pass ? 'PASS' : 'FAIL');

/** The floor targets: W1, W5, W6 >= 0.7x the floor's requests/s; W2, W3, W4 >= 0.9x. */
function floorTargets(server: string, ratioOf: (w: string) => number | null): Target[] {
  const out: Target[] = [];
  for (const [ws, min] of [[['W1', 'W5', 'W6'], 0.7], [['W2', 'W3', 'W4'], 0.9]] as const) {
    for (const w of ws) {
      const r = ratioOf(w);
      out.push({ target: `${w}: ${server} >= ${min}x floor req/s`, result: verdict(r === null ? null : r >= min), value: r === null ? 'n/a' : `${r.toFixed(2)}x` });
    }
  }
  return out;
}

function capTarget(server: string, w: string, r: number | null): Target {
  return { target: `${w}: ${server} >= 10x CAP req/s`, result: verdict(r === null ? null : r >= 10), value: r === null ? 'n/a' : `${r.toFixed(1)}x` };
}

export function buildReport(
  servers: ServerResult[],
  args: { quick: boolean; rounds: number; load: { connections: number; duration: number; warmup: number }; walkMaxRows: number; walkMaxSeconds: number },
  machine: Record<string, unknown>,
  data: DataInfo,
): { markdown: string; json: unknown } {
  const by = (n: string) => servers.find((s) => s.name === n);
  const ours = by('ours'), solo = by('ours-solo'), floor = by('floor'), cap = by('cap');
  const ok = (s: ServerResult | undefined, w: string) => (s?.available && s.workloads[w]?.status === 'ok' ? s.workloads[w] : undefined);
  const L: string[] = [];
  L.push(`## pg-odata benchmark${args.quick ? ' (quick)' : ''}`, '');
  L.push(`${String(machine['date'])} · ${String(machine['cpu'])} · ${String(machine['cores'])} cores · ${String(machine['ramGiB'])} GiB · Node ${String(machine['node'])} · PostgreSQL ${String(machine['postgres'])} (${String(machine['database'])})`, '');
  L.push(`autocannon: ${args.load.connections} connections, one run of ${args.load.warmup + args.load.duration} s per workload, of which the last ${args.load.duration} s are measured (answers arriving in the ${args.load.warmup} s warm-up are not timed; non-2xx count over the whole run)` +
    (args.rounds > 1 ? ` and round; W1-W6 and W8 run ${args.rounds} rounds, each a pass over them, and each row is the server's median round (results.json has every round). ` : '. ') +
    `Data: account 1,000,000 rows, contact 200,000. Collation ${data.collation}; \`LIKE 'Acc 12%'\` uses the plain btree on name: ${data.likePrefixUsesIndex ? 'yes' : 'no'}.`, '');

  L.push('| workload | server | req/s (2xx) | p50 ms | p99 ms | non-2xx | peak RSS MB |', '|---|---|--:|--:|--:|--:|--:|');
  for (const w of ORDER) {
    for (const s of servers) {
      if (!s.available) { if (w === 'W1') L.push(`| ${w} | ${s.name} | not available: ${s.reason ?? ''} | | | | |`); continue; }
      const r = s.workloads[w];
      if (!r) continue;
      if (r.status !== 'ok') { L.push(`| ${w} | ${s.name} | ${r.status}: ${(r.reason ?? '').replace(/\|/g, '/').slice(0, 160)} | | | | |`); continue; }
      L.push(`| ${w} | ${s.name} | ${f(r.rps)} | ${f(r.p50, 1)} | ${f(r.p99, 1)} | ${f(r.non2xx)} | ${f(r.peakRssMB, 1)} |`);
    }
  }
  L.push('', 'W4p1 is page 1 of W4\'s order (`$orderby=id&$top=100`); W4s is W4\'s page reached through a `$skiptoken` nextLink.', '');

  L.push('### W7: full walk of account, one client, 2,000 rows a page', '');
  L.push('| server | rows | s | rows/s | paging | stopped by | peak RSS MB | problem |', '|---|--:|--:|--:|---|---|--:|---|');
  for (const s of servers) {
    if (!s.available || !s.walk) continue;
    const w = s.walk;
    L.push(`| ${s.name} | ${f(w.rows)} | ${f(w.seconds, 1)} | ${f(w.rowsPerSec)} | ${w.mode ?? ''} | ${w.stoppedBy ?? ''} | ${f(w.peakRssMB, 1)} | ${w.problem ?? ''} |`);
  }
  L.push('', '### Servers', '', '| server | start s | idle RSS MB | auth |', '|---|--:|--:|---|');
  for (const s of servers) L.push(`| ${s.label} | ${s.available ? f(s.startSeconds, 1) : 'not available'} | ${f(s.idleRssMB, 1)} | ${s.auth} |`);

  const roundsNote = args.rounds > 1 ? ' Each ratio is the median of the per-round ratios (servers compared within the same round), per-round values in brackets.' : '';
  L.push('', '### Ratios (requests/s)', '', ...(roundsNote ? [roundsNote.trim(), ''] : []), '| workload | ours/floor | ours/CAP | ours-solo/floor | ours-solo/CAP | floor/CAP |', '|---|--:|--:|--:|--:|--:|');
  type Ratios = { oursFloor: number | null; oursCap: number | null; soloFloor?: number | null; soloCap?: number | null; floorCap: number | null; rounds?: Record<string, number[]> };
  const ratios: Record<string, Ratios> = {};
  const cell = (p: { value: number | null; rounds?: number[] }, d: number) => f(p.value, d) + (p.rounds ? ` [${p.rounds.map((x) => x.toFixed(d)).join(', ')}]` : '');
  for (const w of ORDER) {
    const o = ok(ours, w), so = ok(solo, w), fl = ok(floor, w), c = ok(cap, w);
    const of = paired(o, fl, 'rps'), oc = paired(o, c, 'rps'), sf = paired(so, fl, 'rps'), sc = paired(so, c, 'rps'), fc = paired(fl, c, 'rps');
    const rounds: Record<string, number[]> = {};
    if (of.rounds) rounds['oursFloor'] = of.rounds;
    if (oc.rounds) rounds['oursCap'] = oc.rounds;
    if (sf.rounds) rounds['soloFloor'] = sf.rounds;
    if (sc.rounds) rounds['soloCap'] = sc.rounds;
    if (fc.rounds) rounds['floorCap'] = fc.rounds;
    ratios[w] = { oursFloor: of.value, oursCap: oc.value, soloFloor: sf.value, soloCap: sc.value, floorCap: fc.value, ...(Object.keys(rounds).length ? { rounds } : {}) };
    L.push(`| ${w} | ${cell(of, 2)} | ${cell(oc, 1)} | ${cell(sf, 2)} | ${cell(sc, 1)} | ${cell(fc, 1)} |`);
  }
  const wr = (s?: ServerResult) => (s?.walk && !s.walk.problem ? s.walk.rowsPerSec : undefined);
  ratios['W7'] = { oursFloor: ratio(wr(ours), wr(floor)), oursCap: ratio(wr(ours), wr(cap)), floorCap: ratio(wr(floor), wr(cap)) };
  L.push(`| W7 (rows/s) | ${f(ratios['W7'].oursFloor, 2)} | ${f(ratios['W7'].oursCap, 1)} | | | ${f(ratios['W7'].floorCap, 1)} |`);

  L.push('', '### Deep page vs page 1 (p50 latency)', '', '| server | W4 $skip / page 1 | W4s $skiptoken / page 1 |', '|---|--:|--:|');
  const depth: Record<string, { skip: number | null; skiptoken: number | null; rounds?: { skip?: number[]; skiptoken?: number[] } }> = {};
  for (const s of servers) {
    if (!s.available) continue;
    const p1 = ok(s, 'W4p1');
    const skip = paired(ok(s, 'W4'), p1, 'p50'), skiptoken = paired(ok(s, 'W4s'), p1, 'p50');
    depth[s.name] = { skip: skip.value, skiptoken: skiptoken.value, ...(skip.rounds || skiptoken.rounds ? { rounds: { skip: skip.rounds, skiptoken: skiptoken.rounds } } : {}) };
    L.push(`| ${s.name} | ${cell(skip, 2)} | ${cell(skiptoken, 2)} |`);
  }

  // Targets for ours.
  const targets: Target[] = [];
  const t = (target: string, pass: boolean | null, value: string) => targets.push({ target, result: verdict(pass), value });
  targets.push(...floorTargets('ours', (w) => ratios[w]!.oursFloor));
  for (const w of ['W1', 'W2', 'W3', 'W4', 'W5', 'W6', 'W8']) {
    targets.push(capTarget('ours', w, ratios[w]!.oursCap));
    const o = ok(ours, w);
    const st = ours?.available ? ours.workloads[w] : undefined;
    t(`${w}: ours zero non-2xx`, o ? o.non2xx === 0 : st && st.status !== 'n/a' ? false : null, o ? String(o.non2xx) : st?.status ?? 'n/a');
  }
  {
    const r = ratios['W7'].oursCap;
    t('W7: ours >= 10x CAP rows/s', r === null ? null : r >= 10, r === null ? 'n/a' : `${r.toFixed(1)}x`);
    const d = depth['ours']?.skiptoken ?? null;
    t('W4 via $skiptoken: p50 <= 1.5x page-1 p50', d === null ? null : d <= 1.5, d === null ? 'n/a' : `${d.toFixed(2)}x`);
    const rss = ours?.walk?.peakRssMB ?? null;
    const walkOk = ours?.walk && !ours.walk.problem;
    t('W7: ours peak RSS < 150 MB', rss === null || !walkOk ? (ours?.walk ? false : null) : rss < 150, rss === null ? 'n/a' : `${rss} MB`);
    const idle = ours?.idleRssMB ?? null;
    t('ours idle RSS < 80 MB', idle === null ? null : idle < 80, idle === null ? 'n/a' : `${idle} MB`);
  }
  L.push('', '### Targets (ours)', '', '| target | result | value |', '|---|---|---|');
  for (const x of targets) L.push(`| ${x.target} | ${x.result} | ${x.value} |`);
  if (!ours?.available) L.push('', `ours: not available (${ours?.reason ?? 'not selected'}).`);
  // The same read targets for ours with database.coalesceReads off: no identical request shares an
  // execution, so these show what one request costs (the targets above are ours as shipped).
  const soloTargets: Target[] = [];
  if (solo?.available) {
    soloTargets.push(...floorTargets('ours-solo', (w) => ratios[w]!.soloFloor ?? null));
    for (const w of ['W1', 'W2', 'W3', 'W4', 'W5', 'W6']) soloTargets.push(capTarget('ours-solo', w, ratios[w]!.soloCap ?? null));
    L.push('', '### The read targets with coalescing off (ours-solo: `database.coalesceReads: false`)', '', '| target | result | value |', '|---|---|---|');
    for (const x of soloTargets) L.push(`| ${x.target} | ${x.result} | ${x.value} |`);
  }
  L.push('', 'CAP and the floor run without authentication; ours runs with HTTP Basic and rate limiting on. Ours coalesces identical reads in flight (`database.coalesceReads`, on by default): a request that arrives while an identical one runs waits for the next execution, which serves all such requests, so every answer comes from a snapshot taken after its request arrived; ours-solo is the same server with it off.');

  return {
    markdown: L.join('\n'),
    json: { machine, settings: args, data, servers, ratios, depth, targets, soloTargets },
  };
}
