// Stands in for optional packages that bundled libraries try to require inside try/catch
// (debug → supports-color; ws → bufferutil, utf-8-validate). It throws what a missing package
// throws, so their fallback runs; without it every start of the single executable would print
// Node's "require() ... only supports loading built-in modules" warning (build-probe.md §1).
const err = new Error('optional module not bundled into the kiosk-agent executable');
err.code = 'MODULE_NOT_FOUND';
throw err;
