'use strict';
// One part of the e2e, or a bench, on its own (node scripts/e2e/chat-tests.js, agent-tests.js,
// chat-hub-tests.js, scripts/bench/memory-bench.js): the same set-up as run.js — runtime, `npm pack` of the
// package into a throw-away user folder, the sandbox (in this process), the LlamaCloud credential,
// `n8n start`, owner login — then `body(ctx)`; everything is stopped and the temp folder removed at the end,
// on failure, Ctrl-C or the watchdog.
const fs = require('node:fs');
const path = require('node:path');
const { REPO, ensureRuntime, installPackage, N8nInstance, makeTempDir } = require('./n8n');
const { installExitHooks, killAllSync } = require('./proc');

/**
 * @param {object} o
 * @param {string} o.name           label for messages and the temp folder
 * @param {string} [o.artifactsDir] logs go there (made if missing; emptied first with `fresh`)
 * @param {string} [o.artifacts]    or: the folder's name under artifacts/
 * @param {number} [o.limitMs]      watchdog: everything is stopped after this long (default 10 min)
 * @param {object} [o.n8nOptions]   passed to N8nInstance (e.g. chatHub: true)
 * @param {(o: { workDir: string, onStop: (fn: () => Promise<void>) => void }) => Promise<object|void>} [o.before]
 *   runs first (e.g. starts Redis); what it returns is merged into the context
 * @param {(ctx: object) => Promise<void>} o.body  gets { n8n, sandbox, rest, runtime, check, log, repo, workDir,
 *   artifactsDir, examplesDir, owner, n8nVersion, ...before's }
 * @param {boolean} [o.quiet]       print failed checks only
 * @param {boolean} [o.exit]        print a summary line and exit the process (0: every check passed)
 * @returns {Promise<{ passed: number, failed: string[] }>}
 */
async function runStandalone(o) {
	const { name, limitMs = 600_000, fresh = false, packageDir = process.env.E2E_PACKAGE_DIR || REPO, n8nOptions = {}, before, body, quiet = false } = o;
	const { credentialFile } = require('../cli-tests');
	const { setupAndLogin, OWNER } = require('../rest-tests');
	const artifactsDir = o.artifactsDir || path.join(REPO, 'artifacts', o.artifacts || name.replace(/\W+/g, '-'));
	if (fresh) fs.rmSync(artifactsDir, { recursive: true, force: true });
	fs.mkdirSync(artifactsDir, { recursive: true });
	const workDir = makeTempDir(`n8n-llamacloud-${path.basename(artifactsDir)}-`);
	const userFolder = path.join(workDir, 'user');
	fs.mkdirSync(userFolder);
	const stoppers = [];
	let n8n;
	let sandbox;
	const cleanup = async () => {
		if (n8n) await n8n.stop().catch(() => {});
		if (sandbox) await sandbox.close().catch(() => {});
		for (const stop of stoppers.reverse()) await stop().catch(() => {});
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
	let passed = 0;
	const check = (ok, label, detail) => {
		if (ok) passed++;
		else failed.push(label);
		if (!ok) console.log(`  FAIL ${label}${detail ? `: ${String(detail).slice(0, 800)}` : ''}`);
		else if (!quiet) console.log(`  ok   ${label}`);
		return !!ok;
	};
	try {
		const extra = before ? (await before({ workDir, onStop: (fn) => stoppers.push(fn) })) || {} : {};
		const runtime = await ensureRuntime();
		await installPackage({ packageDir, userFolder, workDir, logFile: path.join(artifactsDir, 'npm-pack.log') });
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
			runtime,
			check,
			log: console.log,
			repo: REPO,
			workDir,
			artifactsDir,
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
	if (o.exit) {
		console.log(`\n${name}: ${failed.length ? `${failed.length} failed` : 'all passed'}`);
		process.exit(failed.length ? 1 : 0);
	}
	return { passed, failed };
}

module.exports = { runStandalone };
