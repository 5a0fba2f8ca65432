/**
 * `npm run bench` (root package.json: "bench": "tsx bench/run.ts").
 * Installs the benchmark's own dependencies (autocannon, SAP CAP) into bench/node_modules on first use,
 * so that installing the server never downloads them; then runs bench/lib/main.ts.
 * Flags: --quick, --servers=ours,floor,cap, --workloads=W1,W2,..., --no-build.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const benchDir = dirname(fileURLToPath(import.meta.url));
const needed = ['autocannon', join('@sap', 'cds'), join('@cap-js', 'postgres'), 'pg'];
if (needed.some((p) => !existsSync(join(benchDir, 'node_modules', p, 'package.json')))) {
  process.stderr.write('[bench] installing the benchmark dependencies into bench/node_modules (once)\n');
  const ci = existsSync(join(benchDir, 'package-lock.json'));
  const r = spawnSync('npm', [ci ? 'ci' : 'install', '--prefix', benchDir, '--no-audit', '--no-fund'], { stdio: 'inherit' });
  if (r.status !== 0) {
    process.stderr.write('[bench] npm could not install bench dependencies\n');
    process.exit(1);
  }
}
const { main } = await import('./lib/main.js');
await main(process.argv.slice(2));
