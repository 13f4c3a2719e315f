#!/usr/bin/env node
// Development entry (npx license-server): runs the TypeScript source through tsx.
import { register } from 'tsx/esm/api';

register();
const { runServerCli } = await import('../license-server/src/main.ts');
process.exitCode = await runServerCli(process.argv.slice(2));
