/**
 * A minimal headless-Chromium driver for the browser tests: launches the browser with
 * `--remote-debugging-pipe` and speaks the Chrome DevTools Protocol over fds 3 (commands in) and
 * 4 (replies and events out), one NUL-terminated JSON message each. No puppeteer/playwright.
 * Every wait has a timeout, and `close()` always ends the process (SIGKILL if it lingers).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';

/** $CHROMIUM_PATH if set (null if it does not exist), else the first of the usual Debian/Ubuntu/Chrome locations. */
export function findChromium(): string | null {
  if (process.env.CHROMIUM_PATH) return existsSync(process.env.CHROMIUM_PATH) ? process.env.CHROMIUM_PATH : null;
  const candidates = [
    '/usr/lib/chromium/chromium', // Debian's binary (/usr/bin/chromium is a shell launcher around it)
    '/usr/bin/chromium',
    '/usr/bin/chromium-browser',
    '/usr/bin/google-chrome',
    '/usr/bin/google-chrome-stable',
  ];
  return candidates.find((p) => existsSync(p)) ?? null;
}

/**
 * Flags that give headless Chromium a WebGPU adapter on a machine without a GPU. WebGPU is off by
 * default on Linux; `--enable-unsafe-webgpu` turns it on, and Chromium then offers a real GPU if
 * there is one, else SwiftShader (the CPU Vulkan implementation shipped inside Chromium, reported
 * as a fallback adapter). No Mesa needed. `--no-sandbox` because CI runs as root (Chromium refuses
 * to start as root with the sandbox). Extra flags: $BAYESTAPE_CHROMIUM_FLAGS (space-separated).
 */
export const WEBGPU_FLAGS = [
  '--headless=new',
  '--no-sandbox',
  '--enable-unsafe-webgpu',
  ...(process.env.BAYESTAPE_CHROMIUM_FLAGS ?? '').split(/\s+/).filter(Boolean),
];

const QUIET_FLAGS = [
  '--no-first-run',
  '--no-default-browser-check',
  '--disable-extensions',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--mute-audio',
  '--disable-dev-shm-usage',
];

interface Pending {
  resolve: (v: Record<string, unknown>) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
  method: string;
}

export interface CdpEvent {
  method: string;
  params: Record<string, unknown>;
  sessionId?: string;
}

export class Chromium {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private buf = Buffer.alloc(0);
  private exited = false;
  private readonly profile: string;
  /** Chromium's own stderr (last 20 kB), for error messages. */
  stderr = '';
  readonly events: CdpEvent[] = [];
  onEvent: (e: CdpEvent) => void = () => undefined;

  private constructor(readonly proc: ChildProcess, profile: string) {
    this.profile = profile;
    const out = proc.stdio[4] as Readable;
    out.on('data', (chunk: Buffer) => this.receive(chunk));
    out.on('error', () => undefined);
    (proc.stdio[3] as Writable).on('error', () => undefined);
    proc.stderr?.on('data', (d: Buffer) => {
      this.stderr = (this.stderr + d.toString()).slice(-20000);
    });
    const gone = (why: string) => {
      this.exited = true;
      for (const [id, p] of this.pending) {
        clearTimeout(p.timer);
        p.reject(new Error(`chromium ${why} before answering ${p.method}`));
        this.pending.delete(id);
      }
    };
    proc.on('exit', (code, signal) => gone(`exited (code ${code}, signal ${signal})`));
    proc.on('error', (e) => gone(`could not be started (${e.message})`));
  }

  static launch(executable: string, extraFlags: string[] = WEBGPU_FLAGS): Chromium {
    const profile = mkdtempSync(join(tmpdir(), 'bayestape-chromium-'));
    const proc = spawn(executable, [...extraFlags, ...QUIET_FLAGS, '--remote-debugging-pipe', `--user-data-dir=${profile}`, 'about:blank'], {
      stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'],
      detached: true, // own process group, so close() can end the renderer and GPU processes too
    });
    return new Chromium(proc, profile);
  }

  /** The end of Chromium's stderr without the D-Bus complaints of a machine with no session bus. */
  stderrTail(chars = 3000): string {
    return this.stderr
      .split('\n')
      .filter((l) => !/dbus|DBus/.test(l))
      .join('\n')
      .slice(-chars);
  }

  private receive(chunk: Buffer): void {
    this.buf = Buffer.concat([this.buf, chunk]);
    for (let end = this.buf.indexOf(0); end >= 0; end = this.buf.indexOf(0)) {
      const text = this.buf.subarray(0, end).toString('utf8');
      this.buf = this.buf.subarray(end + 1);
      let msg: { id?: number; result?: Record<string, unknown>; error?: { message: string }; method?: string; params?: Record<string, unknown>; sessionId?: string };
      try {
        msg = JSON.parse(text);
      } catch {
        continue;
      }
      if (msg.id !== undefined) {
        const p = this.pending.get(msg.id);
        if (!p) continue;
        this.pending.delete(msg.id);
        clearTimeout(p.timer);
        if (msg.error) p.reject(new Error(`${p.method}: ${msg.error.message}`));
        else p.resolve(msg.result ?? {});
      } else if (msg.method) {
        const e: CdpEvent = { method: msg.method, params: msg.params ?? {}, sessionId: msg.sessionId };
        this.events.push(e);
        this.onEvent(e);
      }
    }
  }

  /** Sends one CDP command (to a page session when sessionId is given) and waits for its reply. */
  send(method: string, params: Record<string, unknown> = {}, opts: { sessionId?: string; timeoutMs?: number } = {}): Promise<Record<string, unknown>> {
    if (this.exited) return Promise.reject(new Error(`chromium has exited; cannot send ${method}. stderr: ${this.stderrTail(2000)}`));
    const id = this.nextId++;
    const timeoutMs = opts.timeoutMs ?? 10000;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${method}: no reply from chromium within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer, method });
      const msg = JSON.stringify({ id, method, params, ...(opts.sessionId ? { sessionId: opts.sessionId } : {}) });
      (this.proc.stdio[3] as Writable).write(msg + '\0');
    });
  }

  /** Opens a new page at `url` and returns a flat-mode session id attached to it. */
  async newPage(url: string): Promise<string> {
    const { targetId } = (await this.send('Target.createTarget', { url: 'about:blank' })) as { targetId: string };
    const { sessionId } = (await this.send('Target.attachToTarget', { targetId, flatten: true })) as { sessionId: string };
    await this.send('Runtime.enable', {}, { sessionId });
    await this.send('Page.enable', {}, { sessionId });
    await this.send('Page.navigate', { url }, { sessionId });
    return sessionId;
  }

  /** Evaluates an expression in the page, awaiting a promise result, and returns it by value. */
  async evaluate<T>(sessionId: string, expression: string, timeoutMs: number): Promise<T> {
    const r = (await this.send('Runtime.evaluate', { expression, awaitPromise: true, returnByValue: true }, { sessionId, timeoutMs })) as {
      result: { value?: T; description?: string };
      exceptionDetails?: { text: string; exception?: { description?: string } };
    };
    if (r.exceptionDetails) {
      throw new Error(`page threw: ${r.exceptionDetails.exception?.description ?? r.exceptionDetails.text}`);
    }
    return r.result.value as T;
  }

  /** Ends the browser: Browser.close, then SIGKILL to its process group after a short grace. */
  async close(graceMs = 2000): Promise<void> {
    if (!this.exited) {
      const gone = new Promise<void>((r) => this.proc.once('exit', () => r()));
      this.send('Browser.close', {}, { timeoutMs: graceMs }).catch(() => undefined);
      const timer = setTimeout(() => this.kill(), graceMs);
      await Promise.race([gone, new Promise<void>((r) => setTimeout(r, graceMs + 1000))]);
      clearTimeout(timer);
      if (!this.exited) this.kill();
    }
    this.kill(); // the group: helper processes that outlived the browser
    for (const s of this.proc.stdio) (s as { destroy?: () => void } | null)?.destroy?.();
    try {
      rmSync(this.profile, { recursive: true, force: true });
    } catch {
      /* a helper may still hold a file; the OS temp dir takes it */
    }
  }

  private kill(): void {
    const pid = this.proc.pid;
    if (pid === undefined) return;
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
}
