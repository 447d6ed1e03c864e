'use strict';
// One throw-away n8n 2.x with this package, the sandbox (in this process) and a ready credential, for a
// script that runs on its own (scripts/e2e/chat-hub-tests.js, scripts/bench/memory-bench.js): the same
// set-up as run.js (runtime, `npm pack` into the user folder, import:credentials, n8n start, owner login).
// Everything is stopped and the temp folder removed at the end, on failure, Ctrl-C or the watchdog.
const fs = require('node:fs');
const path = require('node:path');
const { REPO, ensureRuntime, installPackage, N8nInstance, makeTempDir } = require('./n8n');
const { installExitHooks, killAllSync } = require('./proc');

/**
 * Runs `body({ n8n, sandbox, rest, check, log, workDir, artifactsDir, examplesDir, owner, n8nVersion })`
 * and exits: 0 when every check passed, 1 otherwise.
 * `before({ workDir })` runs first (e.g. start Redis) and may return an object merged into the context;
 * `n8nOptions` go to N8nInstance (e.g. chatHub: true); `quiet` prints failed checks only.
 */
async function runStandalone({ name, artifacts, limitMs = 600_000, n8nOptions = {}, before, body, quiet = false }) {
	const { credentialFile } = require('../cli-tests');
	const { setupAndLogin, OWNER } = require('../rest-tests');
	const artifactsDir = path.join(REPO, 'artifacts', artifacts);
	fs.mkdirSync(artifactsDir, { recursive: true });
	const workDir = makeTempDir(`n8n-llamacloud-${artifacts}-`);
	const userFolder = path.join(workDir, 'user');
	fs.mkdirSync(userFolder);
	const stoppers = [];
	let n8n;
	let sandbox;
	const cleanup = async () => {
		if (n8n) await n8n.stop().catch(() => {});
		if (sandbox) await sandbox.close().catch(() => {});
		for (const s of stoppers.reverse()) await s().catch(() => {});
		killAllSync();
		fs.rmSync(workDir, { recursive: true, force: true });
	};
	installExitHooks(cleanup);
	const watchdog = setTimeout(async () => {
		console.error(`[${name}] gave up after ${limitMs / 1000} s`);
		await cleanup().catch(() => {});
		process.exit(1);
	}, limitMs);
	watchdog.unref();
	const failed = [];
	const check = (ok, label, detail) => {
		if (!ok) failed.push(label);
		if (!ok) console.log(`  FAIL ${label}${detail ? `: ${String(detail).slice(0, 800)}` : ''}`);
		else if (!quiet) console.log(`  ok   ${label}`);
		return !!ok;
	};
	try {
		const extra = before ? (await before({ workDir, onStop: (fn) => stoppers.push(fn) })) || {} : {};
		const runtime = await ensureRuntime();
		await installPackage({ packageDir: REPO, userFolder, workDir, logFile: path.join(artifactsDir, 'npm-pack.log') });
		sandbox = await require(path.join(REPO, 'dist-test', 'test', 'sandbox', 'index.js')).startSandbox({ host: '127.0.0.1', port: 0 });
		n8n = new N8nInstance({ runtime, userFolder, artifactsDir, name: 'n8n', ...n8nOptions });
		const r = await n8n.cli(['import:credentials', '--input', credentialFile(workDir, sandbox)], { timeoutMs: 240_000 });
		if (r.code !== 0) throw new Error(`import:credentials: ${r.stderr.slice(-500)}`);
		await n8n.start();
		const rest = await setupAndLogin(n8n);
		await body({
			...extra,
			n8n,
			sandbox,
			rest,
			check,
			log: console.log,
			workDir,
			artifactsDir,
			repo: REPO,
			examplesDir: path.join(REPO, 'examples'),
			owner: OWNER,
			n8nVersion: runtime.N8N_RUNTIME_N8N_VERSION,
		});
	} catch (e) {
		check(false, `${name} ran`, e.stack || e.message);
	} finally {
		clearTimeout(watchdog);
		await cleanup();
	}
	console.log(`\n${name}: ${failed.length ? `${failed.length} failed` : 'all passed'}`);
	process.exit(failed.length ? 1 : 0);
}

module.exports = { runStandalone };
