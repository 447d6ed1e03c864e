/* eslint-disable @n8n/community-nodes/no-restricted-globals, no-console -- Node.js test/dev code, never run inside n8n */
/**
 * `npm run bench -- --soak`: a production soak. Many chat conversations of three messages each, run
 * by n8n-core's WorkflowExecute against the sandbox (in its own process), as behind an active Chat
 * Trigger (production mode, streaming), many at once, with production's faults mixed in:
 *
 * - every stream sends `: ping` keep-alive comments throughout;
 * - 5 % of streams are cut mid-answer (the socket dies inside a frame);
 * - 1 % stall behind keep-alives: no further event, only `: ping`, for as long as the node waits;
 * - 5 % of executions are cancelled (n8n's Stop): half mid-answer, half while the message waits
 *   behind an earlier message of its conversation.
 *
 * Conversations are kept by the node's own store (Conversation ID), by a memory sub-node (the test
 * harness's Redis-shaped memory), or are one-shot questions (no conversation, Delete Session After
 * Answer on). It measures, in one run: executions that did not end, sessions left behind, turns sent
 * twice, RSS growth and the node's time per message against the sandbox's own. Exits 1 when a goal
 * is missed. See scripts/bench/README.md.
 */
import type { IConnections, IDataObject, INodeParameters } from 'n8n-workflow';

import { METADATA_KEY } from '../../nodes/LlamaCloudChat/conversations/memoryStore';
import { nodeConversationStore } from '../../nodes/LlamaCloudChat/conversations';
import { openSessionRef } from '../../nodes/LlamaCloudChat/conversations/sessionRef';
import { logLines } from '../../test/harness/logs';
import { MEMORY_NODE_TYPE, historyOf, memoryHistories } from '../../test/harness/memory-node';
import { runWorkflow, type RunResult } from '../../test/harness/run-workflow';
import type { StreamBehaviour } from '../../test/sandbox';
import { RemoteSandbox } from './sandbox-client';
import type { StreamFault } from './sandbox-process';
import { fmt, median } from './stats';

export const SOAK_GOALS = { notEnded: 0, leftBehind: 0, sentTwice: 0, rssMb: 50 };

/** The node's own bounds in the soak (its options), and the watchdog well above them. */
const STREAM_IDLE_TIMEOUT_MS = 3_000;
/** The whole-turn bound (Ask's Turn Timeout option). */
const TURN_TIMEOUT_MS = 15_000;
const WATCHDOG_MS = 60_000;
/** After the watchdog cancels an execution: how long it may take to end then. */
const AFTER_CANCEL_MS = 10_000;

const INDEX_IDS = ['idx-q3-reports'];
const ASK_NAME = 'Ask';
const MEMORY_INPUT: IConnections = { Memory: { ai_memory: [[{ node: ASK_NAME, type: 'ai_memory', index: 0 }]] } };
const WORKFLOWS = { node: 'soak-node-store', memory: 'soak-memory', oneShot: 'soak-one-shot' } as const;

type Kind = keyof typeof WORKFLOWS;
type Fault = 'none' | 'cut' | 'stall' | 'cancel-mid' | 'cancel-wait' | 'slow';

export interface SoakOptions {
	conversations: number;
	concurrency: number;
	seed: number;
	turns?: number;
}

interface Turn {
	conversation: number;
	turn: number;
	kind: Kind;
	key: string;
	prompt: string;
	fault: Fault;
	behaviour?: StreamBehaviour;
}

interface Execution {
	spec: Turn;
	wallMs: number;
	/** Ended within the watchdog. */
	ended: boolean;
	/** Ended at all (within the watchdog, or once the watchdog cancelled it). */
	endedEventually: boolean;
	cancelledAt?: number;
	endedAt?: number;
	startedAt: number;
	answered: boolean;
	error?: string;
	/** Session IDs named in the execution's error (message, description, context). */
	errorSessions: string[];
	sessionId?: string;
	newSession?: boolean;
	sessionDeleted?: boolean;
	status?: string;
}

/** mulberry32: the same plan for the same seed. */
function prng(seed: number): () => number {
	let a = seed >>> 0;
	return () => {
		a = (a + 0x6d2b79f5) >>> 0;
		let t = a;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

const kindOf = (i: number): Kind => (i % 10 === 9 ? 'oneShot' : i % 2 === 0 ? 'node' : 'memory');

/** Every conversation's turns, with the faults spread over them at random (seeded), each in its exact share. */
export function plan(options: SoakOptions): Turn[][] {
	const turns = options.turns ?? 3;
	const random = prng(options.seed);
	const conversations: Turn[][] = [];
	for (let i = 0; i < options.conversations; i++) {
		const kind = kindOf(i);
		const key = `soak-${options.seed}-c${i}`;
		conversations.push(
			Array.from({ length: turns }, (_, t) => ({
				conversation: i,
				turn: t + 1,
				kind,
				key,
				prompt: `Soak conversation ${i}, message ${t + 1}: what grew in Q3?`,
				fault: 'none' as Fault,
			})),
		);
	}
	const all = conversations.flat();
	for (let i = all.length - 1; i > 0; i--) {
		const j = Math.floor(random() * (i + 1));
		[all[i], all[j]] = [all[j], all[i]];
	}
	const share = (rate: number) => Math.max(1, Math.round(all.length * rate));
	const assign = (fault: Fault, count: number, eligible: (t: Turn) => boolean, also?: (t: Turn) => void) => {
		let left = count;
		for (const t of all) {
			if (left === 0) break;
			if (t.fault !== 'none' || !eligible(t)) continue;
			t.fault = fault;
			also?.(t);
			left--;
		}
	};
	const previous = (t: Turn) => conversations[t.conversation][t.turn - 2];
	// Waiting needs an earlier message of the same conversation still running: that one streams slowly.
	assign(
		'cancel-wait',
		share(0.025),
		(t) => t.kind !== 'oneShot' && t.turn >= 2 && previous(t).fault === 'none' && (t.turn < 3 || previous(previous(t)).fault !== 'slow'),
		(t) => {
			const before = previous(t);
			before.fault = 'slow';
			before.behaviour = { deltaDelayMs: 60 };
		},
	);
	let stalls = 0;
	assign('stall', share(0.01), () => true, (t) => (t.behaviour = { stallAfterEvents: stalls++ % 2 }));
	assign('cut', share(0.05), () => true, (t) => (t.behaviour = { mode: 'drop-mid-stream' }));
	assign('cancel-mid', share(0.025), () => true);
	return conversations;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Resolves after `ms` unless `stop()` is called first (so that no timer keeps the process waiting). */
function timer(ms: number): { done: Promise<'timeout'>; stop: () => void } {
	let handle: NodeJS.Timeout | undefined;
	const done = new Promise<'timeout'>((resolve) => (handle = setTimeout(() => resolve('timeout'), ms)));
	return { done, stop: () => clearTimeout(handle) };
}

function askParameters(kind: Kind): INodeParameters {
	const options: INodeParameters = { streamIdleTimeout: STREAM_IDLE_TIMEOUT_MS, turnTimeout: TURN_TIMEOUT_MS };
	if (kind === 'oneShot') return { resource: 'message', operation: 'ask', indexIds: INDEX_IDS, conversationId: '', options: { ...options, deleteSession: true } };
	// Prompt and Conversation ID keep their defaults: {{ $json.chatInput }} and {{ $json.sessionId }}, as behind a Chat Trigger.
	return { resource: 'message', operation: 'ask', indexIds: INDEX_IDS, options };
}

const SESSION_ID = /ses-[0-9A-Za-z-]+/g;

class Soak {
	readonly executions: Execution[] = [];

	private finished = 0;

	constructor(
		private readonly sb: RemoteSandbox,
		private readonly total: number,
	) {}

	/** One chat message, as n8n runs it behind an active Chat Trigger, bounded by the watchdog. */
	async execute(spec: Turn, cancelAfterMs?: number): Promise<Execution> {
		const startedAt = performance.now();
		const record: Execution = { spec, startedAt, wallMs: 0, ended: false, endedEventually: false, answered: false, errorSessions: [] };
		let cancelRun: (() => void) | undefined;
		const cancel = () => {
			if (record.cancelledAt !== undefined) return;
			record.cancelledAt = performance.now();
			cancelRun?.();
		};
		let cancelTimer: NodeJS.Timeout | undefined;
		const running = runWorkflow({
			credentials: { apiKey: this.sb.apiKey, region: 'custom', baseUrl: this.sb.url },
			mode: 'webhook',
			streaming: true,
			workflowId: WORKFLOWS[spec.kind],
			items: [{ sessionId: spec.key, action: 'sendMessage', chatInput: spec.prompt }],
			nodes:
				spec.kind === 'memory'
					? [
							{ name: ASK_NAME, parameters: askParameters(spec.kind) },
							{ name: 'Memory', type: MEMORY_NODE_TYPE, parameters: {} },
						]
					: [{ name: ASK_NAME, parameters: askParameters(spec.kind) }],
			connections: spec.kind === 'memory' ? MEMORY_INPUT : undefined,
			onStarted: (c) => {
				cancelRun = c;
				if (cancelAfterMs !== undefined) cancelTimer = setTimeout(cancel, cancelAfterMs);
			},
			// Cancelled mid-answer: once the first piece of the answer reached the chat.
			onChunk: (chunk) => {
				if (spec.fault === 'cancel-mid' && chunk.type === 'item') setImmediate(cancel);
			},
		}).then(
			(result) => ({ result }),
			(error: unknown) => ({ thrown: error as Error }),
		);
		const watchdog = timer(WATCHDOG_MS);
		let settled = await Promise.race([running, watchdog.done]);
		watchdog.stop();
		if (settled === 'timeout') {
			cancel();
			const grace = timer(AFTER_CANCEL_MS);
			settled = await Promise.race([running, grace.done]);
			grace.stop();
		} else record.ended = true;
		if (cancelTimer) clearTimeout(cancelTimer);
		record.wallMs = performance.now() - startedAt;
		if (settled !== 'timeout') {
			record.endedEventually = true;
			record.endedAt = performance.now();
			this.read(record, settled);
		}
		this.executions.push(record);
		logLines.length = 0; // the harness's recording logger would otherwise grow with every run
		this.finished++;
		if (this.finished % 250 === 0) console.error(`[soak] ${this.finished} / ${this.total} executions`);
		return record;
	}

	private read(record: Execution, settled: { result: RunResult } | { thrown: Error }): void {
		if ('thrown' in settled) {
			record.error = `the engine threw: ${settled.thrown.message}`;
			return;
		}
		const { result } = settled;
		record.status = result.run.status;
		if (result.error) {
			const error = result.error as unknown as { message: string; description?: string; context?: IDataObject };
			record.error = error.message;
			const text = JSON.stringify({ message: error.message, description: error.description, context: error.context });
			record.errorSessions = [...new Set(text.match(SESSION_ID) ?? [])];
			return;
		}
		const taskData = result.run.data.resultData.runData[ASK_NAME]?.[0];
		const json = taskData?.data?.main?.[0]?.[0]?.json;
		if (!json) {
			if (record.cancelledAt !== undefined) return; // cancelled before Ask gave an output
			record.error = 'Ask gave no output';
			return;
		}
		record.answered = true;
		const conversation = json.conversation as IDataObject | undefined;
		record.sessionId = typeof conversation?.session_id === 'string' ? conversation.session_id : undefined;
		record.newSession = conversation?.new_session === true;
		if (typeof json.session_deleted === 'boolean') record.sessionDeleted = json.session_deleted;
	}

	/** A conversation's messages, one after another; a `slow` message is followed by one that waits behind it and is cancelled. */
	async conversation(turns: Turn[]): Promise<void> {
		for (let t = 0; t < turns.length; t++) {
			const spec = turns[t];
			if (spec.fault === 'slow' && turns[t + 1]?.fault === 'cancel-wait') {
				const first = this.execute(spec);
				await sleep(150);
				// Sent while the first is answered (a second message, or a second tab), then cancelled while it waits.
				const waiting = this.execute(turns[t + 1], 300);
				await Promise.all([first, waiting]);
				t++;
				continue;
			}
			await this.execute(spec);
		}
	}
}

function percentile(values: number[], p: number): number {
	if (!values.length) return Number.NaN;
	const sorted = [...values].sort((a, b) => a - b);
	return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

function gc(): void {
	const collect = (global as { gc?: () => void }).gc;
	collect?.();
	collect?.();
}

async function memoryAfterGc(): Promise<{ rss: number; heap: number }> {
	gc();
	await sleep(200);
	gc();
	const m = process.memoryUsage();
	return { rss: m.rss / 1024 / 1024, heap: m.heapUsed / 1024 / 1024 };
}

/** The sessions the sandbox still holds (its own store, through its API). */
async function sandboxSessions(sb: RemoteSandbox): Promise<string[]> {
	const response = await fetch(`${sb.url}/api/v1/chat?page_size=1000000`, { headers: { Authorization: `Bearer ${sb.apiKey}` } });
	if (!response.ok) throw new Error(`listing the sandbox's sessions: HTTP ${response.status}`);
	const page = (await response.json()) as { items: Array<{ session_id: string }> };
	return page.items.map((s) => s.session_id);
}

/** The sessions the node's own store references now (its in-process map for the soak's node, the authority while n8n runs). */
function nodeStoreSessions(): Set<string> {
	const scope = `${WORKFLOWS.node}\u0000node-0\u0000${ASK_NAME}`;
	const sessions = new Set<string>();
	for (const entry of nodeConversationStore.conversations(scope, {}).values()) sessions.add(entry.session);
	return sessions;
}

/** The sessions the memory conversations reference: every sealed reference in their answers that opens. */
async function memorySessions(keys: string[], apiKey: string): Promise<Set<string>> {
	const sessions = new Set<string>();
	for (const key of keys) {
		const messages = (await historyOf(key).getMessages()) as Array<{ additional_kwargs?: Record<string, unknown> }>;
		for (const message of messages) {
			const token = (message.additional_kwargs?.[METADATA_KEY] as IDataObject | undefined)?.ref;
			const ref = openSessionRef(token, { workflowId: WORKFLOWS.memory, nodeId: 'node-0', indexes: INDEX_IDS.join(','), conversation: `key:${key}` }, apiKey);
			if (ref) sessions.add(ref.session);
		}
	}
	return sessions;
}

interface SoakRow {
	metric: string;
	measured: string;
	goal: string;
	verdict: 'PASS' | 'MISSED' | 'info';
}

export async function runSoak(options: SoakOptions): Promise<boolean> {
	const started = performance.now();
	const step = (name: string) => console.error(`[soak] ${name} (${((performance.now() - started) / 1000).toFixed(0)} s)`);
	const sb = await RemoteSandbox.start();
	const behaviour: StreamBehaviour = { contextAnswers: true, deltaDelayMs: 10, pingEveryMs: 50 };
	try {
		// Warm-up (module loading, JIT), then a clean slate: what the soak measures starts after it.
		step('warm-up');
		await sb.setStreamBehaviour(behaviour);
		const warm = new Soak(sb, 0);
		await Promise.all(plan({ conversations: 10, concurrency: 10, seed: options.seed + 1 }).map((c) => warm.conversation(c.map((t) => ({ ...t, key: `warm-${t.key}`, fault: 'none' as Fault, behaviour: undefined })))));
		await sb.reset();
		await sb.setStreamBehaviour(behaviour);
		nodeConversationStore.clear();
		memoryHistories.clear();
		logLines.length = 0;
		const before = await memoryAfterGc();

		const conversations = plan(options);
		const turns = conversations.flat();
		const faults: StreamFault[] = turns.filter((t) => t.behaviour).map((t) => ({ prompt: t.prompt, behaviour: t.behaviour as StreamBehaviour }));
		await sb.streamFaults(faults);
		step(`${options.conversations} conversations × ${options.turns ?? 3} messages, ${options.concurrency} at once`);
		const soak = new Soak(sb, turns.length);
		let next = 0;
		const worker = async () => {
			while (next < conversations.length) await soak.conversation(conversations[next++]);
		};
		const soakStarted = performance.now();
		const cpuStarted = process.cpuUsage();
		await Promise.all(Array.from({ length: Math.min(options.concurrency, conversations.length) }, worker));
		const soakMs = performance.now() - soakStarted;
		const cpu = process.cpuUsage(cpuStarted);
		const cpuMsPerExecution = (cpu.user + cpu.system) / 1000 / turns.length;

		step('reading the stores and the sandbox');
		const after = await memoryAfterGc();
		const log = await sb.soakLog();
		const stats = await sb.stats();
		const inSandbox = await sandboxSessions(sb);
		const byNode = nodeStoreSessions();
		const memoryKeys = [...new Set(turns.filter((t) => t.kind === 'memory').map((t) => t.key))];
		const byMemory = await memorySessions(memoryKeys, sb.apiKey);
		const executions = soak.executions;
		const namedInErrors = new Set(executions.flatMap((e) => e.errorSessions));
		const referenced = (s: string) => byNode.has(s) || byMemory.has(s);
		const leftBehind = inSandbox.filter((s) => !referenced(s) && !namedInErrors.has(s));
		const keptNamed = inSandbox.filter((s) => !referenced(s) && namedInErrors.has(s));

		const sent = new Map<string, number>();
		for (const m of log.messages) sent.set(m.prompt, (sent.get(m.prompt) ?? 0) + 1);
		const sentTwice = [...sent.values()].filter((n) => n > 1).length;
		const notEnded = executions.filter((e) => !e.ended);
		const neverEnded = executions.filter((e) => !e.endedEventually);
		const cancelWait = executions.filter((e) => e.spec.fault === 'cancel-wait');
		const sentAfterCancel = cancelWait.filter((e) => sent.has(e.spec.prompt)).length;
		const cancelToEnd = (fault: Fault) =>
			executions.filter((e) => e.spec.fault === fault && e.cancelledAt !== undefined && e.endedAt !== undefined).map((e) => (e.endedAt as number) - (e.cancelledAt as number));

		// The node's time per message against the sandbox's own: follow-ups that were answered
		// without a fault (one LlamaCloud request each: the message stream).
		const sandboxMs = new Map(log.turns.filter((t) => t.ms !== undefined).map((t) => [t.prompt, t.ms as number]));
		const clean = executions.filter((e) => e.spec.fault === 'none' && e.spec.kind !== 'oneShot' && e.answered && e.newSession === false && sandboxMs.has(e.spec.prompt));
		const wall = clean.map((e) => e.wallMs);
		const own = clean.map((e) => sandboxMs.get(e.spec.prompt) as number);
		const overhead = clean.map((e) => e.wallMs - (sandboxMs.get(e.spec.prompt) as number));

		const count = (fault: Fault) => turns.filter((t) => t.fault === fault).length;
		const rssGrowth = after.rss - before.rss;
		const rows: SoakRow[] = [
			{
				metric: `Executions that did not end within the watchdog (${WATCHDOG_MS / 1000} s; Ask's Stream Idle Timeout ${STREAM_IDLE_TIMEOUT_MS / 1000} s, Turn Timeout ${TURN_TIMEOUT_MS / 1000} s)`,
				measured: `${notEnded.length} of ${executions.length}` + (notEnded.length ? ` (${neverEnded.length} still running ${AFTER_CANCEL_MS / 1000} s after the watchdog cancelled them)` : ''),
				goal: '0',
				verdict: notEnded.length === SOAK_GOALS.notEnded ? 'PASS' : 'MISSED',
			},
			{
				metric: 'Sessions left behind: in the sandbox at the end, referenced by no conversation (node store, memory) and named in no error',
				measured: `${leftBehind.length} of ${stats.sessionsCreated} created`,
				goal: '0',
				verdict: leftBehind.length === SOAK_GOALS.leftBehind ? 'PASS' : 'MISSED',
			},
			{
				metric: 'Turns sent twice: the same (conversation, prompt) POSTed to a message stream more than once (sandbox request log)',
				measured: `${sentTwice}`,
				goal: '0',
				verdict: sentTwice === SOAK_GOALS.sentTwice ? 'PASS' : 'MISSED',
			},
			{
				metric: 'RSS growth of the n8n process, after gc, before → after the soak',
				measured: `${fmt(rssGrowth, 1)} MB (${fmt(before.rss, 0)} → ${fmt(after.rss, 0)} MB; heap used ${fmt(before.heap, 0)} → ${fmt(after.heap, 0)} MB)`,
				goal: `< ${SOAK_GOALS.rssMb} MB`,
				verdict: rssGrowth < SOAK_GOALS.rssMb ? 'PASS' : 'MISSED',
			},
			{
				metric: `Node's time per message vs the sandbox's own (${clean.length} answered follow-ups without a fault): node wall time, sandbox time, difference; median / p95`,
				measured: `${fmt(median(wall), 0)} / ${fmt(percentile(wall, 95), 0)} ms vs ${fmt(median(own), 0)} / ${fmt(percentile(own, 95), 0)} ms: +${fmt(median(overhead), 0)} / +${fmt(percentile(overhead, 95), 0)} ms`,
				goal: '—',
				verdict: 'info',
			},
			{
				metric: 'Sessions kept on purpose: referenced by no conversation, named in an error (outcome unknown, "check session …")',
				measured: `${keptNamed.length}`,
				goal: '—',
				verdict: 'info',
			},
			{
				metric: 'Messages cancelled while waiting that were sent anyway; cancel → end of the execution, median / max',
				measured: `${sentAfterCancel} of ${cancelWait.length}; ${fmt(median(cancelToEnd('cancel-wait')), 0)} / ${fmt(Math.max(...cancelToEnd('cancel-wait'), 0), 0)} ms`,
				goal: '—',
				verdict: 'info',
			},
			{
				metric: 'Cancelled mid-answer: cancel → end of the execution, median / max',
				measured: `${cancelToEnd('cancel-mid').length} cancelled; ${fmt(median(cancelToEnd('cancel-mid')), 0)} / ${fmt(Math.max(...cancelToEnd('cancel-mid'), 0), 0)} ms`,
				goal: '—',
				verdict: 'info',
			},
		];
		const answered = executions.filter((e) => e.answered).length;
		const failed = executions.filter((e) => e.endedEventually && !e.answered && e.cancelledAt === undefined).length;
		const stalls = executions.filter((e) => e.spec.fault === 'stall');
		const notes = [
			`${options.conversations} conversations × ${options.turns ?? 3} messages = ${turns.length} executions (${count('slow')} of them slow, each followed by a message that waits behind it), ` +
				`${options.concurrency} conversations at once, seed ${options.seed}: ${turns.filter((t) => t.kind === 'node').length} messages kept by the node's own store, ` +
				`${turns.filter((t) => t.kind === 'memory').length} by a memory sub-node, ${turns.filter((t) => t.kind === 'oneShot').length} one-shot (Delete Session After Answer).`,
			`Faults: ${count('cut')} streams cut mid-answer, ${count('stall')} stalled behind keep-alives (half before the first event, half after it), ` +
				`${count('cancel-mid')} executions cancelled mid-answer, ${count('cancel-wait')} while waiting; every stream sends \`: ping\` every ${behaviour.pingEveryMs} ms.`,
			`Outcomes: ${answered} answered, ${failed} failed, ${executions.filter((e) => e.cancelledAt !== undefined).length} cancelled (by the plan or the watchdog); ` +
				`stalled streams: ${stalls.filter((e) => !e.ended).length} of ${stalls.length} ran into the watchdog, the others ended after ` +
				`${fmt(median(stalls.filter((e) => e.ended).map((e) => e.wallMs / 1000)), 1)} s (median).`,
			`Sessions: ${stats.sessionsCreated} created, ${stats.sessionsDeleted} deleted, ${inSandbox.length} left in the sandbox; the node's store references ${byNode.size}, the memories ${byMemory.size}.`,
			`Sandbox: ${log.messages.length} message streams received for ${turns.length} messages; soak wall time ${fmt(soakMs / 1000, 1)} s; ` +
				`CPU of the n8n process (engine, node, harness): ${fmt(cpuMsPerExecution, 1)} ms per execution. Wall times include waiting for a CPU: ${options.concurrency} executions share one process, on a machine shared with other jobs.`,
		];
		const errors = new Map<string, number>();
		for (const e of executions) if (e.error) errors.set(e.error, (errors.get(e.error) ?? 0) + 1);
		const topErrors = [...errors].sort((a, b) => b[1] - a[1]).slice(0, 6);
		if (topErrors.length) notes.push(`Errors: ${topErrors.map(([m, n]) => `${n}× "${m.replace(SESSION_ID, 'ses-…')}"`).join('; ')}.`);
		if (leftBehind.length) {
			const creators = leftBehind.map((s) => log.messages.find((m) => m.sessionId === s)?.prompt ?? '(no message sent)');
			const kinds = new Map<string, number>();
			for (const prompt of creators) {
				const t = turns.find((x) => x.prompt === prompt);
				const label = t ? `${t.kind}/${t.fault}/message ${t.turn}` : prompt;
				kinds.set(label, (kinds.get(label) ?? 0) + 1);
			}
			notes.push(`Left behind, by the first message sent in them (kind/fault/message): ${[...kinds].map(([k, n]) => `${k} ×${n}`).join(', ')}.`);
		}

		const cell = (s: string) => s.replace(/\|/g, '\\|');
		console.log(`\n## Production soak (npm run bench -- --soak --conversations ${options.conversations})\n`);
		console.log('| metric | measured | goal | result |');
		console.log('|---|---|---|---|');
		for (const r of rows) console.log(`| ${cell(r.metric)} | ${cell(r.measured)} | ${r.goal} | ${r.verdict === 'MISSED' ? '**MISSED**' : r.verdict} |`);
		console.log('');
		for (const note of notes) console.log(`- ${note}`);
		const missed = rows.filter((r) => r.verdict === 'MISSED');
		console.log(missed.length ? `\nMISSED: ${missed.length} goal(s).` : '\nAll goals met.');
		return missed.length === 0;
	} finally {
		await sb.close();
	}
}

/** `--name N` or `--name=N`. */
export function numberArg(args: string[], name: string, fallback: number): number {
	const i = args.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
	if (i < 0) return fallback;
	const raw = args[i].includes('=') ? args[i].split('=')[1] : args[i + 1];
	const value = Number(raw);
	if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a positive integer, got ${raw}`);
	return value;
}
