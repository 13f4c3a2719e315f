// The ServerStorage contract on SQLite: a real database file in a temp dir per test.
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openSqliteStorage } from '../../license-server/src/storage/sqlite/sqlite-storage.ts';
import type { ServerStorage } from '../../license-server/src/domain/server-storage.ts';
import { makeTempDir } from '../helpers/tmp.ts';
import { describeOnlineStorageContract } from './online-storage.contract.ts';
import { describeServerStorageContract, type StorageHarness } from './server-storage.contract.ts';
import { describeSyncStorageContract } from './sync-storage.contract.ts';
import { describeTransactionBatchingContract } from './transaction-batching.contract.ts';

function raw(file: string, sql: string, seq: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const db = new Database(file);
    try {
      db.prepare(sql).run(seq);
      resolve();
    } catch (err) {
      reject(err);
    } finally {
      db.close();
    }
  });
}

async function sqliteHarness(): Promise<StorageHarness> {
  const file = join(makeTempDir('kiosk-storage-'), 'nested', 'server.db');
  let current: ServerStorage = await openSqliteStorage({ file });
  return {
    get storage() {
      return current;
    },
    async reopen() {
      await current.close();
      current = await openSqliteStorage({ file });
      return current;
    },
    rewriteAuditEntry: (seq) => raw(file, `UPDATE audit_log SET action = 'forged' WHERE seq = ?`, seq),
    deleteAuditEntry: (seq) => raw(file, 'DELETE FROM audit_log WHERE seq = ?', seq),
    dispose: () => current.close(),
  };
}

describeServerStorageContract('SQLite', sqliteHarness);
describeOnlineStorageContract('SQLite', sqliteHarness);
describeSyncStorageContract('SQLite', sqliteHarness);
describeTransactionBatchingContract('SQLite', (options) => openSqliteStorage({ file: join(makeTempDir('kiosk-storage-'), 'server.db'), ...options }));
