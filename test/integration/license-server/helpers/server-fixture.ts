// A license server in a temp dir for CLI tests: its own cwd (so the default ./.data/server is
// private to the test), a key set, and helpers to issue licenses and write request files.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { Clock } from '../../../../common/clock.ts';
import { parseTrustedKeySetText, type TrustedKeySet } from '../../../../common/trusted-keys.ts';
import type { CliResult } from '../../../helpers/cli.ts';
import { runServer } from '../../../helpers/server-cli.ts';
import { makeTempDir } from '../../../helpers/tmp.ts';

export interface ServerFixture {
  readonly cwd: string;
  readonly dataDir: string;
  readonly keysDir: string;
  /** Every stderr seen, for leak checks. */
  readonly stderrLog: string[];
  run(args: readonly string[]): Promise<CliResult>;
  jwks(): TrustedKeySet;
  /** `license create` with the given flags; returns the printed key and the license id. */
  createLicense(flags?: readonly string[]): Promise<{ key: string; id: string }>;
  writeJson(name: string, value: unknown): string;
}

export async function serverFixture(options: { clock?: Clock; withKeys?: boolean } = {}): Promise<ServerFixture> {
  const cwd = makeTempDir('kiosk-server-');
  const dataDir = join(cwd, '.data', 'server');
  const keysDir = join(dataDir, 'keys');
  const stderrLog: string[] = [];
  const run = async (args: readonly string[]): Promise<CliResult> => {
    const r = await runServer(args, { cwd, env: {}, ...(options.clock ? { clock: options.clock } : {}) });
    stderrLog.push(r.stderr);
    return r;
  };
  if (options.withKeys !== false) {
    const r = await run(['keys', 'generate', '--issuer', 'urn:kiosk:vendor:test-vendor']);
    expect(r.code, r.stderr).toBe(0);
  }
  return {
    cwd,
    dataDir,
    keysDir,
    stderrLog,
    run,
    jwks: () => parseTrustedKeySetText(readFileSync(join(keysDir, 'jwks.json'), 'utf8'), 'jwks.json'),
    async createLicense(flags = ['--max-devices', '2', '--days', '365']) {
      const r = await run(['license', 'create', '--tenant', 'shop-1', '--features', 'pos,sync', ...flags, '--json']);
      expect(r.code, r.stderr).toBe(0);
      const out = r.json<{ license: { id: string }; licenseKey: string }>();
      return { key: out.licenseKey, id: out.license.id };
    },
    writeJson(name, value) {
      const path = join(cwd, name);
      writeFileSync(path, JSON.stringify(value, null, 2));
      return path;
    },
  };
}

/** Every regular file under dir, recursively. */
export function allFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...allFiles(path));
    else if (entry.isFile()) out.push(path);
  }
  return out;
}
