// The license server's entry: `runServerCli(argv, io?, options?)`. Nothing runs on import;
// bin/license-server.mjs (dev) and a single executable's entry call it.
import { processIO, runCli, type CliDefinition, type CliIO } from '../../common/cli.ts';
import { PRODUCT_VERSION } from '../../common/version.ts';
import { createServerContext, type ServerContext, type ServerOptions } from './app.ts';
import { SERVER_COMMANDS, SERVER_GLOBAL_OPTIONS } from './cli/commands.ts';
import { resolveServerConfig } from './config.ts';

export function serverCliDefinition(options: ServerOptions = {}): CliDefinition<ServerContext> {
  return {
    program: 'license-server',
    commands: SERVER_COMMANDS,
    globalOptions: SERVER_GLOBAL_OPTIONS,
    makeContext(values, io) {
      const config = resolveServerConfig({
        flags: {
          'data-dir': values['data-dir'] as string | undefined,
          keys: values.keys as string | undefined,
          db: values.db as string | undefined,
          config: values.config as string | undefined,
        },
        env: io.env,
        cwd: io.cwd,
      });
      return createServerContext(config, options, io);
    },
    version: () => `license-server ${PRODUCT_VERSION} node ${process.version}`,
    dispose: (ctx) => ctx.close(),
  };
}

export async function runServerCli(argv: readonly string[], io: CliIO = processIO(), options: ServerOptions = {}): Promise<number> {
  return runCli(serverCliDefinition(options), argv, io);
}
