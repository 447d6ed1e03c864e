/* eslint-disable @n8n/community-nodes/no-restricted-globals, @n8n/community-nodes/no-restricted-imports, no-console -- Node.js test/dev code, never run inside n8n */
/**
 * `npm run bench`: a performance report for the LlamaCloud Chat node, as ratios against baselines
 * measured in the same run, on this machine, against the sandbox on 127.0.0.1.
 *
 *   node --expose-gc dist-test/scripts/bench/bench.js            full report (~1–2 min)
 *     --quick        fewer repetitions (smoke run)
 *     --profile      always CPU-profile the per-item run (default: only when its target is missed)
 *     --no-profile   never profile
 *     --soak [--conversations N] [--concurrency N] [--seed N]
 *                    the production soak instead (soak.ts): exits 1 when one of its goals is missed
 *
 * Internal modes (each a fresh process, started by the full report):
 *     --mode=stream           large-stream memory + throughput (needs --expose-gc for a clean baseline)
 *     --mode=profile-create   the per-item workload only, for `node --cpu-prof` (--target=engine|axios)
 *
 * Exits 0 even when a target is missed: it is a report. Exits 1 only if the benchmark itself broke.
 */
import http from 'node:http';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { cpus, release, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

import axios from 'axios';
import type { INodeParameters } from 'n8n-workflow';

import { logLines } from '../../test/harness/logs';
import { executeWorkflow, runWorkflow } from '../../test/harness/run-workflow';
import { stopEngineServices } from '../../test/harness/teardown';
import { formatAttribution, formatSummary, summariseProfile, type ProfileSummary, type TimeWindow } from './cpuprofile';
import { referenceWorkflow } from './reference-node';
import { RemoteSandbox, type RecordedSummary } from './sandbox-client';
import { numberArg, runSoak } from './soak';
import { fmt, median, parseChildResult, RESULT_PREFIX, run, withTimeout } from './stats';

const REPO = resolve(__dirname, '..', '..', '..');
const SCRIPT = __filename;
const ARGS = process.argv.slice(2);
const flag = (name: string) => ARGS.includes(`--${name}`);
const option = (name: string) => ARGS.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);

const QUICK = flag('quick');
const ITEMS = 1_000;
const INDEX_IDS = ['idx-q3-reports'];
const PROMPT = 'What grew in Q3?';
const STREAM_BYTES = 10_000_000;

const TARGETS = { perItem: 1.1, concurrency: 1.15, rssMb: 50 };

// ---------------------------------------------------------------------------------------------
// Workloads shared by the report and the child modes
// ---------------------------------------------------------------------------------------------

function credentialsOf(sb: RemoteSandbox) {
	return { apiKey: sb.apiKey, region: 'custom' as const, baseUrl: sb.url };
}

interface Timed {
	ms: number;
	cpuMs: number;
}

async function timed(fn: () => Promise<void>): Promise<Timed> {
	gc(); // same starting heap for every timed run (no-op without --expose-gc)
	const cpu0 = process.cpuUsage();
	const t0 = performance.now();
	await fn();
	const ms = performance.now() - t0;
	const cpu = process.cpuUsage(cpu0);
	return { ms, cpuMs: (cpu.user + cpu.system) / 1000 };
}

/** Session → Create for `count` items in ONE workflow execution, run by n8n-core's WorkflowExecute. */
async function engineCreates(sb: RemoteSandbox, count: number, options: INodeParameters = {}, latencyMs = 0): Promise<Timed> {
	await sb.reset();
	if (latencyMs) await sb.setLatency(latencyMs);
	logLines.length = 0;
	const items = Array.from({ length: count }, () => ({}));
	const parameters: INodeParameters = { resource: 'session', operation: 'create', indexIds: INDEX_IDS, options };
	let output = 0;
	const result = await timed(async () => {
		const res = await runWorkflow({ nodes: [{ name: 'Create', parameters }], credentials: credentialsOf(sb), items });
		if (res.error) throw new Error(`engine run failed: ${res.error.message}`);
		output = res.output('Create').length;
	});
	if (output !== count) throw new Error(`engine run returned ${output} items, expected ${count}`);
	const stats = await sb.stats();
	if (stats.sessionsCreated !== count) throw new Error(`sandbox saw ${stats.sessionsCreated} creates, expected ${count}`);
	return result;
}

/** The same creates by a minimal n8n node (reference-node.ts) through the same engine and credential. */
async function referenceCreates(sb: RemoteSandbox, count: number): Promise<Timed> {
	await sb.reset();
	logLines.length = 0;
	const items = Array.from({ length: count }, () => ({}));
	let output = 0;
	const result = await timed(async () => {
		const res = await executeWorkflow(referenceWorkflow(), 'Reference', items, credentialsOf(sb));
		if (res.error) throw new Error(`reference run failed: ${res.error.message}`);
		output = res.output('Reference').length;
	});
	if (output !== count) throw new Error(`reference run returned ${output} items, expected ${count}`);
	return result;
}

/**
 * n8n-core (request-helper-functions → http-proxy createHttpProxyAgent) gives EVERY request a new
 * `http.Agent({ servername })` when no proxy is configured: keepAlive false, so each request opens a
 * new TCP connection and sends `Connection: close`. The fair baseline does exactly that.
 */
// `servername` is a TLS option n8n passes to every agent; on plain http it is inert (kept for parity).
const freshAgent = () => new http.Agent({ servername: '127.0.0.1' } as http.AgentOptions);

type AgentMode = 'fresh-per-request' | 'keep-alive';

/**
 * The same `POST /api/v1/chat` requests with bare axios: sequentially (`concurrency` 1), or with
 * the same sliding window of `concurrency` requests in flight that the node's router uses.
 */
async function axiosCreates(sb: RemoteSandbox, count: number, agentMode: AgentMode, concurrency = 1, latencyMs = 0): Promise<Timed> {
	await sb.reset();
	if (latencyMs) await sb.setLatency(latencyMs);
	const url = `${sb.url}/api/v1/chat`;
	const body = { index_ids: INDEX_IDS };
	// The headers n8n ends up sending for our request (Accept from `json: true`, its User-Agent, the credential's Bearer).
	const headers = { Authorization: `Bearer ${sb.apiKey}`, Accept: 'application/json', 'User-Agent': 'n8n' };
	const keepAlive = new http.Agent({ keepAlive: true });
	const one = async () => {
		const response = await axios.request({
			method: 'POST',
			url,
			data: body,
			headers,
			timeout: 60_000,
			maxBodyLength: Infinity,
			maxContentLength: Infinity,
			validateStatus: () => true,
			httpAgent: agentMode === 'keep-alive' ? keepAlive : freshAgent(),
		});
		if (response.status !== 201) throw new Error(`bare axios create: HTTP ${response.status}`);
	};
	const result = await timed(async () => {
		if (concurrency <= 1) {
			for (let i = 0; i < count; i++) await one();
			return;
		}
		let next = 0;
		const worker = async () => {
			while (next < count) {
				next++;
				await one();
			}
		};
		await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
	});
	keepAlive.destroy();
	const stats = await sb.stats();
	if (stats.sessionsCreated !== count) throw new Error(`sandbox saw ${stats.sessionsCreated} creates, expected ${count}`);
	return result;
}

async function createSession(sb: RemoteSandbox): Promise<string> {
	const response = await axios.post<{ session_id: string }>(
		`${sb.url}/api/v1/chat`,
		{ index_ids: INDEX_IDS },
		{ headers: { Authorization: `Bearer ${sb.apiKey}` }, httpAgent: new http.Agent() },
	);
	return response.data.session_id;
}

/** Send Message through the engine, default options (Include Raw Events off, Simplify on). */
async function engineSend(sb: RemoteSandbox, sessionId: string): Promise<{ ms: number; answerChars: number }> {
	logLines.length = 0;
	const parameters: INodeParameters = {
		resource: 'message',
		operation: 'send',
		sessionId: { __rl: true, mode: 'id', value: sessionId },
		prompt: PROMPT,
		indexIds: INDEX_IDS,
	};
	const t0 = performance.now();
	const res = await runWorkflow({ nodes: [{ name: 'Send', parameters }], credentials: credentialsOf(sb), items: [{}] });
	const ms = performance.now() - t0;
	if (res.error) throw new Error(`engine send failed: ${res.error.message}`);
	const answer = res.output('Send')[0]?.json.answer;
	return { ms, answerChars: typeof answer === 'string' ? answer.length : 0 };
}

/** The same stream read with bare axios (`responseType: 'stream'`) and discarded. */
async function axiosStream(sb: RemoteSandbox, sessionId: string): Promise<{ ms: number; bytes: number }> {
	const t0 = performance.now();
	const response = await axios.request({
		method: 'POST',
		url: `${sb.url}/api/v1/chat/${encodeURIComponent(sessionId)}/messages/stream`,
		data: { index_ids: INDEX_IDS, prompt: PROMPT },
		headers: { Authorization: `Bearer ${sb.apiKey}`, Accept: 'text/event-stream', 'Content-Type': 'application/json', 'User-Agent': 'n8n' },
		responseType: 'stream',
		timeout: 60_000,
		maxBodyLength: Infinity,
		maxContentLength: Infinity,
		httpAgent: freshAgent(),
	});
	let bytes = 0;
	for await (const chunk of response.data as AsyncIterable<Buffer>) bytes += chunk.length;
	return { ms: performance.now() - t0, bytes };
}

function gc(): void {
	const collect = (global as { gc?: () => void }).gc;
	if (collect) {
		collect();
		collect();
	}
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------
// Child modes
// ---------------------------------------------------------------------------------------------

export interface StreamResult {
	gcExposed: boolean;
	rssBeforeMb: number;
	rssPeakMb: number;
	rssGrowthMb: number;
	heapUsedGrowthMb: number;
	samples: number;
	answerChars: number;
	bodyBytes: number;
	nodeMs: number[];
	axiosMs: number[];
	memoryRunMs: number;
	/** When each node send ran (µs, process.hrtime clock), for --cpu-prof summaries. */
	nodeWindows: TimeWindow[];
}

const hrUs = () => Number(process.hrtime.bigint() / 1000n);

async function streamMode(): Promise<void> {
	const sb = await RemoteSandbox.start();
	try {
		// Warm up both paths (module loading, JIT) on a small stream first.
		await sb.setStreamBehaviour({ answerBytes: 200_000 });
		await engineSend(sb, await createSession(sb));
		await axiosStream(sb, await createSession(sb));
		await sb.reset();

		await sb.setStreamBehaviour({ answerBytes: STREAM_BYTES });
		const sessionId = await createSession(sb);
		gc();
		await sleep(100);
		gc();
		const before = process.memoryUsage();
		let peakRss = before.rss;
		let peakHeap = before.heapUsed;
		let samples = 0;
		const sample = () => {
			const m = process.memoryUsage();
			samples++;
			if (m.rss > peakRss) peakRss = m.rss;
			if (m.heapUsed > peakHeap) peakHeap = m.heapUsed;
		};
		const sampler = setInterval(sample, 10);
		const nodeWindows: TimeWindow[] = [];
		let send: { ms: number; answerChars: number };
		const memoryStart = hrUs();
		try {
			send = await withTimeout(engineSend(sb, sessionId), 60_000, 'large stream (node)');
		} finally {
			sample();
			clearInterval(sampler);
			nodeWindows.push({ startUs: memoryStart, endUs: hrUs() });
		}

		// Throughput: interleaved, fresh session each time (the sandbox keeps each turn's events).
		const nodeMs: number[] = [];
		const axiosMs: number[] = [];
		let bodyBytes = 0;
		const reps = QUICK ? 1 : 3;
		for (let rep = 0; rep < reps; rep++) {
			await sb.reset();
			await sb.setStreamBehaviour({ answerBytes: STREAM_BYTES });
			const runNode = async () => {
				const session = await createSession(sb);
				const startUs = hrUs();
				nodeMs.push((await withTimeout(engineSend(sb, session), 60_000, 'stream (node)')).ms);
				nodeWindows.push({ startUs, endUs: hrUs() });
			};
			const runAxios = async () => {
				const r = await withTimeout(axiosStream(sb, await createSession(sb)), 60_000, 'stream (axios)');
				bodyBytes = r.bytes;
				axiosMs.push(r.ms);
			};
			if (rep % 2 === 0) {
				await runNode();
				await runAxios();
			} else {
				await runAxios();
				await runNode();
			}
		}
		const mb = (b: number) => b / 1024 / 1024;
		const result: StreamResult = {
			gcExposed: typeof (global as { gc?: unknown }).gc === 'function',
			rssBeforeMb: mb(before.rss),
			rssPeakMb: mb(peakRss),
			rssGrowthMb: mb(peakRss - before.rss),
			heapUsedGrowthMb: mb(peakHeap - before.heapUsed),
			samples,
			answerChars: send.answerChars,
			bodyBytes,
			nodeMs,
			axiosMs,
			nodeWindows,
			memoryRunMs: send.ms,
		};
		console.log(RESULT_PREFIX + JSON.stringify(result));
	} finally {
		await sb.close();
		stopEngineServices();
	}
}

export interface ProfileRunResult {
	target: string;
	runs: number;
	items: number;
	ms: number[];
	cpuMs: number[];
	/** The measured runs, in µs of process.hrtime (the clock of the .cpuprofile). */
	windowStartUs: number;
	windowEndUs: number;
}

/** The per-item workload alone, so `node --cpu-prof` sees nothing else (besides a short warm-up). */
async function profileMode(): Promise<void> {
	const target = option('target') === 'axios' ? 'axios' : 'engine';
	const sb = await RemoteSandbox.start();
	try {
		const once = (count: number) => (target === 'axios' ? axiosCreates(sb, count, 'fresh-per-request') : engineCreates(sb, count));
		await once(200);
		const runs = QUICK ? 1 : 3;
		const ms: number[] = [];
		const cpuMs: number[] = [];
		const windowStartUs = Number(process.hrtime.bigint() / 1000n);
		for (let i = 0; i < runs; i++) {
			const t = await withTimeout(once(ITEMS), 60_000, `profile ${target}`);
			ms.push(t.ms);
			cpuMs.push(t.cpuMs);
		}
		const windowEndUs = Number(process.hrtime.bigint() / 1000n);
		const result: ProfileRunResult = { target, runs, items: ITEMS, ms, cpuMs, windowStartUs, windowEndUs };
		console.log(RESULT_PREFIX + JSON.stringify(result));
	} finally {
		await sb.close();
		stopEngineServices();
	}
}

// ---------------------------------------------------------------------------------------------
// The report
// ---------------------------------------------------------------------------------------------

interface Row {
	metric: string;
	measured: string;
	baseline: string;
	ratio: string;
	target: string;
	verdict: 'PASS' | 'MISSED' | 'info' | 'ERROR';
}

const rows: Row[] = [];
const notes: string[] = [];
const sections: string[] = [];

function errorRow(metric: string, error: unknown): void {
	rows.push({ metric, measured: 'error', baseline: '', ratio: '', target: '', verdict: 'ERROR' });
	notes.push(`${metric}: ${(error as Error).message}`);
}

function headerDiff(a: RecordedSummary | undefined, b: RecordedSummary | undefined, other = 'axios'): string {
	if (!a || !b) return 'could not compare requests';
	const ignore = new Set(['host', 'connection', 'content-length']);
	const keys = new Set([...Object.keys(a.headers), ...Object.keys(b.headers)]);
	const diffs: string[] = [];
	for (const key of keys) {
		if (ignore.has(key)) continue;
		if (String(a.headers[key]) !== String(b.headers[key])) diffs.push(`${key}: node=${a.headers[key]} ${other}=${b.headers[key]}`);
	}
	if (a.rawBody !== b.rawBody) diffs.push(`body: node=${a.rawBody} ${other}=${b.rawBody}`);
	if (a.rawQuery !== b.rawQuery) diffs.push(`query: node=${a.rawQuery} ${other}=${b.rawQuery}`);
	const conn = `connection: node=${a.headers.connection} ${other}=${b.headers.connection}`;
	return diffs.length ? `${diffs.join('; ')} (${conn})` : `identical headers and body (${conn})`;
}

async function perItem(sb: RemoteSandbox): Promise<boolean> {
	// Warm-up: module loading, JIT, sandbox paths.
	const warm = QUICK ? 200 : 500;
	await engineCreates(sb, warm);
	await axiosCreates(sb, warm, 'fresh-per-request');
	await axiosCreates(sb, warm, 'keep-alive');
	await referenceCreates(sb, warm);

	// Same request on the wire? Compare the last request of a 1-item run from each side.
	await engineCreates(sb, 1);
	const fromNode = await sb.lastRequest();
	await axiosCreates(sb, 1, 'fresh-per-request');
	const fromAxios = await sb.lastRequest();
	await referenceCreates(sb, 1);
	const fromReference = await sb.lastRequest();
	notes.push(
		`Request check (node vs bare axios, as the sandbox received them): ${headerDiff(fromNode, fromAxios)}. ` +
			`Node vs reference node: ${headerDiff(fromNode, fromReference, 'reference')}.`,
	);

	const reps = QUICK ? 3 : 5;
	const engine: Timed[] = [];
	const bare: Timed[] = [];
	const bareKeepAlive: Timed[] = [];
	const reference: Timed[] = [];
	for (let rep = 0; rep < reps; rep++) {
		const e = () => withTimeout(engineCreates(sb, ITEMS), 60_000, 'engine creates').then((t) => engine.push(t));
		const r = () => withTimeout(referenceCreates(sb, ITEMS), 60_000, 'reference creates').then((t) => reference.push(t));
		const a = () => withTimeout(axiosCreates(sb, ITEMS, 'fresh-per-request'), 60_000, 'axios creates').then((t) => bare.push(t));
		if (rep % 2 === 0) {
			await e();
			await a();
			await r();
		} else {
			await r();
			await a();
			await e();
		}
		bareKeepAlive.push(await withTimeout(axiosCreates(sb, ITEMS, 'keep-alive'), 60_000, 'axios keep-alive creates'));
	}
	const per = (list: Timed[], key: keyof Timed) => median(list.map((t) => t[key])) / ITEMS;
	const engineMs = per(engine, 'ms');
	const bareMs = per(bare, 'ms');
	const keepAliveMs = per(bareKeepAlive, 'ms');
	const ratio = engineMs / bareMs;
	const pass = ratio <= TARGETS.perItem;
	rows.push({
		metric: `1. Per-item cost: Session → Create ×${ITEMS} in 1 execution, concurrency 1, no latency (median of ${reps})`,
		measured: `${fmt(engineMs, 3)} ms/item`,
		baseline: `${fmt(bareMs, 3)} ms/item (bare axios loop, new agent per request like n8n)`,
		ratio: `${fmt(ratio)}×`,
		target: `≤ ${TARGETS.perItem.toFixed(2)}×`,
		verdict: pass ? 'PASS' : 'MISSED',
	});
	rows.push({
		metric: '1b. Per-item cost vs a keep-alive client (context: what connection reuse would be worth)',
		measured: `${fmt(engineMs, 3)} ms/item`,
		baseline: `${fmt(keepAliveMs, 3)} ms/item (bare axios, one keep-alive agent)`,
		ratio: `${fmt(engineMs / keepAliveMs)}×`,
		target: '—',
		verdict: 'info',
	});
	// Runs are interleaved in pairs, so the per-pair ratio is less sensitive to machine drift.
	const pairRatios = engine.map((t, i) => t.ms / bare[i].ms);
	const referenceMs = per(reference, 'ms');
	rows.push({
		metric: "1c. Per-item cost vs a minimal n8n node making the same call (getCredentials once, httpRequestWithAuthentication per item): what OUR code adds",
		measured: `${fmt(engineMs, 3)} ms/item`,
		baseline: `${fmt(referenceMs, 3)} ms/item (scripts/bench/reference-node.ts)`,
		ratio: `${fmt(engineMs / referenceMs)}×`,
		target: '— (≤ 1.10× would be a fair target for our code)',
		verdict: 'info',
	});
	notes.push(
		`Reference node vs bare axios: ${fmt(referenceMs / bareMs)}× — n8n's own per-request cost with this credential, which no node code can remove.`,
		`Per-item ratio per interleaved pair: ${pairRatios.map((r) => r.toFixed(2)).join(', ')} (median ${fmt(median(pairRatios))}×).`,
		`Per-item runs (ms per ${ITEMS} items, in order): node ${engine.map((t) => t.ms.toFixed(0)).join(', ')}; ` +
			`bare axios ${bare.map((t) => t.ms.toFixed(0)).join(', ')}; keep-alive ${bareKeepAlive.map((t) => t.ms.toFixed(0)).join(', ')}; reference node ${reference.map((t) => t.ms.toFixed(0)).join(', ')}.`,
		`CPU time of the benchmark process per item (user+sys, median): node ${fmt(per(engine, 'cpuMs'), 3)} ms, ` +
			`bare axios ${fmt(per(bare, 'cpuMs'), 3)} ms, keep-alive ${fmt(per(bareKeepAlive, 'cpuMs'), 3)} ms, reference node ${fmt(per(reference, 'cpuMs'), 3)} ms.`,
	);
	return pass;
}

async function concurrency(sb: RemoteSandbox): Promise<boolean> {
	const latency = 50;
	const batchSize = 10;
	const ideal = (ITEMS / batchSize) * latency;
	const options = { batching: { batch: { batchSize } } };
	const reps = QUICK ? 1 : 3;
	const node: number[] = [];
	const bare: number[] = [];
	for (let rep = 0; rep < reps; rep++) {
		const e = async () => node.push((await withTimeout(engineCreates(sb, ITEMS, options, latency), 60_000, 'concurrency (node)')).ms);
		const a = async () =>
			bare.push((await withTimeout(axiosCreates(sb, ITEMS, 'fresh-per-request', batchSize, latency), 60_000, 'concurrency (axios)')).ms);
		if (rep % 2 === 0) {
			await e();
			await a();
		} else {
			await a();
			await e();
		}
	}
	const keepAlive = (await withTimeout(axiosCreates(sb, ITEMS, 'keep-alive', batchSize, latency), 60_000, 'concurrency (keep-alive)')).ms;
	await sb.reset();
	const ms = median(node);
	const bareMs = median(bare);
	const ratio = ms / ideal;
	const pass = ratio <= TARGETS.concurrency;
	rows.push({
		metric: `2. Concurrency: ${ITEMS} creates, ${latency} ms sandbox latency, Items per Batch ${batchSize} (median of ${reps})`,
		measured: `${fmt(ms / 1000)} s`,
		baseline: `${fmt(ideal / 1000)} s (ideal ${ITEMS}/${batchSize}×${latency} ms)`,
		ratio: `${fmt(ratio)}×`,
		target: `≤ ${TARGETS.concurrency.toFixed(2)}×`,
		verdict: pass ? 'PASS' : 'MISSED',
	});
	rows.push({
		metric: `2b. Concurrency vs bare axios, same ${batchSize}-wide sliding window and agent (context)`,
		measured: `${fmt(ms / 1000)} s`,
		baseline: `${fmt(bareMs / 1000)} s (bare axios; ${fmt(bareMs / ideal)}× ideal)`,
		ratio: `${fmt(ms / bareMs)}×`,
		target: '—',
		verdict: 'info',
	});
	notes.push(
		`Concurrency runs (ms): node ${node.map((t) => t.toFixed(0)).join(', ')}; bare axios ${bare.map((t) => t.toFixed(0)).join(', ')}; ` +
			`bare axios with one keep-alive agent ${keepAlive.toFixed(0)} (${fmt(keepAlive / ideal)}× ideal). With a fixed latency the ${batchSize} ` +
			'requests of a window finish together, so each wave also pays the CPU time of starting the next 10 requests (and of the sandbox answering them).',
	);
	return pass;
}

async function largeStream(): Promise<boolean> {
	const child = await run(process.execPath, ['--expose-gc', SCRIPT, '--mode=stream', ...(QUICK ? ['--quick'] : [])], {
		cwd: REPO,
		timeoutMs: 150_000,
	});
	const r = parseChildResult<StreamResult>(child, 'stream benchmark');
	const pass = r.rssGrowthMb < TARGETS.rssMb;
	const mbps = (ms: number) => r.bodyBytes / 1e6 / (ms / 1000);
	const nodeMbps = mbps(median(r.nodeMs));
	const axiosMbps = mbps(median(r.axiosMs));
	rows.push({
		metric: `3. Large stream: Send Message on a ${fmt(r.bodyBytes / 1e6, 1)} MB SSE body, peak RSS growth (defaults: Include Raw Events off)`,
		measured: `${fmt(r.rssGrowthMb, 1)} MB`,
		baseline: `RSS before ${fmt(r.rssBeforeMb, 0)} MB${r.gcExposed ? ' (after gc)' : ' (no --expose-gc)'}`,
		ratio: '—',
		target: `< ${TARGETS.rssMb} MB`,
		verdict: pass ? 'PASS' : 'MISSED',
	});
	rows.push({
		metric: `3b. Large stream: throughput, node (whole Send Message) vs bare axios stream read and discarded (median of ${r.nodeMs.length})`,
		measured: `${fmt(nodeMbps, 1)} MB/s`,
		baseline: `${fmt(axiosMbps, 1)} MB/s`,
		ratio: `${fmt(nodeMbps / axiosMbps)}× (higher is better)`,
		target: '—',
		verdict: 'info',
	});
	notes.push(
		`Large stream: ${r.samples} RSS samples taken during the ${fmt(r.memoryRunMs, 0)} ms memory run (timer every 10 ms; fewer samples mean the event loop was blocked), peak RSS ${fmt(r.rssPeakMb, 0)} MB, heapUsed growth ${fmt(r.heapUsedGrowthMb, 1)} MB; ` +
			`answer returned: ${r.answerChars} characters; node runs ${r.nodeMs.map((t) => t.toFixed(0)).join(', ')} ms, axios ${r.axiosMs.map((t) => t.toFixed(0)).join(', ')} ms ` +
			'(both include the sandbox producing the stream in its own process).',
	);
	return pass;
}

async function loadCost(): Promise<void> {
	const nodeFile = join(REPO, 'dist', 'nodes', 'LlamaCloudChat', 'LlamaCloudChat.node.js');
	if (!existsSync(nodeFile)) throw new Error(`${nodeFile} is missing: run npm run build first`);
	const probe = (target: string) =>
		`const t0=process.hrtime.bigint();require(${JSON.stringify(target)});const ms=Number(process.hrtime.bigint()-t0)/1e6;` +
		`process.stdout.write(${JSON.stringify(RESULT_PREFIX)}+JSON.stringify({ms,modules:Object.keys(require.cache).length}))`;
	const measure = async (target: string) =>
		parseChildResult<{ ms: number; modules: number }>(await run(process.execPath, ['-e', probe(target)], { cwd: REPO, timeoutMs: 30_000 }), `require ${target}`);
	const nodeRuns: Array<{ ms: number; modules: number }> = [];
	const baseRuns: Array<{ ms: number; modules: number }> = [];
	for (let i = 0; i < 5; i++) {
		nodeRuns.push(await measure(nodeFile));
		baseRuns.push(await measure('n8n-workflow'));
	}
	const nodeMs = median(nodeRuns.map((r) => r.ms));
	const baseMs = median(baseRuns.map((r) => r.ms));
	rows.push({
		metric: '4. Load: require() of dist/nodes/LlamaCloudChat/LlamaCloudChat.node.js, fresh process (median of 5)',
		measured: `${fmt(nodeMs, 1)} ms`,
		baseline: `${fmt(baseMs, 1)} ms (require n8n-workflow only)`,
		ratio: `${fmt(nodeMs / baseMs)}×`,
		target: '—',
		verdict: 'info',
	});
	notes.push(`Load: modules in require.cache after the node ${nodeRuns[0].modules}, after n8n-workflow alone ${baseRuns[0].modules}.`);

	const pack = await run('npm', ['pack', '--dry-run', '--json'], { cwd: REPO, timeoutMs: 60_000 });
	const json = pack.stdout.slice(pack.stdout.indexOf('['));
	const [info] = JSON.parse(json) as Array<{ size: number; unpackedSize: number; entryCount: number; files: Array<{ path: string; size: number }> }>;
	rows.push({
		metric: '4b. Package: npm pack --dry-run (tarball / unpacked / files)',
		measured: `${fmt(info.size / 1024, 1)} kB / ${fmt(info.unpackedSize / 1024, 1)} kB / ${info.entryCount} files`,
		baseline: '—',
		ratio: '—',
		target: '—',
		verdict: 'info',
	});
	const biggest = [...info.files].sort((a, b) => b.size - a.size).slice(0, 3);
	notes.push(`Package: largest files ${biggest.map((f) => `${f.path} (${fmt(f.size / 1024, 1)} kB)`).join(', ')}.`);
}

interface ChatStreamResult {
	turns: number;
	deltas: number;
	medianDeltaLatencyMs: number;
	p95DeltaLatencyMs: number;
	medianWrittenSpanMs: number;
	medianReceivedSpanMs: number;
	ratio: number;
	n8nVersion?: string;
}

/**
 * Row 5: streaming into n8n's chat through a real n8n (scripts/e2e/chat-tests.js --bench, its own
 * process with its own sandbox): how long after the sandbox writes a text delta the chat client
 * reads it from n8n's response, and the first-to-last delta span as received vs as written.
 * Needs the n8n runtime that `npm run test:e2e` provisions; without it the row says so.
 */
async function chatStreaming(): Promise<void> {
	const status = await run('bash', [join(REPO, 'scripts', 'n8n-runtime.sh'), 'status'], { cwd: REPO, timeoutMs: 30_000 });
	if (status.code !== 0) {
		rows.push({ metric: '5. Chat streaming through real n8n', measured: 'not run', baseline: '', ratio: '', target: '', verdict: 'info' });
		notes.push('Chat streaming: the n8n runtime is not provisioned (npm run test:e2e or bash scripts/n8n-runtime.sh provisions it).');
		return;
	}
	const child = await run(process.execPath, [join(REPO, 'scripts', 'e2e', 'chat-tests.js'), '--bench'], { cwd: REPO, timeoutMs: 240_000 });
	const r = parseChildResult<ChatStreamResult>(child, 'chat streaming benchmark');
	rows.push({
		metric: `5. Chat streaming through real n8n ${r.n8nVersion ?? ''} (Chat Trigger → Ask → production chat URL): first→last text delta as the chat client received it`,
		measured: `${fmt(r.medianReceivedSpanMs, 0)} ms`,
		baseline: `${fmt(r.medianWrittenSpanMs, 0)} ms: the same deltas as the sandbox wrote them (20 ms apart)`,
		ratio: `${fmt(r.ratio, 3)}×`,
		target: '≤ 1.05×',
		verdict: r.ratio <= 1.05 ? 'PASS' : 'MISSED',
	});
	rows.push({
		metric: '5b. …each delta, sandbox write → chat client receive (median / p95)',
		measured: `${fmt(r.medianDeltaLatencyMs, 1)} ms / ${fmt(r.p95DeltaLatencyMs, 1)} ms`,
		baseline: '—',
		ratio: '—',
		target: '—',
		verdict: 'info',
	});
	notes.push(`Chat streaming: ${r.deltas} deltas over ${r.turns} turns after a warm-up turn, median of turns.`);
}

/** Runs this script in a child under `node --cpu-prof` and summarises the profile it leaves. */
async function profiledChild<T>(
	dir: string,
	label: string,
	args: string[],
	windowsOf: (result: T) => TimeWindow[],
	extraNodeArgs: string[] = [],
): Promise<{ result: T; file: string; summary: ProfileSummary }> {
	const sub = join(dir, label);
	const child = await run(
		process.execPath,
		[...extraNodeArgs, '--cpu-prof', `--cpu-prof-dir=${sub}`, '--cpu-prof-interval=250', SCRIPT, ...args, ...(QUICK ? ['--quick'] : [])],
		{ cwd: REPO, timeoutMs: 120_000 },
	);
	const result = parseChildResult<T>(child, `profile ${label}`);
	const file = readdirSync(sub)
		.filter((f) => f.endsWith('.cpuprofile'))
		.map((f) => join(sub, f))
		.sort((x, y) => statSync(y).size - statSync(x).size)[0];
	if (!file) throw new Error(`no .cpuprofile written for ${label}`);
	return { result, file, summary: summariseProfile(file, 25, windowsOf(result)) };
}

async function profilePerItem(dir: string): Promise<void> {
	const window = (r: ProfileRunResult) => [{ startUs: r.windowStartUs, endUs: r.windowEndUs }];
	const engine = await profiledChild<ProfileRunResult>(dir, 'per-item-node', ['--mode=profile-create', '--target=engine'], window);
	const bare = await profiledChild<ProfileRunResult>(dir, 'per-item-axios', ['--mode=profile-create', '--target=axios'], window);
	// Only the measured runs are summarised (the warm-up and module loading are cut out).
	const items = (r: ProfileRunResult) => r.runs * r.items;
	const perItemUs = (busyMs: number, r: ProfileRunResult) => (busyMs * 1000) / items(r);
	const section = [
		'## CPU profile: per-item run (target 1 missed)',
		'',
		`Profiles (open in Chrome DevTools → Performance): ${engine.file} (node through the engine), ${bare.file} (bare axios).`,
		'',
		`Busy CPU per item: node ${fmt(perItemUs(engine.summary.busyMs, engine.result), 0)} µs, bare axios ${fmt(perItemUs(bare.summary.busyMs, bare.result), 0)} µs ` +
			`(wall time under the profiler: node ${engine.result.ms.map((t) => t.toFixed(0)).join('/')} ms, axios ${bare.result.ms.map((t) => t.toFixed(0)).join('/')} ms per ${ITEMS}). ` +
			'Line numbers are of the compiled JS in dist-test/.',
		'',
		'### Node through the engine',
		'',
		formatSummary(engine.summary, items(engine.result)),
		'',
		'### Bare axios (baseline)',
		'',
		formatAttribution(bare.summary, items(bare.result)),
	];
	sections.push(section.join('\n'));
}

async function profileStream(dir: string): Promise<void> {
	// --quick: the memory run plus one throughput round is enough to see where the time goes.
	const prof = await profiledChild<StreamResult>(dir, 'stream', ['--mode=stream', '--quick'], (r) => r.nodeWindows, ['--expose-gc']);
	const sends = prof.result.nodeWindows.length;
	const section = [
		'## CPU profile: large stream (target 3 missed)',
		'',
		`Profile: ${prof.file} — only the ${sends} node Send Message runs of ~10 MB are summarised (per "item" = per 10 MB send). ` +
			'Line numbers are of the compiled JS in dist-test/.',
		'',
		formatAttribution(prof.summary, sends, 12),
	];
	sections.push(section.join('\n'));
}

function machineNote(): string {
	let model = cpus()[0]?.model ?? 'unknown';
	try {
		const line = readFileSync('/proc/cpuinfo', 'utf8')
			.split('\n')
			.find((l) => l.startsWith('model name'));
		if (line) model = line.split(':').slice(1).join(':').trim();
	} catch {
		// not Linux: keep os.cpus()
	}
	const version = (pkg: string) => {
		try {
			return (JSON.parse(readFileSync(require.resolve(`${pkg}/package.json`, { paths: [REPO] }), 'utf8')) as { version: string }).version;
		} catch {
			return '?';
		}
	};
	let coreAxios = '?';
	try {
		const corePath = require.resolve('n8n-core', { paths: [REPO] });
		coreAxios = (JSON.parse(readFileSync(require.resolve('axios/package.json', { paths: [corePath] }), 'utf8')) as { version: string }).version;
	} catch {
		// keep '?'
	}
	return (
		`Machine: ${model}, ${cpus().length} cores, Node ${process.version}, Linux ${release()}; ` +
		`n8n-core ${version('n8n-core')} (its axios ${coreAxios}), n8n-workflow ${version('n8n-workflow')}, baseline axios ${version('axios')}. ` +
		'Sandbox on 127.0.0.1 in a separate process.'
	);
}

function printReport(): void {
	const cell = (s: string) => s.replace(/\|/g, '\\|');
	console.log('\n## Benchmark (npm run bench)\n');
	console.log('| metric | measured | baseline | ratio | target | result |');
	console.log('|---|---|---|---|---|---|');
	for (const r of rows) {
		const verdict = r.verdict === 'MISSED' ? '**MISSED**' : r.verdict === 'ERROR' ? '**ERROR**' : r.verdict;
		console.log(`| ${cell(r.metric)} | ${cell(r.measured)} | ${cell(r.baseline)} | ${cell(r.ratio)} | ${cell(r.target)} | ${verdict} |`);
	}
	console.log(`\n${machineNote()}\n`);
	console.log(
		'Agents: n8n-core 2.x gives every request a new `http.Agent({ servername })` (keepAlive off → `Connection: close`, one TCP ' +
			'connection per request, no proxy configured); the baseline does the same. The keep-alive row shows what connection reuse would be worth.',
	);
	console.log(
		'Credentials: the test harness hands the engine plain credential data; a real n8n instance loads, decrypts and completes the credential ' +
			'on every getCredentials call (httpRequestWithAuthentication makes one per request, our transport one more for the base URL), ' +
			'so this benchmark under-counts that cost.',
	);
	for (const note of notes) console.log(`- ${note}`);
	const missed = rows.filter((r) => r.verdict === 'MISSED').map((r) => r.metric);
	const errors = rows.filter((r) => r.verdict === 'ERROR').map((r) => r.metric);
	if (missed.length) console.log(`\nMISSED: ${missed.length} target(s): ${missed.join('; ')}`);
	else if (!errors.length) console.log('\nAll targets met.');
	if (errors.length) console.log(`ERROR: ${errors.join('; ')}`);
	for (const s of sections) console.log(`\n${s}`);
}

async function report(): Promise<void> {
	const started = performance.now();
	const step = (name: string) => console.error(`[bench] ${name} (${((performance.now() - started) / 1000).toFixed(0)} s)`);
	let perItemPassed = true;
	let streamPassed = true;

	const sb = await RemoteSandbox.start();
	try {
		step('1. per-item cost');
		try {
			perItemPassed = await perItem(sb);
		} catch (error) {
			errorRow('1. Per-item cost', error);
		}
		step('2. concurrency');
		try {
			await concurrency(sb);
		} catch (error) {
			errorRow('2. Concurrency', error);
		}
	} finally {
		await sb.close();
	}

	step('3. large stream (child process)');
	try {
		streamPassed = await largeStream();
	} catch (error) {
		errorRow('3. Large stream', error);
	}
	step('4. load cost and package size');
	try {
		await loadCost();
	} catch (error) {
		errorRow('4. Load cost', error);
	}
	step('5. chat streaming through real n8n (child process)');
	try {
		await chatStreaming();
	} catch (error) {
		errorRow('5. Chat streaming', error);
	}
	const always = flag('profile');
	if (!flag('no-profile') && (always || !perItemPassed || !streamPassed)) {
		const dir = mkdtempSync(join(tmpdir(), 'llamacloud-bench-prof-'));
		if (always || !perItemPassed) {
			step('CPU profile of the per-item run (child processes)');
			try {
				await profilePerItem(dir);
			} catch (error) {
				notes.push(`Per-item profiling failed: ${(error as Error).message}`);
			}
		}
		if (always || !streamPassed) {
			step('CPU profile of the large stream (child process)');
			try {
				await profileStream(dir);
			} catch (error) {
				notes.push(`Stream profiling failed: ${(error as Error).message}`);
			}
		}
	}
	step('done');
	notes.push(`Benchmark wall time ${((performance.now() - started) / 1000).toFixed(0)} s.`);
	printReport();
}

async function main(): Promise<void> {
	const soak = flag('soak');
	const conversations = numberArg(ARGS, 'conversations', 1_000);
	// Every path is bounded: a stuck benchmark is stopped rather than left running.
	const boundS = soak ? 300 + Math.ceil(conversations * 1.5) : 560;
	const watchdog = setTimeout(() => {
		console.error(`[bench] watchdog: gave up after ${boundS} s`);
		process.exit(1);
	}, boundS * 1000);
	watchdog.unref();
	const mode = option('mode') ?? 'report';
	if (soak) {
		const met = await runSoak({ conversations, concurrency: numberArg(ARGS, 'concurrency', 24), seed: numberArg(ARGS, 'seed', 21) });
		stopEngineServices();
		process.exit(met ? 0 : 1);
	} else if (mode === 'stream') await streamMode();
	else if (mode === 'profile-create') await profileMode();
	else {
		await report();
		stopEngineServices();
	}
}

main().then(
	() => process.exit(0),
	(error: unknown) => {
		console.error(error);
		process.exit(1);
	},
);
