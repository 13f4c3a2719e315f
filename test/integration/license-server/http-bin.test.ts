// The real bin: `license-server start` as a subprocess. SIGTERM during a slow request: the
// request completes, the process exits 0, and the database was closed cleanly (no WAL left,
// integrity_check ok). `--dev` makes throw-away keys and says so. Waits on output lines, never
// on time.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { EventEmitter, once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it, onTestFinished } from 'vitest';
import { tokenResponseSchema } from '../../../common/device-api.ts';
import { REPO_ROOT } from '../../helpers/cli.ts';
import { runServer } from '../../helpers/server-cli.ts';
import { makeTempDir } from '../../helpers/tmp.ts';
import { makeDevice } from './helpers/http-fixture.ts';

interface Proc {
  readonly child: ChildProcessWithoutNullStreams;
  readonly stdout: string[];
  readonly stderr: string[];
  /** The first line (of stdout or stderr) matching pattern, now or later. */
  waitFor(stream: 'stdout' | 'stderr', pattern: RegExp): Promise<string>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function spawnServer(args: readonly string[], cwd: string): Proc {
  const child = spawn(process.execPath, [resolve(REPO_ROOT, 'bin', 'license-server.mjs'), ...args], { cwd, stdio: ['pipe', 'pipe', 'pipe'] });
  const lines = { stdout: [] as string[], stderr: [] as string[] };
  const events = new EventEmitter();
  for (const name of ['stdout', 'stderr'] as const) {
    let rest = '';
    child[name].on('data', (d: Buffer) => {
      rest += d.toString('utf8');
      const parts = rest.split('\n');
      rest = parts.pop() ?? '';
      for (const line of parts) {
        lines[name].push(line);
        events.emit(name, line);
      }
    });
  }
  const exited = once(child, 'exit').then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null }));
  onTestFinished(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return {
    child,
    ...lines,
    exited,
    waitFor: (stream, pattern) =>
      new Promise((done, fail) => {
        const seen = lines[stream].find((l) => pattern.test(l));
        if (seen !== undefined) return done(seen);
        const on = (line: string): void => {
          if (!pattern.test(line)) return;
          events.off(stream, on);
          done(line);
        };
        events.on(stream, on);
        void exited.then(({ code }) => fail(new Error(`the server exited (${code}) before ${pattern}: ${lines.stderr.join('\n')}`)));
      }),
  };
}

describe('bin/license-server.mjs start', () => {
  it('SIGTERM during a slow request: it completes, exit 0, the database closed cleanly', async () => {
    const cwd = makeTempDir('kiosk-bin-');
    expect((await runServer(['keys', 'generate', '--issuer', 'urn:kiosk:vendor:bin-test'], { cwd })).code).toBe(0);
    const lic = await runServer(['license', 'create', '--tenant', 't', '--features', 'pos', '--max-devices', '2', '--days', '30'], { cwd });
    expect(lic.code, lic.stderr).toBe(0);
    const key = lic.lastWord;
    const device = await makeDevice('urn:kiosk:vendor:bin-test', 1);

    const proc = spawnServer(['start', '--port', '0', '--mqtt-port', '0'], cwd);
    const url = (await proc.waitFor('stdout', /^listening on /)).replace('listening on ', '');
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const { port } = new URL(url);

    const body = JSON.stringify({ licenseKey: key, request: device.request });
    const half = Math.floor(body.length / 2);
    const socket = connect(Number(port), '127.0.0.1');
    await once(socket, 'connect');
    let raw = '';
    socket.on('data', (d: Buffer) => (raw += d.toString('utf8')));
    const closed = once(socket, 'close');
    socket.write(`POST /v1/activations HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body.slice(0, half)}`);
    await proc.waitFor('stderr', /"msg":"incoming request"/);

    proc.child.kill('SIGTERM');
    await proc.waitFor('stderr', /"msg":"stopped accepting connections/);
    await expect(fetch(`${url}/v1/revocations`)).rejects.toThrow(); // no longer accepting
    socket.write(body.slice(half));
    await closed;
    expect(raw).toMatch(/^HTTP\/1\.1 201 /);
    const answer = tokenResponseSchema.parse(JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4)));
    expect(answer.apiUrl).toBe(url);

    expect(await proc.exited).toEqual({ code: 0, signal: null });
    expect(proc.stderr.some((l) => l.includes('"msg":"stopped; database closed"'))).toBe(true);
    // every stderr line is a JSON log record, and none holds a secret
    for (const line of proc.stderr) expect(() => JSON.parse(line), line).not.toThrow();
    const logs = proc.stderr.join('\n');
    for (const secret of [key, answer.token, answer.token.split('.')[2] ?? '']) expect(logs).not.toContain(secret);

    const dbFile = join(cwd, '.data/server/server.db');
    expect(existsSync(`${dbFile}-wal`)).toBe(false); // the last connection closed cleanly (checkpointed)
    const db = new Database(dbFile, { readonly: true });
    try {
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      expect(db.prepare("SELECT count(*) AS n FROM activations WHERE status = 'active'").get()).toEqual({ n: 1 });
    } finally {
      db.close();
    }
  });

  it('--dev makes throw-away keys, says so, and serves them; SIGINT stops it with exit 0', async () => {
    const cwd = makeTempDir('kiosk-bin-');
    const proc = spawnServer(['start', '--dev', '--port', '0', '--mqtt-port', '0'], cwd);
    const url = (await proc.waitFor('stdout', /^listening on /)).replace('listening on ', '');
    const warning = await proc.waitFor('stderr', /THROW-AWAY keys/);
    expect(JSON.parse(warning)).toMatchObject({ level: 40, keys: join(cwd, '.data/server/dev-keys') });
    const served = (await (await fetch(`${url}/.well-known/jwks.json`)).json()) as { issuer: string };
    expect(served).toEqual(JSON.parse(readFileSync(join(cwd, '.data/server/dev-keys/jwks.json'), 'utf8')));
    expect(existsSync(join(cwd, '.data/server/keys'))).toBe(false);
    proc.child.kill('SIGINT');
    expect(await proc.exited).toEqual({ code: 0, signal: null });
  });
});
