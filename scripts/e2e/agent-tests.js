'use strict';
// AI Agent part of the e2e run (issue #18), against `n8n start` (2.x): a real AI Agent in a real n8n.
// workflows-agent/agent-chat.json — Chat Trigger (Response Mode Streaming) → AI Agent with an OpenAI Chat
// Model (chat completions, Base URL pointed at test/model-stand-in) and LlamaCloud Chat as a tool (Ask,
// prompt from $fromAI). The stand-in is scripted: its first reply calls the tool with a fixed question, its
// second answers from the tool result. One chat message through the production chat URL, then checks: the
// tool got the model's prompt, the model got the answer once, the chat shows the agent's answer and nothing
// from the tool, the tool's session was deleted, and neither API key appears anywhere.
//
// Standalone: node scripts/e2e/agent-tests.js — runtime, package, sandbox, LlamaCloud credential and n8n
// are set up as in run.js, then only these checks run (needs npm run build && npm run build:dev).
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const W = require('./lib/workflows');
const { postChat, publish, waitForChat } = require('./chat-tests');

const WORKFLOW = path.join(__dirname, 'workflows-agent', 'agent-chat.json');
const AGENT_NODE = 'AI Agent';
const TOOL_NODE = 'LlamaCloud Chat';
const MODEL_NODE = 'OpenAI Chat Model';
const OPENAI_CREDENTIAL_NAME = 'OpenAI stand-in';

const count = (text, part) => (part ? text.split(part).length - 1 : 0);
/** How a string appears inside JSON text (escaped, without its quotes). */
const asJson = (s) => JSON.stringify(s).slice(1, -1);

function loadStandIn(repo) {
	const file = path.join(repo, 'dist-test', 'test', 'model-stand-in', 'server.js');
	if (!fs.existsSync(file)) throw new Error(`${path.relative(repo, file)} missing: npm run build:dev`);
	return require(file);
}

/** The workflow, ready for this n8n: LlamaCloud placeholders, the OpenAI credential and model, own webhook. */
function agentWorkflow(sandbox, { credentialId, model }) {
	const { CREDENTIAL, placeholderValues } = require('./cli-tests');
	const wf = W.prepareWorkflow(WORKFLOW, { id: 'e2eAgentChat0001', values: placeholderValues(sandbox), credential: CREDENTIAL });
	const trigger = wf.nodes.find((n) => n.type === '@n8n/n8n-nodes-langchain.chatTrigger');
	trigger.webhookId = crypto.randomUUID();
	const lm = wf.nodes.find((n) => n.name === MODEL_NODE);
	lm.parameters.model.value = model;
	lm.credentials.openAiApi = { id: credentialId, name: OPENAI_CREDENTIAL_NAME };
	delete wf.meta;
	return { wf, webhookId: trigger.webhookId };
}

/**
 * Waits until n8n takes chat messages (POST) at the chat URL. n8n registers a published Chat Trigger's GET (the
 * chat page) and POST webhooks one after the other: the page can answer while a message still gets 404. The probe
 * is what n8n's chat widget sends on opening; without memory the Chat Trigger answers it itself, no execution.
 */
async function waitForChatPost(url, timeoutMs = 60_000) {
	const deadline = Date.now() + timeoutMs;
	let last = '';
	while (Date.now() < deadline) {
		const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ action: 'loadPreviousSession', sessionId: 'e2e-probe' }), signal: AbortSignal.timeout(5000) }).catch((e) => ({ ok: false, status: e.message }));
		if (r.ok) return;
		last = `HTTP ${r.status}`;
		await new Promise((res) => setTimeout(res, 500));
	}
	throw new Error(`the chat at ${url} takes no messages (${last})`);
}

/** The workflow's last execution with its data, through the editor's REST API, once n8n has saved it. */
async function lastExecution(rest, workflowId, timeoutMs = 30_000) {
	const deadline = Date.now() + timeoutMs;
	let last = '';
	while (Date.now() < deadline) {
		const list = await rest.get(`/rest/executions?filter=${encodeURIComponent(JSON.stringify({ workflowId }))}`);
		const results = list.json?.data?.results ?? list.json?.data ?? [];
		const done = Array.isArray(results) ? results.find((e) => e.status && !['new', 'running', 'waiting'].includes(e.status)) : undefined;
		if (done) {
			const one = await rest.get(`/rest/executions/${done.id}`);
			return { id: done.id, status: done.status, text: one.text, executions: results.length };
		}
		last = list.text.slice(0, 300);
		await new Promise((r) => setTimeout(r, 500));
	}
	throw new Error(`no finished execution of workflow ${workflowId} (${last})`);
}

async function runAgentTests(ctx) {
	const { n8n, sandbox, check, log, repo } = ctx;
	// Logged in afresh: n8n may listen on another port than when run.js logged in (chat-tests restarts it).
	const rest = await require('./rest-tests').setupAndLogin(n8n);
	const { startModelStandIn, FINAL_PREFIX, QUOTED_CHARS } = loadStandIn(repo);
	const standIn = await startModelStandIn({ host: '127.0.0.1', port: 0 });
	try {
		log(`  model stand-in: ${standIn.url} (model ${standIn.model})`);
		// n8n's OpenAI credential, Base URL at the stand-in, saved as the editor does; n8n's own credential test
		// lists the models (GET /v1/models).
		const data = { apiKey: standIn.apiKey, url: standIn.url, header: false };
		const created = await rest.post('/rest/credentials', { name: OPENAI_CREDENTIAL_NAME, type: 'openAiApi', data });
		const credentialId = created.json?.data?.id;
		if (!check(credentialId, 'agent: OpenAI credential (Base URL = the stand-in) saved over REST', created.text.slice(0, 300))) return {};
		const tested = await rest.post('/rest/credentials/test', { credentials: { id: credentialId, name: OPENAI_CREDENTIAL_NAME, type: 'openAiApi', data } });
		const testResult = tested.json?.data ?? tested.json;
		check(
			testResult?.status === 'OK' && standIn.requests.some((q) => q.method === 'GET' && q.path === '/v1/models' && q.authorized),
			"agent: n8n's OpenAI credential test passes against the stand-in (GET /v1/models with the key)",
			JSON.stringify(testResult),
		);
		// The model dropdown (From List) of the OpenAI Chat Model, as the editor loads it.
		const listed = await rest.post('/rest/dynamic-node-parameters/resource-locator-results', {
			nodeTypeAndVersion: { name: '@n8n/n8n-nodes-langchain.lmChatOpenAi', version: 1.3 },
			path: 'parameters.model',
			methodName: 'searchModels',
			currentNodeParameters: { model: { __rl: true, mode: 'list', value: '' }, responsesApiEnabled: false, options: {} },
			credentials: { openAiApi: { id: credentialId, name: OPENAI_CREDENTIAL_NAME } },
		}, { expectStatus: 200 });
		const models = (listed.json?.data?.results ?? []).map((m) => m.value);
		check(JSON.stringify(models) === JSON.stringify([standIn.model]), "agent: the OpenAI Chat Model's model list shows the stand-in's model", listed.text.slice(0, 300));

		const { wf, webhookId } = agentWorkflow(sandbox, { credentialId, model: standIn.model });
		const workflowId = await publish(rest, wf);
		const chatUrl = `${n8n.url}/webhook/${webhookId}/chat`;
		await waitForChat(chatUrl);
		await waitForChatPost(chatUrl);
		log(`  ${chatUrl}`);

		standIn.requests.length = 0;
		const stats0 = { ...sandbox.stats };
		const requests0 = sandbox.requests.length;
		const turns0 = sandbox.turnTimings.length;
		const userMessage = 'Hello! What do my documents say about the third quarter?';
		const r = await postChat(chatUrl, { action: 'sendMessage', sessionId: `e2e-agent-${crypto.randomUUID()}`, chatInput: userMessage });
		check(r.status === 200 && r.contentType.includes('application/json'), 'agent: the chat answered HTTP 200 with a stream', `HTTP ${r.status} ${r.contentType}: ${r.raw.slice(0, 300)}`);

		// 1. The tool got the model's prompt: the question reached LlamaCloud's stream request as written by the model.
		const streamed = sandbox.requests.slice(requests0).filter((q) => q.method === 'POST' && /^\/api\/v1\/chat\/[^/]+\/messages\/stream$/.test(q.path));
		check(
			streamed.length === 1 && streamed[0].body?.prompt === standIn.question,
			"agent: the tool sent LlamaCloud exactly one turn, whose prompt is the model's $fromAI argument",
			JSON.stringify(streamed.map((q) => q.body)).slice(0, 400),
		);
		const timing = sandbox.turnTimings.slice(turns0).find((t) => t.prompt === standIn.question);
		const answer = timing ? timing.deltas.map((d) => d.content).join('') : '';
		check(answer.length > QUOTED_CHARS, `agent: LlamaCloud answered, longer than the ${QUOTED_CHARS} characters the model quotes`, JSON.stringify(answer));

		// 2. The model: two chat completions calls, the first with the tool offered, the second with its result.
		const calls = standIn.requests.filter((q) => q.method === 'POST' && q.path === '/v1/chat/completions');
		const toolMessages = (q) => (q.body?.messages ?? []).filter((m) => m.role === 'tool');
		check(
			calls.length === 2 && calls.every((q) => q.authorized && q.body?.stream === true) && calls[0].reply?.kind === 'tool_call' && toolMessages(calls[0]).length === 0,
			'agent: the model was called twice (streamed chat completions, with the key); the first call chose the tool',
			JSON.stringify(calls.map((q) => ({ stream: q.body?.stream, authorized: q.authorized, reply: q.reply }))).slice(0, 600),
		);
		const offered = (calls[0]?.body?.tools ?? []).map((t) => t.function?.name);
		check(offered.length === 1 && calls[0]?.reply?.name === offered[0], 'agent: the model was offered the LlamaCloud tool and called it by the name n8n gave it', JSON.stringify(offered));
		const toolMsgs = calls[1] ? toolMessages(calls[1]) : [];
		const content = toolMsgs.length === 1 ? String(toolMsgs[0].content) : '';
		let items;
		try {
			items = JSON.parse(content);
		} catch {
			items = undefined;
		}
		log(`  tool result the model got (${content.length} characters): ${content.slice(0, 300)}${content.length > 300 ? '…' : ''}`);
		check(toolMsgs.length === 1 && count(content, asJson(answer)) === 1, 'agent: the model got the answer exactly once in the tool result', `${toolMsgs.length} tool messages; answer ${count(content, asJson(answer))}× in ${content.slice(0, 400)}`);
		check(
			Array.isArray(items) && items.length === 1 && items[0].answer === answer && !('output' in items[0]) && !('session_id' in items[0]),
			'agent: the tool result has `answer`, no `output` duplicate, and no session_id (the session was deleted)',
			content.slice(0, 400),
		);

		// 3. The chat: the agent's answer, nothing from the tool.
		const expected = FINAL_PREFIX + answer.slice(0, QUOTED_CHARS);
		const byNode = (name) => r.chunks.filter((c) => c.metadata?.nodeName === name);
		const agentText = byNode(AGENT_NODE).filter((c) => c.type === 'item').map((c) => c.content).join('');
		log(`  chat: ${r.chunks.length} chunks from ${JSON.stringify([...new Set(r.chunks.map((c) => c.metadata?.nodeName))])}; agent said ${JSON.stringify(agentText)}`);
		check(agentText === expected, "agent: the chat shows the agent's final answer, streamed", `${JSON.stringify(agentText)} vs ${JSON.stringify(expected)}`);
		check(byNode(AGENT_NODE).filter((c) => c.type === 'item').length > 1, "agent: the agent's answer arrived in several item chunks", `${byNode(AGENT_NODE).length} chunks`);
		check(byNode(TOOL_NODE).length === 0, 'agent: the chat has no chunk from the tool node', JSON.stringify(byNode(TOOL_NODE)).slice(0, 400));
		// The whole text of the chat, every node's chunks in order: the script quotes only the first characters of
		// LlamaCloud's answer, so anything more of it (or its sources) came from elsewhere.
		const chatText = r.chunks.filter((c) => c.type === 'item').map((c) => c.content).join('');
		check(
			chatText === expected && r.chunks.every((c) => c.unparsed === undefined) && !r.raw.includes(timing?.sessionId ?? 'no turn'),
			"agent: the chat's whole text is the agent's answer (LlamaCloud's answer only as far as the agent quoted it, no sources, no session id)",
			`${JSON.stringify(chatText).slice(0, 400)}; raw: ${r.raw.slice(0, 300)}`,
		);

		// 4. The tool's session: created once, deleted once (Delete Session After Answer defaults to on for tools).
		const delta = (k) => sandbox.stats[k] - stats0[k];
		check(delta('sessionsCreated') === 1 && delta('sessionsDeleted') === 1 && delta('turnsCompleted') === 1, "agent: the tool's one session was deleted after the answer (created 1, deleted 1)",
			JSON.stringify({ created: delta('sessionsCreated'), deleted: delta('sessionsDeleted'), turns: delta('turnsCompleted') }));
		check(timing && !sandbox.getSession(timing.sessionId), "agent: the tool's session is gone from LlamaCloud", timing?.sessionId);

		// 5. The keys: nowhere in the chat, the execution, what the model received, n8n's logs.
		const execution = await lastExecution(rest, workflowId);
		check(execution.executions === 1, 'agent: one chat message, one execution of the workflow', `${execution.executions} executions`);
		check(execution.status === 'success' && execution.text.includes(asJson(standIn.question)) && execution.text.includes(TOOL_NODE),
			'agent: the execution succeeded and its data (REST) holds the tool run', `${execution.status}: ${execution.text.slice(0, 300)}`);
		const logs = [n8n.child?.output ?? '', fs.existsSync(n8n.logFile) ? fs.readFileSync(n8n.logFile, 'utf8') : ''].join('\n');
		const modelSaw = JSON.stringify(standIn.requests);
		const places = { 'chat response': r.raw, 'execution data': execution.text, 'requests the model received': modelSaw, 'n8n logs': logs };
		check(Object.values(places).every((t) => t.length > 0), 'agent: every place scanned for keys has content', JSON.stringify(Object.fromEntries(Object.entries(places).map(([k, v]) => [k, v.length]))));
		const leaks = [];
		for (const [where, text] of Object.entries(places)) {
			if (text.includes(sandbox.apiKey)) leaks.push(`LlamaCloud key in ${where}`);
			if (text.includes(standIn.apiKey)) leaks.push(`OpenAI key in ${where}`);
		}
		check(leaks.length === 0, 'agent: neither API key appears in the chat, the execution data, the model requests or n8n logs', leaks.join('; '));
		return { workflowId, chatUrl, answer: agentText };
	} finally {
		await standIn.close();
	}
}

module.exports = { runAgentTests, AGENT_NODE, TOOL_NODE };

if (require.main === module) {
	// The same set-up as run.js (scripts/e2e/lib/standalone.js), then only these checks. E2E_PACKAGE_DIR: another
	// checkout's built package (e.g. one before a fix, to see these checks fail).
	const { REPO } = require('./lib/n8n');
	require('./lib/standalone')
		.runStandalone({ name: 'agent-tests', artifactsDir: path.join(REPO, 'artifacts', 'e2e-agent'), fresh: true, limitMs: 600_000, body: (ctx) => runAgentTests(ctx) })
		.then(({ passed, failed }) => {
			console.log(`\nagent e2e: ${passed} passed, ${failed.length} failed`);
			process.exit(failed.length ? 1 : 0);
		});
}
