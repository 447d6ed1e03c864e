'use strict';
// n8n's Chat (Chat Hub, n8n 2.x; issue #17 point 4), against `n8n start` with the `chat-hub` module
// enabled: a workflow whose Chat Trigger is "Make Available in n8n Chat Hub" → Ask with a Simple Memory
// is published, listed among the Chat's agents, and answers there, streamed, with a follow-up that
// continues the LlamaCloud session. Driven through the REST API the Chat UI uses:
//   PUT  /rest/chat/enabled                          {enabled: true}      (Chat Hub is off until an admin turns it on)
//   POST /rest/chat/models                           {credentials: {}}    → n8n.models: the published workflow agents
//   POST /rest/chat/conversations/send               {sessionId, messageId, message, model: {provider: 'n8n', workflowId}, previousMessageId, …}
//   POST /rest/chat/conversations/:id/reconnect?lastSequence=N            → the streamed chunks buffered so far
//   GET  /rest/chat/conversations/:id                                     → the stored messages
// The UI gets the same chunks over the push connection (chatHubStreamChunk); the reconnect endpoint
// reads the same buffer, so polling it shows the answer arriving while LlamaCloud (the sandbox) writes it.
//
// Chat Hub must be on in n8n (N8nInstance({ chatHub: true }): lib/n8n.js disables the module otherwise).
// Standalone: node scripts/e2e/chat-hub-tests.js [--browser] [--no-memory] — runtime, package, sandbox and n8n
// as in run.js (lib/standalone.js), then only these checks (and n8n's Chat in Chromium with --browser);
// --no-memory: Ask keeps the conversation itself (Conversation ID = the Chat's session ID) instead.
const crypto = require('node:crypto');
const path = require('node:path');

const AGENT_NAME = 'LlamaCloud: my documents';
const MEMORY_NODE = 'Simple Memory';
const FIRST = 'What grew in Q3?';
const FOLLOW_UP = 'And what are the risks?';

/** The chat example as a Chat Hub agent: Chat Trigger available in Chat → Ask, with a Simple Memory on Ask. */
function chatHubWorkflow(examplesDir, sandbox, { memory = true } = {}) {
	const { chatWorkflow, ASK_NODE } = require('./chat-tests');
	const { wf } = chatWorkflow(examplesDir, sandbox, { id: 'e2eChatHub000001', name: 'LlamaCloud Chat Hub agent', responseMode: 'streaming' });
	const trigger = wf.nodes.find((n) => n.type === '@n8n/n8n-nodes-langchain.chatTrigger');
	// Chat Hub needs Chat Trigger 1.2 or later (chat-hub.constants.js CHAT_TRIGGER_NODE_MIN_VERSION).
	trigger.typeVersion = 1.4;
	trigger.parameters = { availableInChat: true, agentName: AGENT_NAME, agentDescription: 'Answers from the Q3 reports, with sources', options: { responseMode: 'streaming' } };
	const ask = wf.nodes.find((n) => n.name === ASK_NODE);
	if (memory) {
		delete ask.parameters.conversationId;
		wf.nodes.push({
			parameters: {},
			id: crypto.randomUUID(),
			name: MEMORY_NODE,
			type: '@n8n/n8n-nodes-langchain.memoryBufferWindow',
			typeVersion: 1.3,
			position: [260, 220],
		});
		wf.connections[MEMORY_NODE] = { ai_memory: [[{ node: ASK_NODE, type: 'ai_memory', index: 0 }]] };
	}
	return wf;
}

/** The text of a Chat Hub message DTO (content is a list of parsed parts). */
function messageText(m) {
	if (typeof m?.content === 'string') return m.content;
	return (m?.content || []).map((p) => (typeof p.content === 'string' ? p.content : '')).join('');
}

/**
 * One Chat Hub turn: send, poll the stream buffer until the execution ends, then read the stored
 * conversation. Returns the chunks (each stamped with performance.now() when first seen), the stored
 * AI message, and the sandbox turn it caused.
 */
async function chatHubTurn(ctx, { sessionId, workflowId, message, previousMessageId, timeoutMs = 60_000 }) {
	const { rest, sandbox } = ctx;
	const before = sandbox.turnTimings.length;
	const requestsBefore = sandbox.requests.length;
	const messageId = crypto.randomUUID();
	const started = performance.now();
	const sent = await rest.post('/rest/chat/conversations/send', {
		messageId,
		sessionId,
		message,
		model: { provider: 'n8n', workflowId },
		previousMessageId,
		credentials: {},
		attachments: [],
		timeZone: 'UTC',
	});
	const chunks = [];
	let lastSequence = 0;
	let sawActive = false;
	let ai;
	const deadline = Date.now() + timeoutMs;
	while (Date.now() < deadline) {
		const rc = (await rest.post(`/rest/chat/conversations/${sessionId}/reconnect?lastSequence=${lastSequence}`, {})).json?.data;
		const at = performance.now();
		for (const c of rc?.pendingChunks || []) chunks.push({ ...c, receivedAt: at });
		lastSequence = rc?.lastSequenceNumber ?? lastSequence;
		sawActive ||= !!rc?.hasActiveStream;
		if (!rc?.hasActiveStream && (sawActive || performance.now() - started > 2000)) {
			const conv = (await rest.get(`/rest/chat/conversations/${sessionId}`)).json?.data;
			const messages = Object.values(conv?.conversation?.messages || {});
			ai = messages.find((m) => m.type === 'ai' && m.previousMessageId === messageId);
			if (ai && ai.status !== 'running') break;
		}
		await new Promise((r) => setTimeout(r, 15));
	}
	const timing = sandbox.turnTimings.slice(before).find((t) => t.prompt === message);
	return {
		sent: sent.json?.data,
		messageId,
		chunks,
		ai,
		text: messageText(ai),
		timing,
		sessionId: timing?.sessionId,
		llamaCloudRequests: sandbox.requests.slice(requestsBefore).filter((q) => q.path.startsWith('/api/v1/chat')),
		startedAt: started,
		ms: performance.now() - started,
	};
}

/** n8n stores execution data "flatted": one array, the root first, every string and object replaced by its index. */
function unflatten(text) {
	const a = JSON.parse(text);
	const done = new Map();
	const at = (i) => {
		if (done.has(i)) return done.get(i);
		const v = a[i];
		if (typeof v !== 'object' || v === null) return v;
		const out = Array.isArray(v) ? [] : {};
		done.set(i, out);
		for (const [k, x] of Object.entries(v)) out[k] = typeof x === 'string' ? at(Number(x)) : x;
		return out;
	};
	return at(0);
}

/** The first run of a node in an execution (executionTime, data, …), read through the editor's REST API. */
async function nodeRun(rest, executionId, nodeName) {
	const data = (await rest.get(`/rest/executions/${executionId}`)).json?.data?.data;
	const run = typeof data === 'string' ? unflatten(data) : data;
	return run?.resultData?.runData?.[nodeName]?.[0];
}

/** The first output item of a node in an execution. */
async function nodeOutput(rest, executionId, nodeName) {
	return (await nodeRun(rest, executionId, nodeName))?.data?.main?.[0]?.[0]?.json;
}

async function runChatHubTests(ctx) {
	const { sandbox, check, log, rest } = ctx;
	const memory = ctx.memory !== false;
	// Chat Hub is off until an admin turns it on (settings key chat.access.enabled, default false).
	const enabled = await rest.request('PUT', '/rest/chat/enabled', { enabled: true }, { expectStatus: 200 });
	check(enabled.json?.data?.enabled === true, 'chat hub: PUT /rest/chat/enabled turns n8n\'s Chat on', enabled.text.slice(0, 300));

	const { publish, storedAnswer } = require('./chat-tests');
	const wf = chatHubWorkflow(ctx.examplesDir, sandbox, { memory });
	const workflowId = await publish(rest, wf);
	const models = (await rest.post('/rest/chat/models', { credentials: {} })).json?.data;
	const agent = (models?.n8n?.models || []).find((m) => m.model?.workflowId === workflowId);
	check(agent?.name === AGENT_NAME, `chat hub: the published workflow is listed among the Chat's agents as "${AGENT_NAME}"`, JSON.stringify(models?.n8n).slice(0, 400));
	if (!agent) return { workflowId };

	sandbox.setStreamBehaviour({ contextAnswers: true, deltaDelayMs: 40 });
	try {
		const sessionId = crypto.randomUUID();
		const created0 = sandbox.stats.sessionsCreated;
		const turn = async (label, message, previousMessageId) => {
			const t = await chatHubTurn(ctx, { sessionId, workflowId, message, previousMessageId });
			const answer = t.timing ? storedAnswer(sandbox, t.timing.sessionId) : undefined;
			check(t.sent?.status === 'streaming' && t.ai?.status === 'success' && answer, `chat hub ${label}: answered (status ${t.ai?.status})`,
				`send: ${JSON.stringify(t.sent)}; message: ${JSON.stringify(t.ai).slice(0, 400)}`);
			if (!answer) return t;
			check(t.text.startsWith(answer) && /\n\n\*\*Sources\*\*(\n- .+)+$/.test(t.text.slice(answer.length)), `chat hub ${label}: the message is the answer, then its sources`,
				`${JSON.stringify(t.text.slice(0, 300))} vs ${JSON.stringify(answer.slice(0, 120))}`);
			// Streamed: chunks were in n8n's stream buffer before LlamaCloud finished writing the answer. n8n empties
			// that buffer when the execution ends, so the last chunks (the sources) may be gone before the next poll.
			const early = t.chunks.filter((c) => c.receivedAt < t.timing.finishedAt);
			const joined = t.chunks.map((c) => c.content).join('');
			check(early.length > 1 && joined.length > 0 && t.text.startsWith(joined),
				`chat hub ${label}: streamed (chunks seen before LlamaCloud finished; the chunks seen begin the message)`,
				`${t.chunks.length} chunks, ${early.length} before the turn finished; seen ${JSON.stringify(joined.slice(0, 200))}`);
			log(`  chat hub ${label}: ${t.chunks.length} chunks (${early.length} while LlamaCloud wrote), first seen ${t.chunks.length ? (t.chunks[0].receivedAt - t.startedAt).toFixed(0) : '-'} ms after sending; ` +
				`LlamaCloud requests: ${t.llamaCloudRequests.map((q) => `${q.method} ${q.path.replace(/ses[-_][^/]+/, ':session')}`).join(', ')}`);
			return { ...t, answer };
		};
		const first = await turn('turn 1', FIRST, null);
		const second = await turn('turn 2 (follow-up)', FOLLOW_UP, first.ai?.id ?? null);
		check(first.sessionId && second.sessionId === first.sessionId, 'chat hub: the follow-up continued the LlamaCloud session', `${first.sessionId} vs ${second.sessionId}`);
		check(second.answer?.startsWith(`Turn 2, following up on "${FIRST}"`), 'chat hub: the follow-up was answered with the conversation\'s context', second.answer?.slice(0, 120));
		const { ASK_NODE } = require('./chat-tests');
		const store = memory ? 'memory' : 'node';
		const out = second.ai?.executionId ? await nodeOutput(rest, second.ai.executionId, ASK_NODE) : undefined;
		check(out?.conversation?.store === store && out.conversation.session_id === first.sessionId && out.conversation.new_session === false,
			`chat hub: the follow-up's session came from ${memory ? `the ${MEMORY_NODE}` : 'the node\'s own store'} (Ask's output conversation.store = ${store})`,
			JSON.stringify(out?.conversation ?? out ?? second.ai?.executionId));
		check(sandbox.stats.sessionsCreated - created0 === 1, 'chat hub: one LlamaCloud session for the conversation', `${sandbox.stats.sessionsCreated - created0} sessions`);
		const followUpCalls = second.llamaCloudRequests.length;
		check(followUpCalls === 1, 'chat hub: the follow-up made 1 LlamaCloud request (the message stream)', second.llamaCloudRequests.map((q) => `${q.method} ${q.path}`).join(', '));
		return { workflowId, agent, sessionId, first, second };
	} finally {
		sandbox.setStreamBehaviour({});
	}
}

module.exports = { runChatHubTests, chatHubWorkflow, chatHubTurn, messageText, nodeRun, AGENT_NAME, FIRST, FOLLOW_UP };

if (require.main === module) {
	require('./lib/standalone').runStandalone({
		name: 'chat hub e2e',
		artifacts: 'e2e-chat-hub',
		n8nOptions: { chatHub: true },
		exit: true,
		body: async (ctx) => {
			const out = await runChatHubTests({ ...ctx, memory: !process.argv.includes('--no-memory') });
			if (process.argv.includes('--browser') && out.agent) await require('./browser-chat-hub-tests').runBrowserChatHubTests(ctx);
		},
	});
}
