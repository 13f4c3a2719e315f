// The license server's explicit command table (oclif habit; keeps a single-file bundle honest).
// `start` runs the HTTP API (cli/start.ts); the broker joins it with sync.
import type { CommandSpec, OptionSpec } from '../../../common/cli.ts';
import type { ServerContext } from '../app.ts';
import { activateOfflineCommand } from './activate-offline.ts';
import { adminCreateTokenCommand } from './admin-create-token.ts';
import { deactivationImportCommand } from './deactivation-import.ts';
import { deviceDeactivateCommand } from './device-deactivate.ts';
import { keysActivateCommand, keysGenerateCommand, keysListCommand, keysRetireCommand } from './keys.ts';
import { licenseCreateCommand } from './license-create.ts';
import { licenseListCommand, licenseShowCommand } from './license-list.ts';
import { licenseRevokeCommand } from './license-revoke.ts';
import { startCommand } from './start.ts';

export const SERVER_GLOBAL_OPTIONS: OptionSpec = {
  'data-dir': { type: 'string' },
  keys: { type: 'string' },
  db: { type: 'string' },
  config: { type: 'string' },
  json: { type: 'boolean' },
};

export const SERVER_COMMANDS: readonly CommandSpec<ServerContext>[] = [
  startCommand,
  keysGenerateCommand,
  keysListCommand,
  keysActivateCommand,
  keysRetireCommand,
  licenseCreateCommand,
  licenseListCommand,
  licenseShowCommand,
  licenseRevokeCommand,
  activateOfflineCommand,
  deviceDeactivateCommand,
  deactivationImportCommand,
  adminCreateTokenCommand,
];
