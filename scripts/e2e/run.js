#!/usr/bin/env node
'use strict';
/*
 * End-to-end test of the package in a real n8n (npm run test:e2e).
 *
 *   node scripts/e2e/run.js --queue [...]     the queue-mode run instead (scripts/e2e/queue.js --help)
 *   node scripts/e2e/run.js --external-url URL --owner-email E --owner-password P [--redis HOST:PORT]
 *                                             against an n8n it did not start (scripts/e2e/external.js --help)
 *   node scripts/e2e/run.js [--skip-browser] [--skip-rest] [--keep] [--update-docs] [--n8n-versions LIST]
 *                           [--package-dir DIR] [--examples DIR] [--sandbox FILE] [--timeout-min N]
 *                           [--provision-timeout-min N]
 *
 * Needs: `npm run build` (dist/) and `npx tsc -p tsconfig.dev.json` (dist-test/, the sandbox).
 * Steps: n8n runtimes (scripts/n8n-runtime.sh, cached per version) -> package (npm pack into a throw-away
 * user folder) -> sandbox -> CLI (import + `n8n execute` of examples/*.json and scripts/e2e/workflows/*.json)
 * -> `n8n start` + REST credential test -> editor in Chromium (+ node panel search) -> the CLI part and the
 * node panel search again in every other n8n version of the matrix -> secret scan. Logs and screenshots:
 * artifacts/e2e/. Exits non-zero on any failed check. Provisioning the runtimes is a phase of its own before the
 * tests (limit --provision-timeout-min, default 40); --timeout-min (default 15) counts from the end of it.
 */
const fs = require('node:fs');
const path = require('node:path');
const { REPO, DEFAULT_N8N_VERSION, installPackage, N8nInstance, makeTempDir } = require('./lib/n8n');

/**
 * The version matrix: the oldest n8n this package runs in (the first release on the registry whose
 * n8n-workflow exports NodeConnectionTypes, which every node of the package reads at load), the newest 1.x,
 * and the 2.x the rest of the project is built and tested against. `--n8n-versions` / E2E_N8N_VERSIONS
 * (comma-separated) narrow or change it; CI runs 1.123.81 and 2.41.1.
 */
const N8N_VERSIONS = ['1.85.3', '1.123.81', DEFAULT_N8N_VERSION];
const { installExitHooks, killAllSync } = require('./lib/proc');
const { createReport } = require('./lib/report');

function parseArgs(argv) {
	const o = { skipBrowser: false, skipRest: false, keep: false, updateDocs: false, timeoutMin: 15, provisionTimeoutMin: 40, versions: undefined };
	for (let i = 0; i < argv.length; i++) {
		const a = argv[i];
		const next = () => {
			if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
			return argv[++i];
		};
		if (a === '--skip-browser') o.skipBrowser = true;
		else if (a === '--skip-rest') o.skipRest = true;
		else if (a === '--keep') o.keep = true;
		else if (a === '--update-docs') o.updateDocs = true;
		else if (a === '--package-dir') o.packageDir = path.resolve(next());
		else if (a === '--examples') o.examplesDir = path.resolve(next());
		else if (a === '--sandbox') o.sandbox = path.resolve(next());
		else if (a === '--timeout-min') o.timeoutMin = Number(next());
		else if (a === '--provision-timeout-min') o.provisionTimeoutMin = Number(next());
		else if (a === '--n8n-versions') o.versions = next();
		else if (a === '-h' || a === '--help') {
			console.log(fs.readFileSync(__filename, 'utf8').split('\n').slice(3, 17).join('\n').replace(/^ \* ?/gm, ''));
			process.exit(0);
		} else throw new Error(`unknown argument ${a}`);
	}
	if (process.env.E2E_SKIP_BROWSER === '1') o.skipBrowser = true;
	const list = o.versions ?? process.env.E2E_N8N_VERSIONS;
	o.versions = list ? list.split(',').map((v) => v.trim()).filter(Boolean) : N8N_VERSIONS;
	const bad = o.versions.filter((v) => !/^\d+\.\d+\.\d+$/.test(v));
	if (bad.length || !o.versions.length) throw new Error(`--n8n-versions: expected x.y.z[,x.y.z...], got ${bad.join(',') || 'nothing'}`);
	// The full run (CLI, REST, editor) is in the default version; the others run the CLI part.
	o.primary = o.versions.includes(DEFAULT_N8N_VERSION) ? DEFAULT_N8N_VERSION : undefined;
	o.cliOnly = o.versions.filter((v) => v !== o.primary);
	o.nodeSearch = !o.skipBrowser; // the node panel search runs in every version unless --skip-browser
	if (!o.primary) {
		o.skipRest = true;
		o.skipBrowser = true;
	}
	return o;
}

function loadSandbox(file) {
	if (!fs.existsSync(file)) {
		throw new Error(`${path.relative(REPO, file)} missing: compile the sandbox first (npx tsc -p tsconfig.dev.json)`);
	}
	const mod = require(file);
	if (typeof mod.startSandbox !== 'function') throw new Error(`${file} does not export startSandbox()`);
	return mod;
}

/** Names the built package takes from n8n-workflow (tsc output: n8n_workflow_1.Name) vs what n8n ships. */
async function checkWorkflowExports(runtime, pkgDir) {
	const used = new Set();
	const walk = (d) => {
		for (const e of fs.readdirSync(d, { withFileTypes: true })) {
			const f = path.join(d, e.name);
			if (e.isDirectory()) walk(f);
			else if (e.name.endsWith('.js')) {
				for (const m of fs.readFileSync(f, 'utf8').matchAll(/\bn8n_workflow_\d+\.([A-Za-z_$][\w$]*)/g)) used.add(m[1]);
			}
		}
	};
	walk(path.join(pkgDir, 'dist'));
	const { run } = require('./lib/proc');
	const n8nDir = path.dirname(path.dirname(runtime.N8N_BIN));
	const r = await run(runtime.N8N_NODE, ['-e', 'console.log(JSON.stringify(Object.keys(require("n8n-workflow"))))'], { cwd: n8nDir, timeoutMs: 60_000 });
	if (r.code !== 0) throw new Error(`cannot load n8n's n8n-workflow: ${r.stderr.slice(-300)}`);
	const available = new Set(JSON.parse(r.stdout));
	return { used: [...used], missing: [...used].filter((n) => !available.has(n)) };
}

async function main() {
	const opts = parseArgs(process.argv.slice(2));
	const t0 = Date.now();
	const artifactsDir = path.join(REPO, 'artifacts', 'e2e');
	fs.rmSync(artifactsDir, { recursive: true, force: true });
	fs.mkdirSync(artifactsDir, { recursive: true });
	const workDir = makeTempDir('n8n-llamacloud-e2e-');
	const userFolder = path.join(workDir, 'user');
	fs.mkdirSync(userFolder);

	const log = (m) => console.log(m);
	const { results, check, step, summary, abort } = createReport({ log });

	let sandbox;
	let n8n;
	const extraInstances = [];
	const matrix = []; // { version, node, passed, failed, ms }
	/** Run fn with check() names prefixed by the n8n version, and record the version's tally. */
	const inVersion = async (version, fn) => {
		const first = results.length;
		const s = Date.now();
		const row = { version, node: '?', passed: 0, failed: 0, ms: 0, crashes: [] };
		matrix.push(row);
		const vcheck = (ok, name, detail) => check(ok, `[n8n ${version}] ${name}`, detail);
		try {
			await fn(vcheck, row);
		} catch (e) {
			vcheck(false, 'run', e.stack || e.message);
		}
		row.ms = Date.now() - s;
		row.passed = results.slice(first).filter((r) => r.ok).length;
		row.failed = results.slice(first).filter((r) => !r.ok).length;
	};
	const cleanup = async () => {
		if (n8n) await n8n.stop().catch(() => {});
		for (const other of extraInstances) await other.stop().catch(() => {});
		if (sandbox) await sandbox.close().catch(() => {});
		killAllSync();
		if (!opts.keep) fs.rmSync(workDir, { recursive: true, force: true });
	};
	installExitHooks(async () => {
		abort(); // no further steps while we shut down
		await cleanup();
	});
	// The test timeout starts once the runtimes are provisioned (their install has its own limit).
	let watchdog;
	const startWatchdog = () => {
		log(`  timed tests start now (${new Date().toISOString()}); overall timeout ${opts.timeoutMin} min (--timeout-min)`);
		watchdog = setTimeout(async () => {
			console.error(`\n[e2e] FAIL: overall timeout of ${opts.timeoutMin} min (counted after provisioning) reached; stopping everything`);
			await cleanup().catch(() => {});
			process.exit(1);
		}, opts.timeoutMin * 60_000);
		watchdog.unref();
	};

	const outputs = [];
	let runtime;
	let cli = { workflows: [] };
	let rest;
	try {
		const runtimes = await step(
			'provisioning: n8n runtimes (no test timeout)',
			async () => (await require('./lib/provision').provisionRuntimes([opts.primary, ...opts.cliOnly].filter(Boolean), { log, limitMin: opts.provisionTimeoutMin })).runtimes,
			{ critical: true },
		);
		if (runtimes) startWatchdog(); // without them every step after is skipped
		// Without the default version in the matrix, the first one listed takes the CLI part below.
		const primaryVersion = opts.primary || opts.cliOnly.shift();
		runtime = runtimes?.[primaryVersion];

		await step(
			'package',
			async () => {
				const p = await installPackage({ packageDir: opts.packageDir || REPO, userFolder, workDir, logFile: path.join(artifactsDir, 'npm-pack.log') });
				log(`  ${p.name}@${p.version}: ${p.files} files packed, installed as a community package`);
				// The package compiles against the n8n-workflow in devDependencies, but runs against n8n's own
				// copy: every export it uses must exist there.
				const { missing, used } = await checkWorkflowExports(runtime, p.dir);
				check(missing.length === 0, `package: the n8n-workflow exports it uses exist in n8n ${runtime.N8N_RUNTIME_N8N_VERSION} (${used.length} used)`, `missing at runtime: ${missing.join(', ')}`);
			},
			{ critical: true },
		);

		await step(
			'sandbox',
			async () => {
				const { startSandbox } = loadSandbox(opts.sandbox || path.join(REPO, 'dist-test', 'test', 'sandbox', 'index.js'));
				sandbox = await startSandbox({ host: '127.0.0.1', port: 0 });
				check(/^http:\/\/127\.0\.0\.1:\d+$/.test(sandbox.url), 'sandbox listens on 127.0.0.1', sandbox.url);
				log(`  ${sandbox.url}`);
			},
			{ critical: true },
		);

		if (runtime && sandbox) n8n = new N8nInstance({ runtime, userFolder, artifactsDir, name: 'n8n', chatHub: true });

		const cliContext = (instance, checkFn, row) => ({
			n8n: instance,
			crashes: row.crashes,
			sandbox,
			workDir,
			log,
			check: checkFn,
			repo: REPO,
			examplesDir: opts.examplesDir || path.join(REPO, 'examples'),
			fixturesDir: path.join(__dirname, 'workflows'),
		});
		cli =
			(await step(`CLI: import + execute (n8n ${runtime?.N8N_RUNTIME_N8N_VERSION})`, async () => {
				const { runCliTests } = require('./cli-tests');
				let got;
				await inVersion(runtime.N8N_RUNTIME_N8N_VERSION, async (vcheck, row) => {
					row.node = runtime.N8N_RUNTIME_NODE_VERSION;
					got = await runCliTests(cliContext(n8n, vcheck, row));
				});
				return got;
			})) || { workflows: [] };
		outputs.push(...(cli.outputs || []));

		let nodeTypes;
		if (!opts.skipRest || !opts.skipBrowser) {
			await step('n8n start', async () => {
				const { ms } = await n8n.start();
				log(`  ${n8n.url} ready in ${ms} ms`);
			}, { critical: true });
			rest = await step('REST: owner, types, credential test, loadOptions', async () => {
				const { runRestTests, setupAndLogin } = require('./rest-tests');
				if (opts.skipRest) return { rest: await setupAndLogin(n8n) };
				return runRestTests({ n8n, sandbox, check, log });
			});
			if (rest?.rest) {
				const t = await rest.rest.get('/types/nodes.json').catch(() => undefined);
				nodeTypes = t?.json;
			}
		}

		// Chat (issue #8): scripts/e2e/chat-tests.js and browser-chat-tests.js.
		let chat;
		if (!opts.skipRest && rest?.rest) {
			chat = await step('chat: production chat URL (streaming, conversations, restart)', () =>
				require('./chat-tests').runChatTests({ n8n, sandbox, check, log, rest: rest.rest, examplesDir: opts.examplesDir || path.join(REPO, 'examples') }),
			);
		}

		// AI Agent (issue #18): scripts/e2e/agent-tests.js, the model a local stand-in (test/model-stand-in).
		if (!opts.skipRest && rest?.rest) {
			await step('agent: Chat Trigger → AI Agent → LlamaCloud tool', () =>
				require('./agent-tests').runAgentTests({ n8n, sandbox, check, log, repo: REPO }),
			);
		}

		// MCP Server Trigger (issue #23): scripts/e2e/mcp-tests.js, driven by the official MCP client (2.x only).
		if (!opts.skipRest && rest?.rest) {
			await step('mcp: MCP Server Trigger → LlamaCloud tool (official MCP client)', () =>
				require('./mcp-tests').runMcpTests({ n8n, sandbox, check, log, examplesDir: opts.examplesDir || path.join(REPO, 'examples') }),
			);
		}

		if (!opts.skipBrowser) {
			const shots = await step('browser: editor', async () => {
				const { runBrowserTests } = require('./browser-tests');
				const { OWNER } = require('./rest-tests');
				return runBrowserTests({ n8n, sandbox, check, log, artifactsDir, owner: OWNER, workflows: cli.workflows || [], repo: REPO, nodeTypes });
			});
			if (shots?.screenshots) {
				for (const [k, v] of Object.entries(shots.screenshots)) log(`  screenshot ${k}: ${path.relative(REPO, v)}`);
				if (opts.updateDocs && shots.screenshots.docs) {
					fs.mkdirSync(path.join(REPO, 'docs'), { recursive: true });
					fs.copyFileSync(shots.screenshots.docs, path.join(REPO, 'docs', 'node-panel.png'));
					log('  docs/node-panel.png updated');
				}
			}
		}

		// Node panel search (issue #16): scripts/e2e/node-search-tests.js.
		if (!opts.skipBrowser) {
			const found = await step('browser: node panel search', () =>
				require('./node-search-tests').runNodeSearchTests({ n8n, check, log, artifactsDir, owner: require('./rest-tests').OWNER, repo: REPO, nodeTypes, label: DEFAULT_N8N_VERSION }),
			);
			if (opts.updateDocs && found?.screenshots?.search) {
				fs.copyFileSync(found.screenshots.search, path.join(REPO, 'docs', 'node-search.png'));
				log('  docs/node-search.png updated');
			}
		}

		if (!opts.skipBrowser && chat?.streamingWorkflowId) {
			const chatShots = await step('browser: editor chat', () =>
				require('./browser-chat-tests').runBrowserChatTests({ n8n, sandbox, check, log, artifactsDir, owner: require('./rest-tests').OWNER, repo: REPO, workflowId: chat.streamingWorkflowId }),
			);
			if (opts.updateDocs && chatShots?.screenshots?.chat) {
				fs.copyFileSync(chatShots.screenshots.chat, path.join(REPO, 'docs', 'chat.png'));
				log('  docs/chat.png updated');
			}
		}

		// n8n's Chat (issue #17): scripts/e2e/chat-hub-tests.js and browser-chat-hub-tests.js (n8n 2.x only).
		if (!opts.skipRest && rest?.rest && n8n.major() >= 2) {
			const hubCtx = { n8n, sandbox, check, log, artifactsDir, owner: require('./rest-tests').OWNER, repo: REPO, examplesDir: opts.examplesDir || path.join(REPO, 'examples') };
			// A new REST client: the chat step restarted n8n on another port.
			const hub = await step('chat hub: n8n Chat (agent listed, streamed answer, follow-up with memory)', async () =>
				require('./chat-hub-tests').runChatHubTests(Object.assign(hubCtx, { rest: await require('./rest-tests').setupAndLogin(n8n) })),
			);
			if (!opts.skipBrowser && hub?.agent) await step('browser: n8n Chat', () => require('./browser-chat-hub-tests').runBrowserChatHubTests(hubCtx));
		}

		await step('stop n8n', async () => {
			if (n8n) {
				outputs.push(n8n.child?.output || '');
				await n8n.stop();
			}
		});

		// The same CLI part in every other version of the matrix, each with its own runtime and user folder.
		for (const version of opts.cliOnly) {
			await step(`CLI: import + execute${opts.nodeSearch ? ' + node search' : ''} (n8n ${version})`, async () => {
				const rt = runtimes[version];
				const uf = path.join(workDir, `user-${version}`);
				fs.mkdirSync(uf);
				await inVersion(version, async (vcheck, row) => {
					row.node = rt.N8N_RUNTIME_NODE_VERSION;
					const p = await installPackage({ packageDir: opts.packageDir || REPO, userFolder: uf, workDir: path.join(workDir, `pack-${version}`), logFile: path.join(artifactsDir, 'npm-pack.log') });
					const { missing, used } = await checkWorkflowExports(rt, p.dir);
					if (!vcheck(missing.length === 0, `package: the n8n-workflow exports it uses exist (${used.length} used)`, `missing at runtime: ${missing.join(', ')}`)) return;
					const inst = new N8nInstance({ runtime: rt, userFolder: uf, artifactsDir, name: `n8n-${version}` });
					extraInstances.push(inst);
					const { runCliTests } = require('./cli-tests');
					const got = await runCliTests(cliContext(inst, vcheck, row));
					const mcpSkip = require('./mcp-tests').skipReason(version);
					if (mcpSkip) log(`  SKIP MCP part: ${mcpSkip}`);
					outputs.push(...(got.outputs || []));
					if (opts.nodeSearch) await require('./node-search-tests').runNodeSearchInstance({ inst, check: vcheck, log, artifactsDir, repo: REPO, label: version });
					// Issue #17: the memory path in this version's `n8n start` (scripts/e2e/memory-tests.js).
					const memory = require('./memory-tests');
					if (memory.appliesTo(version)) await memory.runMemoryTests({ n8n: inst, sandbox, check: vcheck, log });
				});
			});
		}

		// Secrets: nothing n8n printed or logged may contain an API key.
		await step('secret scan', async () => {
			const { WRONG_KEY } = require('./cli-tests');
			const logs = fs
				.readdirSync(artifactsDir)
				.filter((f) => f.endsWith('.log'))
				.map((f) => fs.readFileSync(path.join(artifactsDir, f), 'utf8'));
			const text = [...outputs, ...logs].join('\n');
			check(text.length > 0, 'secret scan has output to scan', 'nothing captured');
			check(!text.includes(sandbox.apiKey), 'the API key appears nowhere in n8n stdout/stderr/logs', 'API key found');
			check(!text.includes(WRONG_KEY), 'the wrong key appears nowhere in n8n stdout/stderr/logs', 'wrong key found');
			const blocked = n8n ? n8n.blockedNetwork() : [];
			const hosts = [...new Set(blocked.map((l) => l.split(' ').pop()))];
			log(`  ${text.length} characters scanned; outbound attempts blocked by the no-network guard: ${hosts.length ? hosts.join(', ') : 'none'}`);
		});
	} finally {
		clearTimeout(watchdog);
		await cleanup();
	}

	return summary({
		t0,
		logsDir: path.relative(REPO, artifactsDir),
		between: () => {
			if (!matrix.length) return;
			console.log(`\n== n8n version matrix (CLI part), ${new Date().toISOString().slice(0, 10)}`);
			for (const m of matrix) {
				console.log(`  n8n ${m.version.padEnd(10)} Node.js ${m.node.padEnd(9)} ${m.failed ? 'FAIL' : 'ok  '} ${String(m.passed).padStart(4)} checks passed, ${m.failed} failed  ${(m.ms / 1000).toFixed(1).padStart(6)} s${m.crashes.length ? `; n8n crashed (SIGSEGV) at exit after a complete run: ${m.crashes.length}x` : ''}`);
			}
		},
	});
}

// `npm run test:e2e -- --queue`: the queue-mode run (scripts/e2e/queue.js) instead; `-- --external-url URL …`:
// the checks against an n8n this run did not start (scripts/e2e/external.js).
const external = process.argv.includes('--external-url') || process.argv.includes('--external');
const entry = external ? require('./external').main : process.argv.includes('--queue') ? require('./queue').main : main;
entry().then(
	(code) => process.exit(code),
	(err) => {
		console.error(`[e2e] FAIL: ${err.stack || err.message}`);
		killAllSync();
		process.exit(1);
	},
);
