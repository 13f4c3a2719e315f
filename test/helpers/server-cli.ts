// In-process license server CLI for tests: its own cwd/env, optionally a fake clock.
import type { Clock } from '../../common/clock.ts';
import type { RandomBytes } from '../../common/license-key.ts';
import { runServerCli } from '../../license-server/src/main.ts';
import { capturingIO, toResult, type CliResult } from './cli.ts';

export interface ServerRunOptions {
  readonly env?: Record<string, string | undefined>;
  readonly cwd?: string;
  readonly clock?: Clock;
  readonly random?: RandomBytes;
}

export async function runServer(argv: readonly string[], opts: ServerRunOptions = {}): Promise<CliResult> {
  const io = capturingIO(opts.env ?? {}, opts.cwd ?? process.cwd());
  const code = await runServerCli(argv, io, {
    ...(opts.clock ? { clock: opts.clock } : {}),
    ...(opts.random ? { random: opts.random } : {}),
  });
  return toResult(code, io.out.join(''), io.err.join(''));
}
