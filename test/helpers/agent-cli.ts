// In-process agent CLI for tests: fake clock, fixture sysroot, its own data dir.
import type { Clock } from '../../common/clock.ts';
import type { TrustedKeySet } from '../../common/trusted-keys.ts';
import { runAgentCli } from '../../agent/src/main.ts';
import { capturingIO, toResult, type CliResult } from './cli.ts';

export interface AgentRunOptions {
  readonly env?: Record<string, string | undefined>;
  readonly cwd?: string;
  readonly clock?: Clock;
  readonly flavour?: 'test' | 'release';
  readonly builtInKeys?: TrustedKeySet;
}

export async function runAgent(argv: readonly string[], opts: AgentRunOptions = {}): Promise<CliResult> {
  const io = capturingIO(opts.env ?? {}, opts.cwd ?? process.cwd());
  const code = await runAgentCli(argv, {
    flavour: opts.flavour ?? 'test',
    ...(opts.clock ? { clock: opts.clock } : {}),
    ...(opts.builtInKeys ? { builtInKeys: opts.builtInKeys } : {}),
  }, io);
  return toResult(code, io.out.join(''), io.err.join(''));
}
