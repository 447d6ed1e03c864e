/* eslint-disable @n8n/community-nodes/no-hardcoded-secrets, @n8n/community-nodes/no-restricted-globals -- test keys for the sandbox, never real; Node.js test code, never run inside n8n */
// Message → Ask with a memory sub-node connected to its Memory input: the conversation is kept in the
// memory (its session key is the conversation), as n8n's Redis, Postgres and Simple memories keep an
// AI Agent's. Run through n8n-core's WorkflowExecute, which hands the node the memory through
// getInputConnectionData, against the sandbox. The sandbox's answers name their turn and the
// session's previous question, so the text shows which session answered.

import crypto from 'node:crypto';

import { AIMessage, HumanMessage } from '@langchain/core/messages';
import type { IConnections, IDataObject } from 'n8n-workflow';

import { nodeConversationStore, MAX_WAITING_PER_CONVERSATION } from '../../../nodes/LlamaCloudChat/conversations';
import {
	MAX_UNOPENED_REFERENCES,
	METADATA_DROPPED_WARNING,
	METADATA_KEY,
	NO_REFERENCE_WARNING,
	UNOPENED_REFERENCE_WARNING,
} from '../../../nodes/LlamaCloudChat/conversations/memoryStore';
import { sealSessionRef } from '../../../nodes/LlamaCloudChat/conversations/sessionRef';
import { PackageCredentialsHelper } from '../../harness/credentials';
import { logLines } from '../../harness/logs';
import { MEMORY_NODE_TYPE, StoredHistory, historyOf, memoryHistories, storedMessages } from '../../harness/memory-node';
import { TOOL_NODE_TYPE } from '../../harness/node-types';
import { runWorkflow, type RunOptions, type RunResult } from '../../harness/run-workflow';
import { useSandbox } from '../../harness/support';
import type { Sandbox } from '../../sandbox';
import { credentialsFor, streamRequests } from './support';

let sandbox: Sandbox;

useSandbox((started) => (sandbox = started));

beforeEach(() => {
	nodeConversationStore.clear();
	memoryHistories.clear();
	logLines.length = 0;
	sandbox.setStreamBehaviour({ contextAnswers: true });
});

const MEMORY_INPUT: IConnections = { Memory: { ai_memory: [[{ node: 'Ask', type: 'ai_memory', index: 0 }]] } };

interface ChatOptions {
	ask?: IDataObject;
	memory?: IDataObject;
	workflowId?: string;
	items?: IDataObject[];
}

/** One production chat message (as behind an active Chat Trigger), with a memory connected to Ask. */
async function chat(sessionId: string, chatInput: string, options: ChatOptions & Pick<RunOptions, 'onStarted'> = {}): Promise<RunResult> {
	return await runWorkflow({
		onStarted: options.onStarted,
		credentials: credentialsFor(sandbox),
		mode: 'webhook',
		workflowId: options.workflowId,
		items: options.items ?? [{ sessionId, action: 'sendMessage', chatInput }],
		nodes: [
			// Prompt keeps its default, {{ $json.chatInput }}; the Conversation ID is not used with a memory.
			{ name: 'Ask', parameters: { resource: 'message', operation: 'ask', indexIds: ['idx-q3-reports'], ...options.ask } },
			{ name: 'Memory', type: MEMORY_NODE_TYPE, parameters: { ...options.memory } },
		],
		connections: MEMORY_INPUT,
	});
}

function outputOf(result: RunResult): IDataObject {
	if (result.error) throw new Error(`The workflow failed: ${result.error.message}`);
	return result.output('Ask')[0].json;
}

const conversationOf = (result: RunResult) => outputOf(result).conversation as IDataObject;

/** Adds messages to a session's history, as another node sharing the memory (or anyone who can write to it) would. */
async function addToHistory(sessionKey: string, messages: unknown[], kind = 'stored'): Promise<void> {
	await (historyOf(sessionKey, kind) as unknown as { addMessages(messages: unknown[]): Promise<void> }).addMessages(messages);
}

/** What this node (workflow test-workflow, node-0) seals for a conversation with the default Indexes. */
const bindingFor = (sessionKey: string, overrides: IDataObject = {}) =>
	({ workflowId: 'test-workflow', nodeId: 'node-0', indexes: 'idx-q3-reports', conversation: `key:${sessionKey}`, ...overrides }) as never;

const answerWithRef = (ref: string, content = 'Planted answer') => new AIMessage({ content, additional_kwargs: { [METADATA_KEY]: { ref } } });

/** What the memory holds for a session key: [type, content] pairs, as the Chat Trigger's Load Previous Session reads them. */
async function history(sessionKey: string): Promise<Array<[string, unknown]>> {
	return (await storedMessages(sessionKey)).map((message) => [message.getType(), message.content]);
}

describe('Message → Ask with a memory sub-node', () => {
	it('continues one LlamaCloud session per memory session key, and saves each turn as the question and the answer shown', async () => {
		const a1 = await chat('chat-A', 'What grew in Q3?');
		const b1 = await chat('chat-B', 'What does the handbook say about onboarding?');
		const a2 = await chat('chat-A', 'And the risks?');
		const a3 = await chat('chat-A', 'Summarise that for the board');

		expect(conversationOf(a1)).toEqual({ session_id: expect.stringMatching(/^ses-/), turn: 1, new_session: true, store: 'memory' });
		expect(conversationOf(b1).session_id).not.toBe(conversationOf(a1).session_id);
		expect(conversationOf(a2)).toEqual({ session_id: conversationOf(a1).session_id, turn: 2, new_session: false, store: 'memory' });
		expect(conversationOf(a3)).toEqual({ session_id: conversationOf(a1).session_id, turn: 3, new_session: false, store: 'memory' });
		expect(outputOf(a3).answer).toMatch(/^Turn 3, following up on "And the risks\?"/);
		expect(sandbox.stats.sessionsCreated).toBe(2);
		// Each follow-up is one request to LlamaCloud: the message.
		expect(sandbox.requests).toHaveLength(2 + 4);

		expect(await history('chat-A')).toEqual([
			['human', 'What grew in Q3?'],
			['ai', outputOf(a1).output],
			['human', 'And the risks?'],
			['ai', outputOf(a2).output],
			['human', 'Summarise that for the board'],
			['ai', outputOf(a3).output],
		]);
		// The node's own store was not used: the memory is where the conversation lives.
		expect(a3.savedStaticData).toBeUndefined();
	});

	it('keeps the session reference sealed in the answer metadata: neither the session ID nor the API key is readable there', async () => {
		const result = await chat('chat-sealed', 'What grew in Q3?');
		const [, answer] = await storedMessages('chat-sealed');
		const ref = (answer.additional_kwargs[METADATA_KEY] as IDataObject).ref as string;

		expect(ref).toMatch(/^v1\.[A-Za-z0-9_-]+$/);
		const stored = JSON.stringify(await storedMessages('chat-sealed'));
		expect(stored).not.toContain(conversationOf(result).session_id as string);
		expect(stored).not.toContain(sandbox.apiKey);
		expect(JSON.stringify(result.run)).not.toContain(sandbox.apiKey);
		expect(JSON.stringify(logLines)).not.toContain(sandbox.apiKey);
	});

	it("reads the whole history, not the memory's window: a session five windows back still continues", async () => {
		const first = await chat('chat-window', 'What grew in Q3?', { memory: { contextWindowLength: 1 } });
		// Other nodes sharing the memory (e.g. an AI Agent) add turns without a session reference.
		for (let turn = 0; turn < 5; turn++) await addToHistory('chat-window', [new HumanMessage(`Side question ${turn}`), new AIMessage(`Side answer ${turn}`)]);

		const next = await chat('chat-window', 'And the risks?', { memory: { contextWindowLength: 1 } });
		expect(conversationOf(next)).toMatchObject({ session_id: conversationOf(first).session_id, turn: 2, new_session: false });
		expect(sandbox.stats.sessionsCreated).toBe(1);
	});

	it('a session LlamaCloud no longer has (404) starts a new one, and the message is sent once to it', async () => {
		const first = conversationOf(await chat('chat-404', 'What grew in Q3?'));
		await fetch(`${sandbox.url}/api/v1/chat/${first.session_id as string}`, { method: 'DELETE', headers: { Authorization: `Bearer ${sandbox.apiKey}` } });

		const again = await chat('chat-404', 'And the risks?');
		expect(conversationOf(again)).toMatchObject({ turn: 1, new_session: true });
		expect(conversationOf(again).session_id).not.toBe(first.session_id);
		expect(streamRequests(sandbox).map((request) => (request.body as IDataObject).prompt)).toEqual(['What grew in Q3?', 'And the risks?', 'And the risks?']);
		expect(sandbox.stats.turnsCompleted).toBe(2);
		// The turn after continues the new session.
		expect(conversationOf(await chat('chat-404', 'Summarise'))).toMatchObject({ session_id: conversationOf(again).session_id, turn: 2 });
	});

	it('changed Indexes start a new session, bound to the new indexes', async () => {
		const first = conversationOf(await chat('chat-indexes', 'What grew in Q3?'));
		const changed = conversationOf(await chat('chat-indexes', 'What about onboarding?', { ask: { indexIds: ['idx-product-handbook'] } }));

		expect(changed).toMatchObject({ turn: 1, new_session: true });
		expect(changed.session_id).not.toBe(first.session_id);
		expect(sandbox.getSession(changed.session_id as string).index_ids).toEqual(['idx-product-handbook']);
	});

	describe('a reference this node did not seal is refused, and a new session starts', () => {
		/** A history holding one answer whose metadata carries `ref`, as another workflow or a browser could write it. */
		async function planted(sessionKey: string, ref: string) {
			await chat(sessionKey, 'What grew in Q3?'); // creates the history (and one session)
			await addToHistory(sessionKey, [new HumanMessage('Planted'), answerWithRef(ref)]);
		}

		async function expectNotSteered(sessionKey: string, target: string) {
			const next = await chat(sessionKey, 'And the risks?');
			expect(conversationOf(next).warning).toBeUndefined(); // an older, genuine answer was found
			// The history's earlier, genuine answer is older than the planted one; a refused newest
			// reference falls back to it, never to the planted session.
			expect(conversationOf(next).session_id).not.toBe(target);
			expect(streamRequests(sandbox).some((request) => request.path.includes(target))).toBe(false);
		}

		it('a session reference written in plain text', async () => {
			const target = await createOtherSession();
			await planted('chat-plain', target);
			await expectNotSteered('chat-plain', target);
		});

		it('a tampered reference', async () => {
			await chat('chat-tamper', 'What grew in Q3?');
			const [, answer] = await storedMessages('chat-tamper');
			const ref = (answer.additional_kwargs[METADATA_KEY] as IDataObject).ref as string;
			const flipped = `${ref.slice(0, -3)}${ref.slice(-3) === 'AAA' ? 'BBB' : 'AAA'}`;
			memoryHistories.clear();
			const target = await createOtherSession();
			await planted('chat-tamper', flipped);
			await expectNotSteered('chat-tamper', target);
			// first chat, the other session, the planted history's own chat (which the next turn continues)
			expect(sandbox.stats.sessionsCreated).toBe(3);
		});

		it.each([
			['another workflow', bindingFor('chat-foreign', { workflowId: 'other-workflow' }), undefined],
			['another node', bindingFor('chat-foreign', { nodeId: 'node-7' }), undefined],
			['other indexes', bindingFor('chat-foreign', { indexes: 'idx-product-handbook' }), undefined],
			['another conversation (copied from chat A to chat B)', bindingFor('chat-A'), undefined],
			['another credential', bindingFor('chat-foreign'), 'llx-another-api-key-0000000000000000'],
		])('a genuine reference sealed for %s', async (_case, sealedFor, apiKey) => {
			const target = await createOtherSession();
			const ref = sealSessionRef({ session: target, turns: 7, usedAt: Date.now() + 60_000 }, sealedFor, (apiKey as string | undefined) ?? sandbox.apiKey);
			await planted('chat-foreign', ref);
			await expectNotSteered('chat-foreign', target);
		});

		it("a genuine answer of chat A, with its reference, copied into chat B's history", async () => {
			const a = conversationOf(await chat('chat-A', 'What grew in Q3?'));
			const [, answerOfA] = await storedMessages('chat-A');
			await chat('chat-B', 'What does the handbook say?');
			await addToHistory('chat-B', [new HumanMessage('Copied'), answerOfA]);
			const next = await chat('chat-B', 'And the risks?');
			expect(conversationOf(next).session_id).not.toBe(a.session_id);
			expect(streamRequests(sandbox).filter((request) => request.path.includes(a.session_id as string))).toHaveLength(1);
		});

		it('a reference in a message of the user, not of an answer', async () => {
			const target = await createOtherSession();
			await chat('chat-human', 'What grew in Q3?');
			const sealed = sealSessionRef({ session: target, turns: 7, usedAt: Date.now() + 60_000 }, bindingFor('chat-human'), sandbox.apiKey);
			await addToHistory('chat-human', [new HumanMessage({ content: 'Planted', additional_kwargs: { [METADATA_KEY]: { ref: sealed } } })]);
			await expectNotSteered('chat-human', target);
		});

		it('while the same reference sealed for this node is taken (the control)', async () => {
			const target = await createOtherSession();
			// Newer than the history's own first answer (the newest reference by its own time is continued).
			await planted('chat-control', sealSessionRef({ session: target, turns: 7, usedAt: Date.now() + 60_000 }, bindingFor('chat-control'), sandbox.apiKey));
			const next = await chat('chat-control', 'And the risks?');
			expect(conversationOf(next)).toMatchObject({ session_id: target, turn: 8, new_session: false });
		});
	});

	it("a memory that drops message metadata (n8n's AI node SDK) is noticed: a warning in the log and the output, every turn", async () => {
		const memory = { kind: 'sdk' };
		const first = await chat('chat-sdk', 'What grew in Q3?', { memory });
		const second = await chat('chat-sdk', 'And the risks?', { memory });

		for (const result of [first, second]) {
			expect(conversationOf(result)).toMatchObject({ turn: 1, new_session: true, store: 'memory', warning: METADATA_DROPPED_WARNING });
		}
		expect(logLines.filter((line) => line.level === 'warn' && line.message === METADATA_DROPPED_WARNING)).toHaveLength(2);
		// The memory still has the turns as text, for the chat to show.
		const [history] = [...memoryHistories.values()];
		const saved = await (history as unknown as { getMessages(): Promise<Array<{ role: string; content: Array<{ text: string }> }>> }).getMessages();
		expect(saved.map((message) => [message.role, message.content[0].text])).toEqual([
			['user', 'What grew in Q3?'],
			['assistant', outputOf(first).output],
			['user', 'And the risks?'],
			['assistant', outputOf(second).output],
		]);
	});

	it('Forget After applies to the memory too: an answer older than it starts a new session; 0 never forgets', async () => {
		const target = await createOtherSession();
		const longAgo = Date.now() - 48 * 3_600_000;
		const old = () => answerWithRef(sealSessionRef({ session: target, turns: 2, usedAt: longAgo }, bindingFor('chat-old'), sandbox.apiKey), 'Old answer');
		await addToHistory('chat-old', [new HumanMessage('Two days ago'), old()]);

		const kept = await chat('chat-old', 'Still there?', { ask: { options: { forgetAfterHours: 0 } } });
		expect(conversationOf(kept)).toMatchObject({ session_id: target, turn: 3 });

		memoryHistories.clear();
		await addToHistory('chat-old', [new HumanMessage('Two days ago'), old()]);
		const forgotten = await chat('chat-old', 'Still there?', { ask: { options: { forgetAfterHours: 24 } } });
		expect(conversationOf(forgotten)).toMatchObject({ turn: 1, new_session: true });
		expect(conversationOf(forgotten).session_id).not.toBe(target);
		expect(conversationOf(forgotten).warning).toBeUndefined(); // forgotten on purpose, not lost
	});

	it("says so when the conversation's answers name a session the node cannot continue (e.g. the API key changed)", async () => {
		await addToHistory('chat-rotated', [
			new HumanMessage('What grew in Q3?'),
			answerWithRef(sealSessionRef({ session: 'ses-earlier', turns: 1, usedAt: Date.now() }, bindingFor('chat-rotated'), 'llx-the-key-before-rotation-000000')),
		]);
		const next = await chat('chat-rotated', 'And the risks?');
		expect(conversationOf(next)).toMatchObject({ turn: 1, new_session: true, warning: UNOPENED_REFERENCE_WARNING });
		expect(logLines.filter((line) => line.level === 'warn' && line.message === UNOPENED_REFERENCE_WARNING)).toEqual([
			{ level: 'warn', message: UNOPENED_REFERENCE_WARNING, metadata: { node: 'Ask' } },
		]);
		// The new session's reference opens from then on: the next turn continues it, without a warning.
		const after = await chat('chat-rotated', 'Summarise');
		expect(conversationOf(after)).toEqual({ session_id: conversationOf(next).session_id, turn: 2, new_session: false, store: 'memory' });
	});

	it("Simple Memory (a history that names no session key) continues too, and its messages wait for each other", async () => {
		const memory = { kind: 'simple' };
		const result = await runWorkflow({
			credentials: credentialsFor(sandbox),
			mode: 'webhook',
			items: [
				{ sessionId: 'chat-simple', chatInput: 'What grew in Q3?' },
				{ sessionId: 'chat-simple', chatInput: 'And the risks?' },
			],
			nodes: [
				{ name: 'Ask', parameters: { resource: 'message', operation: 'ask', indexIds: ['idx-q3-reports'], options: { batching: { batch: { batchSize: 2 } } } } },
				{ name: 'Memory', type: MEMORY_NODE_TYPE, parameters: memory },
			],
			connections: MEMORY_INPUT,
		});
		const [first, second] = result.output('Ask').map((item) => item.json.conversation as IDataObject);
		expect(first).toMatchObject({ turn: 1, new_session: true, store: 'memory' });
		expect(second).toMatchObject({ turn: 2, new_session: false, session_id: first.session_id });
		expect(sandbox.stats.sessionsCreated).toBe(1);
		const third = await chat('chat-simple', 'Summarise', { memory });
		expect(conversationOf(third)).toMatchObject({ turn: 3, session_id: first.session_id });
		expect((await storedMessages('chat-simple', 'simple')).map((message) => message.getType())).toEqual(['human', 'ai', 'human', 'ai', 'human', 'ai']);
	});

	it('the tool variant has no Memory input and stays one-shot', async () => {
		const result = await runWorkflow({
			credentials: credentialsFor(sandbox),
			items: [{ prompt: 'What grew in Q3?', sessionId: 'chat-tool' }],
			nodes: [{ name: 'Tool', type: TOOL_NODE_TYPE, parameters: { resource: 'message', operation: 'ask', prompt: '={{ $json.prompt }}', indexIds: ['idx-q3-reports'] } }],
		});
		expect(result.error).toBeUndefined();
		expect(result.output('Tool')[0].json.conversation).toBeUndefined();
		expect(sandbox.stats.sessionsDeleted).toBe(1);
	});

	it('finds a reference in the very first message of a history (an answer written before any question)', async () => {
		const target = await createOtherSession();
		await addToHistory('chat-first', [answerWithRef(sealSessionRef({ session: target, turns: 1, usedAt: Date.now() }, bindingFor('chat-first'), sandbox.apiKey))]);
		expect(conversationOf(await chat('chat-first', 'And the risks?'))).toMatchObject({ session_id: target, turn: 2 });
	});

	it('reads the history once more for a new session than for a follow-up (to check that the memory kept the reference)', async () => {
		// Besides the node's reads, n8n's log wrapper reads the history once after each save.
		await chat('chat-reads', 'What grew in Q3?');
		const history = historyOf('chat-reads') as StoredHistory;
		expect(history.reads).toBe(3);
		await chat('chat-reads', 'And the risks?');
		expect(history.reads).toBe(3 + 2);
	});

	it("keys the sealing to the credential's API key as it authenticates (trimmed): a key saved with spaces continues the same conversations", async () => {
		const padded = await runWorkflow({
			credentials: credentialsFor(sandbox, { apiKey: `  ${sandbox.apiKey} ` }),
			mode: 'webhook',
			items: [{ sessionId: 'chat-padded', action: 'sendMessage', chatInput: 'What grew in Q3?' }],
			nodes: [
				{ name: 'Ask', parameters: { resource: 'message', operation: 'ask', indexIds: ['idx-q3-reports'] } },
				{ name: 'Memory', type: MEMORY_NODE_TYPE, parameters: {} },
			],
			connections: MEMORY_INPUT,
		});
		const next = await chat('chat-padded', 'And the risks?');
		expect(conversationOf(next)).toMatchObject({ session_id: conversationOf(padded).session_id, turn: 2 });
	});

	it('logs its warnings with the node that wrote them', async () => {
		await chat('chat-logged', 'What grew in Q3?', { memory: { kind: 'sdk' } });
		expect(logLines.find((line) => line.message === METADATA_DROPPED_WARNING)?.metadata).toEqual({ node: 'Ask' });
	});

	it.each([
		['without saveContext', 'noSaveContext'],
		['without a chat history', 'noHistory'],
		['whose history cannot be read', 'unreadableHistory'],
	])('refuses a connected sub-node that is no chat memory (%s), before anything is sent', async (_case, kind) => {
		const result = await chat('chat-broken', 'What grew in Q3?', { memory: { kind } });
		expect(result.error?.message).toBe('Memory: the connected sub-node is not a chat memory');
		expect((result.error as unknown as { description: string }).description).toMatch(/Redis, Postgres or MongoDB Chat Memory, or Simple Memory/);
		expect(sandbox.requests).toHaveLength(0);
	});

	it('different Simple Memory conversations do not queue behind each other', async () => {
		const count = 6;
		const result = await runWorkflow({
			credentials: credentialsFor(sandbox),
			mode: 'webhook',
			items: Array.from({ length: count }, (_, index) => ({ sessionId: `chat-simple-${index}`, chatInput: 'What grew in Q3?' })),
			nodes: [
				{ name: 'Ask', parameters: { resource: 'message', operation: 'ask', indexIds: ['idx-q3-reports'], options: { batching: { batch: { batchSize: count } } } } },
				{ name: 'Memory', type: MEMORY_NODE_TYPE, parameters: { kind: 'simple' } },
			],
			connections: MEMORY_INPUT,
		});
		expect(result.error).toBeUndefined();
		expect(result.output('Ask').map((item) => (item.json.conversation as IDataObject).turn)).toEqual([1, 1, 1, 1, 1, 1]);
		expect(sandbox.stats.sessionsCreated).toBe(count);
	});

	it(`messages of one conversation wait for each other in this process, at most ${MAX_WAITING_PER_CONVERSATION} at a time; past that, a clear error`, async () => {
		sandbox.setStreamBehaviour({ contextAnswers: true, deltaDelayMs: 20 });
		const count = MAX_WAITING_PER_CONVERSATION + 2;
		const items = Array.from({ length: count }, (_, index) => ({ sessionId: 'chat-queue', chatInput: `Question ${index + 1}` }));
		const result = await runWorkflow({
			credentials: credentialsFor(sandbox),
			mode: 'webhook',
			items,
			nodes: [
				{
					name: 'Ask',
					continueOnFail: true,
					parameters: { resource: 'message', operation: 'ask', indexIds: ['idx-q3-reports'], options: { batching: { batch: { batchSize: count } } } },
				},
				{ name: 'Memory', type: MEMORY_NODE_TYPE, parameters: {} },
			],
			connections: MEMORY_INPUT,
		});

		const outputs = result.output('Ask').map((item) => item.json);
		expect(outputs).toHaveLength(count);
		const refused = outputs.filter((json) => typeof json.error === 'string');
		expect(refused).toHaveLength(1);
		expect(refused[0].error).toMatch(/already has 4 messages waiting for an answer/);
		expect(refused[0].description).toBe('Messages of one conversation are answered one after another. Send the next message once an answer has arrived.');
		const answered = outputs.filter((json) => json.conversation);
		expect(answered.map((json) => (json.conversation as IDataObject).turn)).toEqual([1, 2, 3, 4, 5]);
		expect(sandbox.stats.sessionsCreated).toBe(1);
		expect(nodeConversationStore.busy).toBe(0);

		// Drained, the conversation takes a running message and 4 waiting ones again.
		const again = await runWorkflow({
			credentials: credentialsFor(sandbox),
			mode: 'webhook',
			// New item objects, as every n8n execution has (the harness's executions all share one ID).
			items: items.slice(0, MAX_WAITING_PER_CONVERSATION + 1).map((item) => ({ ...item })),
			nodes: [
				{ name: 'Ask', parameters: { resource: 'message', operation: 'ask', indexIds: ['idx-q3-reports'], options: { batching: { batch: { batchSize: count } } } } },
				{ name: 'Memory', type: MEMORY_NODE_TYPE, parameters: {} },
			],
			connections: MEMORY_INPUT,
		});
		expect(again.error).toBeUndefined();
		expect(again.output('Ask').map((item) => (item.json.conversation as IDataObject).turn)).toEqual([6, 7, 8, 9, 10]);
	});
});

describe('Message → Ask with a memory: references are found by what they say, and read cheaply', () => {
	it('a memory that hands messages over newest first continues the newest session at its real turn, without a false warning', async () => {
		const memory = { kind: 'newestFirst' };
		const first = conversationOf(await chat('chat-reversed', 'What grew in Q3?', { memory }));
		const second = conversationOf(await chat('chat-reversed', 'And the risks?', { memory }));
		const third = conversationOf(await chat('chat-reversed', 'Summarise that for the board', { memory }));

		expect(first).toEqual({ session_id: expect.stringMatching(/^ses-/), turn: 1, new_session: true, store: 'memory' });
		expect(second).toEqual({ session_id: first.session_id, turn: 2, new_session: false, store: 'memory' });
		expect(third).toEqual({ session_id: first.session_id, turn: 3, new_session: false, store: 'memory' });
		expect(sandbox.stats.sessionsCreated).toBe(1);
	});

	it('of two references that open, the newer by its own time is continued, wherever it stands', async () => {
		const newer = await createOtherSession();
		const older = await createOtherSession();
		await addToHistory('chat-order', [
			new HumanMessage('Yesterday'),
			answerWithRef(sealSessionRef({ session: newer, turns: 4, usedAt: Date.now() - 60_000 }, bindingFor('chat-order'), sandbox.apiKey)),
			new HumanMessage('Last week'),
			answerWithRef(sealSessionRef({ session: older, turns: 9, usedAt: Date.now() - 7 * 86_400_000 }, bindingFor('chat-order'), sandbox.apiKey)),
		]);
		const next = conversationOf(await chat('chat-order', 'And the risks?', { ask: { options: { forgetAfterHours: 0 } } }));
		expect(next).toEqual({ session_id: newer, turn: 5, new_session: false, store: 'memory' });
	});

	it('of two references sealed at the same millisecond, the later in the history is continued', async () => {
		const earlier = await createOtherSession();
		const later = await createOtherSession();
		const usedAt = Date.now() - 60_000;
		await addToHistory('chat-tie', [
			answerWithRef(sealSessionRef({ session: earlier, turns: 2, usedAt }, bindingFor('chat-tie'), sandbox.apiKey)),
			answerWithRef(sealSessionRef({ session: later, turns: 6, usedAt }, bindingFor('chat-tie'), sandbox.apiKey)),
		]);
		const next = conversationOf(await chat('chat-tie', 'And the risks?'));
		expect(next).toEqual({ session_id: later, turn: 7, new_session: false, store: 'memory' });
	});

	it('a memory that trimmed the answer carrying the reference away is noticed: earlier answers, none with a reference', async () => {
		const memory = { kind: 'trimmed' };
		const first = conversationOf(await chat('chat-trimmed', 'What grew in Q3?', { memory }));
		expect(first.warning).toBeUndefined();
		// An AI Agent sharing the memory answers twice; the memory keeps its last 4 messages only.
		for (let turn = 0; turn < 2; turn++) await addToHistory('chat-trimmed', [new HumanMessage(`Side question ${turn}`), new AIMessage(`Side answer ${turn}`)], 'trimmed');

		const next = await chat('chat-trimmed', 'And the risks?', { memory });
		expect(conversationOf(next)).toMatchObject({ turn: 1, new_session: true, warning: NO_REFERENCE_WARNING });
		expect(conversationOf(next).session_id).not.toBe(first.session_id);
		expect(logLines.filter((line) => line.level === 'warn' && line.message === NO_REFERENCE_WARNING)).toHaveLength(1);
	});

	it('decrypts the credential once per execution, not once per item or request', async () => {
		const decrypted = jest.spyOn(PackageCredentialsHelper.prototype, 'getDecrypted');
		try {
			const items = ['chat-1', 'chat-2', 'chat-3'].map((sessionId) => ({ sessionId, chatInput: 'What grew in Q3?' }));
			const run = await chat('', '', { items, memory: { sessionKey: '={{ $json.sessionId }}' } });
			expect(run.output('Ask')).toHaveLength(3);
			expect(sandbox.requests).toHaveLength(6); // per item: create the session, send the message
			expect(decrypted).toHaveBeenCalledTimes(1);
			await chat('chat-1', 'And the risks?');
			expect(decrypted).toHaveBeenCalledTimes(2); // the next execution reads it afresh
		} finally {
			decrypted.mockRestore();
		}
	});

	it('derives the sealing key once per API key, not once per reference in the history', async () => {
		const target = await createOtherSession();
		const derived = jest.spyOn(crypto, 'hkdfSync');
		try {
			const answers = Array.from({ length: 50 }, (_, turn) => [
				new HumanMessage(`Question ${turn}`),
				answerWithRef(sealSessionRef({ session: target, turns: turn + 1, usedAt: Date.now() - 1000 + turn }, bindingFor('chat-derive'), sandbox.apiKey)),
			]).flat();
			await addToHistory('chat-derive', answers);
			const next = await chat('chat-derive', 'And the risks?');
			expect(conversationOf(next)).toEqual({ session_id: target, turn: 51, new_session: false, store: 'memory' });
			// Sealing 50 references here, opening them all in the node and sealing the next: at most one
			// derivation (none when an earlier test of this process already used the key).
			expect(derived.mock.calls.length).toBeLessThanOrEqual(1);
		} finally {
			derived.mockRestore();
		}
	});

	it(`after an API-key rotation, stops examining references that do not open after ${MAX_UNOPENED_REFERENCES}`, async () => {
		const oldKey = 'llx-the-key-before-rotation-000000';
		const answers = Array.from({ length: 500 }, (_, turn) => [
			new HumanMessage(`Question ${turn}`),
			answerWithRef(sealSessionRef({ session: 'ses-earlier', turns: turn + 1, usedAt: Date.now() }, bindingFor('chat-long'), oldKey)),
		]).flat();
		await addToHistory('chat-long', answers);
		const opened = jest.spyOn(crypto, 'createDecipheriv');
		try {
			const next = await chat('chat-long', 'And the risks?');
			expect(conversationOf(next)).toMatchObject({ turn: 1, new_session: true, warning: UNOPENED_REFERENCE_WARNING });
			// Reading before the turn, and again after saving it (which opens the new reference too).
			expect(opened.mock.calls.length).toBeLessThanOrEqual(2 * MAX_UNOPENED_REFERENCES + 1);
		} finally {
			opened.mockRestore();
		}
		// The new session continues from then on.
		const after = conversationOf(await chat('chat-long', 'Summarise'));
		expect(after).toMatchObject({ turn: 2, new_session: false });
		expect(after.warning).toBeUndefined();
	});
});

/** A session that exists on LlamaCloud (here: the sandbox) but that this conversation never used. */
async function createOtherSession(): Promise<string> {
	const response = await fetch(`${sandbox.url}/api/v1/chat`, {
		method: 'POST',
		headers: { Authorization: `Bearer ${sandbox.apiKey}`, 'Content-Type': 'application/json' },
		body: JSON.stringify({ index_ids: ['idx-q3-reports'] }),
	});
	return String(((await response.json()) as IDataObject).session_id);
}

describe('a memory that does not answer', () => {
	it('does not hold a cancelled execution: the read gives up at once, and nothing is sent', async () => {
		let cancel: () => void = () => {};
		const run = chat('chat-hanging', 'What grew in Q3?', { memory: { kind: 'hangingRead' }, onStarted: (stop) => (cancel = stop) });
		// The read never answers: without the cancel signal raced, the run would never settle.
		await new Promise<void>((resolve) => setImmediate(resolve));
		cancel();
		await run;
		expect(sandbox.stats.sessionsCreated).toBe(0);
		expect(sandbox.requests.filter((request) => request.method === 'POST')).toEqual([]);
	});
});
