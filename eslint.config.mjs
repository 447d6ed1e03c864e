import { config } from '@n8n/node-cli/eslint';

// The official community-node rules guard what ships (nodes/, credentials/, package.json).
// Tests, the sandbox and dev scripts never run inside n8n: there timers, process and
// child_process are the point, so only the n8n-specific rules are switched off for them;
// the TypeScript and import rules still apply.
const devFiles = ['test/**/*.ts', 'scripts/**/*.ts'];
const n8nRules = Object.fromEntries(
	config
		.flatMap((entry) => Object.keys(entry.rules ?? {}))
		.filter((rule) => rule.startsWith('@n8n/') || rule.startsWith('n8n-nodes-base/'))
		.map((rule) => [rule, 'off']),
);

export default [
	...config,
	{ files: devFiles, rules: { ...n8nRules, 'no-console': 'off' } },
	{ ignores: ['dist/**', 'dist-test/**', 'coverage/**', 'artifacts/**', 'reports/**', '.stryker-tmp/**', '**/*.js', '**/*.mjs'] },
];
