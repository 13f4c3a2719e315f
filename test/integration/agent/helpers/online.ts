// Online agent tests over real HTTP on loopback:
// - the real license server, built with its own wiring (keys generate and license create through
//   its CLI, `startServer` on 127.0.0.1:0), sharing the test's fake clock;
// - a small fastify stub that forwards to it or misbehaves on demand (5xx, garbage, a token for
//   another device, a hand-signed revocation list), counting what the agent asks;
// - an agent device: a fixture sysroot copy, its own data dir, the in-process CLI;
// - the daemon (`kiosk-agent run`) in-process with a fake scheduler the test fires by hand.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fastify, { type FastifyInstance } from 'fastify';
import { onTestFinished, expect } from 'vitest';
import { fixedClock } from '../../../../common/clock.ts';
import type { Scheduler, TimerHandle } from '../../../../agent/src/daemon/daemon.ts';
import { runAgentCli } from '../../../../agent/src/main.ts';
import { openAgentStore, type AgentStore } from '../../../../agent/src/store/agent-store.ts';
import { createServerContext } from '../../../../license-server/src/app.ts';
import { startServer, type RunningServer } from '../../../../license-server/src/cli/start.ts';
import { resolveServerConfig, resolveStartConfig } from '../../../../license-server/src/config.ts';
import { loadSigner } from '../../../../license-server/src/signing/signer.ts';
import { LICENSE_AUDIENCE } from '../../../../common/license-token.ts';
import { capturingIO, toResult, type CliResult } from '../../../helpers/cli.ts';
import { runServer } from '../../../helpers/server-cli.ts';
import { copySysroot, writeIn, type FixtureName } from '../../../helpers/sysroot.ts';
import { makeTempDir } from '../../../helpers/tmp.ts';

export const NOW_MS = Date.UTC(2026, 8, 15, 10, 0, 0);
export const MIN_MS = 60_000;
export const HOUR_MS = 60 * MIN_MS;
export const DAY_MS = 24 * HOUR_MS;
export const ISSUER = 'urn:kiosk:vendor:agent-online-test';

export type FakeClock = ReturnType<typeof fixedClock>;

// ---------------------------------------------------------------------------------------------
// The real license server

export interface RealServer {
  readonly url: string;
  readonly cwd: string;
  readonly keysDir: string;
  /** The public key set the agent trusts (keys generate's jwks.json). */
  readonly keysFile: string;
  readonly clock: FakeClock;
  /** The server's own CLI against the same database. */
  run(args: readonly string[]): Promise<CliResult>;
  createLicense(opts?: { maxDevices?: number; days?: number }): Promise<{ key: string; id: string }>;
  show(ref: string): Promise<{ license: Record<string, any>; activations: Array<Record<string, any>> }>;
  /** A revocation list signed by the server's signing key with any version and content. */
  signRevocationList(list: { version: number; iatS: number; licenses?: string[]; devices?: string[]; tokens?: string[] }): Promise<string>;
  /** Stops listening (the agent finds it unreachable afterwards). */
  stop(): Promise<void>;
}

export async function startRealServer(clock: FakeClock): Promise<RealServer> {
  const cwd = makeTempDir('kiosk-agent-online-server-');
  const keysDir = join(cwd, '.data', 'server', 'keys');
  const run = (args: readonly string[]): Promise<CliResult> => runServer(args, { cwd, env: {}, clock });
  const keys = await run(['keys', 'generate', '--issuer', ISSUER]);
  expect(keys.code, keys.stderr).toBe(0);

  const io = capturingIO({}, cwd);
  const ctx = createServerContext(resolveServerConfig({ flags: {}, env: {}, cwd }), { clock }, io);
  const config = resolveStartConfig({ server: ctx.config, flags: { host: '127.0.0.1', port: '0', 'mqtt-port': '0', dev: false }, env: {}, cwd });
  let server: RunningServer | null = await startServer(ctx, { ...config, logLevel: 'silent' } as typeof config, io);
  const stop = async (): Promise<void> => {
    const s = server;
    server = null;
    if (s) await s.stop();
    await ctx.close();
  };
  onTestFinished(stop);
  return {
    url: server.url,
    cwd,
    keysDir,
    keysFile: join(keysDir, 'jwks.json'),
    clock,
    run,
    async createLicense(opts = {}) {
      const r = await run(['license', 'create', '--tenant', 'shop-1', '--features', 'pos,sync', '--max-devices', String(opts.maxDevices ?? 2), '--days', String(opts.days ?? 365), '--json']);
      expect(r.code, r.stderr).toBe(0);
      const out = r.json<{ license: { id: string }; licenseKey: string }>();
      return { key: out.licenseKey, id: out.license.id };
    },
    async show(ref) {
      const r = await run(['license', 'show', ref, '--json']);
      expect(r.code, r.stderr).toBe(0);
      return r.json();
    },
    async signRevocationList(list) {
      const signer = loadSigner(keysDir);
      return signer.signDocument('revocationList', {
        iss: ISSUER,
        aud: LICENSE_AUDIENCE,
        iat: list.iatS,
        version: list.version,
        licenses: list.licenses ?? [],
        devices: list.devices ?? [],
        tokens: list.tokens ?? [],
      });
    },
    stop,
  };
}

// ---------------------------------------------------------------------------------------------
// A stub in front of it: forwards, or answers what the test says

export interface StubAnswer {
  readonly status: number;
  /** JSON-encoded unless `raw`. */
  readonly body?: unknown;
  readonly raw?: string;
}

export type StubRoute = 'activate' | 'refresh' | 'deactivate' | 'revocations';
export type StubHandler = (body: any) => StubAnswer | 'forward' | Promise<StubAnswer | 'forward'>;

export interface StubServer {
  readonly url: string;
  /** Every request: route, device-clock time of arrival (the shared fake clock), body. */
  readonly requests: Array<{ route: StubRoute; atMs: number; body: unknown; status: number }>;
  /** Sets a route's behaviour; 'forward' (the default) passes the request to the real server. */
  on(route: StubRoute, handler: StubHandler): void;
  count(route: StubRoute): number;
}

const ROUTES: ReadonlyArray<[StubRoute, 'GET' | 'POST', string]> = [
  ['activate', 'POST', '/v1/activations'],
  ['refresh', 'POST', '/v1/activations/refresh'],
  ['deactivate', 'POST', '/v1/deactivations'],
  ['revocations', 'GET', '/v1/revocations'],
];

export async function startStubServer(opts: { clock: FakeClock; forwardTo?: string }): Promise<StubServer> {
  const app: FastifyInstance = fastify({ logger: false });
  const handlers = new Map<StubRoute, StubHandler>();
  const requests: StubServer['requests'] = [];
  for (const [route, method, path] of ROUTES) {
    app.route({
      method,
      url: path,
      handler: async (request, reply) => {
        const handler = handlers.get(route) ?? (() => 'forward' as const);
        const answer = await handler(request.body);
        let status: number;
        let payload: string;
        if (answer === 'forward') {
          if (!opts.forwardTo) throw new Error(`stub: nothing to forward ${route} to`);
          const res = await fetch(new URL(path.slice(1), opts.forwardTo), {
            method,
            headers: { 'content-type': 'application/json' },
            ...(method === 'POST' ? { body: JSON.stringify(request.body) } : {}),
          });
          status = res.status;
          payload = await res.text();
        } else {
          status = answer.status;
          payload = answer.raw ?? JSON.stringify(answer.body ?? {});
        }
        requests.push({ route, atMs: opts.clock.nowMs(), body: request.body, status });
        return reply.code(status).header('content-type', answer !== 'forward' && answer.raw !== undefined ? 'text/html' : 'application/json').send(payload);
      },
    });
  }
  await app.listen({ host: '127.0.0.1', port: 0 });
  onTestFinished(() => app.close());
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('stub: no port');
  return {
    url: `http://127.0.0.1:${address.port}`,
    requests,
    on: (route, handler) => void handlers.set(route, handler),
    count: (route) => requests.filter((r) => r.route === route).length,
  };
}

/** A loopback URL where nothing listens (a port that was just free). */
export async function deadServerUrl(): Promise<string> {
  const app = fastify({ logger: false });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  await app.close();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return `http://127.0.0.1:${address.port}`;
}

// ---------------------------------------------------------------------------------------------
// An agent device

export interface AgentDevice {
  readonly root: string;
  readonly dir: string;
  readonly dataDir: string;
  readonly clock: FakeClock;
  readonly env: Record<string, string>;
  /** The in-process CLI with this device's sysroot, data dir, trusted keys and clock. */
  run(argv: readonly string[]): Promise<CliResult>;
  /** Opens the agent store (a second connection), runs fn, closes it. */
  withStore<T>(fn: (store: AgentStore) => T): T;
  status(): Promise<{ code: number } & Record<string, any>>;
}

export function agentDevice(opts: { clock: FakeClock; keysFile: string; fixture?: FixtureName; clockTrust?: 'ntp' | 'none' }): AgentDevice {
  const root = copySysroot(opts.fixture ?? 'x64-pc');
  if ((opts.clockTrust ?? 'ntp') === 'ntp') writeIn(root, 'run/systemd/timesync/synchronized', '');
  const dir = makeTempDir('kiosk-agent-online-');
  const dataDir = join(dir, 'data');
  const env = { KIOSK_AGENT_TRUSTED_KEYS: opts.keysFile };
  const device: AgentDevice = {
    root,
    dir,
    dataDir,
    clock: opts.clock,
    env,
    async run(argv) {
      const io = capturingIO(env, dir);
      const code = await runAgentCli([...argv, '--sysroot', root, '--data-dir', dataDir], { flavour: 'test', clock: opts.clock }, io);
      return toResult(code, io.out.join(''), io.err.join(''));
    },
    withStore(fn) {
      const store = openAgentStore({ dataDir });
      try {
        return fn(store);
      } finally {
        store.close();
      }
    },
    async status() {
      const r = await device.run(['license', 'status', '--json']);
      return { code: r.code, ...r.json() };
    },
  };
  return device;
}

// ---------------------------------------------------------------------------------------------
// The daemon, in-process, on a fake scheduler

export interface FakeScheduler extends Scheduler {
  /** Pending timers, earliest first. */
  pending(): Array<{ dueAtMs: number }>;
  /** How many timers were ever scheduled. */
  scheduledCount(): number;
  /** Resolves once more than `count` timers have been scheduled. */
  waitForScheduled(count: number): Promise<void>;
  /** Fires the earliest timer, moving the clock to its due time; false when none is pending. */
  fireEarliest(): boolean;
}

export function fakeScheduler(clock: FakeClock): FakeScheduler {
  interface Entry {
    dueAtMs: number;
    fn: () => void;
  }
  const timers: Entry[] = [];
  let scheduled = 0;
  let waiters: Array<() => void> = [];
  return {
    schedule(delayMs, fn): TimerHandle {
      const entry: Entry = { dueAtMs: clock.nowMs() + Math.max(0, delayMs), fn };
      timers.push(entry);
      timers.sort((a, b) => a.dueAtMs - b.dueAtMs);
      scheduled += 1;
      for (const w of waiters.splice(0)) w();
      return {
        cancel() {
          const i = timers.indexOf(entry);
          if (i >= 0) timers.splice(i, 1);
        },
      };
    },
    pending: () => timers.map((t) => ({ dueAtMs: t.dueAtMs })),
    scheduledCount: () => scheduled,
    async waitForScheduled(count) {
      const deadline = Date.now() + 20_000;
      while (scheduled <= count) {
        if (Date.now() > deadline) throw new Error(`fake scheduler: no timer was scheduled after #${count}`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 50);
        });
      }
    },
    fireEarliest() {
      const next = timers.shift();
      if (!next) return false;
      if (next.dueAtMs > clock.nowMs()) clock.set(next.dueAtMs);
      next.fn();
      return true;
    },
  };
}

export interface DaemonRun {
  readonly scheduler: FakeScheduler;
  /** Parsed JSON log lines so far. */
  logs(): Array<Record<string, any>>;
  stderr(): string;
  /** Fires the earliest timer (moving the fake clock to its due time) and waits for the tick to finish. */
  step(): Promise<void>;
  /** Steps until `done()` is true or the clock passes `untilMs`; returns whether done() became true. */
  stepUntil(done: () => boolean, untilMs: number, maxSteps?: number): Promise<boolean>;
  /** Aborts the daemon (as SIGTERM would) and returns its exit code. */
  stop(): Promise<number>;
}

export async function startDaemon(
  device: AgentDevice,
  args: readonly string[] = [],
  opts: { random?: () => number; env?: Record<string, string> } = {},
): Promise<DaemonRun> {
  const scheduler = fakeScheduler(device.clock);
  const shutdown = new AbortController();
  // The local API on any free port; the MQTT sync client off unless a test turns it on (its timers would interleave).
  const io = capturingIO({ KIOSK_AGENT_API_PORT: '0', KIOSK_AGENT_SYNC: 'off', ...device.env, ...opts.env }, device.dir);
  const done = runAgentCli(
    ['run', ...args, '--sysroot', device.root, '--data-dir', device.dataDir],
    { flavour: 'test', clock: device.clock, scheduler, random: opts.random ?? (() => 0.5), shutdown: shutdown.signal },
    io,
  );
  let exit: number | undefined;
  void done.then((code) => {
    exit = code;
  });
  const started = async (): Promise<void> => {
    // the first tick is scheduled at start (delay 0), or the run ended early (bad config …)
    await Promise.race([scheduler.waitForScheduled(0), done]);
    // services after the license keeper (the local API) start asynchronously: wait for the daemon's
    // line (bounded: at log level error or above it never comes)
    const deadline = Date.now() + 3_000;
    while (exit === undefined && !io.err.join('').includes('"msg":"daemon started"') && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  };
  await started();
  if (exit !== undefined) throw new Error(`the daemon ended at start with exit ${exit}: ${io.err.join('')}`);
  let stopped = false;
  onTestFinished(async () => {
    if (!stopped) {
      shutdown.abort();
      await done;
    }
  });
  const run: DaemonRun = {
    scheduler,
    logs: () =>
      io.err
        .join('')
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, any>),
    stderr: () => io.err.join(''),
    async step() {
      const before = scheduler.scheduledCount();
      if (!scheduler.fireEarliest()) throw new Error('fake scheduler: nothing pending');
      await scheduler.waitForScheduled(before);
    },
    async stepUntil(doneFn, untilMs, maxSteps = 5000) {
      for (let i = 0; i < maxSteps; i++) {
        if (doneFn()) return true;
        const next = scheduler.pending()[0];
        if (!next || next.dueAtMs > untilMs) return doneFn();
        await run.step();
      }
      throw new Error(`stepUntil: more than ${maxSteps} steps`);
    },
    async stop() {
      stopped = true;
      shutdown.abort();
      return done;
    },
  };
  return run;
}

/** Reads a file as text (the deactivation file). */
export const readText = (path: string): string => readFileSync(path, 'utf8');
