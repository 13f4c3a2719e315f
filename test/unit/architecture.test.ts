// The import rule of DESIGN §3 (.dependency-cruiser.cjs), checked on every test run: a new
// import that breaks the layering fails here with the rule's name.
import { createRequire } from 'node:module';
import { cruise, type IForbiddenRuleType } from 'dependency-cruiser';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/cli.ts';

const require = createRequire(import.meta.url);

async function violations(rules: IForbiddenRuleType[]): Promise<string[]> {
  const config = require(`${REPO_ROOT}/.dependency-cruiser.cjs`);
  const result = await cruise(['agent/src', 'license-server/src', 'common'], {
    ...config.options,
    ruleSet: { forbidden: rules },
    validate: true,
    baseDir: REPO_ROOT,
  });
  const output = result.output as { summary: { violations: Array<{ from: string; to: string; rule: { name: string } }> }; modules: unknown[] };
  return output.summary.violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`);
}

describe('architecture (DESIGN §3 import rule)', () => {
  it('has no forbidden import', async () => {
    const config = require(`${REPO_ROOT}/.dependency-cruiser.cjs`);
    expect(await violations(config.forbidden)).toEqual([]);
  });

  it('the rules do catch a violation (the agent importing the license server)', async () => {
    // Sanity: a rule that everything under agent/ violates when it imports common/ proves the
    // cruiser resolves the project's .ts imports at all; otherwise the first test could pass vacuously.
    const found = await violations([{ name: 'probe', severity: 'error', from: { path: '^agent/src/main\\.ts$' }, to: { path: '^common/' } }]);
    expect(found.length).toBeGreaterThan(0);
  });
});
