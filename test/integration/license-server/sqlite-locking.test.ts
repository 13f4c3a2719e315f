// SQLite specifics beyond the contract: a second connection to the same file (another process,
// e.g. the CLI beside a running server) cannot start a transaction while one is open — BEGIN
// IMMEDIATE takes the write lock up front — and never sees uncommitted writes.
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { KioskError } from '../../../common/errors.ts';
import { MIGRATIONS } from '../../../license-server/src/storage/sqlite/migrations.ts';
import { openSqliteStorage } from '../../../license-server/src/storage/sqlite/sqlite-storage.ts';
import Database from 'better-sqlite3';
import { makeTempDir } from '../../helpers/tmp.ts';
import { activationRecord, licenseRecord } from '../../contract/server-storage.contract.ts';

describe('SQLite storage across connections', () => {
  it('a second connection cannot begin while a transaction is open, and then sees its commit', async () => {
    const file = join(makeTempDir(), 'server.db');
    const server = await openSqliteStorage({ file });
    const cli = await openSqliteStorage({ file, busyTimeoutMs: 0 }); // fail at once instead of waiting
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    onTestFinished(async () => {
      release(); // also when an assertion failed mid-way: close() waits for the transaction
      await server.close();
      await cli.close();
    });
    const lic = licenseRecord(1, { maxDevices: 1 });
    await server.insertLicense(lic);

    let holding!: () => void;
    const isHolding = new Promise<void>((r) => (holding = r));
    const first = server.transaction(async (tx) => {
      await tx.insertActivation(activationRecord(1, lic.id));
      holding();
      await gate;
    });
    await isHolding;

    let ran = false;
    const blocked = await cli
      .transaction(async (tx) => {
        ran = true;
        return tx.countActiveActivations(lic.id);
      })
      .catch((e: unknown) => e as KioskError);
    expect(blocked).toMatchObject({ code: 'STORAGE_ERROR', message: expect.stringMatching(/busy/) });
    expect(ran).toBe(false); // refused at BEGIN, before reading a seat count that could go stale
    expect(await cli.countActiveActivations(lic.id)).toBe(0); // readers are not blocked (WAL) and see only commits

    release();
    await first;
    expect(await cli.transaction(async (tx) => tx.countActiveActivations(lic.id))).toBe(1);
  });

  it('opens in WAL mode with synchronous=FULL and foreign keys, at the latest schema version', async () => {
    const file = join(makeTempDir(), 'server.db');
    await (await openSqliteStorage({ file })).close();
    const db = new Database(file, { readonly: true });
    try {
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS[MIGRATIONS.length - 1]!.version);
    } finally {
      db.close();
    }
    // per-connection settings, observed through a storage connection's behaviour
    const storage = await openSqliteStorage({ file });
    onTestFinished(() => storage.close());
    await expect(storage.insertActivation(activationRecord(1, 'lic_missing'))).rejects.toMatchObject({ code: 'STORAGE_ERROR' });
  });

  it('refuses a database from a newer build', async () => {
    const file = join(makeTempDir(), 'server.db');
    await (await openSqliteStorage({ file })).close();
    const db = new Database(file);
    db.pragma('user_version = 99');
    db.close();
    await expect(openSqliteStorage({ file })).rejects.toMatchObject({ code: 'STORAGE_ERROR', message: expect.stringMatching(/newer/) });
  });
});
