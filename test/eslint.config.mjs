// ESLint config for test/ (scripts/eslint.config.mjs reuses it). ESLint 9 reads nested configs only
// with ESLINT_FLAGS=unstable_config_lookup_from_file, which `npm run lint` sets.
//
// The root eslint.config.mjs is n8n's template, byte for byte (strict mode in `n8n-node lint`
// checks it), and guards what ships (nodes/, credentials/, package.json). Tests, the sandbox and dev
// scripts never run inside n8n: there timers, process and child_process are the point, so only the
// n8n-specific rules and no-console are switched off; the TypeScript and import rules still apply.
import { config } from '@n8n/node-cli/eslint';

const n8nRules = Object.fromEntries(
	config
		.flatMap((entry) => Object.keys(entry.rules ?? {}))
		.filter((rule) => rule.startsWith('@n8n/') || rule.startsWith('n8n-nodes-base/'))
		.map((rule) => [rule, 'off']),
);

export default [
	...config,
	// The first-line eslint-disable comments that let `npx n8n-node lint` pass without the flag name
	// rules this config already turns off: not worth a report here.
	{ files: ['**/*.ts'], linterOptions: { reportUnusedDisableDirectives: 'off' }, rules: { ...n8nRules, 'no-console': 'off' } },
	{ ignores: ['**/*.js', '**/*.mjs'] },
];
