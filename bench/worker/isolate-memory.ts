import WebSocket from 'ws';

/** V8's heap figures for the Worker's isolate, as DevTools' memory panel reads them. */
export interface IsolateMemory {
  /** Bytes of live and not yet collected JavaScript objects. */
  jsHeapUsedBytes: number;
  /** Bytes the JavaScript heap has reserved. */
  jsHeapTotalBytes: number;
}

interface Target {
  title: string;
  webSocketDebuggerUrl: string;
}

/**
 * Reads the Worker isolate's memory through `wrangler dev`'s inspector port (the Chrome DevTools
 * protocol's Runtime.getHeapUsage). workerd exposes no memory API to the Worker itself, and the
 * workerd process's RSS would also count wrangler's local D1 and R2, which run in it.
 *
 * @example
 * const memory = await readIsolateMemory(9230); // { jsHeapUsedBytes: 13196552, jsHeapTotalBytes: 20082688 }
 */
export async function readIsolateMemory(inspectorPort: number, timeoutMs = 10_000): Promise<IsolateMemory> {
  const targets = (await (await fetch(`http://127.0.0.1:${inspectorPort}/json`, { signal: AbortSignal.timeout(timeoutMs) })).json()) as Target[];
  const target = targets.find((t) => t.webSocketDebuggerUrl);
  if (!target) throw new Error(`the inspector on port ${inspectorPort} lists no Worker`);
  const socket = new WebSocket(target.webSocketDebuggerUrl);
  try {
    const usage = await new Promise<Record<string, number>>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the inspector did not answer within ${timeoutMs} ms`)), timeoutMs);
      socket.once('error', reject);
      socket.once('open', () => socket.send(JSON.stringify({ id: 1, method: 'Runtime.getHeapUsage' })));
      socket.on('message', (data) => {
        const message = JSON.parse(String(data)) as { id?: number; result?: Record<string, number>; error?: { message: string } };
        if (message.id !== 1) return;
        clearTimeout(timer);
        if (message.result) resolve(message.result);
        else reject(new Error(`Runtime.getHeapUsage: ${message.error?.message ?? 'no result'}`));
      });
    });
    // Its backingStorageSize is left out: it counts ArrayBuffers awaiting collection (0.4 to 10 MB
    // from one moment to the next) and not the wasm memories, which the Worker reports itself.
    return { jsHeapUsedBytes: usage.usedSize, jsHeapTotalBytes: usage.totalSize };
  } finally {
    socket.close();
  }
}
