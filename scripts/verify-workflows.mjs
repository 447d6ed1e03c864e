// Checks .github/workflows/release.yml without GitHub: strict YAML parse (duplicate keys are
// errors), then the rules a release must keep. Used by scripts/verify.mjs; runs alone too:
// `node scripts/verify-workflows.mjs`.

import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { parseDocument } from 'yaml';

/** Every finding, as text; empty when the workflow is fine. */
export function checkReleaseWorkflow(file, ciScript) {
	const findings = [];
	if (!existsSync(file)) return [`${file} is missing`];
	const doc = parseDocument(readFileSync(file, 'utf8'), { uniqueKeys: true, prettyErrors: true });
	for (const e of [...doc.errors, ...doc.warnings]) findings.push(`YAML: ${e.message.split('\n')[0]}`);
	if (doc.errors.length > 0) return findings;
	const wf = doc.toJS();
	const jobs = wf.jobs ?? {};
	const steps = (job) => job?.steps ?? [];
	const runs = (job) => steps(job).map((s) => String(s.run ?? ''));

	// YAML 1.1 readers (GitHub's included) read a bare `on:` key as `true`; the yaml package keeps "on".
	const on = wf.on ?? wf[true];
	const tags = on?.push?.tags ?? [];
	if (!Array.isArray(tags) || tags.length === 0) findings.push('on.push.tags: must trigger on version tags');
	else if (!tags.some((t) => /^v/.test(String(t)))) findings.push('on.push.tags: no pattern for tags like v1.2.3');
	if (on?.push?.branches) findings.push('on.push.branches: a release runs on tags only');
	if (wf.permissions?.['id-token'] === 'write') findings.push('permissions: id-token: write belongs to the publish job only');

	const ciJobs = Object.entries(jobs).filter(([, job]) => runs(job).some((r) => r.includes('.ci/run')));
	if (ciJobs.length === 0) findings.push(`jobs: no job runs CI's steps (${ciScript ? '.ci/run' : 'the CI script'})`);
	if (ciScript && !existsSync(ciScript)) findings.push(`${ciScript} is missing`);
	const versionCheck = Object.values(jobs).some((job) => runs(job).some((r) => r.includes('GITHUB_REF_NAME') && r.includes('version')));
	if (!versionCheck) findings.push('jobs: nothing checks that the tag matches package.json version');

	// A job publishes with `npm publish` itself, or with `npm run release` (n8n-node release, which in
	// GitHub Actions lints, builds and runs `npm publish` with NPM_CONFIG_PROVENANCE=true).
	const publishes = (run) => /\bnpm publish\b/.test(run) || /\bnpm run release\b/.test(run);
	const publishers = Object.entries(jobs).filter(([, job]) => runs(job).some(publishes));
	if (publishers.length !== 1) findings.push(`jobs: exactly one job must publish (npm publish or npm run release), found ${publishers.length}`);
	for (const [name, job] of publishers) {
		const publish = steps(job).find((s) => publishes(String(s.run ?? '')));
		if (/\bnpm run release\b/.test(publish.run)) {
			const pkgFile = resolve(dirname(file), '..', '..', 'package.json');
			const release = existsSync(pkgFile) ? JSON.parse(readFileSync(pkgFile, 'utf8')).scripts?.release : undefined;
			if (release !== 'n8n-node release')
				findings.push(`jobs.${name}: npm run release publishes with provenance only as "n8n-node release", package.json has ${JSON.stringify(release)}`);
		} else if (!/--provenance\b/.test(publish.run)) findings.push(`jobs.${name}: npm publish must use --provenance`);
		if (/--dry-run/.test(publish.run)) findings.push(`jobs.${name}: the publish step must not be a dry run`);
		if (job.permissions?.['id-token'] !== 'write') findings.push(`jobs.${name}: trusted publishing and provenance need permissions.id-token: write`);
		const needs = [job.needs ?? []].flat();
		for (const [ciName] of ciJobs) if (!needs.includes(ciName)) findings.push(`jobs.${name}: must need the CI job "${ciName}"`);
		const setup = steps(job).find((s) => String(s.uses ?? '').startsWith('actions/setup-node@'));
		if (setup?.with?.['registry-url'] !== 'https://registry.npmjs.org')
			findings.push(`jobs.${name}: actions/setup-node needs registry-url: https://registry.npmjs.org`);
		if (!runs(job).some((r) => /\bnpm run (build|release)\b/.test(r))) findings.push(`jobs.${name}: must build before publishing`);
	}
	for (const [name, job] of Object.entries(jobs)) {
		if (!job['runs-on']) findings.push(`jobs.${name}: runs-on is missing`);
		for (const step of steps(job)) {
			if (step.uses && !/@(v\d+(\.\d+)*|[0-9a-f]{40})$/.test(step.uses))
				findings.push(`jobs.${name}: ${step.uses} must be pinned to a version or commit`);
			if (!step.uses && !step.run) findings.push(`jobs.${name}: a step has neither uses nor run`);
		}
	}
	return findings;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
	const repo = resolve(fileURLToPath(import.meta.url), '..', '..');
	const findings = checkReleaseWorkflow(resolve(repo, '.github/workflows/release.yml'), resolve(repo, '.ci/run'));
	for (const f of findings) console.error(`release.yml: ${f}`);
	console.log(findings.length === 0 ? 'release.yml: passed' : `release.yml: ${findings.length} finding(s)`);
	process.exit(findings.length === 0 ? 0 : 1);
}
