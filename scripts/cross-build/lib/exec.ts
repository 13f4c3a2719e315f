// Running the tools of the cross-build. Every tool is looked up on PATH first; a missing one
// fails with the Debian package that brings it. Output of noisy tools goes to a log file that
// is named when the tool fails.
import { spawn } from 'node:child_process';
import { accessSync, constants, createWriteStream, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { BuildError } from './log.ts';

/** Tool → the Debian package that installs it (named in the error when it is missing). */
export const TOOL_PACKAGES: Readonly<Record<string, string>> = {
  gcc: 'gcc',
  'g++': 'g++',
  make: 'make',
  python3: 'python3',
  strip: 'binutils',
  readelf: 'binutils',
  tar: 'tar',
  gzip: 'gzip',
  xz: 'xz-utils',
  npm: 'npm',
  'aarch64-linux-gnu-gcc': 'gcc-aarch64-linux-gnu',
  'aarch64-linux-gnu-g++': 'g++-aarch64-linux-gnu',
  'aarch64-linux-gnu-strip': 'binutils-aarch64-linux-gnu',
  'qemu-aarch64': 'qemu-user',
  'apt-get': 'apt',
  'dpkg-deb': 'dpkg',
};

export function findTool(name: string, env: NodeJS.ProcessEnv = process.env): string | null {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // next
    }
  }
  return null;
}

/** The tool's path, or a BuildError naming the apt package to install. */
export function requireTool(name: string, why: string): string {
  const found = findTool(name);
  if (found) return found;
  const pkg = TOOL_PACKAGES[name];
  throw new BuildError(`${name} is missing (needed ${why})${pkg ? `: apt-get install -y ${pkg}` : ''}`);
}

export interface RunOptions {
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Appends stdout and stderr to this file instead of keeping them in memory. */
  readonly logFile?: string;
  /** What the command is for, in the error message. */
  readonly what?: string;
}

export interface RunResult {
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command (no shell); rejects with a BuildError on a non-zero exit. */
export function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const log = opts.logFile ? createWriteStream(opts.logFile, { flags: 'a' }) : undefined;
    if (log) log.write(`$ ${cmd} ${args.join(' ')}\n`);
    child.stdout.on('data', (b: Buffer) => (log ? log.write(b) : out.push(b)));
    child.stderr.on('data', (b: Buffer) => (log ? log.write(b) : err.push(b)));
    child.on('error', (e) => reject(new BuildError(`${opts.what ?? cmd}: cannot start ${cmd}: ${e.message}`)));
    child.on('close', (code, signal) => {
      const finish = (): void => {
        const stdout = Buffer.concat(out).toString('utf8');
        const stderr = Buffer.concat(err).toString('utf8');
        if (code === 0) return resolvePromise({ stdout, stderr });
        const tail = opts.logFile ? tailOf(opts.logFile) : stderr.trim().split('\n').slice(-15).join('\n');
        reject(
          new BuildError(
            `${opts.what ?? cmd} failed (${signal ?? `exit ${code}`}): ${cmd} ${args.join(' ')}` +
              `${opts.logFile ? `\n  log: ${opts.logFile}` : ''}${tail ? `\n${tail}` : ''}`,
          ),
        );
      };
      if (log) log.end(finish);
      else finish();
    });
  });
}

function tailOf(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-15).join('\n');
  } catch {
    return '';
  }
}
