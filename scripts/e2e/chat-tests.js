'use strict';
// Chat part of the e2e run (issue #8), against `n8n start`: publishes examples/chat-with-my-docs.json
// (Chat Trigger, Response Mode Streaming → Ask with a conversation) and a copy in "When Last Node
// Finishes" mode, then chats through the production chat URL the way n8n's chat widget does
// (POST {action: 'sendMessage', sessionId, chatInput}), reading the newline-delimited JSON chunks as
// they arrive. Checks streaming against the sandbox's own write times, conversations across an n8n
// restart, a deleted session, and the last-node answer.
//
// Standalone: node scripts/e2e/chat-tests.js [--browser] — runtime, package, sandbox and n8n are set
// up as in run.js, then only these checks run (and the editor chat with --browser).
// node scripts/e2e/chat-tests.js --bench — only the streaming latency, one JSON line for npm run bench.
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const W = require('./lib/workflows');

const EXAMPLE = 'chat-with-my-docs.json';
const ASK_NODE = 'Ask my documents';
/** The sandbox pauses this long after each text delta, so that an answer visibly streams. */
const DELTA_DELAY_MS = 40;

/** The example, ready for this n8n: placeholders filled, own id and webhook, Response Mode as asked. */
function chatWorkflow(examplesDir, sandbox, { id, name, responseMode }) {
	const { CREDENTIAL, placeholderValues } = require('./cli-tests');
	const wf = W.prepareWorkflow(path.join(examplesDir, EXAMPLE), { id, values: placeholderValues(sandbox), credential: CREDENTIAL });
	const trigger = wf.nodes.find((n) => n.type === '@n8n/n8n-nodes-langchain.chatTrigger');
	if (!trigger) throw new Error(`${EXAMPLE} has no Chat Trigger`);
	trigger.webhookId = crypto.randomUUID();
	trigger.parameters.options = { ...trigger.parameters.options, responseMode };
	if (name) wf.name = name;
	delete wf.meta;
	return { wf, webhookId: trigger.webhookId };
}

/** Saves the workflow through the editor's REST API and publishes it (what "Publish" does). */
async function publish(rest, wf) {
	const created = await rest.post('/rest/workflows', { name: wf.name, nodes: wf.nodes, connections: wf.connections, settings: wf.settings, active: false });
	const saved = created.json?.data;
	if (!saved?.id) throw new Error(`creating "${wf.name}" returned ${created.text.slice(0, 300)}`);
	await rest.post(`/rest/workflows/${saved.id}/activate`, { versionId: saved.versionId });
	return saved.id;
}

/**
 * POSTs a chat message and reads the response body as it arrives: one JSON object per line
 * (n8n's streaming format), each stamped with performance.now() at arrival.
 */
async function postChat(url, body, { timeoutMs = 60_000 } = {}) {
	const res = await fetch(url, {
		method: 'POST',
		headers: { 'content-type': 'application/json' },
		body: JSON.stringify(body),
		signal: AbortSignal.timeout(timeoutMs),
	});
	const decoder = new TextDecoder();
	const chunks = [];
	let raw = '';
	let pending = '';
	const take = (line, at) => {
		if (line.trim() === '') return;
		try {
			chunks.push({ ...JSON.parse(line), receivedAt: at });
		} catch {
			chunks.push({ unparsed: line, receivedAt: at });
		}
	};
	for await (const part of res.body) {
		const at = performance.now();
		const text = decoder.decode(part, { stream: true });
		raw += text;
		pending += text;
		let nl;
		while ((nl = pending.indexOf('\n')) >= 0) {
			take(pending.slice(0, nl), at);
			pending = pending.slice(nl + 1);
		}
	}
	take(pending, performance.now());
	return { status: res.status, contentType: res.headers.get('content-type') || '', chunks, raw };
}

/** Waits until n8n serves the chat page of a published Chat Trigger (its webhooks are registered). */
async function waitForChat(url, timeoutMs = 60_000) {
	const deadline = Date.now() + timeoutMs;
	let last = '';
	while (Date.now() < deadline) {
		try {
			const r = await fetch(url, { signal: AbortSignal.timeout(5000) });
			if (r.ok) return;
			last = `HTTP ${r.status}`;
		} catch (e) {
			last = e.message;
		}
		await new Promise((r) => setTimeout(r, 500));
	}
	throw new Error(`the chat at ${url} did not come up (${last})`);
}

/** The last complete answer (`text` event) LlamaCloud (the sandbox) stored in a session. */
function storedAnswer(sandbox, sessionId) {
	const events = sandbox.getSession(sessionId)?.events || [];
	const texts = events.filter((e) => e.type === 'text');
	return texts.length ? texts[texts.length - 1].content : undefined;
}

const median = (xs) => {
	const s = [...xs].sort((a, b) => a - b);
	return s.length ? s[Math.floor((s.length - 1) / 2)] : NaN;
};

async function runChatTests(ctx) {
	const { n8n, sandbox, check, log, rest } = ctx;
	const examplesDir = ctx.examplesDir;
	if (!check(fs.existsSync(path.join(examplesDir, EXAMPLE)), `chat: examples/${EXAMPLE} exists`, 'missing')) return {};
	sandbox.setStreamBehaviour({ contextAnswers: true, deltaDelayMs: DELTA_DELAY_MS });

	const streaming = chatWorkflow(examplesDir, sandbox, { id: 'e2eChatStream001', responseMode: 'streaming' });
	const lastNode = chatWorkflow(examplesDir, sandbox, { id: 'e2eChatLastNode1', name: `${streaming.wf.name} (last node)`, responseMode: 'lastNode' });
	const streamingId = await publish(rest, streaming.wf);
	const lastNodeId = await publish(rest, lastNode.wf);
	// n8n listens on another port after a restart: the URLs are built when used.
	const chatUrl = () => `${n8n.url}/webhook/${streaming.webhookId}/chat`;
	const lastNodeUrl = () => `${n8n.url}/webhook/${lastNode.webhookId}/chat`;
	await waitForChat(chatUrl());
	await waitForChat(lastNodeUrl());
	check(true, `chat: ${EXAMPLE} published (workflow ${streamingId}), chat at /webhook/${streaming.webhookId}/chat`);
	log(`  ${chatUrl()}`);

	const latencies = []; // per delta: n8n's client received it − the sandbox wrote it (ms)
	const spans = []; // per turn: { written, received } first→last delta, ms
	const turn = async (label, sessionId, chatInput) => {
		const before = sandbox.turnTimings.length;
		const started = performance.now();
		const r = await postChat(chatUrl(), { action: 'sendMessage', sessionId, chatInput });
		const timing = sandbox.turnTimings.slice(before).find((t) => t.prompt === chatInput);
		const ours = r.chunks.filter((c) => c.metadata?.nodeName === ASK_NODE);
		const items = ours.filter((c) => c.type === 'item');
		const text = items.map((c) => c.content).join('');
		const answer = timing ? storedAnswer(sandbox, timing.sessionId) : undefined;
		const result = { label, r, timing, items, text, answer, sessionId: timing?.sessionId, ms: performance.now() - started };
		check(r.status === 200 && timing && answer, `chat ${label}: HTTP 200 and LlamaCloud answered`, `status ${r.status}; ${r.raw.slice(0, 400)}`);
		if (!timing || !answer) return result;
		check(
			ours.length > 2 && ours[0].type === 'begin' && ours[ours.length - 1].type === 'end' && ours.slice(1, -1).every((c) => c.type === 'item'),
			`chat ${label}: the node's chunks are begin, item…, end`,
			JSON.stringify(r.chunks.map((c) => c.type ?? c.unparsed)).slice(0, 300),
		);
		check(items.length > 1 && items[0].receivedAt < timing.finishedAt, `chat ${label}: the first item chunk arrived before the sandbox finished the turn`,
			items.length ? `first chunk ${(items[0].receivedAt - started).toFixed(0)} ms, turn finished ${(timing.finishedAt - started).toFixed(0)} ms` : 'no item chunk');
		const sources = text.slice(answer.length);
		check(text.startsWith(answer) && /^\n\n\*\*Sources\*\*(\n- .+)+$/.test(sources), `chat ${label}: the chunks joined equal the answer, then its sources`,
			`joined: ${JSON.stringify(text.slice(0, 300))}… answer: ${JSON.stringify(answer.slice(0, 120))}`);
		// Per delta: when the sandbox wrote it, when it came out of n8n (the deltas are the first items).
		const deltaItems = items.slice(0, timing.deltas.length);
		if (deltaItems.every((c, i) => c.content === timing.deltas[i].content)) {
			deltaItems.forEach((c, i) => latencies.push(c.receivedAt - timing.deltas[i].writtenAt));
			const last = timing.deltas.length - 1;
			spans.push({ written: timing.deltas[last].writtenAt - timing.deltas[0].writtenAt, received: deltaItems[last].receivedAt - timing.deltas[0].writtenAt });
		} else check(false, `chat ${label}: each text delta came through as one item chunk`, JSON.stringify(deltaItems.map((c) => c.content)).slice(0, 300));
		log(`  ${label}: ${items.length} chunks, first after ${(items[0].receivedAt - started).toFixed(0)} ms, turn done after ${(timing.finishedAt - started).toFixed(0)} ms, response ${result.ms.toFixed(0)} ms, session ${timing.sessionId}`);
		return result;
	};

	const A = `e2e-chat-A-${crypto.randomUUID()}`;
	const B = `e2e-chat-B-${crypto.randomUUID()}`;
	const created0 = sandbox.stats.sessionsCreated;
	const a1 = await turn('A1', A, 'What grew in Q3?');
	const a2 = await turn('A2', A, 'And what are the risks?');
	const b1 = await turn('B1', B, 'What does the handbook say about onboarding?');
	check(a1.sessionId && a2.sessionId === a1.sessionId, 'chat: turn 2 of A continued A\'s session', `${a1.sessionId} vs ${a2.sessionId}`);
	check(a2.answer?.startsWith('Turn 2, following up on "What grew in Q3?"'), 'chat: turn 2 of A was answered with the history of A', a2.answer?.slice(0, 120));
	check(b1.sessionId && b1.sessionId !== a1.sessionId && b1.answer?.startsWith('Turn 1,'), 'chat: B got its own new session', `${b1.sessionId}`);

	// Restart n8n between turns 2 and 3 of A: the mapping must come back from the workflow's static data.
	const restart = await (async () => {
		const t0 = Date.now();
		await n8n.stop();
		await n8n.start();
		await waitForChat(chatUrl());
		return Date.now() - t0;
	})();
	log(`  n8n restarted in ${restart} ms`);
	const a3 = await turn('A3 (after an n8n restart)', A, 'Summarise that for the board');
	check(a3.sessionId === a1.sessionId, 'chat: after an n8n restart, turn 3 of A went to A\'s session', `${a3.sessionId} vs ${a1.sessionId}`);
	check(a3.answer?.startsWith('Turn 3, following up on "And what are the risks?"'), 'chat: turn 3 of A was answered with the history of A', a3.answer?.slice(0, 120));
	check(sandbox.stats.sessionsCreated - created0 === 2, 'chat: three turns of A and one of B made exactly 2 sessions', `${sandbox.stats.sessionsCreated - created0} sessions`);

	// A session deleted meanwhile (e.g. by the nightly clean-up): a new session, and an answer.
	const del = await fetch(`${sandbox.url}/api/v1/chat/${a1.sessionId}`, { method: 'DELETE', headers: { authorization: `Bearer ${sandbox.apiKey}` } });
	check(del.ok, 'chat: A\'s session deleted on the sandbox', `HTTP ${del.status}`);
	const a4 = await turn('A4 (session deleted)', A, 'And in Q4?');
	check(a4.sessionId && a4.sessionId !== a1.sessionId && a4.answer?.startsWith('Turn 1,'), 'chat: a turn whose session was deleted got a new session and an answer', `${a4.sessionId}: ${a4.answer?.slice(0, 80)}`);

	// "When Last Node Finishes": n8n answers with the last node's item; its chat shows `output`.
	const before = sandbox.turnTimings.length;
	const ln = await postChat(lastNodeUrl(), { action: 'sendMessage', sessionId: `e2e-chat-C-${crypto.randomUUID()}`, chatInput: 'What grew in Q3?' });
	const lnTiming = sandbox.turnTimings[before];
	let lnBody;
	try {
		lnBody = JSON.parse(ln.raw);
	} catch {
		lnBody = undefined;
	}
	const lnAnswer = lnTiming ? storedAnswer(sandbox, lnTiming.sessionId) : undefined;
	check(ln.status === 200 && lnBody && lnAnswer && lnBody.output === lnAnswer, 'chat (When Last Node Finishes): the response\'s `output` is the answer', `status ${ln.status}: ${ln.raw.slice(0, 300)}`);
	log(`  last-node mode: output = ${JSON.stringify(String(lnBody?.output).slice(0, 80))}…`);

	sandbox.setStreamBehaviour({});
	const lat = {
		turns: spans.length,
		deltas: latencies.length,
		medianDeltaLatencyMs: median(latencies),
		maxDeltaLatencyMs: Math.max(...latencies),
		medianWrittenSpanMs: median(spans.map((s) => s.written)),
		medianReceivedSpanMs: median(spans.map((s) => s.received)),
	};
	lat.ratio = lat.medianReceivedSpanMs / lat.medianWrittenSpanMs;
	log(
		`  streaming latency through n8n: ${lat.deltas} deltas in ${lat.turns} turns; delta written → received: median ${lat.medianDeltaLatencyMs.toFixed(1)} ms, max ${lat.maxDeltaLatencyMs.toFixed(1)} ms; ` +
			`first→last delta written ${lat.medianWrittenSpanMs.toFixed(0)} ms vs received ${lat.medianReceivedSpanMs.toFixed(0)} ms (${lat.ratio.toFixed(3)}×)`,
	);
	return { streamingWorkflowId: streamingId, lastNodeWorkflowId: lastNodeId, chatUrl: chatUrl(), latency: lat };
}


/**
 * Streaming latency through real n8n, for `npm run bench` (row 5): per text delta, when the sandbox
 * wrote it and when the chat client got it out of n8n, over `turns` turns (after one warm-up turn).
 */
async function measureStreaming(ctx, { turns = 6 } = {}) {
	const { n8n, sandbox, rest } = ctx;
	sandbox.setStreamBehaviour({ deltaDelayMs: 20 });
	const { wf, webhookId } = chatWorkflow(ctx.examplesDir, sandbox, { id: 'e2eChatBench0001', responseMode: 'streaming' });
	await publish(rest, wf);
	const url = `${n8n.url}/webhook/${webhookId}/chat`;
	await waitForChat(url);
	const latencies = [];
	const written = [];
	const received = [];
	for (let t = 0; t <= turns; t++) {
		const before = sandbox.turnTimings.length;
		const r = await postChat(url, { action: 'sendMessage', sessionId: `bench-${crypto.randomUUID()}`, chatInput: 'What grew in Q3?' });
		const timing = sandbox.turnTimings[before];
		const items = r.chunks.filter((c) => c.type === 'item' && c.metadata?.nodeName === ASK_NODE);
		if (r.status !== 200 || !timing || items.length < timing.deltas.length) throw new Error(`turn ${t}: HTTP ${r.status}, ${items.length} item chunks`);
		if (t === 0) continue; // warm-up: first execution of the workflow in this process
		timing.deltas.forEach((d, i) => {
			if (items[i].content !== d.content) throw new Error(`turn ${t}: chunk ${i} is not delta ${i}`);
			latencies.push(items[i].receivedAt - d.writtenAt);
		});
		const last = timing.deltas.length - 1;
		written.push(timing.deltas[last].writtenAt - timing.deltas[0].writtenAt);
		received.push(items[last].receivedAt - timing.deltas[0].writtenAt);
	}
	sandbox.setStreamBehaviour({});
	const sorted = [...latencies].sort((a, b) => a - b);
	return {
		turns,
		deltas: latencies.length,
		medianDeltaLatencyMs: median(latencies),
		p95DeltaLatencyMs: sorted[Math.floor(0.95 * (sorted.length - 1))],
		medianWrittenSpanMs: median(written),
		medianReceivedSpanMs: median(received),
		ratio: median(received) / median(written),
		n8nVersion: ctx.n8nVersion,
	};
}

module.exports = { runChatTests, measureStreaming, postChat, publish, chatWorkflow, waitForChat, storedAnswer, EXAMPLE, ASK_NODE, DELTA_DELAY_MS };

if (require.main === module) {
	// The same set-up as run.js (scripts/e2e/lib/standalone.js), then only these checks.
	const { REPO } = require('./lib/n8n');
	const bench = process.argv.includes('--bench');
	require('./lib/standalone')
		.runStandalone({
			name: 'chat-tests',
			artifactsDir: path.join(REPO, 'artifacts', bench ? 'bench-chat' : 'e2e-chat'),
			// Ends before `npm run bench` would kill it (240 s), so that n8n is always stopped by us.
			limitMs: bench ? 200_000 : 600_000,
			body: async (base) => {
				const ctx = { ...base, examplesDir: path.join(REPO, 'examples'), n8nVersion: base.runtime.N8N_RUNTIME_N8N_VERSION };
				if (bench) {
					console.log(`BENCH_RESULT ${JSON.stringify(await measureStreaming(ctx))}`);
					return;
				}
				const out = await runChatTests(ctx);
				if (process.argv.includes('--browser')) {
					const { runBrowserChatTests } = require('./browser-chat-tests');
					await runBrowserChatTests({ ...ctx, owner: require('./rest-tests').OWNER, workflowId: out.streamingWorkflowId });
				}
			},
		})
		.then(({ failed }) => {
			if (!bench) console.log(`\nchat e2e: ${failed.length ? `${failed.length} failed` : 'all passed'}`);
			process.exit(failed.length ? 1 : 0);
		});
}
