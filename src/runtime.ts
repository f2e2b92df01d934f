/**
 * The few host facilities that differ between Node and a browser, behind one name each, so the
 * algorithms run unchanged in both.
 */

type Host = { setImmediate?: (f: () => void) => unknown; process?: { stderr?: { write(s: string): unknown } } };
const host = globalThis as unknown as Host;

/**
 * Lets timers, abort events and I/O run during a long loop. Node: setImmediate (after I/O, no
 * 1 ms clamp). Browsers have none: a MessageChannel message is a macrotask without setTimeout's
 * 4 ms clamp.
 */
export function yieldToEventLoop(): Promise<void> {
  if (typeof host.setImmediate === 'function') return new Promise((r) => host.setImmediate!(r));
  if (typeof MessageChannel === 'function') {
    return new Promise((r) => {
      const ch = new MessageChannel();
      ch.port1.onmessage = () => {
        ch.port1.close();
        r();
      };
      ch.port2.postMessage(null);
    });
  }
  return new Promise((r) => setTimeout(r, 0));
}

/** A progress line: stderr in Node (keeps stdout for results), the console in a browser. */
export function progressLine(line: string): void {
  if (host.process?.stderr) host.process.stderr.write(`${line}\n`);
  else console.error(line);
}
