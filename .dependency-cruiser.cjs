// The import rule of DESIGN §3, checked by test/unit/architecture.test.ts:
//   common ← domain ← IO folders ← wiring (app.ts, main.ts) ← cli
// IO folders do not import each other; the agent and the license server never import each other.
const AGENT_IO = ['hardware', 'license', 'store', 'sync', 'http', 'native'];
const SERVER_IO = ['signing', 'storage', 'http', 'admin', 'broker'];

const ioIsolation = (app, folders) =>
  folders.map((from) => ({
    name: `${app}-${from}-is-io`,
    comment: `${app}/src/${from} is an IO folder: it may use common/ and domain/, not another IO folder or the wiring`,
    severity: 'error',
    from: { path: `^${app}/src/${from}/` },
    to: {
      path: [
        ...folders.filter((f) => f !== from).map((f) => `^${app}/src/${f}/`),
        `^${app}/src/(app|main)\\.ts$`,
        `^${app}/src/cli/`,
      ],
    },
  }));

module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', from: {}, to: { circular: true } },
    {
      name: 'apps-apart',
      comment: 'the agent and the license server never import each other',
      severity: 'error',
      from: { path: '^agent/' },
      to: { path: '^license-server/' },
    },
    { name: 'apps-apart-2', severity: 'error', from: { path: '^license-server/' }, to: { path: '^agent/' } },
    {
      name: 'common-is-the-base',
      comment: 'common/ imports nothing of the apps',
      severity: 'error',
      from: { path: '^common/' },
      to: { path: '^(agent|license-server)/' },
    },
    {
      name: 'domain-is-pure',
      comment: 'domain/ is pure: common/ and other domain code only, no IO modules',
      severity: 'error',
      from: { path: '^(agent|license-server)/src/domain/' },
      to: {
        pathNot: ['^common/', '^(agent|license-server)/src/domain/', '^node_modules/zod/', '^(node:)?crypto$'],
        dependencyTypesNot: ['type-only'],
      },
    },
    {
      name: 'domain-no-io-builtins',
      severity: 'error',
      from: { path: '^(agent|license-server)/src/domain/' },
      to: { path: '^(node:)?(fs|child_process|net|http|https|dgram)$', dependencyTypes: ['core'] },
    },
    {
      name: 'hardware-no-child-processes',
      comment: 'the fingerprint reads files directly: no child processes, no dmidecode (DESIGN §4.3)',
      severity: 'error',
      from: { path: '^agent/src/hardware/' },
      to: { path: '^(node:)?child_process$', dependencyTypes: ['core'] },
    },
    {
      name: 'only-wiring-imports-cli',
      severity: 'error',
      from: { pathNot: ['^(agent|license-server)/src/(main\\.ts|cli/)'] },
      to: { path: '^(agent|license-server)/src/cli/' },
    },
    {
      name: 'agent-daemon-is-wiring',
      comment: 'agent/src/daemon/ wires store, hardware and license together for run/activate/deactivate: only the wiring and the CLI import it',
      severity: 'error',
      from: { path: '^agent/src/', pathNot: ['^agent/src/(main|app)\\.ts$', '^agent/src/cli/', '^agent/src/daemon/'] },
      to: { path: '^agent/src/daemon/' },
    },
    ...ioIsolation('agent', AGENT_IO),
    ...ioIsolation('license-server', SERVER_IO),
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: ['^test/'] },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.mjs', '.cjs', '.json'] },
  },
};
