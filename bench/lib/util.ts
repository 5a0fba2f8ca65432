import { createServer } from 'node:net';
import { readFileSync } from 'node:fs';

export function log(msg: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A free TCP port on 127.0.0.1 (asks the kernel for one, then releases it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/** Resident set size of a process in bytes (VmRSS from /proc), or null when it cannot be read. */
export function rssBytes(pid: number): number | null {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** Samples a process's RSS every `everyMs`; stop() returns the peak seen. */
export function rssSampler(pid: number, everyMs = 100): { stop(): number | null } {
  let peak: number | null = rssBytes(pid);
  const t = setInterval(() => {
    const v = rssBytes(pid);
    if (v !== null && (peak === null || v > peak)) peak = v;
  }, everyMs);
  return {
    stop() {
      clearInterval(t);
      const v = rssBytes(pid);
      if (v !== null && (peak === null || v > peak)) peak = v;
      return peak;
    },
  };
}

export const mb = (bytes: number | null | undefined): number | null =>
  bytes === null || bytes === undefined ? null : Math.round((bytes / 1048576) * 10) / 10;
