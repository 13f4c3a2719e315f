// The seat worker thread (see seat-worker.ts): its own connection to the server's SQLite file,
// its own signer of the key directory, and takeSeatAndSign for every request the main thread
// posts. Requests that arrive together are committed together (the storage's group commit).
// Errors go back as { code, message, details }.
import { parentPort, workerData } from 'node:worker_threads';
import { asKioskError } from '../../../common/errors.ts';
import { takeSeatAndSign } from '../domain/activation.ts';
import type { DocumentSigner } from '../domain/document-signer.ts';
import { createKeyDirSigner } from '../signing/signer.ts';
import { openSqliteStorage } from '../storage/sqlite/sqlite-storage.ts';
import type { SeatThreadData, ThreadError, ThreadReply, ThreadRequest } from './protocol.ts';

const port = parentPort;
if (!port) throw new Error('the seat worker runs in a worker thread');
const data = workerData as SeatThreadData;
const opened = openSqliteStorage({ file: data.file, ...(data.nativeBinding === undefined ? {} : { nativeBinding: data.nativeBinding }) });
opened.catch(() => undefined); // reported to each request, not as an unhandled rejection
let signer: DocumentSigner | undefined;
/** The key directory's signer, made on first use (KEYS_MISSING then goes to that request). */
const signerNow = (): DocumentSigner => (signer ??= createKeyDirSigner(data.keysDir, { nowMs: Date.now }));

const reply = (message: ThreadReply): void => port.postMessage(message);
const failure = (err: unknown): ThreadError => {
  const e = asKioskError(err);
  return { code: e.code, message: e.message, ...(e.details === undefined ? {} : { details: e.details }) };
};

opened.then(
  () => {
    try {
      signerNow();
      reply({ op: 'ready' });
    } catch (err) {
      reply({ op: 'ready', error: failure(err) });
    }
  },
  (err: unknown) => reply({ op: 'ready', error: failure(err) }),
);

/** Requests taken in and not yet answered: close() waits for them. */
const inFlight = new Set<Promise<void>>();

port.on('message', (message: ThreadRequest) => {
  if (message.op === 'close') {
    void Promise.allSettled([...inFlight])
      .then(() => opened)
      .then((storage) => storage.close())
      .catch(() => undefined)
      .finally(() => port.close()); // the thread ends; the main thread sees it exit
    return;
  }
  const { id, prepared, ticket } = message;
  const done = opened
    .then((storage) => takeSeatAndSign(storage, signerNow(), prepared, ticket))
    .then(
      (value) => reply({ op: 'result', id, value }),
      (err: unknown) => reply({ op: 'result', id, error: failure(err) }),
    )
    .finally(() => inFlight.delete(done));
  inFlight.add(done);
});
