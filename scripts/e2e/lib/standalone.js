'use strict';
// One part of the e2e on its own (node scripts/e2e/chat-tests.js, node scripts/e2e/agent-tests.js): the same
// set-up as run.js — runtime, package, sandbox, LlamaCloud credential, `n8n start`, owner — then `body(ctx)`,
// then everything stopped and the throw-away folder removed, whatever happened.
const fs = require('node:fs');
const path = require('node:path');
const { REPO, ensureRuntime, installPackage, N8nInstance, makeTempDir } = require('./n8n');
const { installExitHooks, killAllSync } = require('./proc');

/**
 * @param {object} o
 * @param {string} o.name          label for messages and the temp folder
 * @param {string} o.artifactsDir  logs go there (made if missing; emptied first with `fresh`)
 * @param {number} o.limitMs       watchdog: everything is stopped after this long
 * @param {(ctx: object) => Promise<void>} o.body  gets { n8n, sandbox, rest, runtime, check, log, repo, artifactsDir }
 * @returns {Promise<{ passed: number, failed: string[] }>}
 */
async function runStandalone({ name, artifactsDir, limitMs, fresh = false, packageDir = process.env.E2E_PACKAGE_DIR || REPO, body }) {
	const { credentialFile } = require('../cli-tests');
	const { setupAndLogin } = require('../rest-tests');
	if (fresh) fs.rmSync(artifactsDir, { recursive: true, force: true });
	fs.mkdirSync(artifactsDir, { recursive: true });
	const workDir = makeTempDir(`n8n-llamacloud-${name}-`);
	const userFolder = path.join(workDir, 'user');
	fs.mkdirSync(userFolder);
	let n8n;
	let sandbox;
	const cleanup = async () => {
		if (n8n) await n8n.stop().catch(() => {});
		if (sandbox) await sandbox.close().catch(() => {});
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
		console.log(`  ${ok ? 'ok  ' : 'FAIL'} ${label}${ok || !detail ? '' : `: ${String(detail).slice(0, 800)}`}`);
		if (ok) passed++;
		else failed.push(label);
		return !!ok;
	};
	try {
		const runtime = await ensureRuntime();
		await installPackage({ packageDir, userFolder, workDir, logFile: path.join(artifactsDir, 'npm-pack.log') });
		sandbox = await require(path.join(REPO, 'dist-test', 'test', 'sandbox', 'index.js')).startSandbox({ host: '127.0.0.1', port: 0 });
		n8n = new N8nInstance({ runtime, userFolder, artifactsDir, name: 'n8n' });
		const r = await n8n.cli(['import:credentials', '--input', credentialFile(workDir, sandbox)], { timeoutMs: 240_000 });
		if (r.code !== 0) throw new Error(`import:credentials: ${r.stderr.slice(-500)}`);
		await n8n.start();
		const rest = await setupAndLogin(n8n);
		await body({ n8n, sandbox, rest, runtime, check, log: console.log, repo: REPO, artifactsDir });
	} catch (e) {
		check(false, `${name} ran`, e.stack || e.message);
	} finally {
		clearTimeout(watchdog);
		await cleanup();
	}
	return { passed, failed };
}

module.exports = { runStandalone };
