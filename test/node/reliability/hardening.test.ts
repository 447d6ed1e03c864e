/* eslint-disable @n8n/community-nodes/no-restricted-globals -- Node.js test/dev code, never run inside n8n */
// Hardening from an expert review (issue 11, points 2–7). Each spec failed on 0.1.0 and passes now;
// all run through n8n-core's engine against the sandbox over loopback, like every node test.
// (Point 1, the index binding of Send, is in test/node/message/index-binding.test.ts.)

import { getSchema } from 'n8n-core/dist/execution-engine/node-execution-context/utils/create-node-as-tool';
import { NodeHelpers, type IDataObject, type INode, type INodeParameters, type INodeTypeDescription } from 'n8n-workflow';

import { TOOL_PROMPT_DESCRIPTION } from '../../../nodes/LlamaCloudChat/actions/message/ask.operation';
import { LlamaCloudChat } from '../../../nodes/LlamaCloudChat/LlamaCloudChat.node';
import { listSearch } from '../../harness/methods';
import { TOOL_NODE_TYPE, toolVariant } from '../../harness/node-types';
import { runWorkflow, type RunResult, type WorkflowNode } from '../../harness/run-workflow';
import { useSandbox } from '../../harness/support';
import type { FaultAction, RecordedRequest, Sandbox } from '../../sandbox';
import { expectNoApiKeyLeak } from '../message/support';
import { byId, credentialsFor, retryWarnings, seedSessions } from './support';

let sandbox: Sandbox;

useSandbox((started) => (sandbox = started));

const isStream = (request: RecordedRequest) => request.method === 'POST' && request.path.endsWith('/messages/stream');
const streams = () => sandbox.requests.filter(isStream);
const waitMs = async (ms: number) => await new Promise((resolve) => setTimeout(resolve, ms));

async function run(node: WorkflowNode, items: IDataObject[] = [{}], onStarted?: (cancel: () => void) => void): Promise<RunResult> {
	return await runWorkflow({ credentials: credentialsFor(sandbox), items, nodes: [node], onStarted });
}

const send = (sessionId: string, options: IDataObject = {}): WorkflowNode => ({
	name: 'Send',
	parameters: { resource: 'message', operation: 'send', sessionId: byId(sessionId), prompt: 'What grew in Q3?', options },
});

const ask = (options: IDataObject = {}, extra: Partial<WorkflowNode> = {}): WorkflowNode => ({
	name: 'Ask',
	parameters: { resource: 'message', operation: 'ask', prompt: '={{ $json.question }}', indexIds: ['idx-q3-reports'], options },
	...extra,
});

function errorOf(result: RunResult) {
	if (!result.error) throw new Error('Expected the workflow to fail, but it succeeded');
	return result.error as unknown as { message: string; description?: string; context?: IDataObject };
}

describe('2. a message whose answer does not start within Timeout', () => {
	it('fails at the deadline saying the turn may be running, and closes its connection then, not at the Stream Idle Timeout', async () => {
		const [sessionId] = await seedSessions(sandbox, 1);
		sandbox.injectFault({ method: 'POST', path: /\/messages\/stream$/, action: { type: 'hang' } });

		const result = await run(send(sessionId, { timeout: 500, streamIdleTimeout: 60_000, maxRetries: 2 }));

		const error = errorOf(result);
		expect(error.message).toBe('LlamaCloud did not start answering within 500 ms (ECONNABORTED)');
		expect(error.description).toBe(
			`The message was sent, and the turn may still be running. The message was not sent again, since that could duplicate a chat turn: check session ${sessionId} with Session → Get before sending it again. If LlamaCloud is often this slow, raise the node's 'Timeout' option.`,
		);
		expect(streams()).toHaveLength(1);
		// The request was aborted at the deadline: its hung connection is gone, long before the 60 s idle timeout.
		const [stream] = streams();
		for (let waited = 0; sandbox.connectionOpen(stream) && waited < 1000; waited += 20) await waitMs(20);
		expect(sandbox.connectionOpen(stream)).toBe(false);
		expectNoApiKeyLeak(sandbox, result);
	});

	it('says the same for a connection reset after the message was sent', async () => {
		const [sessionId] = await seedSessions(sandbox, 1);
		sandbox.injectFault({ method: 'POST', path: /\/messages\/stream$/, action: { type: 'drop' } });

		const error = errorOf(await run(send(sessionId, { maxRetries: 2 })));

		expect(error.message).toBe('The connection broke before LlamaCloud answered (ECONNRESET)');
		expect(error.description).toContain(`The message may have reached LlamaCloud.`);
		expect(error.description).toContain(`check session ${sessionId} with Session → Get before sending it again`);
		expect(error.message).not.toMatch(/Could not reach/);
		expect(streams()).toHaveLength(1);
	});
});

describe('3. a 429 with Retry-After on a message', () => {
	it('is retried (LlamaCloud turned it away), and the turn runs once', async () => {
		const [sessionId] = await seedSessions(sandbox, 1);
		sandbox.injectFault({ method: 'POST', path: /\/messages\/stream$/, action: { type: 'status', status: 429, headers: { 'retry-after': '0' } } });

		const result = await run(send(sessionId, { maxRetries: 3 }));

		expect(result.error).toBeUndefined();
		expect(result.output('Send')[0].json.answer).toContain('Q3 revenue grew 12%');
		expect(streams()).toHaveLength(2);
		expect(sandbox.stats.turnsStarted).toBe(1);
		expect(retryWarnings()).toHaveLength(1);
	});

	it("says so in the Retries option's text", () => {
		const retries = new LlamaCloudChat().description.properties
			.flatMap((property) => (property.name === 'options' ? (property.options as Array<{ name: string; description?: string }>) : []))
			.filter((option) => option.name === 'maxRetries');
		expect(retries.length).toBeGreaterThan(0);
		for (const option of retries) expect(option.description).toMatch(/429 or 503 with Retry-After/);
	});

	it('lets a batch of Asks under rate limits succeed item by item, each question answered once', async () => {
		// Every message is turned away once (first attempt per session), as a rate limiter would.
		const seen = new Set<string>();
		sandbox.injectFault({
			method: 'POST',
			path: /\/messages\/stream$/,
			times: Infinity,
			when: (request) => !seen.has(request.path) && Boolean(seen.add(request.path)),
			action: { type: 'status', status: 429, body: { detail: 'Rate limit exceeded' }, headers: { 'retry-after': '0' } },
		});
		const questions = [0, 1, 2, 3, 4, 5].map((n) => ({ question: `Question ${n}: what grew in Q3?` }));

		const result = await run(ask({ maxRetries: 2, batching: { batch: { batchSize: 3 } } }), questions);

		expect(result.error).toBeUndefined();
		const output = result.output('Ask');
		expect(output.map((item) => item.pairedItem)).toEqual(questions.map((_, item) => ({ item })));
		for (const item of output) expect(item.json.answer).toContain('Q3 revenue grew 12%');
		expect(sandbox.stats.sessionsCreated).toBe(6);
		expect(sandbox.stats.turnsStarted).toBe(6);
		const perSession = new Map<string, number>();
		for (const request of streams()) perSession.set(request.path, (perSession.get(request.path) ?? 0) + 1);
		expect([...perSession.values()]).toEqual([2, 2, 2, 2, 2, 2]);
	});
});

describe('4. session search in the editor', () => {
	const search = async (filter: string) =>
		await listSearch('searchSessions', { credentials: credentialsFor(sandbox), parameters: {}, filter });

	it('finds a session on any page by part of its ID, not only on the first page', async () => {
		const ids = sandbox.addSessions(sandbox.fixtures.defaultProjectId, 250);
		for (const id of [ids[0], ids[124], ids[249]]) {
			const { results } = await search(id.slice(-12));
			expect(results.map((result) => result.value)).toEqual([id]);
		}
	});

	it('finds a session by its whole ID directly', async () => {
		const ids = sandbox.addSessions(sandbox.fixtures.defaultProjectId, 250);
		sandbox.clearRequests();
		const { results } = await search(ids[200]);
		expect(results[0]?.value).toBe(ids[200]);
		expect(sandbox.requests[0].path).toBe(`/api/v1/chat/${ids[200]}/summary`);
	});

	it('reads every page once for a filter that matches nothing, then stops', async () => {
		sandbox.addSessions(sandbox.fixtures.defaultProjectId, 250);
		sandbox.clearRequests();
		const result = await search('no-such-session-title');
		expect(result.results).toEqual([]);
		expect(result.paginationToken).toBeUndefined();
		expect(sandbox.requests.filter((request) => request.path === '/api/v1/chat')).toHaveLength(3);
	});
});

describe('5. every error hint is true for its case', () => {
	const statusFault = (status: number, headers?: Record<string, string>): FaultAction => ({
		type: 'status',
		status,
		body: { detail: `LlamaCloud said ${status}` },
		headers,
	});

	it.each([
		['Create, 500', 'create', statusFault(500), [/was not created again, since the failed attempt may have created one/], [/Retries/]],
		['Create, 429 without Retry-After', 'create', statusFault(429), [/no Retry-After/, /not repeated automatically/], [/Retries/]],
		['Create, 429 with Retry-After', 'create', statusFault(429, { 'retry-after': '0' }), [/raise 'Retries'/, /Gave up after 2 retries\./], []],
		['Get Summary, 500', 'getSummary', statusFault(500), [/raise 'Retries'/, /Gave up after 2 retries\./], [/not created again/]],
	] as Array<[string, string, FaultAction, RegExp[], RegExp[]]>)('%s', async (_label, operation, action, says, neverSays) => {
		const [sessionId] = await seedSessions(sandbox, 1);
		const path = operation === 'create' ? '/api/v1/chat' : `/api/v1/chat/${sessionId}/summary`;
		sandbox.injectFault({ method: operation === 'create' ? 'POST' : 'GET', path, times: Infinity, action });

		const error = errorOf(
			await run({ name: 'Op', parameters: { resource: 'session', operation, sessionId: byId(sessionId), options: { maxRetries: 2 } } }),
		);

		for (const pattern of says) expect(error.description).toMatch(pattern);
		for (const pattern of neverSays) expect(error.description).not.toMatch(pattern);
	});

	it.each([
		[
			'refused (422): not asked, session deleted',
			statusFault(422),
			/^LlamaCloud rejected a parameter\. The message names the field\. LlamaCloud answered with an error instead of starting the turn\. Session (ses-[\w-]+), created for this question, was deleted\.$/,
			true,
		],
		[
			'rate limited without Retry-After: not asked, session deleted',
			statusFault(429),
			/no Retry-After\), so this was not repeated automatically: try again later\. LlamaCloud answered with an error instead of starting the turn\. Session (ses-[\w-]+), created for this question, was deleted\.$/,
			true,
		],
		[
			'server error: may have run, session kept to check',
			statusFault(500),
			/check session (ses-[\w-]+) with Session → Get before sending it again\. Session \1, created for this question, was kept so that you can check it\.$/,
			false,
		],
		[
			'connection reset after sending: may have run, session kept to check',
			{ type: 'drop' } as FaultAction,
			/^The message may have reached LlamaCloud\. .* Session (ses-[\w-]+), created for this question, was kept so that you can check it\.$/,
			false,
		],
	] as Array<[string, FaultAction, RegExp, boolean]>)('Ask, %s', async (_label, action, description, deleted) => {
		sandbox.injectFault({ method: 'POST', path: /\/messages\/stream$/, times: Infinity, action });

		const error = errorOf(await run(ask({ deleteSession: true, maxRetries: 2 }), [{ question: 'What grew in Q3?' }]));

		expect(error.description).toMatch(description);
		expect(error.description).not.toMatch(/The question was asked/);
		const sessionId = description.exec(error.description ?? '')?.[1] as string;
		expect(sandbox.getSession(sessionId) === undefined).toBe(deleted);
		expect(sandbox.stats.turnsStarted).toBe(0);
	});
});

describe('6. as an AI Agent tool', () => {
	const node = new LlamaCloudChat();

	/** The parameters n8n gives a freshly added Ask node (its defaults), in the plain or the tool variant. */
	function freshAskParameters(description: INodeTypeDescription): INodeParameters {
		const values = NodeHelpers.getNodeParameters(
			description.properties,
			{ resource: 'message', operation: 'ask', indexIds: ['idx-q3-reports'] },
			true,
			false,
			{ typeVersion: 1, parameters: {} } as unknown as INode,
			description,
		);
		return values as INodeParameters;
	}

	const asNode = (type: string, parameters: INodeParameters): INode => ({
		id: '1',
		name: 'LlamaCloud Chat',
		type,
		typeVersion: 1,
		position: [0, 0],
		parameters,
	});

	it("gives the agent a 'prompt' argument to fill (n8n-core's own tool schema), and keeps chatInput for workflows", () => {
		const plain = freshAskParameters(node.description);
		const tool = freshAskParameters(toolVariant(node).description);

		expect(plain.prompt).toBe('={{ $json.chatInput }}');
		expect(Object.keys(getSchema(asNode('llamaCloudChat', plain)).shape)).toEqual([]);

		const schema = getSchema(asNode(TOOL_NODE_TYPE, tool));
		expect(Object.keys(schema.shape)).toEqual(['prompt']);
		expect(schema.shape.prompt.description).toBe(TOOL_PROMPT_DESCRIPTION);
	});

	it("describes the tool by what it does with the documents (n8n's automatic tool description)", () => {
		const tool = toolVariant(node);
		const description = NodeHelpers.getToolDescriptionForNode(asNode(TOOL_NODE_TYPE, freshAskParameters(tool.description)), tool);
		expect(description).toMatch(/documents/);
		expect(description).toMatch(/LlamaCloud/);
	});

	it("answers the model's question and deletes the session it created, by default", async () => {
		const result = await runWorkflow({
			credentials: credentialsFor(sandbox),
			items: [{ prompt: 'What grew in Q3?' }],
			nodes: [{ name: 'Tool', type: TOOL_NODE_TYPE, parameters: freshAskParameters(toolVariant(node).description) }],
		});

		expect(result.error).toBeUndefined();
		const [{ json }] = result.output('Tool');
		expect(json.answer).toContain('Q3 revenue grew 12%');
		// The model reads the answer once, and the sources as a short list; a deleted session is no use to it.
		expect(Object.keys(json).sort()).toEqual(['answer', 'sources']);
		expect(json.sources).toMatch(/^\*\*Sources\*\*\n- q3-2026-board-report\.pdf, p\. 2/);
		expect(streams()[0].body).toMatchObject({ prompt: 'What grew in Q3?' });
		expect(sandbox.stats.sessionsCreated).toBe(1);
		expect(sandbox.stats.sessionsDeleted).toBe(1);
	});

	it('with Simplify off gives the model the full output, but not the `output` copy nor a deleted session; a kept session is named', async () => {
		const toolRun = async (options: IDataObject) =>
			await runWorkflow({
				credentials: credentialsFor(sandbox),
				items: [{ prompt: 'What grew in Q3?' }],
				nodes: [{ name: 'Tool', type: TOOL_NODE_TYPE, parameters: { ...freshAskParameters(toolVariant(node).description), options } }],
			});
		const deleted = (await toolRun({ simplify: false })).output('Tool')[0].json;
		expect(deleted.answer).toContain('Q3 revenue grew 12%');
		expect(deleted.citations).toEqual(expect.any(Array));
		expect(deleted.prompt).toBe('What grew in Q3?');
		expect(deleted.sources).toMatch(/^\*\*Sources\*\*\n- q3-2026-board-report\.pdf, p\. 2/);
		expect(deleted.session_deleted).toBe(true);
		for (const field of ['output', 'sources_markdown', 'session_id']) expect(deleted).not.toHaveProperty(field);

		const kept = (await toolRun({ simplify: false, deleteSession: false })).output('Tool')[0].json;
		expect(kept.session_id).toMatch(/^ses-/);
		expect(kept).not.toHaveProperty('output');
	});

	it('gives the model no `sources` when the answer cites no file (Append Sources: Never)', async () => {
		const result = await runWorkflow({
			credentials: credentialsFor(sandbox),
			items: [{ prompt: 'What grew in Q3?' }],
			nodes: [{ name: 'Tool', type: TOOL_NODE_TYPE, parameters: { ...freshAskParameters(toolVariant(node).description), options: { appendSources: 'never' } } }],
		});
		expect(Object.keys(result.output('Tool')[0].json).sort()).toEqual(['answer']);
	});

	it("streams nothing into the user's chat when the agent's execution streams: the agent decides what the user sees", async () => {
		const result = await runWorkflow({
			credentials: credentialsFor(sandbox),
			items: [{ prompt: 'What grew in Q3?' }],
			nodes: [{ name: 'Tool', type: TOOL_NODE_TYPE, parameters: freshAskParameters(toolVariant(node).description) }],
			mode: 'webhook',
			streaming: true,
		});

		expect(result.error).toBeUndefined();
		expect(result.chunks).toEqual([]);
		const [{ json }] = result.output('Tool');
		expect(json.answer).toContain('Q3 revenue grew 12%');
		expect(json.output).toBeUndefined();
		expect(JSON.stringify(json).split('Q3 revenue grew 12%')).toHaveLength(2);
	});

	it('Send as a tool streams nothing either, and gives the kept session with the answer', async () => {
		const [sessionId] = await seedSessions(sandbox, 1);
		const result = await runWorkflow({
			credentials: credentialsFor(sandbox),
			items: [{}],
			nodes: [
				{
					name: 'Tool',
					type: TOOL_NODE_TYPE,
					parameters: { resource: 'message', operation: 'send', sessionId: byId(sessionId), prompt: 'What grew in Q3?', options: { appendSources: 'never' } },
				},
			],
			mode: 'webhook',
			streaming: true,
		});

		expect(result.error).toBeUndefined();
		expect(result.chunks).toEqual([]);
		expect(result.output('Tool')[0].json).toEqual({ answer: expect.stringContaining('Q3 revenue grew 12%'), session_id: sessionId });
	});

	it('keeps the session when Delete Session After Answer is set and off', async () => {
		const parameters = { ...freshAskParameters(toolVariant(node).description), options: { deleteSession: false } };
		const result = await runWorkflow({
			credentials: credentialsFor(sandbox),
			items: [{ prompt: 'What grew in Q3?' }],
			nodes: [{ name: 'Tool', type: TOOL_NODE_TYPE, parameters }],
		});

		expect(result.error).toBeUndefined();
		const [{ json }] = result.output('Tool');
		expect(json.session_deleted).toBeUndefined();
		expect(json.session_id).toBe(decodeURIComponent(streams()[0].path.split('/')[4]));
		expect(sandbox.stats.sessionsDeleted).toBe(0);
	});
});

describe('7. waits stop when n8n cancels the execution', () => {
	// n8n-core aborts the node's requests once the execution is cancelled, so the harm of a wait that
	// ignores the cancellation is the wait itself: the cancelled execution holds on for the whole
	// Retry-After or Batch Interval (20 s here). The engine's run settles only when the node returns.
	const LONG_WAIT_S = 20;

	/** Runs `node`, cancels it once it is waiting (`waiting()` says so), and says how long the run held on. */
	async function cancelledRun(node: WorkflowNode, items: IDataObject[], waiting: () => boolean) {
		let cancelledAt = 0;
		const started = run(node, items, (cancel) => {
			const check = () => (waiting() ? ((cancelledAt = Date.now()), cancel()) : setTimeout(check, 10));
			check();
		});
		await started;
		return { heldOnMs: Date.now() - cancelledAt };
	}

	it('a Retry-After wait ends at the cancellation, and no retry is sent', async () => {
		const [sessionId] = await seedSessions(sandbox, 1);
		sandbox.injectFault({ method: 'GET', times: Infinity, action: { type: 'status', status: 429, headers: { 'retry-after': String(LONG_WAIT_S) } } });

		const { heldOnMs } = await cancelledRun(
			{ name: 'Summary', parameters: { resource: 'session', operation: 'getSummary', sessionId: byId(sessionId), options: { maxRetries: 3 } } },
			[{}],
			() => retryWarnings().length > 0, // the 429 arrived and the retry wait began
		);

		expect(heldOnMs).toBeLessThan((LONG_WAIT_S * 1000) / 4);
		expect(sandbox.requests).toHaveLength(1);
	}, 40_000);

	it("the 'Batch Interval' ends at the cancellation, and no later batch starts", async () => {
		const sessions = await seedSessions(sandbox, 3);

		const { heldOnMs } = await cancelledRun(
			{
				name: 'Summary',
				parameters: {
					resource: 'session',
					operation: 'getSummary',
					sessionId: byId('={{ $json.session_id }}'),
					options: { batching: { batch: { batchSize: 1, batchInterval: LONG_WAIT_S * 1000 } } },
				},
			},
			sessions.map((session_id) => ({ session_id })),
			() => sandbox.requests.length > 0 && !sandbox.connectionOpen(sandbox.requests[0]), // the first item is done
		);

		expect(heldOnMs).toBeLessThan((LONG_WAIT_S * 1000) / 4);
		expect(sandbox.requests).toHaveLength(1);
	}, 40_000);
});
