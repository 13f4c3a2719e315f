// `kiosk-agent run [--config FILE] [--server URL] [--log-level LEVEL]`: the daemon (DESIGN §4.1).
// Starts the services (daemon/agent-daemon.ts: the license keeper, the MQTT sync engine, the
// local API), logs JSON lines to stderr and runs until SIGTERM or SIGINT, then stops the services,
// closes the store (the context's close) and exits 0.
import { optionalString, type CommandSpec } from '../../../common/cli.ts';
import type { AgentContext } from '../app.ts';
import { resolveRunConfig } from '../config.ts';
import { buildAgentDaemon } from '../daemon/agent-daemon.ts';
import { createDaemonLogger } from '../daemon/logger.ts';

const STOP_SIGNALS = ['SIGTERM', 'SIGINT'] as const;

export const runCommand: CommandSpec<AgentContext> = {
  name: 'run',
  summary: 'the daemon: license checks and renewals, MQTT sync, the local API on 127.0.0.1 (until SIGTERM/SIGINT)',
  maxArgs: 0,
  options: {
    config: { type: 'string' },
    server: { type: 'string' },
    'log-level': { type: 'string' },
  },
  async run({ values, io }, ctx) {
    const config = resolveRunConfig({
      flags: { config: optionalString(values, 'config'), server: optionalString(values, 'server'), 'log-level': optionalString(values, 'log-level') },
      env: io.env,
      cwd: io.cwd,
    });
    ctx.trustedKeys(); // KEYS_MISSING before anything starts
    const logger = createDaemonLogger({ level: config.logLevel, write: (line) => io.stderr(line), clock: ctx.clock });
    const { daemon } = buildAgentDaemon(ctx, config, logger);

    const stop = stopSignal(ctx.options.shutdown);
    try {
      await daemon.start();
      logger.info(
        { services: daemon.services.map((s) => s.name), dataDir: ctx.config.dataDir, config: config.configFile, server: config.serverUrl },
        'daemon started',
      );
      const reason = await stop.stopped;
      logger.info({ signal: reason }, 'stopping');
      await daemon.stop();
      logger.info({}, 'stopped');
      return 0;
    } finally {
      stop.dispose();
    }
  },
};

/** Resolves with the signal's name on SIGTERM/SIGINT, or 'abort' when the injected signal aborts. */
function stopSignal(injected: AbortSignal | undefined): { stopped: Promise<string>; dispose(): void } {
  if (injected) {
    return {
      stopped: injected.aborted
        ? Promise.resolve('abort')
        : new Promise((resolve) => injected.addEventListener('abort', () => resolve('abort'), { once: true })),
      dispose: () => undefined,
    };
  }
  let handlers: Array<[NodeJS.Signals, () => void]> = [];
  const stopped = new Promise<string>((resolve) => {
    handlers = STOP_SIGNALS.map((name) => [name, () => resolve(name)]);
    for (const [name, fn] of handlers) process.once(name, fn);
  });
  return {
    stopped,
    dispose: () => {
      for (const [name, fn] of handlers) process.off(name, fn);
    },
  };
}
