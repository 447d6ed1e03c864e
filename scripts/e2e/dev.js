#!/usr/bin/env node
'use strict';
/*
 * Local n8n with this package loaded (npm run dev). Runs until Ctrl-C.
 *
 *   node scripts/e2e/dev.js [--port N] [--fresh] [--watch] [--no-examples] [--package-dir DIR] [--sandbox FILE]
 *
 * - n8n 2.41.1 on Node.js 24 from the cached runtime (scripts/n8n-runtime.sh)
 * - the package as built in dist/ (npm pack), installed as a community package
 * - the LlamaCloud sandbox on 127.0.0.1 and a credential "LlamaCloud account" pointing at it;
 *   with LLAMA_CLOUD_API_KEY set, "LlamaCloud account" is real LlamaCloud instead (region from
 *   LLAMA_CLOUD_REGION, default na) and the sandbox one is "LlamaCloud sandbox"
 * - an owner account (printed), examples/*.json imported on first start
 * --watch re-packs and restarts n8n when dist/ changes (run `npm run build` in another terminal).
 * State lives in $N8N_DEV_DIR (default ~/.cache/n8n-nodes-llamacloud-chat/dev); --fresh wipes it.
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const net = require('node:net');
const { REPO, ensureRuntime, installPackage, N8nInstance, freePort } = require('./lib/n8n');
const { installExitHooks, killAllSync } = require('./lib/proc');
const W = require('./lib/workflows');
const { CREDENTIAL, placeholderValues } = require('./cli-tests');
const { setupAndLogin } = require('./rest-tests');

const OWNER = {
	email: process.env.N8N_DEV_EMAIL || 'dev@example.com',
	password: process.env.N8N_DEV_PASSWORD || 'Dev-Passw0rd!',
	firstName: 'Dev',
	lastName: 'Owner',
};
const SANDBOX_CREDENTIAL = { id: 'e2eLlamaSandbox1', name: 'LlamaCloud sandbox' };

function parseArgs(argv) {
	const o = { port: Number(process.env.N8N_DEV_PORT || 5678), fresh: false, watch: false, examples: true };
	for (let i = 0; i < argv.length; i++) {
		const a = argv[i];
		if (a === '--port') o.port = Number(argv[++i]);
		else if (a === '--fresh') o.fresh = true;
		else if (a === '--watch') o.watch = true;
		else if (a === '--no-examples') o.examples = false;
		else if (a === '--package-dir') o.packageDir = path.resolve(argv[++i]);
		else if (a === '--sandbox') o.sandbox = path.resolve(argv[++i]);
		else if (a === '-h' || a === '--help') {
			console.log(fs.readFileSync(__filename, 'utf8').split('\n').slice(3, 15).join('\n').replace(/^ \* ?/gm, ''));
			process.exit(0);
		} else throw new Error(`unknown argument ${a}`);
	}
	return o;
}

function portFree(port) {
	return new Promise((resolve) => {
		const srv = net.createServer();
		srv.once('error', () => resolve(false));
		srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
	});
}

async function main() {
	const opts = parseArgs(process.argv.slice(2));
	const devDir = process.env.N8N_DEV_DIR || path.join(os.homedir(), '.cache', 'n8n-nodes-llamacloud-chat', 'dev');
	if (opts.fresh) fs.rmSync(devDir, { recursive: true, force: true });
	const userFolder = path.join(devDir, 'user');
	const logsDir = path.join(devDir, 'logs');
	fs.mkdirSync(userFolder, { recursive: true });
	fs.mkdirSync(logsDir, { recursive: true });
	const firstStart = !fs.existsSync(path.join(userFolder, '.n8n', 'database.sqlite'));

	const realKey = process.env.LLAMA_CLOUD_API_KEY;
	const realRegion = process.env.LLAMA_CLOUD_REGION || 'na';
	if (realKey && !['na', 'eu'].includes(realRegion)) throw new Error(`LLAMA_CLOUD_REGION must be na or eu, not ${realRegion}`);

	console.log('[dev] n8n runtime...');
	const runtime = await ensureRuntime();

	const sandboxFile = opts.sandbox || path.join(REPO, 'dist-test', 'test', 'sandbox', 'index.js');
	if (!fs.existsSync(sandboxFile)) throw new Error('dist-test/test/sandbox/index.js missing: run npx tsc -p tsconfig.dev.json');
	const { startSandbox } = require(sandboxFile);
	const sandbox = await startSandbox({ host: '127.0.0.1', port: Number(process.env.SANDBOX_PORT || 0) });

	// Real LlamaCloud needs the outside network: only then is the no-network guard left out.
	const n8n = new N8nInstance({ runtime, userFolder, artifactsDir: logsDir, name: 'n8n-dev', extraEnv: realKey ? { NODE_OPTIONS: '' } : {} });
	let stopping = false;
	const cleanup = async () => {
		stopping = true;
		await n8n.stop().catch(() => {});
		await sandbox.close().catch(() => {});
		killAllSync();
	};
	installExitHooks(cleanup);

	const pack = async () => {
		const dest = path.join(userFolder, '.n8n', 'nodes', 'node_modules');
		fs.rmSync(dest, { recursive: true, force: true });
		const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'n8n-llamacloud-dev-'));
		try {
			const p = await installPackage({ packageDir: opts.packageDir || REPO, userFolder, workDir });
			console.log(`[dev] ${p.name}@${p.version} installed from dist/ (${p.files} files)`);
		} finally {
			fs.rmSync(workDir, { recursive: true, force: true });
		}
	};
	await pack();

	// Credentials (re-imported every start: the sandbox port changes).
	const creds = [];
	if (realKey) {
		creds.push({ ...CREDENTIAL, type: W.CREDENTIAL_TYPE, data: { apiKey: realKey, region: realRegion, baseUrl: '' } });
		creds.push({ ...SANDBOX_CREDENTIAL, type: W.CREDENTIAL_TYPE, data: { apiKey: sandbox.apiKey, region: 'custom', baseUrl: sandbox.url } });
	} else {
		creds.push({ ...CREDENTIAL, type: W.CREDENTIAL_TYPE, data: { apiKey: sandbox.apiKey, region: 'custom', baseUrl: sandbox.url } });
	}
	const credFile = path.join(devDir, 'credentials.import.json');
	fs.writeFileSync(credFile, JSON.stringify(creds), { mode: 0o600 });
	let r = await n8n.cli(['import:credentials', '--input', credFile], { timeoutMs: 240_000 });
	fs.rmSync(credFile, { force: true });
	if (r.code !== 0) throw new Error(`import:credentials failed: ${r.stderr.slice(-1000)}`);

	if (opts.examples && firstStart) {
		const files = W.listWorkflowFiles(path.join(REPO, 'examples'));
		if (files.length) {
			const dir = path.join(devDir, 'examples.import');
			fs.rmSync(dir, { recursive: true, force: true });
			fs.mkdirSync(dir);
			const values = placeholderValues(sandbox);
			files.forEach((f, i) => {
				const wf = W.prepareWorkflow(f, { id: `devExample${String(i + 1).padStart(6, '0')}`, values, credential: CREDENTIAL });
				fs.writeFileSync(path.join(dir, `${wf.id}.json`), JSON.stringify(wf, null, 2));
			});
			r = await n8n.cli(['import:workflow', '--separate', '--input', dir], { timeoutMs: 240_000 });
			if (r.code !== 0) console.warn(`[dev] importing examples failed: ${r.stderr.slice(-800)}`);
			else console.log(`[dev] imported ${files.length} example workflow(s)`);
		}
	}

	const port = (await portFree(opts.port)) ? opts.port : await freePort();
	const start = async () => {
		const { ms } = await n8n.start({ port, tee: true, env: { N8N_LOG_LEVEL: process.env.N8N_LOG_LEVEL || 'info' } });
		return ms;
	};
	const ms = await start();
	await setupAndLogin(n8n, OWNER);

	console.log(`
[dev] n8n ${runtime.N8N_RUNTIME_N8N_VERSION} is ready (${(ms / 1000).toFixed(1)} s): ${n8n.url}
      sign in:     ${OWNER.email} / ${OWNER.password}
      credential:  "${CREDENTIAL.name}" -> ${realKey ? `LlamaCloud (${realRegion})` : `sandbox ${sandbox.url}`}${realKey ? `\n      credential:  "${SANDBOX_CREDENTIAL.name}" -> sandbox ${sandbox.url}` : ''}
      sandbox key: ${realKey ? '(sandbox) ' : ''}${sandbox.apiKey}
      logs:        ${n8n.logFile}
      data:        ${devDir}${opts.watch ? '\n      watching dist/ : run `npm run build` and n8n restarts with the new build' : ''}
      Ctrl-C stops n8n and the sandbox.
`);

	if (opts.watch) {
		let timer;
		let busy = false;
		fs.watch(path.join(opts.packageDir || REPO, 'dist'), { recursive: true }, () => {
			clearTimeout(timer);
			timer = setTimeout(async () => {
				if (busy || stopping) return;
				busy = true;
				try {
					console.log('[dev] dist/ changed: restarting n8n with the new build...');
					await n8n.stop();
					await pack();
					const t = await start();
					console.log(`[dev] ready again in ${(t / 1000).toFixed(1)} s: ${n8n.url}`);
				} catch (e) {
					console.error(`[dev] restart failed: ${e.message}`);
				} finally {
					busy = false;
				}
			}, 1500);
		});
	}

	// Stay up until Ctrl-C; report if n8n dies on its own.
	await new Promise((resolve) => {
		const tick = setInterval(() => {
			const c = n8n.child;
			if (!stopping && c && (c.exitCode !== null || c.signalCode !== null)) {
				console.error(`[dev] n8n exited (code ${c.exitCode}); see ${n8n.logFile}`);
				clearInterval(tick);
				resolve();
			}
		}, 2000);
	});
	await cleanup();
	process.exit(1);
}

main().catch((e) => {
	console.error(`[dev] ${e.stack || e.message}`);
	killAllSync();
	process.exit(1);
});
