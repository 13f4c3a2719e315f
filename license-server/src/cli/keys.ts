// `keys generate|list|activate|retire`: thin commands over signing/key-dir.ts. They print key
// ids and paths, never key material.
import { resolve } from 'node:path';
import { optionalString, type CommandSpec } from '../../../common/cli.ts';
import { KioskError } from '../../../common/errors.ts';
import type { ServerContext } from '../app.ts';
import { activateKey, generateKey, JWKS_FILE, listKeys, retireKey } from '../signing/key-dir.ts';
import { table } from './format.ts';

/** `--out DIR` for generate; otherwise the configured key dir (--keys, default DATA_DIR/keys). */
function generateDir(ctx: ServerContext, values: Readonly<Record<string, unknown>>): string {
  const out = values.out;
  if (typeof out !== 'string') return ctx.config.keysDir;
  const dir = resolve(ctx.io.cwd, out);
  if (typeof values.keys === 'string' && resolve(ctx.io.cwd, values.keys) !== dir) {
    throw new KioskError('USAGE', '--out and --keys name different directories; give one');
  }
  return dir;
}

export const keysGenerateCommand: CommandSpec<ServerContext> = {
  name: 'keys generate',
  summary: 'make an ES256 signing key pair (the first signs; later ones are the next keys for rotation)',
  options: { out: { type: 'string' }, issuer: { type: 'string' } },
  async run({ values, io, json }, ctx) {
    const dir = generateDir(ctx, values);
    const issuer = optionalString(values, 'issuer');
    const key = await generateKey(dir, { ...(issuer === undefined ? {} : { issuer }), random: ctx.random });
    if (key.tightenedDir) io.stderr(`note: ${dir} was readable by others; narrowed it to 0700 (it holds private keys)`);
    if (json) {
      io.stdout(JSON.stringify({ kid: key.kid, issuer: key.issuer, dir, signingKid: key.signingKid, trustedKids: key.trustedKids }));
      return 0;
    }
    const first = key.signingKid === key.kid;
    io.stdout(
      [
        `generated key ${key.kid} in ${dir}`,
        `issuer: ${key.issuer}`,
        first
          ? `signing key: ${key.kid}`
          : `signing key stays ${key.signingKid}; ${key.kid} is trusted and signs after "license-server keys activate ${key.kid}" (ship agents that trust it first)`,
        `public key set (what agents trust): ${resolve(dir, JWKS_FILE)}`,
        `back up ${key.kid}.private.pem offline; it is never committed or printed`,
      ].join('\n'),
    );
    return 0;
  },
};

export const keysListCommand: CommandSpec<ServerContext> = {
  name: 'keys list',
  summary: 'list the keys: signing, trusted, retired',
  async run({ io, json }, ctx) {
    const dir = ctx.config.keysDir;
    const { issuer, keys } = listKeys(dir);
    if (json) {
      io.stdout(JSON.stringify({ issuer, dir, keys }));
      return 0;
    }
    io.stdout(`issuer: ${issuer}\n${table(['KID', 'STATUS', 'PRIVATE KEY'], keys.map((k) => [k.kid, k.status, k.hasPrivateKey ? 'yes' : 'missing']))}`);
    return 0;
  },
};

export const keysActivateCommand: CommandSpec<ServerContext> = {
  name: 'keys activate',
  summary: 'make KID the signing key (every agent must trust it already)',
  args: 'KID',
  minArgs: 1,
  maxArgs: 1,
  async run({ positionals, io }, ctx) {
    const { kid, previousKid } = activateKey(ctx.config.keysDir, positionals[0] ?? '');
    io.stdout(previousKid === kid ? `${kid} is the signing key already` : `signing key: ${kid} (was ${previousKid}; it stays trusted until retired)`);
    return 0;
  },
};

export const keysRetireCommand: CommandSpec<ServerContext> = {
  name: 'keys retire',
  summary: 'stop trusting KID: drop it from jwks.json, move its private key to retired/',
  args: 'KID',
  minArgs: 1,
  maxArgs: 1,
  async run({ positionals, io }, ctx) {
    const { kid, movedTo } = retireKey(ctx.config.keysDir, positionals[0] ?? '');
    io.stdout(`retired ${kid}: removed from ${JWKS_FILE}${movedTo ? `; private key moved to ${movedTo}` : ''}`);
    return 0;
  },
};
