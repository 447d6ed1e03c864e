#!/usr/bin/env node
'use strict';
/*
 * What Redis Chat Memory costs a chat turn (issue #17), through a real n8n 2.41.1 (production chat URL,
 * Response Mode Streaming), against the same turn without a memory, measured in the same run:
 *
 *   npm run build && npm run build:dev && node scripts/bench/memory-bench.js [--conversations 10] [--follow-ups 3] [--delta-delay-ms 20] [--aa]
 *
 * Two published workflows, the same but for the memory:
 *   baseline  Chat Trigger → Ask (Conversation ID = the chat's sessionId; the node's in-process store)
 *   memory    Chat Trigger → Ask with a Redis Chat Memory (Redis on 127.0.0.1, lib/services.js)
 * Each has --conversations conversations of 1 first turn and --follow-ups follow-ups, sent one at a time,
 * interleaved turn by turn (baseline, memory, memory, baseline, …), after one warm-up conversation each.
 * Per turn, on the chat client's clock: time to the first token (the POST sent → the first `item` chunk of Ask),
 * the whole turn (→ the response's end), and the time LlamaCloud (the sandbox, in this process) saw before
 * its first delta (POST sent → first delta written: n8n, the node and the memory before the stream starts).
 * LlamaCloud requests per turn are counted on the sandbox. Prints a markdown table (median, p95, memory −
 * baseline, memory ÷ baseline) and a BENCH_RESULT JSON line; exits 1 when the bench broke (a turn not
 * answered, a follow-up that did not continue its session), never because of a number.
 * --aa: both sides without memory (two copies of the baseline workflow): the differences this machine shows
 * by chance, to read the memory numbers against.
 */
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { runStandalone } = require('../e2e/lib/standalone');
const { Redis, redisCommand } = require('../e2e/lib/services');
const { freePort } = require('../e2e/lib/n8n');
const { chatWorkflow, publish, postChat, waitForChat, ASK_NODE } = require('../e2e/chat-tests');
const { nodeRun } = require('../e2e/chat-hub-tests');

const REDIS_CREDENTIAL = { name: 'Redis (bench)', type: 'redis' };
const MEMORY_NODE = 'Redis Chat Memory';
const QUESTIONS = ['What grew in Q3?', 'And what are the risks?', 'Summarise that for the board', 'What about Q4?', 'Who owns the follow-up?'];

function parseArgs(argv) {
	const o = { conversations: 10, followUps: 3, deltaDelayMs: 20, aa: false };
	for (let i = 0; i < argv.length; i++) {
		const a = argv[i];
		if (a === '--conversations') o.conversations = Number(argv[++i]);
		else if (a === '--follow-ups') o.followUps = Number(argv[++i]);
		else if (a === '--delta-delay-ms') o.deltaDelayMs = Number(argv[++i]);
		else if (a === '--aa') o.aa = true;
		else throw new Error(`unknown argument ${a} (see the comment at the top of ${path.basename(__filename)})`);
	}
	return o;
}

/** Nearest-rank quantile (q = 0.5: median, 0.95: p95). */
function quantile(values, q) {
	const s = [...values].sort((a, b) => a - b);
	return s.length ? s[Math.max(0, Math.ceil(q * s.length) - 1)] : NaN;
}

/**
 * The chat example with a Redis Chat Memory on Ask's Memory input (`ai_memory`), and on the Chat Trigger
 * (Load Previous Session: From Memory), as in examples/chat-with-memory.json. Without a Memory input on
 * Ask (a build before issue #17), the memory goes to the Chat Trigger only, and the run says so.
 */
function memoryWorkflow(examplesDir, sandbox, { credentialId, askHasMemoryInput }) {
	const { wf, webhookId } = chatWorkflow(examplesDir, sandbox, { id: 'benchRedisMem001', name: 'Bench: Redis Chat Memory', responseMode: 'streaming' });
	const trigger = wf.nodes.find((n) => n.type === '@n8n/n8n-nodes-langchain.chatTrigger');
	trigger.parameters.options = { ...trigger.parameters.options, loadPreviousSession: 'memory' };
	const ask = wf.nodes.find((n) => n.name === ASK_NODE);
	const targets = [{ node: trigger.name, type: 'ai_memory', index: 0 }];
	if (askHasMemoryInput) {
		delete ask.parameters.conversationId;
		targets.push({ node: ASK_NODE, type: 'ai_memory', index: 0 });
	}
	wf.nodes.push({
		parameters: {},
		id: crypto.randomUUID(),
		name: MEMORY_NODE,
		type: '@n8n/n8n-nodes-langchain.memoryRedisChat',
		typeVersion: 1.5,
		position: [260, 220],
		credentials: { redis: { id: credentialId, name: REDIS_CREDENTIAL.name } },
	});
	wf.connections[MEMORY_NODE] = { ai_memory: [targets] };
	return { wf, webhookId };
}

/** One chat turn through the production chat URL, timed on the client's clock. */
async function timedTurn(ctx, url, sessionId, chatInput) {
	const { sandbox } = ctx;
	const requestsBefore = sandbox.requests.length;
	const timingsBefore = sandbox.turnTimings.length;
	const sentAt = performance.now();
	const r = await postChat(url, { action: 'sendMessage', sessionId, chatInput });
	const items = r.chunks.filter((c) => c.type === 'item' && c.metadata?.nodeName === ASK_NODE);
	const timing = sandbox.turnTimings.slice(timingsBefore).find((t) => t.prompt === chatInput);
	if (r.status !== 200 || !items.length || !timing?.deltas.length) {
		throw new Error(`turn "${chatInput}" (${sessionId}): HTTP ${r.status}, ${items.length} item chunks; ${r.raw.slice(0, 300)}`);
	}
	return {
		firstTokenMs: items[0].receivedAt - sentAt,
		turnMs: r.chunks[r.chunks.length - 1].receivedAt - sentAt,
		beforeLlamaCloudMs: timing.deltas[0].writtenAt - sentAt,
		llamaCloudRequests: sandbox.requests.slice(requestsBefore).filter((q) => q.path.startsWith('/api/')).map((q) => `${q.method} ${q.path.replace(/ses[-_][^/]+/, ':id')}`),
		session: timing.sessionId,
		answer: items.map((c) => c.content).join(''),
	};
}

async function bench(ctx, opts) {
	const { n8n, sandbox, rest, check, log, redis } = ctx;
	const types = (await rest.get('/types/nodes.json')).json || [];
	const ours = types.find((t) => t.name === 'n8n-nodes-llamacloud-chat.llamaCloudChat');
	const askHasMemoryInput = JSON.stringify(ours?.inputs ?? '').includes('ai_memory');
	const cred = await rest.post('/rest/credentials', { ...REDIS_CREDENTIAL, data: { host: '127.0.0.1', port: redis.port, database: 0, password: '', ssl: false } });
	const credentialId = cred.json?.data?.id;
	if (!credentialId) throw new Error(`creating the Redis credential returned ${cred.text.slice(0, 300)}`);

	const base = chatWorkflow(ctx.examplesDir, sandbox, { id: 'benchNoMemory001', name: 'Bench: no memory', responseMode: 'streaming' });
	// --aa: the "memory" side is a second copy of the baseline, so the table shows the noise of this machine.
	const mem = opts.aa
		? chatWorkflow(ctx.examplesDir, sandbox, { id: 'benchNoMemory002', name: 'Bench: no memory (copy)', responseMode: 'streaming' })
		: memoryWorkflow(ctx.examplesDir, sandbox, { credentialId, askHasMemoryInput });
	const workflowIds = { baseline: await publish(rest, base.wf), memory: await publish(rest, mem.wf) };
	const urls = { baseline: `${n8n.url}/webhook/${base.webhookId}/chat`, memory: `${n8n.url}/webhook/${mem.webhookId}/chat` };
	await waitForChat(urls.baseline);
	await waitForChat(urls.memory);
	sandbox.setStreamBehaviour({ contextAnswers: true, deltaDelayMs: opts.deltaDelayMs });

	const variants = ['baseline', 'memory'];
	const conv = (v, c) => `bench-${v}-${c}-${crypto.randomUUID()}`;
	// Warm-up: one conversation of two turns each (first executions, Redis connection, JIT).
	for (const v of variants) {
		const s = conv(v, 'warm-up');
		await timedTurn(ctx, urls[v], s, QUESTIONS[0]);
		await timedTurn(ctx, urls[v], s, QUESTIONS[1]);
	}
	const results = { baseline: { first: [], followUp: [] }, memory: { first: [], followUp: [] } };
	const sessions = { baseline: [], memory: [] };
	const ids = Object.fromEntries(variants.map((v) => [v, Array.from({ length: opts.conversations }, (_, c) => conv(v, c))]));
	let flip = false;
	for (let t = 0; t <= opts.followUps; t++) {
		for (let c = 0; c < opts.conversations; c++) {
			// Interleaved, the order alternating, so that drift and noise fall on both sides alike.
			for (const v of flip ? [...variants].reverse() : variants) {
				const r = await timedTurn(ctx, urls[v], ids[v][c], QUESTIONS[t % QUESTIONS.length]);
				if (t === 0) {
					sessions[v][c] = r.session;
					results[v].first.push(r);
				} else {
					const continued = r.session === sessions[v][c] && r.answer.startsWith(`Turn ${t + 1}, following up on "${QUESTIONS[(t - 1) % QUESTIONS.length]}"`);
					check(continued, `${v} conversation ${c} turn ${t + 1} continued its session`, `${r.session} vs ${sessions[v][c]}: ${r.answer.slice(0, 100)}`);
					results[v].followUp.push(r);
				}
			}
			flip = !flip;
		}
	}
	sandbox.setStreamBehaviour({});
	// Inside n8n: Ask's own execution time (runData executionTime; with a memory it includes reading the
	// history and saving the turn), from the saved executions, oldest first, the warm-up's two left out.
	for (const v of variants) {
		const workflowId = workflowIds[v];
		const all = [];
		for (let cursor; ; ) {
			const q = `filter=${encodeURIComponent(JSON.stringify({ workflowId }))}&limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
			const page = (await rest.get(`/rest/executions?${q}`)).json?.data;
			all.push(...(page?.results || []).map((e) => Number(e.id)));
			cursor = page?.nextCursor;
			if (!cursor || !page.results?.length) break;
		}
		const executionIds = [...new Set(all)].sort((a, b) => a - b).slice(2);
		const times = [];
		for (const id of executionIds) times.push((await nodeRun(rest, id, ASK_NODE))?.executionTime);
		const turns = [...results[v].first, ...results[v].followUp];
		check(times.length === turns.length && times.every((t) => typeof t === 'number'), `${v}: one saved execution with Ask's run per turn`, `${times.length} executions for ${turns.length} turns`);
		// The turns ran first turns first (t = 0 for every conversation), then the follow-ups, in this order.
		results[v].first.forEach((r, i) => (r.askMs = times[i]));
		results[v].followUp.forEach((r, i) => (r.askMs = times[results[v].first.length + i]));
	}
	const redisKeys = (await redisCommand(redis.port, 'DBSIZE')).replace(/^:/, '');
	// The memory side really went through Redis: each conversation's list holds its turns (question, answer).
	if (askHasMemoryInput && !opts.aa) {
		const lengths = await Promise.all(ids.memory.map(async (id) => Number((await redisCommand(redis.port, `LLEN ${id}`)).replace(/^:/, ''))));
		check(lengths.every((n) => n === 2 * (opts.followUps + 1)), `every memory conversation holds ${2 * (opts.followUps + 1)} messages in Redis`, lengths.join(', '));
	}
	log(`  Ask has a Memory input: ${askHasMemoryInput ? 'yes (memory on Ask and on the Chat Trigger)' : 'NO (a build without issue #17: the memory is on the Chat Trigger only; numbers are not the memory path)'}; Redis keys after the run: ${redisKeys}`);
	return report(results, { ...opts, askHasMemoryInput, n8nVersion: ctx.n8nVersion });
}

function report(results, meta) {
	const row = (label, pick, set, digits = 0) => {
		const b = results.baseline[set].map(pick);
		const m = results.memory[set].map(pick);
		return [label, b, m, digits];
	};
	const rows = [
		row('first token, follow-up: median', (r) => r.firstTokenMs, 'followUp'),
		row('first token, follow-up: p95', (r) => r.firstTokenMs, 'followUp'),
		row('first token, follow-up: median of paired differences', (r) => r.firstTokenMs, 'followUp'),
		row('before LlamaCloud saw the turn, follow-up: median', (r) => r.beforeLlamaCloudMs, 'followUp'),
		row('whole turn, follow-up: median', (r) => r.turnMs, 'followUp'),
		row('Ask node execution time (n8n runData), follow-up: median', (r) => r.askMs, 'followUp'),
		row('first token, first turn: median', (r) => r.firstTokenMs, 'first'),
	];
	const out = { meta, rows: [] };
	const lines = [
		`${meta.aa ? 'A/A (both sides without memory; the "Redis Chat Memory" column is a copy of the baseline)' : 'Redis Chat Memory vs no memory'}, n8n ${meta.n8nVersion}, production chat URL (streaming); ${results.baseline.followUp.length} follow-ups and ${results.baseline.first.length} first turns per side, interleaved; ms on the chat client's clock`,
		'',
		'| metric | without memory (baseline) | Redis Chat Memory | added | ratio |',
		'|---|---|---|---|---|',
	];
	for (const [label, b, m] of rows) {
		if (label.includes('paired')) {
			// Turn i of each side ran back to back (same conversation number and turn): memory − baseline per pair.
			const d = quantile(m.map((x, i) => x - b[i]), 0.5);
			out.rows.push({ label, addedMs: d });
			lines.push(`| ${label} | | | ${(d >= 0 ? '+' : '')}${d.toFixed(1)} ms | |`);
			continue;
		}
		const q = label.includes('p95') ? 0.95 : 0.5;
		const bv = quantile(b, q);
		const mv = quantile(m, q);
		out.rows.push({ label, baselineMs: bv, memoryMs: mv, addedMs: mv - bv, ratio: mv / bv });
		lines.push(`| ${label} | ${bv.toFixed(1)} ms | ${mv.toFixed(1)} ms | ${(mv - bv >= 0 ? '+' : '')}${(mv - bv).toFixed(1)} ms | ${(mv / bv).toFixed(2)}× |`);
	}
	const perTurn = (set, v) => {
		const counts = results[v][set].map((r) => r.llamaCloudRequests.length);
		return { min: Math.min(...counts), max: Math.max(...counts), kinds: [...new Set(results[v][set].flatMap((r) => r.llamaCloudRequests))] };
	};
	for (const set of ['followUp', 'first']) {
		const b = perTurn(set, 'baseline');
		const m = perTurn(set, 'memory');
		const fmtCount = (x) => (x.min === x.max ? String(x.min) : `${x.min}–${x.max}`);
		out.rows.push({ label: `LlamaCloud requests per ${set}`, baseline: b, memory: m });
		lines.push(`| LlamaCloud requests per ${set === 'first' ? 'first turn' : 'follow-up'} | ${fmtCount(b)} | ${fmtCount(m)} (${m.kinds.join(', ')}) | | |`);
	}
	console.log(lines.join('\n'));
	return out;
}

if (require.main === module) {
	const opts = parseArgs(process.argv.slice(2));
	runStandalone({
		name: 'memory bench',
		artifacts: 'bench-memory',
		exit: true,
		limitMs: 20 * 60_000,
		quiet: true,
		before: async ({ workDir, onStop }) => {
			const redis = new Redis({ dir: path.join(workDir, 'redis') });
			onStop(() => redis.stop());
			await redis.start(await freePort());
			return { redis };
		},
		body: async (ctx) => {
			const out = await bench(ctx, opts);
			fs.writeFileSync(path.join(ctx.artifactsDir, 'measured.json'), JSON.stringify(out, null, 2));
			console.log(`BENCH_RESULT ${JSON.stringify(out)}`);
		},
	});
}

module.exports = { bench, quantile };
