// Checks .github/workflows/release.yml and .github/workflows/n8n3.yml without GitHub: strict YAML parse
// (duplicate keys are errors), then the rules a release and the n8n 3 run must keep. Used by
// scripts/verify.mjs; runs alone too: `node scripts/verify-workflows.mjs`.

import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { parseDocument } from 'yaml';

const steps = (job) => job?.steps ?? [];
const runs = (job) => steps(job).map((s) => String(s.run ?? ''));
const N8N3_WORKFLOW = './.github/workflows/n8n3.yml';

/** Strict YAML (duplicate keys are errors): { wf } or { findings } when it does not parse. */
function load(file) {
	if (!existsSync(file)) return { findings: [`${file} is missing`] };
	const doc = parseDocument(readFileSync(file, 'utf8'), { uniqueKeys: true, prettyErrors: true });
	const findings = [...doc.errors, ...doc.warnings].map((e) => `YAML: ${e.message.split('\n')[0]}`);
	return doc.errors.length > 0 ? { findings } : { findings, wf: doc.toJS() };
}

/** Rules for every job: runs-on (unless it calls a reusable workflow), actions pinned, steps that do something. */
function checkJobs(jobs, findings) {
	for (const [name, job] of Object.entries(jobs)) {
		if (!job['runs-on'] && !job.uses) findings.push(`jobs.${name}: runs-on is missing`);
		for (const step of steps(job)) {
			if (step.uses && !/@(v\d+(\.\d+)*|[0-9a-f]{40})$/.test(step.uses))
				findings.push(`jobs.${name}: ${step.uses} must be pinned to a version or commit`);
			if (!step.uses && !step.run) findings.push(`jobs.${name}: a step has neither uses nor run`);
		}
	}
}

/** The n8n 3 run (.github/workflows/n8n3.yml): every push, callable from release.yml, the package as n8n installs it. */
export function checkN8n3Workflow(file) {
	const { findings, wf } = load(file);
	if (!wf) return findings;
	const on = wf.on ?? wf[true] ?? {};
	if (!on.push || (on.push.branches && !on.push.branches.includes('**'))) findings.push('on.push: must run on every push (branches: "**")');
	if (!('workflow_call' in on)) findings.push('on.workflow_call: release.yml calls it before publishing');
	const jobs = Object.entries(wf.jobs ?? {});
	const docker = resolve(dirname(file), '..', '..', 'scripts', 'e2e', 'n8n-docker.sh');
	const script = existsSync(docker) ? readFileSync(docker, 'utf8') : '';
	if (!script) findings.push('scripts/e2e/n8n-docker.sh is missing');
	if (!/N8N_UNVERIFIED_PACKAGES_ENABLED=true/.test(script)) findings.push('scripts/e2e/n8n-docker.sh: n8n 3 needs N8N_UNVERIFIED_PACKAGES_ENABLED=true');
	if (!/n8nio\/n8n/.test(script) || !/\^3\\\.\\d\+/.test(script)) findings.push('scripts/e2e/n8n-docker.sh: must pick the newest n8nio/n8n 3.x.y image');
	const e2e = jobs.filter(([, job]) => runs(job).some((r) => /scripts\/e2e\/external\.js/.test(r)));
	if (e2e.length === 0) findings.push('jobs: no job runs the e2e\'s external mode (scripts/e2e/external.js)');
	for (const [name, job] of e2e) {
		const all = runs(job).join('\n');
		const at = (re) => all.search(re);
		if (!job.services?.redis) findings.push(`jobs.${name}: needs a redis service (the memory part)`);
		if (!/--redis\b/.test(all)) findings.push(`jobs.${name}: external.js must get --redis (the memory part)`);
		if (at(/n8n-docker\.sh start/) < 0) findings.push(`jobs.${name}: must start n8n 3 (scripts/e2e/n8n-docker.sh start)`);
		if (at(/install-package\.js/) < 0) findings.push(`jobs.${name}: must install the packed package as n8n does (scripts/e2e/install-package.js)`);
		else if (!(at(/install-package\.js/) < at(/n8n-docker\.sh restart/))) findings.push(`jobs.${name}: must restart n8n after installing the package`);
		if (!(at(/n8n-docker\.sh restart/) < at(/external\.js/))) findings.push(`jobs.${name}: the e2e must run after the restart`);
		if (!/n8n import:workflow --input=/.test(all)) findings.push(`jobs.${name}: must import every example with n8n import:workflow --input=<file>`);
	}
	checkJobs(wf.jobs ?? {}, findings);
	return findings;
}

/** Every finding, as text; empty when the workflow is fine. */
export function checkReleaseWorkflow(file, ciScript) {
	const { findings, wf } = load(file);
	if (!wf) return findings;
	const jobs = wf.jobs ?? {};

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
	// n8n 3: the e2e in the newest n8n 3 image before publishing, the published version in it after.
	const n8n3Jobs = Object.entries(jobs).filter(([, job]) => job.uses === N8N3_WORKFLOW).map(([name]) => name);
	if (n8n3Jobs.length === 0) findings.push(`jobs: no job calls ${N8N3_WORKFLOW} (the e2e in n8n 3) before publishing`);
	for (const [name, job] of publishers) {
		for (const n8n3 of n8n3Jobs) if (![job.needs ?? []].flat().includes(n8n3)) findings.push(`jobs.${name}: must need the n8n 3 job "${n8n3}"`);
	}
	const smokes = Object.entries(jobs).filter(([, job]) => publishers.some(([p]) => [job.needs ?? []].flat().includes(p)));
	const smoke = smokes.find(([, job]) => {
		const all = runs(job).join('\n');
		return /n8n-docker\.sh start/.test(all) && /N8N_COMMUNITY_PACKAGES_MANAGED_BY_ENV=true/.test(all) && /N8N_COMMUNITY_PACKAGES=/.test(all) && /external\.js/.test(all);
	});
	if (!smoke)
		findings.push('jobs: no post-release smoke (a job after publishing that starts n8n 3 with N8N_COMMUNITY_PACKAGES_MANAGED_BY_ENV=true and N8N_COMMUNITY_PACKAGES, then runs scripts/e2e/external.js)');
	else if (!runs(smoke[1]).some((r) => /npm view/.test(r))) findings.push(`jobs.${smoke[0]}: must wait until npmjs.org serves the version (npm view)`);
	checkJobs(jobs, findings);
	return findings;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
	const repo = resolve(fileURLToPath(import.meta.url), '..', '..');
	let failed = 0;
	for (const [name, findings] of [
		['release.yml', checkReleaseWorkflow(resolve(repo, '.github/workflows/release.yml'), resolve(repo, '.ci/run'))],
		['n8n3.yml', checkN8n3Workflow(resolve(repo, '.github/workflows/n8n3.yml'))],
	]) {
		for (const f of findings) console.error(`${name}: ${f}`);
		console.log(findings.length === 0 ? `${name}: passed` : `${name}: ${findings.length} finding(s)`);
		failed += findings.length;
	}
	process.exit(failed === 0 ? 0 : 1);
}
