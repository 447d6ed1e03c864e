#!/usr/bin/env node
// `npm run verify`: what n8n's community-package scanner and a reviewer check, offline.
//
// 1. `npm pack` the package (after `npm run build`), unpack the tarball into a temporary folder.
// 2. Lint the PACKED files (every .js and package.json) with the recommended config of
//    @n8n/eslint-plugin-community-nodes, the rules n8n's scanner (`@n8n/scan-community-package`)
//    applies to a published tarball. The scanner itself downloads from the npm registry, so this
//    stands in for it.
// 3. Check package.json the way a reviewer does: MIT licence, no runtime dependencies, the
//    n8n-workflow peer at `*`, a files list, an n8n block whose paths exist in the tarball, `main`
//    (if any) existing in it, the community keyword, and a README in the tarball.
// 4. `npm publish --dry-run` (the release workflow's last step, without publishing).
// 5. The release workflow and the n8n 3 workflow: parsed as YAML and checked (scripts/verify-workflows.mjs).
//
// Exit code 0 when everything passes; every finding is printed with the file and rule.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { checkN8n3Workflow, checkReleaseWorkflow } from './verify-workflows.mjs';

const repo = resolve(fileURLToPath(import.meta.url), '..', '..');
const problems = [];
const problem = (where, message) => problems.push(`${where}: ${message}`);
const started = Date.now();

function npm(args, options = {}) {
	return execFileSync('npm', args, { cwd: repo, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...options });
}

function filesUnder(dir) {
	return readdirSync(dir).flatMap((name) => {
		const path = join(dir, name);
		return statSync(path).isDirectory() ? filesUnder(path) : [path];
	});
}

const work = mkdtempSync(join(tmpdir(), 'llamacloud-chat-verify-'));
try {
	// 1. Pack exactly what `npm publish` would publish, and unpack it.
	if (!existsSync(join(repo, 'dist'))) throw new Error('dist/ is missing: run `npm run build` first');
	const [packed] = JSON.parse(npm(['pack', '--json', '--pack-destination', work]));
	const tarball = join(work, packed.filename);
	execFileSync('tar', ['-xzf', tarball, '-C', work]);
	const pkgDir = join(work, 'package');
	const files = filesUnder(pkgDir).map((f) => relative(pkgDir, f));
	console.log(`packed ${packed.filename}: ${files.length} files, ${(packed.size / 1000).toFixed(1)} kB`);

	// 2. n8n's scanner rules on the packed files.
	const { ESLint } = await import('eslint');
	const { n8nCommunityNodesPlugin } = await import('@n8n/eslint-plugin-community-nodes');
	// The parser n8n's own lint config (@n8n/node-cli) reads package.json with, from where it installs it.
	const fromNodeCli = createRequire(join(repo, 'node_modules', '@n8n', 'node-cli', 'package.json'));
	const tseslint = fromNodeCli('typescript-eslint');
	const eslint = new ESLint({
		cwd: pkgDir,
		overrideConfigFile: true,
		overrideConfig: [
			{ files: ['**/*.js'], ...n8nCommunityNodesPlugin.configs.recommended, languageOptions: { sourceType: 'commonjs', ecmaVersion: 2022 } },
			{
				files: ['package.json'],
				...n8nCommunityNodesPlugin.configs.recommended,
				languageOptions: { parser: tseslint.parser, parserOptions: { extraFileExtensions: ['.json'] } },
			},
		],
	});
	const results = await eslint.lintFiles(['**/*.js', 'package.json']);
	let linted = 0;
	for (const result of results) {
		if (process.env.VERIFY_DEBUG) console.log(result.filePath, result.messages.length, result.suppressedMessages?.length);
		linted++;
		for (const m of result.messages) {
			problem(`${relative(pkgDir, result.filePath)}:${m.line}:${m.column}`, `${m.message} (${m.ruleId ?? 'parser'}, ${m.severity === 2 ? 'error' : 'warning'})`);
		}
	}
	const ruleCount = Object.keys(n8nCommunityNodesPlugin.configs.recommended.rules).length;
	console.log(`linted ${linted} packed files with the ${ruleCount} rules of @n8n/eslint-plugin-community-nodes (recommended)`);

	// 3. package.json, as packed.
	const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
	const inTarball = (path) => files.includes(path.replace(/^\.\//, ''));
	if (pkg.license !== 'MIT') problem('package.json license', `is ${JSON.stringify(pkg.license)}, n8n community nodes use MIT`);
	if (pkg.dependencies && Object.keys(pkg.dependencies).length > 0)
		problem('package.json dependencies', `must be empty (runtime dependencies are not allowed): ${Object.keys(pkg.dependencies).join(', ')}`);
	if (pkg.peerDependencies?.['n8n-workflow'] !== '*')
		problem('package.json peerDependencies', `n8n-workflow must be "*", is ${JSON.stringify(pkg.peerDependencies?.['n8n-workflow'])}`);
	if (!/^(@[a-z0-9-]+\/)?n8n-nodes-/.test(pkg.name ?? '')) problem('package.json name', 'must start with n8n-nodes- (or @scope/n8n-nodes-)');
	if (!pkg.keywords?.includes('n8n-community-node-package')) problem('package.json keywords', 'must include n8n-community-node-package');
	if (!Array.isArray(pkg.files) || pkg.files.length === 0) problem('package.json files', 'must list what is published');
	const n8n = pkg.n8n ?? {};
	if (n8n.n8nNodesApiVersion !== 1) problem('package.json n8n.n8nNodesApiVersion', 'must be 1');
	if (!Array.isArray(n8n.nodes) || n8n.nodes.length === 0) problem('package.json n8n.nodes', 'must list the built nodes');
	for (const key of ['nodes', 'credentials'])
		for (const path of n8n[key] ?? []) if (!inTarball(path)) problem(`package.json n8n.${key}`, `${path} is not in the tarball`);
	if (pkg.main !== undefined && !inTarball(pkg.main)) problem('package.json main', `${pkg.main} is not in the tarball`);
	if (!files.some((f) => /^readme(\.md)?$/i.test(f))) problem('tarball', 'has no README');
	const stray = files.filter((f) => !f.startsWith('dist/') && !/^(package\.json|readme(\.md)?|licen[cs]e(\.md)?|changelog(\.md)?)$/i.test(f));
	if (stray.length > 0) problem('tarball', `ships files outside dist/: ${stray.join(', ')}`);
	if (files.some((f) => /\.(test|spec)\.|(^|\/)test\//.test(f))) problem('tarball', 'ships tests');

	// 4. What `npm publish` would do, without publishing.
	const dryRun = npm(['publish', '--dry-run', '--json', '--ignore-scripts', '--tag', 'verify-dry-run'], { env: { ...process.env, npm_config_provenance: 'false' } });
	const published = JSON.parse(dryRun.slice(dryRun.indexOf('{')));
	const publishedEntry = published[pkg.name] ?? published;
	if (publishedEntry.name !== pkg.name || publishedEntry.version !== pkg.version)
		problem('npm publish --dry-run', `would publish ${publishedEntry.name}@${publishedEntry.version}, expected ${pkg.name}@${pkg.version}`);
	else console.log(`npm publish --dry-run: would publish ${pkg.name}@${pkg.version} (${publishedEntry.entryCount} files)`);

	// 5. The release workflow.
	for (const finding of checkReleaseWorkflow(join(repo, '.github', 'workflows', 'release.yml'), join(repo, '.ci', 'run')))
		problem('.github/workflows/release.yml', finding);
	console.log('checked .github/workflows/release.yml');
	for (const finding of checkN8n3Workflow(join(repo, '.github', 'workflows', 'n8n3.yml'))) problem('.github/workflows/n8n3.yml', finding);
	console.log('checked .github/workflows/n8n3.yml');
} catch (error) {
	problem('verify', error instanceof Error ? error.message : String(error));
} finally {
	rmSync(work, { recursive: true, force: true });
}

const seconds = ((Date.now() - started) / 1000).toFixed(1);
if (problems.length > 0) {
	console.error(`\nverify: ${problems.length} problem(s) (${seconds} s):\n${problems.map((p) => `  ${p}`).join('\n')}`);
	process.exit(1);
}
console.log(`verify: passed (${seconds} s)`);
