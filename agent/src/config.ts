// Agent configuration: parsed once, frozen, passed down. The only agent module that reads
// process.env (through the CliIO env it is given).
import { resolve } from 'node:path';

export type Flavour = 'release' | 'test';

export interface AgentConfig {
  readonly flavour: Flavour;
  /** Where license state, the device key and the store live. */
  readonly dataDir: string;
  /** Root for /proc, /sys and /etc reads: `/` except for the test flavour and dev. */
  readonly sysroot: string;
  /** Where the trusted key set comes from: 'built-in' or a file path. */
  readonly trustedKeysFile: string | undefined;
}

export interface AgentConfigInput {
  readonly flavour: Flavour;
  readonly flags: { readonly 'data-dir'?: string; readonly sysroot?: string };
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  /** The release executable carries its key set; a file is then never consulted. */
  readonly hasBuiltInKeys: boolean;
}

export const RELEASE_DATA_DIR = '/var/lib/kiosk-agent';
/** From the repo (npx kiosk-agent) the server's dev key set is trusted unless told otherwise. */
export const DEV_TRUSTED_KEYS = '.data/server/keys/jwks.json';

export function resolveAgentConfig(input: AgentConfigInput): AgentConfig {
  const { flavour, flags, env, cwd } = input;
  const release = flavour === 'release';
  const dataDir = resolve(cwd, flags['data-dir'] ?? env.KIOSK_AGENT_DATA_DIR ?? (release ? RELEASE_DATA_DIR : '.data/agent'));
  // Release ignores --sysroot and KIOSK_AGENT_TRUSTED_KEYS (DESIGN §4.1).
  const sysroot = release ? '/' : resolve(cwd, flags.sysroot ?? env.KIOSK_AGENT_SYSROOT ?? '/');
  let trustedKeysFile: string | undefined;
  if (!release) {
    const fromEnv = env.KIOSK_AGENT_TRUSTED_KEYS;
    if (fromEnv) trustedKeysFile = resolve(cwd, fromEnv);
    else if (!input.hasBuiltInKeys) trustedKeysFile = resolve(cwd, DEV_TRUSTED_KEYS);
  }
  return Object.freeze({ flavour, dataDir, sysroot, trustedKeysFile });
}
