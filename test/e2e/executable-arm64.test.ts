// The linux-arm64 executables, run under qemu-user with the cross toolchain's libraries
// (binfmt is not mounted here, so qemu is called explicitly).
import { e2eEnv } from './helpers/env.ts';
import { executableSuite } from './helpers/executable-suite.ts';
import { qemuRunner } from './helpers/run-exe.ts';

executableSuite(qemuRunner(e2eEnv().crossSysroot));
