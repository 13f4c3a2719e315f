// The seat worker thread's entry: from TypeScript source (development, tests, `npx
// license-server`) the thread registers tsx itself — a loader registered on the main thread
// does not reach worker threads — then loads the thread module it was given.
import { workerData } from 'node:worker_threads';

if (workerData.typescript) {
  const { register } = await import('tsx/esm/api');
  register();
}
await import(workerData.module);
