// Runs a CLI in-process with captured output (fast), or the real bin as a subprocess.
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CliIO } from '../../common/cli.ts';

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** The last whitespace-separated word of stdout (DESIGN §4.1: keys and tokens are printed last). */
  readonly lastWord: string;
  json<T = any>(): T;
}

export function capturingIO(env: Record<string, string | undefined> = {}, cwd = process.cwd()): CliIO & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    stdout: (t) => void out.push(t.endsWith('\n') ? t : `${t}\n`),
    stderr: (t) => void err.push(t.endsWith('\n') ? t : `${t}\n`),
    env,
    cwd,
  };
}

export function toResult(code: number, stdout: string, stderr: string): CliResult {
  const words = stdout.trim().split(/\s+/);
  return {
    code,
    stdout,
    stderr,
    lastWord: words[words.length - 1] ?? '',
    json() {
      const lines = stdout.trim().split('\n');
      // the JSON document is the whole stdout, or its last line
      try {
        return JSON.parse(stdout);
      } catch {
        return JSON.parse(lines[lines.length - 1] ?? '');
      }
    },
  };
}

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Runs bin/<program>.mjs as a real subprocess (slower; for end-to-end checks of the bin itself). */
export function runBin(program: 'kiosk-agent' | 'license-server', args: readonly string[], opts: { env?: Record<string, string>; cwd?: string; input?: string } = {}): CliResult {
  const r = spawnSync(process.execPath, [resolve(REPO_ROOT, 'bin', `${program}.mjs`), ...args], {
    cwd: opts.cwd ?? REPO_ROOT,
    env: { ...process.env, ...opts.env },
    input: opts.input,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return toResult(r.status ?? -1, r.stdout, r.stderr);
}
