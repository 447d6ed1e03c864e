'use strict';
// The memory path (issue #17) in one n8n process, for the versions run.js runs the CLI part in (n8n 1.x):
// `n8n start`, owner, then a chat workflow, a public Chat Trigger with Load Previous Session: From Memory → Ask,
// with n8n's Simple Memory connected to both, published. Two turns through the production chat URL continue
// one LlamaCloud session (the follow-up makes one LlamaCloud request), and Load Previous Session, asked as n8n's
// chat client does, returns both turns.
//
// Standalone: node scripts/e2e/memory-tests.js [--n8n-version 1.123.81] (runtime, package, sandbox and
// credential set up as in run.js; logs in artifacts/e2e-memory/).
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const W = require('./lib/workflows');

const CHAT_TRIGGER = '@n8n/n8n-nodes-langchain.chatTrigger';
const SIMPLE_MEMORY = '@n8n/n8n-nodes-langchain.memoryBufferWindow';

/** Chat Trigger (public, Load Previous Session: From Memory, answers when Ask finishes) → Ask ← Simple Memory → Chat Trigger. */
function memoryChatWorkflow(sandbox) {
	const { CREDENTIAL } = require('./cli-tests');
	const webhookId = crypto.randomUUID();
	const wf = {
		name: 'e2e: chat with Simple Memory',
		nodes: [
			{ id: crypto.randomUUID(), name: 'When chat message received', type: CHAT_TRIGGER, typeVersion: 1.3, position: [0, 0], webhookId,
				parameters: { public: true, mode: 'hostedChat', options: { loadPreviousSession: 'memory', responseMode: 'lastNode' } } },
			{ id: crypto.randomUUID(), name: 'Ask', type: W.NODE_TYPE, typeVersion: 1, position: [260, 0],
				parameters: { resource: 'message', operation: 'ask', prompt: '={{ $json.chatInput }}', indexIds: [sandbox.fixtures.indexIds[0]], options: {} },
				credentials: { [W.CREDENTIAL_TYPE]: { id: CREDENTIAL.id, name: CREDENTIAL.name } } },
			{ id: crypto.randomUUID(), name: 'Simple Memory', type: SIMPLE_MEMORY, typeVersion: 1.3, position: [140, 220],
				parameters: { sessionIdType: 'fromInput', contextWindowLength: 5 } },
		],
		connections: {
			'When chat message received': { main: [[{ node: 'Ask', type: 'main', index: 0 }]] },
			'Simple Memory': { ai_memory: [[{ node: 'Ask', type: 'ai_memory', index: 0 }, { node: 'When chat message received', type: 'ai_memory', index: 0 }]] },
		},
		settings: { executionOrder: 'v1' },
	};
	return { wf, webhookId };
}

/** Saves and publishes a workflow over REST: 2.x's POST …/activate, else 1.x's PATCH { active: true }. */
async function publish(rest, wf) {
	const created = await rest.post('/rest/workflows', { ...wf, active: false });
	const saved = created.json?.data;
	if (!saved?.id) throw new Error(`creating "${wf.name}" returned ${created.text.slice(0, 300)}`);
	const r = await rest.post(`/rest/workflows/${saved.id}/activate`, { versionId: saved.versionId }, { expectStatus: undefined }).catch((e) => ({ status: 0, error: e }));
	if (r.status !== 200) await rest.request('PATCH', `/rest/workflows/${saved.id}`, { active: true, versionId: saved.versionId });
	return saved.id;
}

async function postJson(url, body) {
	const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(60_000) });
	const text = await r.text();
	let json;
	try {
		json = JSON.parse(text);
	} catch {
		json = undefined;
	}
	return { status: r.status, text, json };
}

/** @param ctx { n8n (not started), sandbox, check, log } */
async function runMemoryTests({ n8n, sandbox, check, log }) {
	const { setupAndLogin } = require('./rest-tests');
	const { waitForChat } = require('./chat-tests');
	const t0 = Date.now();
	await n8n.start();
	try {
		const rest = await setupAndLogin(n8n);
		const { wf, webhookId } = memoryChatWorkflow(sandbox);
		const id = await publish(rest, wf);
		const url = `${n8n.url}/webhook/${webhookId}/chat`;
		await waitForChat(url);
		const sessionId = `e2e-memory-${crypto.randomUUID()}`;
		const prompts = ['What grew in Q3?', 'And what are the risks?'];
		const turns = [];
		for (const chatInput of prompts) {
			sandbox.clearRequests();
			const created = sandbox.stats.sessionsCreated;
			const r = await postJson(url, { action: 'sendMessage', sessionId, chatInput });
			const streams = sandbox.requests.map((q) => q.method === 'POST' && /^\/api\/v1\/chat\/([^/]+)\/messages\/stream$/.exec(q.path)).filter(Boolean);
			turns.push({ r, requests: sandbox.requests.length, created: sandbox.stats.sessionsCreated - created, session: streams.length === 1 ? streams[0][1] : undefined });
		}
		const [one, two] = turns;
		check(turns.every((t) => t.r.status === 200 && typeof t.r.json?.output === 'string' && t.r.json.output.length > 0), `memory (Simple Memory, workflow ${id}): both turns answered through the chat URL`, turns.map((t) => `${t.r.status} ${t.r.text.slice(0, 200)}`).join(' | '));
		check(one.session && two.session === one.session && one.created === 1 && two.created === 0, 'memory: turn 2 continues turn 1\'s LlamaCloud session (1 session created)', JSON.stringify(turns.map((t) => ({ session: t.session, created: t.created }))));
		check(two.requests === 1, `memory: the follow-up made 1 LlamaCloud request (made ${two.requests}; the first turn ${one.requests})`, `${two.requests}`);
		const conv = turns.map((t) => t.r.json?.conversation);
		check(conv.every((c, i) => c?.store === 'memory' && c.turn === i + 1 && c.new_session === (i === 0)), 'memory: the answers\' conversation is { store: \'memory\', turn 1 then 2 }', JSON.stringify(conv));
		const loaded = await postJson(url, { action: 'loadPreviousSession', sessionId });
		const got = (loaded.json?.data || []).map((m) => [m.id?.[m.id.length - 1], m.kwargs?.content]);
		const want = prompts.flatMap((p, i) => [['HumanMessage', p], ['AIMessage', turns[i].r.json?.output]]);
		check(loaded.status === 200 && JSON.stringify(got) === JSON.stringify(want), 'memory: Load Previous Session returns the 2 questions and 2 answers, in order', `${loaded.status} ${JSON.stringify(got).slice(0, 400)}`);
		check(!loaded.text.includes(sandbox.apiKey), 'memory: the Load Previous Session response does not contain the API key', 'API key found');
		log(`  Simple Memory: 2 turns in session ${one.session}, LlamaCloud requests ${one.requests} + ${two.requests}, Load Previous Session ${got.length} messages (${Date.now() - t0} ms with n8n start)`);
	} finally {
		await n8n.stop();
	}
}

/**
 * The versions it runs in: n8n 1.123 and later (the newest 1.x, 1.123.81, is the one measured). The workflow uses
 * Chat Trigger 1.3 and Simple Memory 1.3, which older releases such as 1.85.3 may not have.
 */
function appliesTo(version) {
	const [major, minor] = version.split('.').map(Number);
	return major > 1 || (major === 1 && minor >= 123);
}

module.exports = { runMemoryTests, memoryChatWorkflow, appliesTo, publish, postJson };

if (require.main === module) {
	// Alone, for one version: runtime, package, sandbox and credential as in run.js, then only these checks.
	const L = require('./lib/n8n');
	const P = require('./lib/proc');
	const version = process.argv.includes('--n8n-version') ? process.argv[process.argv.indexOf('--n8n-version') + 1] : '1.123.81';
	const dir = L.makeTempDir('n8n-llamacloud-memory-');
	const logs = path.join(L.REPO, 'artifacts', 'e2e-memory');
	const state = {};
	const failed = [];
	const stopAll = async () => {
		await state.n8n?.stop().catch(() => {});
		await state.sandbox?.close().catch(() => {});
		P.killAllSync();
		fs.rmSync(dir, { recursive: true, force: true });
	};
	P.installExitHooks(stopAll);
	const check = (ok, name, detail) => {
		if (!ok) failed.push(name);
		console.log(`  ${ok ? 'ok  ' : 'FAIL'} ${name}${ok || !detail ? '' : `: ${String(detail).slice(0, 800)}`}`);
		return !!ok;
	};
	(async () => {
		fs.mkdirSync(logs, { recursive: true });
		const user = path.join(dir, 'user');
		fs.mkdirSync(user);
		const runtime = await L.ensureRuntime({ version });
		await L.installPackage({ packageDir: L.REPO, userFolder: user, workDir: dir, logFile: path.join(logs, 'npm-pack.log') });
		state.sandbox = await require(path.join(L.REPO, 'dist-test', 'test', 'sandbox', 'index.js')).startSandbox({ host: '127.0.0.1', port: 0 });
		state.n8n = new L.N8nInstance({ runtime, userFolder: user, artifactsDir: logs, name: `n8n-${version}` });
		const imported = await state.n8n.cli(['import:credentials', '--input', require('./cli-tests').credentialFile(dir, state.sandbox)], { timeoutMs: 240_000 });
		if (imported.code !== 0) throw new Error(`import:credentials: ${imported.stderr.slice(-500)}`);
		console.log(`n8n ${version}: memory path`);
		await runMemoryTests({ n8n: state.n8n, sandbox: state.sandbox, check, log: console.log });
	})()
		.catch((e) => check(false, 'memory tests ran', e.stack || e.message))
		.finally(async () => {
			await stopAll();
			console.log(`\nmemory e2e: ${failed.length ? `${failed.length} failed` : 'all passed'}`);
			process.exit(failed.length ? 1 : 0);
		});
}
