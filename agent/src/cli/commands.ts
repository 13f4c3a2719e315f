// The agent's explicit command table (oclif habit; keeps a single-file bundle honest).
import type { CommandSpec, OptionSpec } from '../../../common/cli.ts';
import type { AgentContext } from '../app.ts';
import { activateCommand } from './activate.ts';
import { deactivateCommand } from './deactivate.ts';
import { fingerprintCommand } from './fingerprint.ts';
import { licenseInstallCommand } from './license-install.ts';
import { licenseStatusCommand } from './license-status.ts';
import { runCommand } from './run.ts';

export const AGENT_GLOBAL_OPTIONS: OptionSpec = {
  'data-dir': { type: 'string' },
  sysroot: { type: 'string' },
  json: { type: 'boolean' },
};

export const AGENT_COMMANDS: readonly CommandSpec<AgentContext>[] = [
  fingerprintCommand,
  licenseInstallCommand,
  licenseStatusCommand,
  activateCommand,
  deactivateCommand,
  runCommand,
];
