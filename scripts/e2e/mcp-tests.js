'use strict';
// MCP part of the e2e run (issue #23), against `n8n start` (2.x): examples/mcp-server.json (MCP Server Trigger 2.1
// with Bearer auth, the LlamaCloud Chat Tool as its one tool) is published, then driven by the official MCP
// TypeScript client (@modelcontextprotocol/sdk) at its production URL, /mcp/<path>, over both transports the trigger
// serves: streamable HTTP (POST /mcp/<path>) and SSE (GET /mcp/<path>, messages POSTed with ?sessionId=).
// Checks: a client without the token (or with a wrong one) is refused; listTools shows the tool with its `prompt`
// argument and the example's description; callTool returns LlamaCloud's answer once and its sources, nothing else
// reaches the client, and the tool's LlamaCloud session is deleted; two clients at once get their own answers; a
// failing LlamaCloud turn gives the client an error text for a model (no session ID, no operator steps) and leaves no
// session behind; the API key appears in nothing the client gets.
//
// Standalone: node scripts/e2e/mcp-tests.js — runtime, package, sandbox, LlamaCloud credential and n8n are set up
// as in run.js, then only these checks run (needs npm run build && npm run build:dev).
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const W = require('./lib/workflows');
const { publish } = require('./chat-tests');

const EXAMPLE = 'mcp-server.json';
const MCP_TRIGGER = '@n8n/n8n-nodes-langchain.mcpTrigger';
const BEARER_CREDENTIAL_NAME = 'MCP bearer token';
const STREAM_PATH = /^\/api\/v1\/chat\/[^/]+\/messages\/stream$/;

/** Why the part does not run in an n8n version (undefined: it runs). */
function skipReason(version) {
	if (Number(version.split('.')[0]) < 2) {
		return `n8n ${version}'s MCP Server Trigger stops at version 2 (the example's is 2.1), and in n8n 1.x this run starts n8n only for the node search`;
	}
	return undefined;
}

/** The official MCP client's CommonJS build, from this repository's dev dependencies. */
function sdk() {
	return {
		Client: require('@modelcontextprotocol/sdk/client/index.js').Client,
		StreamableHTTPClientTransport: require('@modelcontextprotocol/sdk/client/streamableHttp.js').StreamableHTTPClientTransport,
		SSEClientTransport: require('@modelcontextprotocol/sdk/client/sse.js').SSEClientTransport,
		// The package's exports map has no ./package.json: read it next to the resolved client.
		version: JSON.parse(fs.readFileSync(path.join(require.resolve('@modelcontextprotocol/sdk/client/index.js').split('/dist/')[0], 'package.json'), 'utf8')).version,
	};
}

/** A fetch that keeps a copy of every response body n8n sends the client (bodies of POSTs; SSE streams separately). */
function recordingFetch(traffic) {
	return async (url, init) => {
		const res = await fetch(url, init);
		const method = init?.method ?? 'GET';
		const entry = { method, status: res.status, contentType: res.headers.get('content-type') || '', request: typeof init?.body === 'string' ? init.body : '' };
		entry.done = res.body && method !== 'GET' ? res.clone().text().then((t) => (entry.text = t), (e) => (entry.text = `(unread: ${e.message})`)) : Promise.resolve((entry.text = ''));
		traffic.push(entry);
		return res;
	};
}

/** Connects a client over the named transport, headers given; returns { client, traffic, notes }. */
async function connect(url, { transport = 'streamable', headers = {} } = {}) {
	const { Client, StreamableHTTPClientTransport, SSEClientTransport } = sdk();
	const traffic = [];
	const notes = [];
	const client = new Client({ name: 'llamacloud-e2e', version: '1.0.0' });
	client.fallbackNotificationHandler = async (n) => notes.push(n);
	const options = { requestInit: { headers }, fetch: recordingFetch(traffic) };
	if (transport === 'sse') {
		// The SSE stream itself is opened by the eventsource package through this fetch (GET: not copied).
		options.eventSourceInit = { fetch: (u, init) => fetch(u, { ...init, headers: { ...Object.fromEntries(new Headers(init?.headers).entries()), ...headers } }) };
	}
	const t = transport === 'sse' ? new SSEClientTransport(new URL(url), options) : new StreamableHTTPClientTransport(new URL(url), options);
	await client.connect(t);
	return { client, traffic, notes };
}

const textOf = (result) => (result?.content ?? []).filter((c) => c.type === 'text').map((c) => c.text).join('\n');
const count = (text, part) => (part ? text.split(part).length - 1 : 0);
/** The sandbox turn a prompt started (its session and its answer as streamed). */
const turnOf = (sandbox, prompt) => {
	const t = sandbox.turnTimings.find((x) => x.prompt === prompt);
	return t ? { sessionId: t.sessionId, answer: t.deltas.map((d) => d.content).join('') } : undefined;
};

/** Waits until the published trigger's URL is registered (anything but 404: without a token it answers 401). */
async function waitForMcp(url, timeoutMs = 60_000) {
	const deadline = Date.now() + timeoutMs;
	let last = '';
	while (Date.now() < deadline) {
		const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: '{}', signal: AbortSignal.timeout(5000) }).catch((e) => ({ status: e.message }));
		if (r.status !== 404 && typeof r.status === 'number') return r.status;
		last = `HTTP ${r.status}`;
		await new Promise((res) => setTimeout(res, 300));
	}
	throw new Error(`the MCP URL ${url} was not registered (${last})`);
}

async function runMcpTests(ctx) {
	const { n8n, sandbox, check, log } = ctx;
	const skip = skipReason(n8n.runtime.N8N_RUNTIME_N8N_VERSION);
	if (skip) {
		log(`  SKIP MCP part: ${skip}`);
		return { skipped: skip };
	}
	const started = Date.now();
	const { CREDENTIAL, placeholderValues } = require('./cli-tests');
	const mcp = sdk();
	log(`  official MCP client: @modelcontextprotocol/sdk ${mcp.version}`);
	// Logged in afresh: n8n may listen on another port than when run.js logged in (chat-tests restarts it).
	const rest = await require('./rest-tests').setupAndLogin(n8n);

	// The trigger's Bearer credential, saved as the editor does.
	const token = `mcp-e2e-${crypto.randomBytes(12).toString('hex')}`;
	const created = await rest.post('/rest/credentials', { name: BEARER_CREDENTIAL_NAME, type: 'httpBearerAuth', data: { token } });
	const bearerId = created.json?.data?.id;
	if (!check(bearerId, 'mcp: Bearer Auth credential for the MCP Server Trigger saved over REST', created.text.slice(0, 300))) return {};

	const wf = W.pointCredentials(
		W.prepareWorkflow(path.join(ctx.examplesDir, EXAMPLE), { id: 'e2eMcpServer0001', values: placeholderValues(sandbox), credential: CREDENTIAL }),
		{ httpBearerAuth: { id: bearerId, name: BEARER_CREDENTIAL_NAME } },
	);
	const trigger = wf.nodes.find((nd) => nd.type === MCP_TRIGGER);
	const tool = wf.nodes.find((nd) => nd.type === `${W.NODE_TYPE}Tool`);
	if (!check(trigger && tool && trigger.parameters.authentication === 'bearerAuth', `mcp: examples/${EXAMPLE} has an MCP Server Trigger with Bearer auth and the LlamaCloud Chat Tool`, JSON.stringify(wf.nodes.map((nd) => nd.type)))) return {};
	trigger.webhookId = crypto.randomUUID();
	delete wf.meta;
	const workflowId = await publish(rest, wf);
	const url = `${n8n.url}/mcp/${trigger.parameters.path}`;
	await waitForMcp(url);
	log(`  ${url} (workflow ${workflowId}, published)`);
	const auth = { authorization: `Bearer ${token}` };
	const stats0 = { ...sandbox.stats };
	const seen = []; // everything the clients got, for the key scan

	// 1. No token, a wrong token: refused before anything reaches LlamaCloud.
	const requests0 = sandbox.requests.length;
	for (const [label, headers] of [['without a token', {}], ['with a wrong token', { authorization: 'Bearer not-the-token' }]]) {
		let error;
		try {
			const c = await connect(url, { headers });
			await c.client.close();
		} catch (e) {
			error = e;
		}
		const raw = await fetch(url, { method: 'POST', headers: { ...headers, 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-03-26', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } }) });
		const body = await raw.text();
		seen.push(String(error?.message), body);
		check(error && [401, 403].includes(raw.status), `mcp: a client ${label} is refused (the SDK's connect fails; n8n answers HTTP ${raw.status})`, `${error?.message ?? 'connected'}; HTTP ${raw.status} ${body.slice(0, 200)}`);
	}
	check(sandbox.requests.length === requests0, 'mcp: the refused clients reached nothing in LlamaCloud', `${sandbox.requests.length - requests0} requests`);

	// 2. listTools, over streamable HTTP and SSE.
	const description = tool.parameters.toolDescription;
	const a = await connect(url, { headers: auth });
	const listed = await a.client.listTools();
	seen.push(JSON.stringify(listed));
	const tools = listed.tools ?? [];
	const t = tools[0];
	log(`  listTools: ${JSON.stringify(tools.map((x) => ({ name: x.name, description: x.description, inputSchema: x.inputSchema })))}`);
	check(tools.length === 1 && t.description === description, "mcp: listTools (streamable HTTP) shows one tool, with the example's description", JSON.stringify(tools).slice(0, 500));
	check(t && t.inputSchema?.properties?.prompt?.type === 'string' && Object.keys(t.inputSchema.properties).length === 1 && (t.inputSchema.required ?? []).includes('prompt'),
		'mcp: its one argument is `prompt` (a string, required)', JSON.stringify(t?.inputSchema));
	const toolName = t?.name;

	// 3. callTool: the answer once, its sources, nothing else; the session deleted.
	const prompt = 'How much did revenue grow in Q3?';
	const before = { ...sandbox.stats };
	const call0 = a.traffic.length;
	const result = await a.client.callTool({ name: toolName, arguments: { prompt } });
	await Promise.all(a.traffic.map((x) => x.done));
	const text = textOf(result);
	seen.push(JSON.stringify(result));
	log(`  callTool result as the client sees it (${text.length} characters): ${text}`);
	const turn = turnOf(sandbox, prompt);
	let items;
	try {
		items = JSON.parse(text);
	} catch {
		items = undefined;
	}
	const item = Array.isArray(items) && items.length === 1 ? items[0] : undefined;
	check(!result.isError && turn?.answer && item?.answer === turn.answer, "mcp: callTool returns LlamaCloud's answer (the sandbox's turn for this prompt)", text.slice(0, 400));
	check(turn && count(text, JSON.stringify(turn.answer).slice(1, -1)) === 1, 'mcp: the answer appears exactly once in what the client gets', text.slice(0, 400));
	const sourceLines = typeof item?.sources === 'string' ? item.sources.split('\n').filter((l) => l.startsWith('- ')) : [];
	check(sourceLines.length > 0 && sourceLines.length <= 8 && sourceLines.every((l) => /^- .+\.pdf, p\. \d+/.test(l)) && item.sources.startsWith('**Sources**'),
		'mcp: the sources come as a short list (`**Sources**`, one `- file, p. N` line each)', JSON.stringify(item?.sources));
	check(item && Object.keys(item).sort().join() === 'answer,sources', 'mcp: nothing else in the result (no session_id, output, citations or usage)', JSON.stringify(item && Object.keys(item)));
	const callTraffic = a.traffic.slice(call0).filter((x) => x.method === 'POST');
	const callResponse = callTraffic.find((x) => /"tools\/call"/.test(x.request));
	const messages = callResponse ? callResponse.text.split('\n').filter((l) => l.startsWith('data:') && l.slice(5).trim()) : [];
	seen.push(...a.traffic.map((x) => x.text));
	check(callResponse && callResponse.status === 200 && messages.length === 1 && JSON.parse(messages[0].slice(5)).result && a.notes.length === 0,
		'mcp: the call\'s HTTP response carries one message, the result: nothing streamed, no notifications', `${callResponse?.contentType}: ${callResponse?.text.slice(0, 300)}; notifications ${JSON.stringify(a.notes).slice(0, 200)}`);
	const streamed = sandbox.requests.filter((q) => q.method === 'POST' && STREAM_PATH.test(q.path) && q.body?.prompt === prompt);
	check(streamed.length === 1, 'mcp: the question reached LlamaCloud exactly once', `${streamed.length} turns`);
	const d = (k) => sandbox.stats[k] - before[k];
	check(d('sessionsCreated') === 1 && d('sessionsDeleted') === 1 && turn && !sandbox.getSession(turn.sessionId), "mcp: the tool's session was deleted from LlamaCloud (created 1, deleted 1, gone from the store)",
		JSON.stringify({ created: d('sessionsCreated'), deleted: d('sessionsDeleted'), session: turn?.sessionId }));
	check(turn && !text.includes(turn.sessionId), 'mcp: no session ID in the result', turn?.sessionId);

	// 4. The same over SSE.
	const s = await connect(url, { headers: auth, transport: 'sse' });
	const sseListed = await s.client.listTools();
	const ssePrompt = 'What is the main risk flagged for Q4?';
	const sseResult = await s.client.callTool({ name: toolName, arguments: { prompt: ssePrompt } });
	seen.push(JSON.stringify(sseListed), JSON.stringify(sseResult));
	const sseTurn = turnOf(sandbox, ssePrompt);
	let sseItem;
	try {
		sseItem = JSON.parse(textOf(sseResult))[0];
	} catch {
		sseItem = undefined;
	}
	check(sseListed.tools?.length === 1 && sseListed.tools[0].name === toolName && sseListed.tools[0].description === description, 'mcp: listTools over SSE shows the same tool', JSON.stringify(sseListed).slice(0, 300));
	check(!sseResult.isError && sseTurn && sseItem?.answer === sseTurn.answer && typeof sseItem?.sources === 'string' && !sandbox.getSession(sseTurn.sessionId),
		'mcp: callTool over SSE returns its answer and sources, and its session is deleted', textOf(sseResult).slice(0, 300));
	await s.client.close();

	// 5. Two clients at once, each its own question: each gets its own answer.
	const b = await connect(url, { headers: auth });
	const prompts = ['How did revenue grow in the third quarter?', 'Which risk about customer concentration was flagged?'];
	const both = await Promise.all([a, b].map((c, i) => c.client.callTool({ name: toolName, arguments: { prompt: prompts[i] } })));
	seen.push(...both.map((r) => JSON.stringify(r)));
	const answers = both.map((r) => {
		try {
			return JSON.parse(textOf(r))[0]?.answer;
		} catch {
			return undefined;
		}
	});
	const turns = prompts.map((p) => turnOf(sandbox, p));
	check(turns.every(Boolean) && answers.every((ans, i) => ans === turns[i].answer) && answers[0] !== answers[1],
		'mcp: two clients calling at once each get the answer to their own question', JSON.stringify({ answers, expected: turns.map((x) => x?.answer) }).slice(0, 600));
	check(turns.every((x) => x && !sandbox.getSession(x.sessionId)), 'mcp: both sessions were deleted', JSON.stringify(turns.map((x) => x?.sessionId)));
	await b.client.close();

	// 6. A failing LlamaCloud turn: the client gets an error text for a model.
	const faults = [
		['LlamaCloud fails the message (HTTP 500)', () => sandbox.injectFault({ method: 'POST', path: STREAM_PATH, action: { type: 'status', status: 500, body: { detail: 'Internal Server Error' } } })],
		['LlamaCloud fails inside the turn (in-band error)', () => sandbox.setStreamBehaviour({ mode: 'in-band-error', errorMessage: 'Model overloaded' })],
	];
	for (const [label, inject] of faults) {
		inject();
		const failPrompt = `What were Q3 operating costs? (${label})`;
		const sent0 = sandbox.requests.length;
		let failed;
		try {
			failed = await a.client.callTool({ name: toolName, arguments: { prompt: failPrompt } });
		} catch (e) {
			failed = { isError: true, thrown: true, content: [{ type: 'text', text: e.message }] };
		}
		sandbox.clearFaults();
		sandbox.setStreamBehaviour({});
		const errText = textOf(failed);
		seen.push(JSON.stringify(failed));
		log(`  ${label}: the client got${failed.thrown ? ' (thrown)' : ''} ${JSON.stringify(errText)}`);
		const sessionIds = sandbox.turnTimings.map((x) => x.sessionId).concat(sandbox.requests.map((q) => (q.path.match(/\/api\/v1\/chat\/([^/]+)/) || [])[1]).filter(Boolean));
		const leaks = [];
		if (sessionIds.some((id) => errText.includes(id)) || /\bses-[\w-]+/.test(errText)) leaks.push('a session ID');
		if (/Session →|Get Many|Retry On Fail|'?Retries'?|Items per Batch|Batch Interval|credential|API key|Region/i.test(errText)) leaks.push('operator steps');
		if (errText.includes(sandbox.apiKey)) leaks.push('the API key');
		if (/https?:\/\//.test(errText)) leaks.push('a URL');
		check(failed.isError === true && !failed.thrown && /LlamaCloud/.test(errText), `mcp: ${label}: the client gets an error result that names LlamaCloud`, errText.slice(0, 400));
		check(leaks.length === 0, `mcp: ${label}: the error text is for a model (no session ID, no operator steps, no URL, no key)`, `${leaks.join(', ')}: ${errText.slice(0, 600)}`);
		// A client cannot check or reuse a session: the failed call leaves none behind either.
		const sentHere = sandbox.requests.slice(sent0).filter((q) => q.method === 'DELETE' || (q.method === 'POST' && STREAM_PATH.test(q.path)));
		const failedSessions = [...new Set(sentHere.map((q) => q.path.match(/\/api\/v1\/chat\/([^/]+)/)[1]))];
		check(failedSessions.length === 1 && !sandbox.getSession(decodeURIComponent(failedSessions[0])), `mcp: ${label}: the failed call's session was deleted`, JSON.stringify(failedSessions));
	}
	await a.client.close();

	// 7. The key, anywhere the clients got anything.
	const all = seen.join('\n');
	check(all.length > 0 && !all.includes(sandbox.apiKey), 'mcp: the API key appears nowhere in what the clients got', `${all.length} characters scanned`);
	const total = (k) => sandbox.stats[k] - stats0[k];
	log(`  sandbox: +${total('sessionsCreated')} sessions, -${total('sessionsDeleted')}, ${total('turnsStarted')} turns; MCP part ${((Date.now() - started) / 1000).toFixed(1)} s`);
	return { workflowId, url };
}

module.exports = { runMcpTests, skipReason };

if (require.main === module) {
	const { REPO } = require('./lib/n8n');
	require('./lib/standalone')
		.runStandalone({ name: 'mcp-tests', artifactsDir: path.join(REPO, 'artifacts', 'e2e-mcp'), fresh: true, limitMs: 600_000, body: (ctx) => runMcpTests(ctx) })
		.then(({ passed, failed }) => {
			console.log(`\nmcp e2e: ${passed} passed, ${failed.length} failed`);
			process.exit(failed.length ? 1 : 0);
		});
}
