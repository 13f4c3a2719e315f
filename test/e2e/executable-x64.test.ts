// The linux-x64 executables, run natively.
import { executableSuite } from './helpers/executable-suite.ts';
import { nativeRunner } from './helpers/run-exe.ts';

executableSuite(nativeRunner);
