/* eslint-disable @n8n/community-nodes/no-restricted-globals -- Node.js test/dev code, never run inside n8n */
// Message → Send at the edges of the answer stream, through n8n's engine against the sandbox:
// a last event without its closing blank line, an answer whose pauses add up to more than the
// Stream Idle Timeout, a connection kept open after the closing `stop`, and Require All Indexes.

import type { IDataObject } from 'n8n-workflow';

import { runWorkflow, type RunResult } from '../../harness/run-workflow';
import { byId, useSandbox } from '../../harness/support';
import type { Sandbox } from '../../sandbox';
import { STREAM_PATH, bodyOf, createSessionDirectly, credentialsFor, errorOf, streamRequests } from './support';

let sandbox: Sandbox;

useSandbox((started) => (sandbox = started));

async function send(options: IDataObject = {}): Promise<{ result: RunResult; elapsedMs: number }> {
	const sessionId = await createSessionDirectly(sandbox, ['idx-q3-reports']);
	sandbox.clearRequests();
	const started = performance.now();
	const result = await runWorkflow({
		credentials: credentialsFor(sandbox),
		nodes: [
			{
				name: 'Send',
				parameters: { resource: 'message', operation: 'send', sessionId: byId(sessionId), prompt: 'What grew in Q3?', options },
			},
		],
	});
	return { result, elapsedMs: performance.now() - started };
}

function answerOf(result: RunResult): IDataObject {
	if (result.error) throw new Error(`The workflow failed: ${result.error.message}`);
	return result.output('Send')[0].json;
}

const sse = (event: IDataObject) => `event: ${String(event.type)}\ndata: ${JSON.stringify(event)}`;
const STOP = { type: 'stop', error: null, is_error: false, usage: { duration_ms: 5, total_input_tokens: 10, total_output_tokens: 4, turns: 1 } };

describe('Message → Send: edges of the answer stream', () => {
	it('reads a last event that ends the stream without its closing blank line', async () => {
		// Some servers and proxies end the body right after the last data line.
		const body = `${sse({ type: 'text', content: 'Revenue grew 12%.' })}\n\n${sse(STOP)}`;
		sandbox.injectFault({ method: 'POST', path: STREAM_PATH, action: { type: 'status', status: 200, body, contentType: 'text/event-stream' } });

		const { result } = await send();

		const output = answerOf(result);
		expect(output.answer).toBe('Revenue grew 12%.');
		expect(output.usage).toEqual(STOP.usage);
	});

	it('takes nothing after the stop event into the turn: neither complete events nor an unterminated last one', async () => {
		const after = `${sse({ type: 'text', content: 'Not this turn.' })}\n\n${sse({ type: 'text_delta', content: 'Nor this.' })}`;
		const body = `${sse({ type: 'text', content: 'Revenue grew 12%.' })}\n\n${sse(STOP)}\n\n${after}`;
		sandbox.injectFault({ method: 'POST', path: STREAM_PATH, action: { type: 'status', status: 200, body, contentType: 'text/event-stream' } });

		const { result } = await send({ includeEvents: true, simplify: false });

		const output = answerOf(result);
		expect(output.answer).toBe('Revenue grew 12%.');
		expect((output.events as IDataObject[]).map((event) => event.type)).toEqual(['text', 'stop']);
	});

	it('still fails a stream that ends without any stop event, even with the last event unterminated', async () => {
		const body = `${sse({ type: 'text', content: 'Revenue grew 12%.' })}\n\n${sse({ type: 'text_delta', content: 'and' })}`;
		sandbox.injectFault({ method: 'POST', path: STREAM_PATH, action: { type: 'status', status: 200, body, contentType: 'text/event-stream' } });

		const { result } = await send();

		expect(errorOf(result).message).toBe('The answer stream ended before LlamaCloud finished the turn');
		// n8n shows the session under the error's details, to look it up with Session → Get.
		const { errorResponse } = result.error as unknown as { errorResponse?: unknown };
		expect(errorResponse).toEqual({ session_id: streamRequests(sandbox)[0].path.split('/')[4] });
	});

	it('restarts the Stream Idle Timeout at every chunk: pauses of 150 ms that add up to far more than a 500 ms timeout', async () => {
		sandbox.setStreamBehaviour({ chunkSize: 160, chunkDelayMs: 150 });

		const { result, elapsedMs } = await send({ streamIdleTimeout: 500 });

		const output = answerOf(result);
		expect(output.answer).toContain('Q3 revenue grew 12%');
		expect(sandbox.stats.turnsCompleted).toBe(1);
		// The premise: the answer streamed for several idle timeouts in total.
		expect(elapsedMs).toBeGreaterThan(1500);
	});

	it('gives no after-stop grace before the stop: a pause of over 2 s mid-answer is waited for (within the idle timeout)', async () => {
		sandbox.setStreamBehaviour({ answer: 'Revenue grew 12%.', chunkSize: 600, chunkDelayMs: 2300 });

		const { result, elapsedMs } = await send({ streamIdleTimeout: 10_000 });

		expect(answerOf(result).answer).toBe('Revenue grew 12%.');
		// The premise: the answer paused for longer than the 2 s the node waits after a stop event.
		expect(elapsedMs).toBeGreaterThan(2300);
	});

	it('does not wait on a connection LlamaCloud keeps open after the stop event: it stops reading about 2 s later', async () => {
		sandbox.setStreamBehaviour({ holdOpenAfterStopMs: 25_000 });

		const { result, elapsedMs } = await send();

		const output = answerOf(result);
		expect(output.answer).toContain('Q3 revenue grew 12%');
		expect(output.is_error).toBe(false);
		expect(elapsedMs).toBeGreaterThan(1900);
		expect(elapsedMs).toBeLessThan(10_000);
		// ... and closes that connection itself rather than leave it to LlamaCloud.
		const request = streamRequests(sandbox)[0];
		for (let waited = 0; sandbox.connectionOpen(request) && waited < 1000; waited += 20) await new Promise((resolve) => setTimeout(resolve, 20));
		expect(sandbox.connectionOpen(request)).toBe(false);
	});

	it.each([
		['on', true],
		['off', false],
	])('sends Require All Indexes when it is set %s', async (_label, value) => {
		// A field of LlamaCloud's newer API revision (reference §8), not of the published 2026-08 spec.
		sandbox.setRevision('current');
		const { result } = await send({ requireAllIndexes: value });

		expect(result.error).toBeUndefined();
		expect(bodyOf(streamRequests(sandbox)[0])).toEqual({ index_ids: ['idx-q3-reports'], prompt: 'What grew in Q3?', require_all_indexes: value });
	});

	it('leaves Require All Indexes out when the option was not added', async () => {
		const { result } = await send();

		expect(result.error).toBeUndefined();
		expect(bodyOf(streamRequests(sandbox)[0])).not.toHaveProperty('require_all_indexes');
	});
});
