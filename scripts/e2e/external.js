#!/usr/bin/env node
'use strict';
/*
 * The e2e against an n8n it did not start (any version, e.g. n8n 3 in Docker): only a URL and an owner login.
 *
 *   node scripts/e2e/external.js --url URL --email EMAIL --password PASSWORD [--redis HOST:PORT] [--timeout-min N]
 *   npm run test:e2e -- --external-url URL --owner-email EMAIL --owner-password PASSWORD [--redis HOST:PORT]
 *   (or E2E_N8N_URL, E2E_N8N_OWNER_EMAIL, E2E_N8N_OWNER_PASSWORD, E2E_REDIS)
 *
 * Before: the package in that n8n's nodes folder as n8n's installer puts it (scripts/e2e/install-package.js
 * --user-folder <its N8N_USER_FOLDER>), n8n restarted, started with N8N_UNVERIFIED_PACKAGES_ENABLED=true.
 * The sandbox listens on 127.0.0.1 here, so that n8n must reach this machine's loopback (same host, or a
 * container with --network host). An n8n with no owner yet gets this one (first-run setup).
 * Checks, all over HTTP: the node, its tool variant and the credential type are served; a credential made
 * over REST passes the credential test and a wrong key fails it; every example that a trigger other than a
 * chat starts (examples/*.json as shipped, its trigger swapped for a production Webhook) runs published and
 * answers as in the CLI part; the chat example streams through its production chat URL and continues the
 * conversation; with --redis, examples/chat-with-memory.json continues it through a Redis Chat Memory.
 */
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const W = require('./lib/workflows');
const { REPO } = require('./lib/n8n');
const { setupAndLogin } = require('./rest-tests');
const { createReport } = require('./lib/report');
const { EXAMPLE_HOOKS, WRONG_KEY } = require('./cli-tests');
const { chatWorkflow, postChat, waitForChat, storedAnswer, ASK_NODE } = require('./chat-tests');
// Saves and publishes over REST (2.x and newer POST …/activate, 1.x PATCH); a POST with its JSON answer.
const { publish, postJson } = require('./memory-tests');

function parseArgs(argv) {
	const o = {
		url: process.env.E2E_N8N_URL,
		email: process.env.E2E_N8N_OWNER_EMAIL,
		password: process.env.E2E_N8N_OWNER_PASSWORD,
		redis: process.env.E2E_REDIS,
		timeoutMin: 10,
	};
	for (let i = 0; i < argv.length; i++) {
		const a = argv[i];
		const next = () => {
			if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
			return argv[++i];
		};
		if (a === '--url' || a === '--external-url') o.url = next();
		else if (a === '--email' || a === '--owner-email') o.email = next();
		else if (a === '--password' || a === '--owner-password') o.password = next();
		else if (a === '--redis') o.redis = next();
		else if (a === '--timeout-min') o.timeoutMin = Number(next());
		else if (a === '-h' || a === '--help') {
			console.log(fs.readFileSync(__filename, 'utf8').split('\n').slice(3, 20).join('\n').replace(/^ \* ?/gm, ''));
			process.exit(0);
		} else throw new Error(`unknown argument ${a}`);
	}
	if (!o.url || !o.email || !o.password) throw new Error('external mode needs --url, --email and --password (or E2E_N8N_URL, E2E_N8N_OWNER_EMAIL, E2E_N8N_OWNER_PASSWORD)');
	o.url = o.url.replace(/\/$/, '');
	return o;
}

/** Saves a copy under an id n8n gives it: the example's own id may be taken (imported by the CLI, or an earlier run). */
const publishCopy = (rest, wf) => publish(rest, { ...wf, id: undefined });

async function createCredential(rest, name, type, data) {
	const r = await rest.post('/rest/credentials', { name, type, data });
	const saved = r.json?.data;
	if (!saved?.id) throw new Error(`creating credential "${name}" returned ${r.text.slice(0, 300)}`);
	return { id: saved.id, name: saved.name };
}

/** POSTs to a just-published production webhook, which can take a moment to register (404 until then). */
async function postWebhook(url, timeoutMs = 60_000) {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const r = await postJson(url, {});
		if (r.status !== 404 || Date.now() > deadline) return r;
		await new Promise((res) => setTimeout(res, 500));
	}
}

async function main() {
	const opts = parseArgs(process.argv.slice(2).filter((a) => a !== '--external'));
	const t0 = Date.now();
	const log = (m) => console.log(m);
	const { check, step, summary } = createReport({ log });
	const watchdog = setTimeout(() => {
		console.error(`\n[e2e external] FAIL: timeout of ${opts.timeoutMin} min reached`);
		process.exit(1);
	}, opts.timeoutMin * 60_000);
	watchdog.unref();
	const owner = { email: opts.email, password: opts.password };
	const examplesDir = path.join(REPO, 'examples');
	const runId = crypto.randomBytes(3).toString('hex');
	let sandbox;
	let version = '?';
	try {
		const { startSandbox } = require(path.join(REPO, 'dist-test', 'test', 'sandbox', 'index.js'));
		sandbox = await step('sandbox', async () => {
			const s = await startSandbox({ host: '127.0.0.1', port: 0 });
			log(`  ${s.url}`);
			return s;
		}, { critical: true });

		const rest = await step(`n8n at ${opts.url}: owner login`, async () => {
			const client = await setupAndLogin({ url: opts.url }, owner);
			// The version is in the settings a signed-in user gets.
			version = (await client.get('/rest/settings')).json?.data?.versionCli ?? '?';
			check(true, `owner logged in (n8n ${version})`);
			return client;
		}, { critical: true });
		let credential;

		await step('types and credential', async () => {
			const nodes = (await rest.get('/types/nodes.json')).json ?? [];
			check(nodes.some((t) => t.name === W.NODE_TYPE), `/types/nodes.json lists ${W.NODE_TYPE} (the package loaded)`, `${nodes.length} types, none of them ours: is it in the nodes folder, and N8N_UNVERIFIED_PACKAGES_ENABLED=true?`);
			const tool = nodes.find((t) => t.name === `${W.NODE_TYPE}Tool`);
			check(tool && JSON.stringify(tool.outputs).includes('ai_tool'), `/types/nodes.json lists the AI Agent tool ${W.NODE_TYPE}Tool`, tool ? JSON.stringify(tool.outputs) : 'missing');
			const creds = (await rest.get('/types/credentials.json')).json ?? [];
			check(creds.some((c) => c.name === W.CREDENTIAL_TYPE), `/types/credentials.json lists ${W.CREDENTIAL_TYPE}`, 'missing');
			credential = await createCredential(rest, `LlamaCloud sandbox (e2e ${runId})`, W.CREDENTIAL_TYPE, { apiKey: sandbox.apiKey, region: 'custom', baseUrl: sandbox.url });
			const test = async (data) => (await rest.post('/rest/credentials/test', { credentials: { id: credential.id, name: credential.name, type: W.CREDENTIAL_TYPE, data } })).json?.data;
			const stored = (await rest.get(`/rest/credentials/${credential.id}?includeData=true`)).json?.data;
			check(!JSON.stringify(stored ?? {}).includes(sandbox.apiKey), 'GET credential does not return the API key', 'key in response');
			const ok = await test(stored?.data ?? {});
			check(ok?.status === 'OK', 'credential test with the right key succeeds', JSON.stringify(ok));
			const wrong = await test({ apiKey: WRONG_KEY, region: 'custom', baseUrl: sandbox.url });
			check(wrong?.status === 'Error' && /401|api key/i.test(wrong.message ?? '') && !String(wrong.message).includes(WRONG_KEY), 'credential test with a wrong key fails, saying why, without the key', JSON.stringify(wrong));
		}, { critical: true });

		const values = { ...require('./cli-tests').placeholderValues(sandbox), LLAMACLOUD_CREDENTIAL_ID: credential?.id };
		await step('examples, published behind a production Webhook', async () => {
			for (const file of W.listWorkflowFiles(examplesDir)) {
				const base = path.basename(file);
				const wf = W.pointCredentials(W.prepareWorkflow(file, { values, credential }), { [W.CREDENTIAL_TYPE]: credential });
				if (wf.nodes.some((n) => /chatTrigger$/i.test(n.type))) continue; // the chat steps below
				const hookPath = `e2e-${runId}-${base.replace(/\.json$/, '')}`;
				W.useWebhookTrigger(wf, hookPath);
				wf.name = `${wf.name} (e2e ${runId})`;
				const hook = EXAMPLE_HOOKS[base];
				const state = hook?.before ? hook.before(sandbox) : undefined;
				const before = { ...sandbox.stats };
				await publishCopy(rest, wf);
				const r = await postWebhook(`${opts.url}/webhook/${hookPath}`);
				const items = Array.isArray(r.json) ? r.json : r.json ? [r.json] : [];
				const label = `example ${base}`;
				if (!check(r.status === 200 && items.length > 0, `${label}: the published workflow ran and returned items`, `HTTP ${r.status}: ${r.text.slice(0, 400)}`)) continue;
				check(items.every((j) => !j.error), `${label}: no error item`, JSON.stringify(items.find((j) => j.error) ?? {}).slice(0, 300));
				for (const j of items.filter((x) => 'answer' in x)) check(typeof j.answer === 'string' && j.answer.trim() !== '', `${label}: answer non-empty`, JSON.stringify(j).slice(0, 200));
				for (const j of items.filter((x) => x.session_id && !x.deleted && !x.session_deleted)) {
					check(sandbox.getSession(j.session_id), `${label}: session ${j.session_id} exists in the sandbox`, 'not stored');
				}
				const created = sandbox.stats.sessionsCreated - before.sessionsCreated;
				const deleted = sandbox.stats.sessionsDeleted - before.sessionsDeleted;
				if (hook?.after) hook.after(state, { sandbox, check, label });
				else check(created > 0, `${label}: LlamaCloud (the sandbox) got the workflow's requests`, `sessions created ${created}`);
				log(`  ${label}: ${items.length} item(s); sandbox +${created} sessions, -${deleted}`);
			}
		});

		await step('chat: examples/chat-with-my-docs.json through its production chat URL', async () => {
			const { wf, webhookId } = chatWorkflow(examplesDir, sandbox, { responseMode: 'streaming', name: `LlamaCloud chat (e2e ${runId})` });
			W.pointCredentials(wf, { [W.CREDENTIAL_TYPE]: credential });
			await publishCopy(rest, wf);
			const url = `${opts.url}/webhook/${webhookId}/chat`;
			await waitForChat(url);
			const conversation = `e2e-external-${runId}`;
			const turn = async (label, chatInput) => {
				const before = sandbox.turnTimings.length;
				const r = await postChat(url, { action: 'sendMessage', sessionId: conversation, chatInput });
				const timing = sandbox.turnTimings.slice(before).find((t) => t.prompt === chatInput);
				const answer = timing ? storedAnswer(sandbox, timing.sessionId) : undefined;
				const text = r.chunks.filter((c) => c.metadata?.nodeName === ASK_NODE && c.type === 'item').map((c) => c.content).join('');
				check(r.status === 200 && answer && text.startsWith(answer), `chat ${label}: streamed the answer LlamaCloud gave`, `HTTP ${r.status}: ${r.raw.slice(0, 300)}`);
				return timing?.sessionId;
			};
			const first = await turn('turn 1', 'What grew in Q3?');
			const second = await turn('turn 2 (follow-up)', 'And what are the risks?');
			check(first && second === first, 'chat: the follow-up continued the same LlamaCloud session', `${first} vs ${second}`);
		});

		if (opts.redis) {
			await step(`memory: examples/chat-with-memory.json with Redis Chat Memory (${opts.redis})`, async () => {
				const [host, port] = opts.redis.split(':');
				const redis = await createCredential(rest, `Redis (e2e ${runId})`, 'redis', { host, port: Number(port || 6379), password: '', database: 0 });
				const wf = W.pointCredentials(W.prepareWorkflow(path.join(examplesDir, 'chat-with-memory.json'), { values, credential }), { [W.CREDENTIAL_TYPE]: credential, redis });
				const trigger = wf.nodes.find((n) => /chatTrigger$/i.test(n.type));
				trigger.webhookId = crypto.randomUUID();
				// The answer as JSON (When Last Node Finishes), so its `conversation` shows which store kept the session.
				trigger.parameters.options = { ...trigger.parameters.options, responseMode: 'lastNode' };
				wf.name = `${wf.name} (e2e ${runId})`;
				await publishCopy(rest, wf);
				const url = `${opts.url}/webhook/${trigger.webhookId}/chat`;
				await waitForChat(url);
				const sessionId = `e2e-memory-${runId}`;
				const prompts = ['What grew in Q3?', 'And what are the risks?'];
				const turns = [];
				for (const chatInput of prompts) {
					const requests = sandbox.requests.length;
					const r = await postJson(url, { action: 'sendMessage', sessionId, chatInput });
					turns.push({ r, requests: sandbox.requests.length - requests, conversation: r.json?.conversation });
				}
				check(turns.every((t) => t.r.status === 200 && typeof t.r.json?.output === 'string' && t.r.json.output !== ''), 'memory: both turns answered through the chat URL', turns.map((t) => `${t.r.status} ${t.r.text.slice(0, 200)}`).join(' | '));
				const [one, two] = turns.map((t) => t.conversation);
				check(one?.store === 'memory' && two?.store === 'memory' && one.new_session === true && two.new_session === false && two.session_id === one.session_id,
					'memory: the follow-up continued the session kept in the Redis Chat Memory ({ store: \'memory\' })', JSON.stringify([one, two]));
				check(turns[1].requests === 1, 'memory: the follow-up made 1 LlamaCloud request', `${turns[1].requests}`);
				const loaded = await postJson(url, { action: 'loadPreviousSession', sessionId });
				const got = (loaded.json?.data || []).map((m) => m.kwargs?.content);
				check(loaded.status === 200 && JSON.stringify(got) === JSON.stringify([prompts[0], turns[0].r.json?.output, prompts[1], turns[1].r.json?.output]),
					'memory: Load Previous Session returns both questions and answers from Redis', `${loaded.status} ${JSON.stringify(got).slice(0, 300)}`);
		});
		}
	} finally {
		clearTimeout(watchdog);
		if (sandbox) await sandbox.close().catch(() => {});
	}
	return summary({
		t0,
		logsDir: '(the n8n under test keeps its own logs)',
		between: () => console.log(`\n== external n8n ${version} at ${opts.url}, ${new Date().toISOString().slice(0, 10)}`),
	});
}

if (require.main === module) {
	main().then(
		(code) => process.exit(code),
		(err) => {
			console.error(`[e2e external] FAIL: ${err.stack || err.message}`);
			process.exit(1);
		},
	);
}

module.exports = { main };
