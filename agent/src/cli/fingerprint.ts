import type { CommandSpec } from '../../../common/cli.ts';
import { KioskError } from '../../../common/errors.ts';
import type { AgentContext } from '../app.ts';

export const fingerprintCommand: CommandSpec<AgentContext> = {
  name: 'fingerprint',
  summary: 'not implemented yet',
  maxArgs: 1,
  async run() {
    throw new KioskError('INTERNAL', 'not implemented yet');
  },
};
