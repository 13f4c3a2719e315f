// The vendor side of the e2e tests: the repo's license-server CLI, in-process, issuing real
// licenses with the run's keys (license create + activate-offline on the request the
// executable printed). Each vendor() has its own server database.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { runServer } from '../../helpers/server-cli.ts';
import { makeTempDir } from '../../helpers/tmp.ts';

export interface Vendor {
  /** Issues a license and activates the request offline; returns the token file. */
  issue(requestJson: string, opts?: { allowVirtual?: boolean }): Promise<string>;
}

export function vendor(keysDir: string): Vendor {
  const dir = makeTempDir('e2e-vendor-');
  const serverArgs = ['--data-dir', join(dir, 'server'), '--keys', keysDir];
  let n = 0;
  return {
    async issue(requestJson, opts = {}) {
      n += 1;
      const created = await runServer([
        'license', 'create', '--tenant', 'acme', '--features', 'sales,reports', '--max-devices', '5', '--days', '365',
        ...(opts.allowVirtual ? ['--allow-virtual'] : []),
        ...serverArgs,
      ]);
      expect(created.code, created.stderr).toBe(0);
      const request = join(dir, `request-${n}.json`);
      writeFileSync(request, requestJson);
      const token = join(dir, `license-${n}.jwt`);
      const activated = await runServer(['activate-offline', '--key', created.lastWord, '--request', request, '--out', token, ...serverArgs]);
      expect(activated.code, activated.stderr).toBe(0);
      return token;
    },
  };
}
