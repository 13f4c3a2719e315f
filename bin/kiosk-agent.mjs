#!/usr/bin/env node
// Development entry (npx kiosk-agent): runs the TypeScript source through tsx.
// Behaves like the test flavour of the single executable (DESIGN §4.1).
import { register } from 'tsx/esm/api';

register();
const { runAgentCli } = await import('../agent/src/main.ts');
process.exitCode = await runAgentCli(process.argv.slice(2), { flavour: 'test' });
