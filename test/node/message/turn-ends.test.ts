/* eslint-disable @n8n/community-nodes/no-restricted-globals -- Node.js test/dev code, never run inside n8n */
// Every turn ends, and cancelling is immediate (issue 21, points 1 and 2), through n8n-core's
// engine against the sandbox. A LlamaCloud turn can stall behind SSE keep-alive comments (`: ping`,
// which sse-starlette sends every 15 s by default, and proxies too): such a stream is open and
// sends bytes, but no event. Each spec here hung or held on before its fix.

import type { IDataObject } from 'n8n-workflow';

import { nodeConversationStore } from '../../../nodes/LlamaCloudChat/conversations';
import { runWorkflow, type RunResult } from '../../harness/run-workflow';
import { byId, useSandbox } from '../../harness/support';
import type { RecordedRequest, Sandbox } from '../../sandbox';
import { createSessionDirectly, credentialsFor, errorOf, expectNoApiKeyLeak, streamRequests } from './support';

let sandbox: Sandbox;

useSandbox((started) => (sandbox = started));

beforeEach(() => nodeConversationStore.clear());

const waitMs = async (ms: number) => await new Promise((resolve) => setTimeout(resolve, ms));

async function until(condition: () => boolean, what: string, limitMs = 5000): Promise<void> {
	for (let waited = 0; !condition(); waited += 10) {
		if (waited > limitMs) throw new Error(`Timed out waiting until ${what}`);
		await waitMs(10);
	}
}

/** Waits (up to a second) for the node to close the connection of `request`, and says whether it did. */
async function closedByNode(request: RecordedRequest): Promise<boolean> {
	for (let waited = 0; sandbox.connectionOpen(request) && waited < 1000; waited += 20) await waitMs(20);
	return !sandbox.connectionOpen(request);
}

async function send(options: IDataObject): Promise<{ result: RunResult; elapsedMs: number; sessionId: string }> {
	const sessionId = await createSessionDirectly(sandbox, ['idx-q3-reports']);
	sandbox.clearRequests();
	const started = performance.now();
	const result = await runWorkflow({
		credentials: credentialsFor(sandbox),
		nodes: [{ name: 'Send', parameters: { resource: 'message', operation: 'send', sessionId: byId(sessionId), prompt: 'What grew in Q3?', options } }],
	});
	return { result, elapsedMs: performance.now() - started, sessionId };
}

interface Chat {
	result: Promise<RunResult>;
	cancel: () => void;
	/** When the execution's run settled (performance.now()): n8n's engine settles only once the node returned. */
	settledAt: Promise<number>;
}

/** One production chat message of conversation `conversation` (Ask, the node's own store), started now. */
function chat(conversation: string, chatInput: string, options: IDataObject = {}): Chat {
	let cancel: () => void = () => {
		throw new Error('not started');
	};
	const result = runWorkflow({
		credentials: credentialsFor(sandbox),
		mode: 'webhook',
		items: [{ sessionId: conversation, action: 'sendMessage', chatInput }],
		nodes: [{ name: 'Ask', parameters: { resource: 'message', operation: 'ask', indexIds: ['idx-q3-reports'], options } }],
		onStarted: (stop) => (cancel = stop),
	});
	return { result, cancel: () => cancel(), settledAt: result.then(() => performance.now()) };
}

const promptsStreamed = () => streamRequests(sandbox).map((request) => (request.body as IDataObject).prompt);

describe('1. every turn ends', () => {
	it('fails at the Stream Idle Timeout when, after one event, LlamaCloud sends nothing but `: ping` comments, and closes the connection', async () => {
		sandbox.setStreamBehaviour({ stallAfterEvents: 1, keepAliveEveryMs: 300 });

		const { result, elapsedMs, sessionId } = await send({ streamIdleTimeout: 1000 });

		const error = errorOf(result);
		expect(error.message).toBe('LlamaCloud stopped sending the answer for 1 s');
		expect(error.description).toContain("'Stream Idle Timeout'");
		// About a second after the last event, though a comment came every 300 ms.
		expect(elapsedMs).toBeGreaterThan(900);
		expect(elapsedMs).toBeLessThan(5000);
		expect(await closedByNode(streamRequests(sandbox)[0])).toBe(true);
		expect(sessionId).toMatch(/^ses-/);
		expectNoApiKeyLeak(sandbox, result);
	}, 15_000);

	it('keeps a turn whose one long `data:` line arrives in slow pieces: the bytes of an event are progress, though it completes after several idle timeouts', async () => {
		// Its closing `text` event is one data line of about 2 KB, 100 bytes every 150 ms: it takes about
		// 3 s to arrive, three times the idle timeout, with no event completed meanwhile.
		const answer = 'Revenue grew 12% in Q3. '.repeat(80);
		const stop = { type: 'stop', error: null, is_error: false, usage: { duration_ms: 5, total_input_tokens: 10, total_output_tokens: 4, turns: 1 } };
		sandbox.setStreamBehaviour({ events: [{ type: 'text', content: answer }, stop], chunkSize: 100, chunkDelayMs: 150 });

		const { result, elapsedMs } = await send({ streamIdleTimeout: 1000 });

		expect(result.error).toBeUndefined();
		expect(result.output('Send')[0].json.answer).toBe(answer);
		expect(elapsedMs).toBeGreaterThan(2500);
	}, 20_000);

	it("ends a turn kept alive past 'Turn Timeout', with an error naming the option (no session ID in the description), and closes the connection", async () => {
		// Keep-alives under a long idle timeout: only the bound on the whole turn can end it.
		sandbox.setStreamBehaviour({ stallAfterEvents: 1, keepAliveEveryMs: 100 });

		const { result, elapsedMs, sessionId } = await send({ streamIdleTimeout: 60_000, turnTimeout: 1500 });

		const error = errorOf(result) as ReturnType<typeof errorOf> & { context?: IDataObject };
		expect(error.message).toBe('LlamaCloud did not finish the answer within 1.5 s');
		expect(error.description).toBe(
			"The turn may still finish on LlamaCloud, and its connection was closed. Check the session before asking again, or raise the 'Turn Timeout' option.",
		);
		expect(error.description).not.toContain(sessionId);
		expect(error.context?.session_id).toBe(sessionId);
		expect(elapsedMs).toBeGreaterThan(1400);
		expect(elapsedMs).toBeLessThan(5000);
		expect(await closedByNode(streamRequests(sandbox)[0])).toBe(true);
		expect(streamRequests(sandbox)).toHaveLength(1); // never sent again
	}, 15_000);

	it('keeps an answer that ended within the Turn Timeout, and one that streams on for longer than the Stream Idle Timeout', async () => {
		sandbox.setStreamBehaviour({ deltaDelayMs: 150 });

		const { result, elapsedMs } = await send({ streamIdleTimeout: 1000, turnTimeout: 20_000 });

		expect(result.error).toBeUndefined();
		expect(elapsedMs).toBeGreaterThan(1000);
	}, 20_000);

	it('moves the conversation on when a turn times out: the next message of the conversation, waiting behind it, is answered', async () => {
		sandbox.setStreamBehaviour({ stallAfterEvents: 1, keepAliveEveryMs: 100, stallPrompt: 'Stalls' });
		const options = { streamIdleTimeout: 60_000, turnTimeout: 1500 };

		const first = chat('conv-stalled', 'Stalls', options);
		await until(() => streamRequests(sandbox).length === 1, 'the first message streams');
		const second = chat('conv-stalled', 'What grew in Q3?', options);

		const [firstResult, secondResult] = await Promise.all([first.result, second.result]);
		expect(errorOf(firstResult).message).toBe('LlamaCloud did not finish the answer within 1.5 s');
		expect(secondResult.error).toBeUndefined();
		expect(String(secondResult.output('Ask')[0].json.answer)).toContain('Q3');
		expect(promptsStreamed()).toEqual(['Stalls', 'What grew in Q3?']);
		expect(nodeConversationStore.busy).toBe(0);
	}, 20_000);
});

describe("the node's timers (n8n-workflow's sleep)", () => {
	const pendingTimers = () => process.getActiveResourcesInfo().filter((resource) => resource === 'Timeout').length;

	it('leaves no timer behind once a turn ended: neither its 10-minute Turn Timeout nor its idle timer', async () => {
		const before = pendingTimers();

		const { result } = await send({});

		expect(result.error).toBeUndefined();
		// Each timer was stopped when its wait was over; a plain sleep would stay pending for its whole time.
		await until(() => pendingTimers() <= before, 'the timers are cleared', 1000);
		expect(pendingTimers()).toBeLessThanOrEqual(before);
	});
});

describe('2. cancelling is immediate', () => {
	it('a message waiting behind another of its conversation leaves at once when its execution is cancelled, sends nothing and gives its place back', async () => {
		sandbox.setStreamBehaviour({ stallAfterEvents: 1, keepAliveEveryMs: 100, stallPrompt: 'Stalls' });
		const options = { streamIdleTimeout: 60_000, turnTimeout: 3000 };

		const running = chat('conv-queue', 'Stalls', options);
		await until(() => streamRequests(sandbox).length === 1, 'the first message streams');
		// Four messages wait behind it, the most a conversation takes.
		const waiting = [1, 2, 3, 4].map((n) => chat('conv-queue', `Question ${n}`, options));
		await waitMs(300);

		// The running turn stalls until its Turn Timeout (3 s): the cancelled message must settle before it.
		let runningSettled = false;
		void running.result.then(() => (runningSettled = true));
		waiting[0].cancel();
		await waiting[0].result;
		const settledBeforeTheRunningOne = !runningSettled;
		// Its place is free: a fifth message may wait now.
		const fifth = chat('conv-queue', 'Question 5', options);

		const results = await Promise.all([running.result, ...waiting.slice(1).map((c) => c.result), fifth.result]);
		expect(settledBeforeTheRunningOne).toBe(true);
		expect(errorOf(results[0]).message).toBe('LlamaCloud did not finish the answer within 3 s');
		for (const result of results.slice(1)) expect(result.error).toBeUndefined();
		// The cancelled message never reached LlamaCloud; the others kept their order.
		expect(promptsStreamed()).toEqual(['Stalls', 'Question 2', 'Question 3', 'Question 4', 'Question 5']);
		expect(nodeConversationStore.busy).toBe(0);
	}, 30_000);

	it('a message whose answer is streaming stops reading at once when its execution is cancelled, and closes the connection', async () => {
		sandbox.setStreamBehaviour({ stallAfterEvents: 1, keepAliveEveryMs: 100 });

		const streaming = chat('conv-cancel', 'What grew in Q3?', { streamIdleTimeout: 60_000, turnTimeout: 20_000 });
		await until(() => streamRequests(sandbox).length === 1, 'the message streams');
		await waitMs(300);
		const cancelledAt = performance.now();
		streaming.cancel();

		// Well before the 20 s Turn Timeout, the only other way this turn could end.
		expect((await streaming.settledAt) - cancelledAt).toBeLessThan(10_000);
		expect(await closedByNode(streamRequests(sandbox)[0])).toBe(true);
		expect(nodeConversationStore.busy).toBe(0);
	}, 30_000);
});
