import { describe, expect, it } from 'vitest';
import { RELEASE_SCRUBBED_ENV, scrubReleaseEnvironment } from '../../../agent/src/sea-main.ts';

describe('release environment scrub', () => {
  it('removes the variables that would weaken a release build, and nothing else', () => {
    const env: NodeJS.ProcessEnv = { PATH: '/usr/bin', NODE_TLS_REJECT_UNAUTHORIZED: '0', KIOSK_AGENT_TRUSTED_KEYS: '/tmp/evil.json', KIOSK_AGENT_SYSROOT: '/tmp/fake', NODE_OPTIONS: '--require /tmp/hook.js', HOME: '/root' };
    scrubReleaseEnvironment(env);
    expect(env).toEqual({ PATH: '/usr/bin', HOME: '/root' });
    expect(RELEASE_SCRUBBED_ENV).toContain('NODE_TLS_REJECT_UNAUTHORIZED');
  });
});
