// Spec tests for Message → Send, run for real through n8n-core's execution engine against the
// LlamaCloud sandbox (no HTTP mocking). They describe what a workflow author sees.

import type { IDataObject, INodeExecutionData } from 'n8n-workflow';

import { runWorkflow, type WorkflowNode } from '../../harness/run-workflow';
import { useSandbox } from '../../harness/support';
import type { Framing, Sandbox } from '../../sandbox';
import {
	bodyOf,
	byId,
	createSessionDirectly,
	credentialsFor,
	errorOf,
	expectNoApiKeyLeak,
	inBandErrorBody,
	requestLines,
	streamRequests,
	STREAM_PATH,
} from './support';

let sandbox: Sandbox;

useSandbox((started) => (sandbox = started));

const credentials = () => credentialsFor(sandbox);

const create = (indexIds: string[] = ['idx-q3-reports']): WorkflowNode => ({
	name: 'Create',
	parameters: { resource: 'session', operation: 'create', indexIds },
});

const send = (parameters: IDataObject = {}, extra: Partial<WorkflowNode> = {}): WorkflowNode => ({
	name: 'Send',
	parameters: { resource: 'message', operation: 'send', prompt: 'What grew in Q3?', ...parameters },
	...extra,
});

/** Create (bound to Q3 reports) → Send, the usual start of a conversation. */
async function createAndSend(parameters: IDataObject = {}, indexIds?: string[]) {
	return await runWorkflow({ credentials: credentials(), items: [{}], nodes: [create(indexIds), send(parameters)] });
}

function sendOutput(result: Awaited<ReturnType<typeof runWorkflow>>): IDataObject {
	if (result.error) throw new Error(`The workflow failed: ${result.error.message}`);
	return result.output('Send')[0].json;
}

describe('Message → Send', () => {
	describe('in a Create → Send → Get → Delete workflow', () => {
		it('answers in the new session, shows the turn in its history, then deletes it', async () => {
			const result = await runWorkflow({
				credentials: credentials(),
				items: [{}],
				nodes: [
					create(),
					send(), // the session comes from the incoming item: ={{ $json.session_id }}
					{ name: 'Get', parameters: { resource: 'session', operation: 'get' } },
					{ name: 'Delete', parameters: { resource: 'session', operation: 'delete' } },
				],
			});
			expect(result.error).toBeUndefined();
			const sessionId = result.output('Create')[0].json.session_id as string;
			const answer = result.output('Send')[0].json;
			expect(answer.session_id).toBe(sessionId);
			expect(answer.answer).toContain('Q3 revenue grew 12%');

			const history = result.output('Get')[0].json;
			expect(history.session_id).toBe(sessionId);
			const events = history.events as IDataObject[];
			expect(events[0]).toEqual({ type: 'user_input', content: 'What grew in Q3?' });
			expect(events).toContainEqual({ type: 'text', content: answer.answer });
			expect(events[events.length - 1]).toMatchObject({ type: 'stop', is_error: false });

			expect(result.output('Delete')[0].json).toEqual({ deleted: true, session_id: sessionId });
			expect(sandbox.getSession(sessionId)).toBeUndefined();
			expect(requestLines(sandbox)).toEqual([
				'POST /api/v1/chat',
				'GET /api/v1/chat/:id/summary',
				'POST /api/v1/chat/:id/messages/stream',
				'GET /api/v1/chat/:id',
				'DELETE /api/v1/chat/:id',
			]);
		});

		it('returns the session ID, the answer (also as `output`, for n8n\'s chat), its citations, the token usage and is_error', async () => {
			const output = sendOutput(await createAndSend());
			expect(Object.keys(output).sort()).toEqual(['answer', 'citations', 'is_error', 'output', 'session_id', 'usage']);
			expect(output.output).toBe(output.answer);
			expect(output.is_error).toBe(false);
			expect(output.citations).toEqual([
				expect.objectContaining({
					tool: 'search',
					arguments: { query: 'What grew in Q3?' },
					result: expect.arrayContaining([expect.objectContaining({ index_id: 'idx-q3-reports', file_name: 'q3-2026-board-report.pdf' })]),
				}),
			]);
			expect(output.usage).toEqual({
				duration_ms: expect.any(Number),
				total_input_tokens: expect.any(Number),
				total_output_tokens: expect.any(Number),
				turns: 2,
			});
		});

		it('gives the session a title from its first message (seen with Get Summary)', async () => {
			const result = await runWorkflow({
				credentials: credentials(),
				items: [{}],
				nodes: [create(), send({ prompt: 'What were the main findings in Q3?' }), { name: 'Summary', parameters: { resource: 'session', operation: 'getSummary' } }],
			});
			expect(result.output('Create')[0].json.generated_title).toBeNull();
			const summary = result.output('Summary')[0].json;
			expect(summary.generated_title).toBe('What were the main findings in Q3?');
			expect(summary.job_metadata).toMatchObject({ is_error: false, error: null, turns: 2 });
		});
	});

	describe('which indexes a message searches', () => {
		it("reads a bound session's own indexes from LlamaCloud, also straight after Create", async () => {
			const output = sendOutput(await createAndSend({}, ['idx-q3-reports', 'idx-product-handbook']));
			expect(output.answer).toContain('Q3 reports, Product handbook');
			const [stream] = streamRequests(sandbox);
			expect(bodyOf(stream)).toEqual({ index_ids: ['idx-q3-reports', 'idx-product-handbook'], prompt: 'What grew in Q3?' });
			expect(requestLines(sandbox)).toEqual(['POST /api/v1/chat', 'GET /api/v1/chat/:id/summary', 'POST /api/v1/chat/:id/messages/stream']);
		});

		it("reads a bound session's indexes from its summary when the session is given by ID", async () => {
			const sessionId = await createSessionDirectly(sandbox, ['idx-product-handbook']);
			sandbox.clearRequests();
			const result = await runWorkflow({
				credentials: credentials(),
				items: [{ unrelated: true }],
				nodes: [send({ sessionId: byId(sessionId), prompt: 'Which plan has single sign-on?' })],
			});
			expect(sendOutput(result).answer).toContain('single sign-on');
			expect(requestLines(sandbox)).toEqual(['GET /api/v1/chat/:id/summary', 'POST /api/v1/chat/:id/messages/stream']);
			expect(bodyOf(streamRequests(sandbox)[0]).index_ids).toEqual(['idx-product-handbook']);
		});

		it('refuses to send to an unbound session without indexes, and sends nothing', async () => {
			const result = await createAndSend({}, []);
			const sessionId = result.output('Create')[0].json.session_id as string;
			expect(result.output('Create')[0].json.index_ids).toBeNull();
			const error = errorOf(result);
			expect(error.name).toBe('NodeOperationError');
			expect(error.message).toBe(`Session ${sessionId} is not bound to any index`);
			expect(error.description).toContain("'Indexes'");
			expect(streamRequests(sandbox)).toHaveLength(0);
			expect(sandbox.stats.turnsStarted).toBe(0);
			expectNoApiKeyLeak(sandbox, result);
		});

		it('sends the chosen indexes for an unbound session', async () => {
			const output = sendOutput(await createAndSend({ indexIds: ['idx-product-handbook'], prompt: 'Which plan has single sign-on?' }, []));
			expect(output.answer).toContain('Based on Product handbook');
			expect(bodyOf(streamRequests(sandbox)[0]).index_ids).toEqual(['idx-product-handbook']);
			// The summary says the session is unbound; only then are the chosen indexes used.
			expect(requestLines(sandbox)).toContain('GET /api/v1/chat/:id/summary');
		});

		it('accepts the indexes as a comma-separated expression', async () => {
			sendOutput(await createAndSend({ indexIds: '={{ "idx-q3-reports, idx-support-tickets" }}' }, []));
			expect(bodyOf(streamRequests(sandbox)[0]).index_ids).toEqual(['idx-q3-reports', 'idx-support-tickets']);
		});

		it("refuses indexes that differ from a bound session's set, before sending", async () => {
			const result = await runWorkflow({
				credentials: credentials(),
				items: [{}],
				nodes: [
					create(['idx-q3-reports']),
					send(), // locks the set
					send({ sessionId: '={{ $json.session_id }}', indexIds: ['idx-product-handbook'], prompt: 'And the refund policy?' }, { name: 'Send again' }),
				],
			});
			const error = errorOf(result);
			const sessionId = result.output('Create')[0].json.session_id as string;
			expect(error.message).toBe(`Indexes: session ${sessionId} is bound to idx-q3-reports, and a message cannot search other indexes`);
			expect(error.name).toBe('NodeOperationError');
			expect(streamRequests(sandbox)).toHaveLength(1);
			expectNoApiKeyLeak(sandbox, result);
		});

		it("shows LlamaCloud's 404 for a session that does not exist", async () => {
			const result = await runWorkflow({
				credentials: credentials(),
				items: [{}],
				nodes: [send({ sessionId: byId('ses-does-not-exist'), indexIds: ['idx-q3-reports'] })],
			});
			const error = errorOf(result);
			expect(error.message).toBe('LlamaCloud error 404: Session not found');
			expect(error.httpCode).toBe('404');
			expect(error.description).toContain('Check the ID');
			expectNoApiKeyLeak(sandbox, result);
		});
	});

	describe('the prompt', () => {
		const runWithPrompt = async (prompt: string) => {
			const sessionId = await createSessionDirectly(sandbox, ['idx-q3-reports']);
			sandbox.clearRequests();
			return await runWorkflow({
				credentials: credentials(),
				items: [{}],
				nodes: [send({ sessionId: byId(sessionId), indexIds: ['idx-q3-reports'], prompt })],
			});
		};

		it('is rejected above 1000 characters, before anything is sent', async () => {
			const result = await runWithPrompt('x'.repeat(1001));
			const error = errorOf(result);
			expect(error.name).toBe('NodeOperationError');
			expect(error.message).toBe('Prompt is 1001 characters long; LlamaCloud accepts at most 1000');
			expect(sandbox.requests).toHaveLength(0);
			expectNoApiKeyLeak(sandbox, result);
		});

		it('is accepted at exactly 1000 characters', async () => {
			const prompt = 'Q3 revenue? '.repeat(84).slice(0, 1000);
			expect(prompt).toHaveLength(1000);
			const output = sendOutput(await runWithPrompt(prompt));
			expect(output.is_error).toBe(false);
			expect(bodyOf(streamRequests(sandbox)[0]).prompt).toBe(prompt);
		});

		it('counts characters the way LlamaCloud does: 1000 emoji are 1000 characters', async () => {
			// LlamaCloud (Python) limits code points; an emoji is one, although JavaScript counts it as 2.
			const prompt = '📈'.repeat(1000);
			const result = await runWithPrompt(prompt);
			expect(result.error?.message).toBeUndefined();
			expect(bodyOf(streamRequests(sandbox)[0]).prompt).toBe(prompt);
		});

		it.each([
			// A literal empty prompt never runs: n8n itself flags the required parameter.
			['empty (mapped from an empty field)', '={{ "" }}'],
			['only spaces', '   '],
		])('is required: a prompt that is %s is rejected before anything is sent', async (_label, prompt) => {
			const result = await runWithPrompt(prompt);
			const error = errorOf(result);
			expect(error.name).toBe('NodeOperationError');
			expect(error.message).toMatch(/^Prompt is required/);
			expect(sandbox.requests).toHaveLength(0);
			expectNoApiKeyLeak(sandbox, result);
		});
	});

	describe('output options', () => {
		it('Include Raw Events adds every streamed event in order, ending with the stop event', async () => {
			const result = await createAndSend({ options: { includeEvents: true } });
			const output = sendOutput(result);
			const events = output.events as IDataObject[];
			const sessionId = output.session_id as string;
			// Exactly what LlamaCloud streamed: the session history after the prompt.
			expect(events).toEqual(sandbox.getSession(sessionId).events.slice(1));
			expect(events.map((event) => event.type)).toEqual([
				'thinking_delta',
				'tool_call',
				'tool_result',
				...Array(events.length - 5).fill('text_delta'),
				'text',
				'stop',
			]);
			// The current API revision adds skipped_index_ids (SANDBOX_REVISION=current runs this too).
			expect(events[events.length - 1]).toMatchObject({ type: 'stop', error: null, is_error: false, usage: output.usage });
		});

		it('Simplify off adds the prompt, indexes, reasoning, error and stop event', async () => {
			const output = sendOutput(await createAndSend({ options: { simplify: false } }));
			expect(output).toMatchObject({
				prompt: 'What grew in Q3?',
				index_ids: ['idx-q3-reports'],
				thinking: 'Searching Q3 reports for "What grew in Q3?".',
				error: null,
				stop: { type: 'stop', is_error: false, error: null, usage: output.usage },
			});
			expect(output).not.toHaveProperty('events');
		});
	});

	describe('however LlamaCloud frames the stream', () => {
		let normal: IDataObject;

		beforeAll(async () => {
			sandbox.reset();
			normal = sendOutput(await createAndSend());
		});

		const comparable = (output: IDataObject) => ({
			answer: output.answer,
			// Call IDs are fresh per turn; what was searched and found must match.
			citations: (output.citations as IDataObject[]).map(({ tool, arguments: args, result }) => ({ tool, args, result })),
			tokens: [(output.usage as IDataObject).total_input_tokens, (output.usage as IDataObject).total_output_tokens],
		});

		it.each<[string, { framing?: Framing; chunkSize?: number }]>([
			['data-only frames', { framing: 'data-only' }],
			['CRLF line endings', { framing: 'crlf' }],
			['keep-alive comments', { framing: 'comments' }],
			['a [DONE] marker', { framing: 'done-marker' }],
			['multi-line data', { framing: 'multiline-data' }],
			['1-byte chunks', { chunkSize: 1 }],
			['7-byte chunks', { chunkSize: 7 }],
			['7-byte chunks with CRLF', { framing: 'crlf', chunkSize: 7 }],
		])('gives the same answer with %s', async (_label, behaviour) => {
			sandbox.setStreamBehaviour(behaviour);
			const output = sendOutput(await createAndSend());
			expect(comparable(output)).toEqual(comparable(normal));
			expect(sandbox.stats.turnsCompleted).toBe(1);
		});

		it('fails the item when an "event: error" frame arrives', async () => {
			sandbox.setStreamBehaviour({ framing: 'error-event', errorMessage: 'Index idx-q3-reports is not synced yet' });
			const result = await createAndSend();
			const error = errorOf(result);
			expect(error.message).toBe('LlamaCloud could not answer: Index idx-q3-reports is not synced yet');
			expectNoApiKeyLeak(sandbox, result);
		});
	});

	describe('when the turn fails', () => {
		it("keeps LlamaCloud's words even when they name a system error code (n8n would swap them for generic advice)", async () => {
			sandbox.setStreamBehaviour({ mode: 'in-band-error', errorMessage: 'Retrieval failed: vector store ETIMEDOUT' });
			const result = await createAndSend();
			expect(errorOf(result).message).toBe('LlamaCloud could not answer: Retrieval failed: vector store ETIMEDOUT');
			// n8n shows the session and LlamaCloud's own words under the error's details.
			const { errorResponse } = result.error as unknown as { errorResponse?: unknown };
			expect(errorResponse).toEqual({ session_id: expect.stringMatching(/^ses-/), error: 'Retrieval failed: vector store ETIMEDOUT' });
			expectNoApiKeyLeak(sandbox, result);
		});

		it('accepts a number mapped as the prompt, as text', async () => {
			const output = sendOutput(await createAndSend({ prompt: '={{ 42 }}' }));
			expect(output.answer).toEqual(expect.any(String));
			expect(streamRequests(sandbox)[0].body).toMatchObject({ prompt: '42' });
		});

		it("fails the item with LlamaCloud's message when the stream ends in an error stop", async () => {
			sandbox.setStreamBehaviour({ mode: 'in-band-error', errorMessage: 'Model provider overloaded (529)' });
			const result = await createAndSend();
			const error = errorOf(result);
			expect(error.message).toContain('Model provider overloaded (529)');
			const sessionId = result.output('Create')[0].json.session_id as string;
			expect(error.description).toContain(sessionId);
			expect(streamRequests(sandbox)).toHaveLength(1);
			expectNoApiKeyLeak(sandbox, result);
		});

		it('with Continue On Fail, turns a failed item into an error item and still answers the others', async () => {
			const sessionId = await createSessionDirectly(sandbox, ['idx-q3-reports']);
			sandbox.injectFault({
				method: 'POST',
				path: STREAM_PATH,
				when: (request) => (request.body as IDataObject)?.prompt === 'second',
				action: { type: 'status', status: 200, contentType: 'text/event-stream', body: inBandErrorBody('Model provider overloaded') },
			});
			const result = await runWorkflow({
				credentials: credentials(),
				items: [{ q: 'first' }, { q: 'second' }, { q: 'third' }],
				nodes: [send({ sessionId: byId(sessionId), indexIds: ['idx-q3-reports'], prompt: '={{ $json.q }}' }, { continueOnFail: true })],
			});
			expect(result.error).toBeUndefined();
			const items = result.output('Send');
			expect(items).toHaveLength(3);
			expect(items.map((item) => item.pairedItem)).toEqual([{ item: 0 }, { item: 1 }, { item: 2 }]);
			expect(items[0].json).toMatchObject({ session_id: sessionId, is_error: false, answer: expect.stringContaining('Q3 reports') });
			expect(items[1].json).toEqual({
				error: 'LlamaCloud could not answer: Model provider overloaded',
				description: expect.stringContaining(sessionId),
			});
			expect(items[2].json).toMatchObject({ session_id: sessionId, is_error: false });
			expectNoApiKeyLeak(sandbox, result);
		});

		it('says the answer is incomplete when the stream ends without a stop event, and does not send it again', async () => {
			sandbox.setStreamBehaviour({ mode: 'truncate-before-stop' });
			const result = await createAndSend({ options: { maxRetries: 3 } });
			const error = errorOf(result);
			expect(error.message).toBe('The answer stream ended before LlamaCloud finished the turn');
			expect(error.description).toMatch(/may be incomplete/);
			expect(error.description).toMatch(/not sent again/);
			expect(streamRequests(sandbox)).toHaveLength(1);
			expect(sandbox.stats.turnsStarted).toBe(1);
			expectNoApiKeyLeak(sandbox, result);
		});

		it('says the connection broke when it drops mid-stream, and does not send the message again', async () => {
			sandbox.setStreamBehaviour({ mode: 'drop-mid-stream' });
			const result = await createAndSend({ options: { maxRetries: 3 } });
			const error = errorOf(result);
			expect(error.message).toMatch(/^The connection broke while LlamaCloud was answering/);
			expect(error.description).toMatch(/not sent again/);
			expect(streamRequests(sandbox)).toHaveLength(1);
			expect(sandbox.stats.turnsStarted).toBe(1);
			expectNoApiKeyLeak(sandbox, result);
		});

		it('does not send the message again when the connection drops before the answer starts', async () => {
			sandbox.injectFault({ method: 'POST', path: STREAM_PATH, action: { type: 'drop' } });
			const result = await createAndSend({ options: { maxRetries: 3 } });
			const error = errorOf(result);
			// The request was sent: LlamaCloud may have got it, so the advice is to check, not "could not reach".
			expect(error.message).toBe('The connection broke before LlamaCloud answered (ECONNRESET)');
			expect(error.description).toMatch(/^The message may have reached LlamaCloud\. The message was not sent again, since that could duplicate a chat turn: check session ses-[\w-]+ with Session → Get before sending it again\.$/);
			expect(streamRequests(sandbox)).toHaveLength(1);
			expectNoApiKeyLeak(sandbox, result);
		});

		it('does not retry the message on a server error, even with retries allowed', async () => {
			sandbox.injectFault({ method: 'POST', path: STREAM_PATH, times: Infinity, action: { type: 'status', status: 503 } });
			const result = await createAndSend({ options: { maxRetries: 3 } });
			const error = errorOf(result);
			expect(error.message).toBe('LlamaCloud error 503: Service Unavailable');
			expect(error.httpCode).toBe('503');
			expect(error.description).not.toContain('Retries');
			expect(streamRequests(sandbox)).toHaveLength(1);
			expectNoApiKeyLeak(sandbox, result);
		});

		it('fails fast when the stream goes quiet for longer than the Stream Idle Timeout', async () => {
			sandbox.setStreamBehaviour({ chunkDelayMs: 2000 });
			const started = Date.now();
			const result = await createAndSend({ options: { streamIdleTimeout: 300 } });
			const elapsed = Date.now() - started;
			const error = errorOf(result);
			expect(error.message).toMatch(/^LlamaCloud stopped sending the answer for/);
			expect(error.description).toContain("'Stream Idle Timeout'");
			expect(elapsed).toBeLessThan(1800);
			expect(streamRequests(sandbox)).toHaveLength(1);
			expectNoApiKeyLeak(sandbox, result);
		});

		it('names the Stream Idle Timeout that was exceeded in the error message', async () => {
			sandbox.setStreamBehaviour({ chunkDelayMs: 2000 });
			const result = await createAndSend({ options: { streamIdleTimeout: 300 } });
			// A 300 ms timeout must not be reported as "0 s".
			expect(errorOf(result).message).toBe('LlamaCloud stopped sending the answer for 300 ms');
		});

		it('names an idle timeout of exactly a second as "1 s"', async () => {
			sandbox.setStreamBehaviour({ chunkDelayMs: 4000 });
			const result = await createAndSend({ options: { streamIdleTimeout: 1000 } });
			expect(errorOf(result).message).toBe('LlamaCloud stopped sending the answer for 1 s');
		});

		it('names an idle timeout of a second or more in seconds', async () => {
			sandbox.setStreamBehaviour({ chunkDelayMs: 4000 });
			const result = await createAndSend({ options: { streamIdleTimeout: 1250 } });
			expect(errorOf(result).message).toBe('LlamaCloud stopped sending the answer for 1.3 s');
		});

		it('keeps a slow stream going as long as every pause is shorter than the Stream Idle Timeout', async () => {
			sandbox.setStreamBehaviour({ chunkSize: 512, chunkDelayMs: 150 });
			const output = sendOutput(await createAndSend({ options: { streamIdleTimeout: 1000 } }));
			expect(output.answer).toContain('Q3 revenue grew 12%');
			expect(sandbox.stats.turnsCompleted).toBe(1);
		});

		it('gives up after the Timeout when the answer does not start, and does not send the message again', async () => {
			sandbox.injectFault({ method: 'POST', path: STREAM_PATH, action: { type: 'delay', ms: 1000 } });
			const result = await createAndSend({ options: { timeout: 200, maxRetries: 3 } });
			const error = errorOf(result);
			expect(error.message).toBe('LlamaCloud did not start answering within 200 ms (ECONNABORTED)');
			expect(error.description).toMatch(/^The message was sent, and the turn may still be running\. The message was not sent again, since that could duplicate a chat turn: check session ses-[\w-]+ with Session → Get before sending it again\./);
			expect(streamRequests(sandbox)).toHaveLength(1);
			expectNoApiKeyLeak(sandbox, result);
		});

		it('lets the Timeout limit only the wait for the answer to start, not the pauses while it streams', async () => {
			// Option text: "How long to wait for LlamaCloud to start answering a request". Pauses while
			// the answer streams are the Stream Idle Timeout's job (default 120 s > Timeout's 60 s).
			sandbox.setStreamBehaviour({ chunkSize: 512, chunkDelayMs: 150 });
			const result = await createAndSend({ options: { streamIdleTimeout: 1000, timeout: 100 } });
			expect(result.error?.message).toBeUndefined();
			expect(sendOutput(result).answer).toContain('Q3 revenue grew 12%');
		});
	});

	describe('with several input items', () => {
		const prompts = ['How much did revenue grow?', 'What happened to operating costs and gross margin?', 'Which customer concentration risk was flagged?'];
		const expectedStarts = [
			'Based on Q3 reports: Q3 revenue grew 12%',
			'Based on Q3 reports: Operating costs fell 3%',
			'Based on Q3 reports: The main risk flagged for Q4',
		];

		const runThree = async (options: IDataObject) => {
			const sessionId = await createSessionDirectly(sandbox, ['idx-q3-reports']);
			// The first item's answer is held back so that it finishes last when items run together.
			sandbox.injectFault({
				method: 'POST',
				path: STREAM_PATH,
				when: (request) => (request.body as IDataObject)?.prompt === prompts[0],
				action: { type: 'delay', ms: 300 },
			});
			const result = await runWorkflow({
				credentials: credentials(),
				items: prompts.map((question) => ({ session_id: sessionId, question })),
				nodes: [send({ prompt: '={{ $json.question }}', indexIds: ['idx-q3-reports'], options: { simplify: false, ...options } })],
			});
			expect(result.error).toBeUndefined();
			return { sessionId, items: result.output('Send') };
		};

		const expectInputOrder = (items: INodeExecutionData[], sessionId: string) => {
			expect(items).toHaveLength(3);
			items.forEach((item, index) => {
				expect(item.pairedItem).toEqual({ item: index });
				expect(item.json.session_id).toBe(sessionId);
				expect(item.json.prompt).toBe(prompts[index]);
				expect(item.json.answer).toMatch(new RegExp(`^${expectedStarts[index].replace(/[.?%]/g, '\\$&')}`));
			});
		};

		it('answers each item, in input order, each paired with its item', async () => {
			const { sessionId, items } = await runThree({});
			expectInputOrder(items, sessionId);
			// One at a time: the messages reached LlamaCloud in input order.
			expect(streamRequests(sandbox).map((request) => bodyOf(request).prompt)).toEqual(prompts);
		});

		it('keeps input order with 3 items per batch, even when the first answer finishes last', async () => {
			const { sessionId, items } = await runThree({ batching: { batch: { batchSize: 3 } } });
			expectInputOrder(items, sessionId);
			// All three were in flight together, and the first one was answered last.
			const history = sandbox.getSession(sessionId).events as IDataObject[];
			const texts = history.filter((event) => event.type === 'text').map((event) => event.content as string);
			expect(texts[texts.length - 1]).toMatch(/^Based on Q3 reports: Q3 revenue grew 12%/);
		});
	});
});
