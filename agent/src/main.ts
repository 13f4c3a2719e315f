// The agent's entry: `runAgentCli(argv, options)`. Nothing runs on import; bin/kiosk-agent.mjs
// (dev, test flavour) and the single executable's entry call it.
import { processIO, runCli, type CliDefinition, type CliIO } from '../../common/cli.ts';
import { PRODUCT_VERSION } from '../../common/version.ts';
import { createAgentContext, type AgentContext, type AgentOptions } from './app.ts';
import { AGENT_COMMANDS, AGENT_GLOBAL_OPTIONS } from './cli/commands.ts';
import { resolveAgentConfig } from './config.ts';

export function agentCliDefinition(options: AgentOptions): CliDefinition<AgentContext> {
  return {
    program: 'kiosk-agent',
    commands: AGENT_COMMANDS,
    globalOptions: AGENT_GLOBAL_OPTIONS,
    makeContext(values, io) {
      const config = resolveAgentConfig({
        flavour: options.flavour,
        flags: { 'data-dir': values['data-dir'] as string | undefined, sysroot: values.sysroot as string | undefined },
        env: io.env,
        cwd: io.cwd,
        hasBuiltInKeys: options.builtInKeys !== undefined,
      });
      return createAgentContext(config, options, io);
    },
    version() {
      // Never touches the data dir.
      const kids = options.builtInKeys ? options.builtInKeys.keys.map((k) => k.kid).join(',') : '(from KIOSK_AGENT_TRUSTED_KEYS)';
      const target = options.target ?? `${process.platform}-${process.arch}`;
      return `kiosk-agent ${PRODUCT_VERSION} ${target} node ${process.version} flavour ${options.flavour} trusted-keys ${kids}`;
    },
    dispose: (ctx) => ctx.close(),
  };
}

export async function runAgentCli(argv: readonly string[], options: AgentOptions, io: CliIO = processIO()): Promise<number> {
  return runCli(agentCliDefinition(options), argv, io);
}
