import type { CommandSpec } from '../../../common/cli.ts';
import { KioskError } from '../../../common/errors.ts';
import type { AgentContext } from '../app.ts';

export const licenseInstallCommand: CommandSpec<AgentContext> = {
  name: 'license install',
  summary: 'not implemented yet',
  maxArgs: 1,
  async run() {
    throw new KioskError('INTERNAL', 'not implemented yet');
  },
};
