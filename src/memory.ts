/**
 * Start-up (loading modules, reading the catalog, compiling body schemas) leaves garbage behind and grows
 * V8's new space to its maximum size; V8's memory reducer hands that memory back only after ~10 s without
 * load. The server asks for it once, before it listens: a low-memory notification (full collections that
 * also shrink the new space), sent through an in-process inspector session, the only route to it from
 * JavaScript (no port is opened, nothing is exposed). Best effort: where the inspector is unavailable,
 * nothing happens.
 */
export async function releaseStartupMemory(): Promise<void> {
  let session: import('node:inspector').Session;
  try {
    const { Session } = await import('node:inspector');
    session = new Session();
    session.connect();
  } catch {
    return;
  }
  await new Promise<void>((resolve) => {
    session.post('HeapProfiler.collectGarbage', () => {
      // disconnecting inside the callback leaves the session's handle open
      setImmediate(() => {
        try {
          session.disconnect();
        } catch {
          /* already closed */
        }
        resolve();
      });
    });
  });
}
