// No session left behind. A tool call deletes the session it created also when its turn failed,
// whatever the outcome (an AI Agent cannot check it). A conversation's first turn that surely got no
// answer (turned away, or failed inside LlamaCloud) deletes its new session, with a memory and with
// the node's own store alike; one whose outcome is unknown keeps it and names it in the error.
// Through n8n's engine against the sandbox.

import type { IConnections, IDataObject } from 'n8n-workflow';

import { nodeConversationStore } from '../../../nodes/LlamaCloudChat/conversations';
import { MEMORY_NODE_TYPE, memoryHistories, storedMessages } from '../../harness/memory-node';
import { TOOL_NODE_TYPE } from '../../harness/node-types';
import { runWorkflow, type RunResult, type WorkflowNode } from '../../harness/run-workflow';
import { useSandbox } from '../../harness/support';
import type { Sandbox } from '../../sandbox';
import { STREAM_PATH, credentialsFor, errorOf, expectNoApiKeyLeak, inBandErrorBody, requestLines } from './support';

let sandbox: Sandbox;

useSandbox((started) => (sandbox = started));

beforeEach(() => {
	nodeConversationStore.clear();
	memoryHistories.clear();
	sandbox.setStreamBehaviour({ contextAnswers: true });
});

const ask = { resource: 'message', operation: 'ask', indexIds: ['idx-q3-reports'] };

/** The sessions the node created, in order (from the sessions its messages went to). */
function createdSessions(): string[] {
	return sandbox.requests.filter((request) => STREAM_PATH.test(request.path)).map((request) => decodeURIComponent(request.path.split('/')[4]));
}

/** The error's own fields, as n8n keeps them in the execution. */
function failure(result: RunResult): { message: string; description?: string | null; context: IDataObject } {
	return errorOf(result) as unknown as { message: string; description?: string | null; context: IDataObject };
}

type FirstTurnFailure = [string, () => void];

/** First turns that surely got no answer. */
const SURELY_UNANSWERED: FirstTurnFailure[] = [
	['turned away with a 400', () => sandbox.injectFault({ method: 'POST', path: STREAM_PATH, action: { type: 'status', status: 400, body: { detail: 'Bad prompt' } } })],
	[
		'failed inside LlamaCloud (an error stop)',
		() => sandbox.injectFault({ method: 'POST', path: STREAM_PATH, action: { type: 'status', status: 200, contentType: 'text/event-stream', body: inBandErrorBody('Model provider overloaded') } }),
	],
];

/** A first turn whose outcome is unknown: the answer broke off, the message reached LlamaCloud. */
const breakOff = () => sandbox.setStreamBehaviour({ contextAnswers: true, mode: 'drop-mid-stream' });

describe('a tool call deletes its session whatever happened to its turn', () => {
	async function toolCall(options: IDataObject = {}): Promise<RunResult> {
		return await runWorkflow({
			credentials: credentialsFor(sandbox),
			items: [{ prompt: 'What grew in Q3?' }],
			nodes: [{ name: 'Tool', type: TOOL_NODE_TYPE, parameters: { ...ask, prompt: '={{ $json.prompt }}', options: { maxRetries: 0, ...options } } }],
		});
	}

	it('the answer broke off (outcome unknown): the session is deleted, and the operator is told', async () => {
		breakOff();
		const result = await toolCall();
		const [sessionId] = createdSessions();
		expect(sandbox.stats.turnsStarted).toBe(1);
		expect(sandbox.getSession(sessionId)).toBeUndefined();
		expect(sandbox.stats.sessionsDeleted).toBe(1);
		expect(requestLines(sandbox)).toEqual(['POST /api/v1/chat', 'POST /api/v1/chat/:id/messages/stream', 'DELETE /api/v1/chat/:id']);
		const error = failure(result);
		expect(error.context.session_id).toBe(sessionId);
		// The operator reads it in the error's details; the model and a chat user are not told of sessions.
		expect(error.context.data).toContain(`Session ${sessionId}, created for this question, was deleted.`);
		expect(`${error.message} ${error.description}`).not.toContain(sessionId);
		expectNoApiKeyLeak(sandbox, result);
	});

	it.each(SURELY_UNANSWERED)('the turn was %s: the session is deleted', async (_label, fault) => {
		fault();
		const result = await toolCall();
		const [sessionId] = createdSessions();
		expect(result.error).toBeDefined();
		expect(sandbox.getSession(sessionId)).toBeUndefined();
		expect(sandbox.stats.sessionsDeleted).toBe(1);
	});

	it('keeps it when Delete Session After Answer is off for the tool', async () => {
		breakOff();
		const result = await toolCall({ deleteSession: false });
		const [sessionId] = createdSessions();
		expect(result.error).toBeDefined();
		expect(sandbox.getSession(sessionId)).toBeDefined();
		expect(sandbox.stats.sessionsDeleted).toBe(0);
	});
});

describe("a conversation's first turn", () => {
	const MEMORY_INPUT: IConnections = { Memory: { ai_memory: [[{ node: 'Ask', type: 'ai_memory', index: 0 }]] } };

	/** One chat message (production, as behind a Chat Trigger), kept in a memory or in the node's own store. */
	function messenger(store: 'memory' | 'node') {
		let staticData: IDataObject | undefined;
		return async (chatInput: string): Promise<RunResult> => {
			const nodes: WorkflowNode[] = [{ name: 'Ask', parameters: { ...ask, options: { maxRetries: 0 } } }];
			if (store === 'memory') nodes.push({ name: 'Memory', type: MEMORY_NODE_TYPE, parameters: {} });
			const result = await runWorkflow({
				credentials: credentialsFor(sandbox),
				mode: 'webhook',
				items: [{ sessionId: 'chat-first-turn', action: 'sendMessage', chatInput }],
				nodes,
				staticData,
				...(store === 'memory' ? { connections: MEMORY_INPUT } : {}),
			});
			staticData = result.savedStaticData ?? staticData;
			return result;
		};
	}

	/** Sends the conversation's first message (set up to fail); the error must name its session and say `happened`. */
	async function failedFirst(say: (chatInput: string) => Promise<RunResult>, happened: string): Promise<{ failed: RunResult; first: string }> {
		const failed = await say('What grew in Q3?');
		const [first] = createdSessions();
		const error = failure(failed);
		expect(error.context.session_id).toBe(first);
		expect(error.description).toContain(`Session ${first}, created for this conversation's first message, ${happened}`);
		return { failed, first };
	}

	describe.each(['memory', 'node'] as const)('kept in the %s store', (store) => {
		it.each(SURELY_UNANSWERED)(
			'%s: its new session is deleted, and the next message starts a new one that is the only session left',
			async (_label, fault) => {
				const say = messenger(store);
				fault();
				const { failed, first } = await failedFirst(say, 'was deleted.');
				expect(sandbox.getSession(first)).toBeUndefined();

				const next = await say('What grew in Q3?');
				expect(next.error).toBeUndefined();
				const [, second] = createdSessions();
				expect(second).toBeDefined();
				expect(second).not.toBe(first);
				expect(next.output('Ask')[0].json.conversation).toMatchObject({ session_id: second, turn: 1, new_session: true });
				// No session left behind: the one created is the one the conversation goes on with.
				expect(sandbox.stats.sessionsCreated - sandbox.stats.sessionsDeleted).toBe(1);
				if (store === 'memory') expect(await storedMessages('chat-first-turn')).toHaveLength(2);
				expectNoApiKeyLeak(sandbox, failed);
			},
		);

		it('an answer that broke off (outcome unknown): the session is kept and named in the error', async () => {
			const say = messenger(store);
			breakOff();
			const { first } = await failedFirst(say, 'was kept: the message may have reached it.');
			expect(sandbox.getSession(first)).toBeDefined();
			expect(sandbox.stats.sessionsDeleted).toBe(0);
			expect(requestLines(sandbox)).not.toContain('DELETE /api/v1/chat/:id');
		});
	});
});
