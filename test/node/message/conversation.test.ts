/* eslint-disable @n8n/community-nodes/no-restricted-globals -- Node.js test/dev code, never run inside n8n */
// Message → Ask with a Conversation ID: follow-up questions continue one LlamaCloud session. Run
// through n8n-core's WorkflowExecute against the sandbox; the sandbox's answers name their turn and
// the session's previous question, so the text itself shows which session answered.

import { displayParameter, type IDataObject, type INodeParameters, type INodeProperties } from 'n8n-workflow';

import { LlamaCloudChat } from '../../../nodes/LlamaCloudChat/LlamaCloudChat.node';
import {
	MAX_PROTECTED_CONVERSATIONS,
	MAX_STORED_CONVERSATIONS,
	nodeConversationStore as conversationMemory,
} from '../../../nodes/LlamaCloudChat/conversations';
import { runWorkflow, type RunOptions, type RunResult } from '../../harness/run-workflow';
import { useSandbox } from '../../harness/support';
import type { Sandbox } from '../../sandbox';
import { createSessionDirectly, credentialsFor, errorOf, requestLines, STREAM_PATH, streamRequests } from './support';

let sandbox: Sandbox;

useSandbox((started) => (sandbox = started));

beforeEach(() => {
	conversationMemory.clear();
	sandbox.setStreamBehaviour({ contextAnswers: true });
});

/**
 * One production run (as behind an active Chat Trigger): the item the Chat Trigger sends, and the
 * workflow's static data as n8n would have loaded it. `saved` is what n8n saves afterwards.
 */
async function chat(
	sessionId: string,
	chatInput: string,
	options: { parameters?: IDataObject; staticData?: IDataObject; run?: Partial<RunOptions>; nodeName?: string } = {},
): Promise<RunResult> {
	return await runWorkflow({
		credentials: credentialsFor(sandbox),
		mode: 'webhook',
		items: [{ sessionId, action: 'sendMessage', chatInput }],
		staticData: options.staticData,
		nodes: [
			{
				name: options.nodeName ?? 'Ask',
				// Prompt and Conversation ID keep their defaults: {{ $json.chatInput }} and {{ $json.sessionId }}.
				parameters: { resource: 'message', operation: 'ask', indexIds: ['idx-q3-reports'], ...options.parameters },
			},
		],
		...options.run,
	});
}

function outputOf(result: RunResult, name = 'Ask'): IDataObject {
	if (result.error) throw new Error(`The workflow failed: ${result.error.message}`);
	return result.output(name)[0].json;
}

/** The `conversation` field of the (only) node's output. */
const conversationOf = (result: RunResult) => {
	if (result.error) throw new Error(`The workflow failed: ${result.error.message}`);
	const [name] = Object.keys(result.run.data.resultData.runData);
	return result.output(name)[0].json.conversation as IDataObject;
};

/** A conversation across production runs: each run starts from the static data the previous one saved. */
function conversationRunner() {
	let staticData: IDataObject | undefined;
	return async (sessionId: string, chatInput: string, parameters?: IDataObject) => {
		const result = await chat(sessionId, chatInput, { staticData, parameters });
		staticData = result.savedStaticData ?? staticData;
		return result;
	};
}

describe('Message → Ask in a conversation', () => {
	it('continues one session per conversation: 3 turns of A and 1 of B make 2 sessions, with the history', async () => {
		const say = conversationRunner();
		const a1 = conversationOf(await say('conv-A', 'What grew in Q3?'));
		const b1 = conversationOf(await say('conv-B', 'What does the handbook say about onboarding?'));
		const a2 = conversationOf(await say('conv-A', 'And the risks?'));
		const a3result = await say('conv-A', 'Summarise that for the board');
		const a3 = conversationOf(a3result);

		expect(sandbox.stats.sessionsCreated).toBe(2);
		expect(a1).toEqual({ id: 'conv-A', session_id: expect.stringMatching(/^ses-/), turn: 1, new_session: true, store: 'node' });
		expect(b1).toMatchObject({ id: 'conv-B', turn: 1, new_session: true, store: 'node' });
		expect(b1.session_id).not.toBe(a1.session_id);
		expect(a2).toEqual({ id: 'conv-A', session_id: a1.session_id, turn: 2, new_session: false, store: 'node' });
		expect(a3).toEqual({ id: 'conv-A', session_id: a1.session_id, turn: 3, new_session: false, store: 'node' });
		expect(outputOf(a3result).session_id).toBe(a1.session_id);
		// LlamaCloud (here: the sandbox) answered turn 3 knowing turn 2's question.
		expect(outputOf(a3result).answer).toMatch(/^Turn 3, following up on "And the risks\?"/);
		const stored = sandbox.getSession(a1.session_id as string);
		expect(stored.events.filter((event: IDataObject) => event.type === 'user_input').map((event: IDataObject) => event.content)).toEqual([
			'What grew in Q3?',
			'And the risks?',
			'Summarise that for the board',
		]);
		// Every turn after the first is just one message: no new session, no extra reads.
		expect(requestLines(sandbox).filter((line) => line === 'POST /api/v1/chat')).toHaveLength(2);
	});

	it('survives an n8n restart between turns 2 and 3 through the static data n8n saved', async () => {
		const say = conversationRunner();
		const first = conversationOf(await say('conv-restart', 'What grew in Q3?'));
		await say('conv-restart', 'And the risks?');
		conversationMemory.clear(); // what a restart does to the process
		const third = await say('conv-restart', 'Summarise that for the board');
		expect(conversationOf(third)).toEqual({ id: 'conv-restart', session_id: first.session_id, turn: 3, new_session: false, store: 'node' });
		expect(outputOf(third).answer).toMatch(/^Turn 3, following up on "And the risks\?"/);
		expect(sandbox.stats.sessionsCreated).toBe(1);
	});

	it('after a restart, reads back what it can of saved data that was changed by hand, and starts afresh for the rest', async () => {
		const first = await chat('conv-edited', 'What grew in Q3?');
		// n8n keeps a node's static data under `node:<name>`.
		const saved = (first.savedStaticData as Record<string, { conversations: Record<string, IDataObject> }>)['node:Ask'];
		const [[key, entry]] = Object.entries(saved.conversations);
		const edited = (conversations: unknown) => ({ 'node:Ask': { ...saved, conversations } });

		for (const conversations of ['not a map', ['a', 'list'], 42, null]) {
			conversationMemory.clear();
			const result = await chat('conv-edited', 'And the risks?', { staticData: edited(conversations) });
			expect(conversationOf(result)).toMatchObject({ turn: 1, new_session: true, store: 'node' });
		}
		for (const broken of [null, 'text', { ...entry, session: 7 }, { ...entry, indexes: undefined }]) {
			conversationMemory.clear();
			const result = await chat('conv-edited', 'And the risks?', { staticData: edited({ [key]: broken }) });
			expect(conversationOf(result)).toMatchObject({ turn: 1, new_session: true, store: 'node' });
		}
		// A missing time of use is read as "long ago" (forgotten); a missing turn count as 0.
		conversationMemory.clear();
		const undated = { ...entry };
		delete undated.usedAt;
		expect(conversationOf(await chat('conv-edited', 'And the risks?', { staticData: edited({ [key]: undated }) }))).toMatchObject({ new_session: true, store: 'node' });
		conversationMemory.clear();
		const uncounted = { ...entry };
		delete uncounted.turns;
		const continued = await chat('conv-edited', 'And the risks?', { staticData: edited({ [key]: uncounted }) });
		expect(conversationOf(continued)).toMatchObject({ session_id: conversationOf(first).session_id, turn: 1, new_session: false });
	});

	it('writes back only the saved entries it could read: hand-edited ones of other conversations are dropped, the rest kept', async () => {
		const first = await chat('conv-kept', 'What grew in Q3?');
		const saved = (first.savedStaticData as Record<string, { conversations: Record<string, IDataObject> }>)['node:Ask'];
		const [[keptKey, kept]] = Object.entries(saved.conversations);
		const conversations = {
			[keptKey]: kept,
			'no-session': { ...kept, session: 7 },
			'no-indexes': { ...kept, indexes: ['idx-q3-reports'] },
		};
		conversationMemory.clear(); // a restart: the next run reads the edited static data
		const next = await chat('conv-other', 'And the risks?', { staticData: { 'node:Ask': { ...saved, conversations } } });
		const written = (next.savedStaticData as Record<string, { conversations: Record<string, IDataObject> }>)['node:Ask'].conversations;
		expect(Object.keys(written)).toHaveLength(2);
		expect(written[keptKey]).toEqual(kept);
		expect(written).not.toHaveProperty('no-session');
		expect(written).not.toHaveProperty('no-indexes');
	});

	it('after a restart, manual runs (not saved by n8n) do not carry the conversation: a new session starts', async () => {
		const manual = { run: { mode: 'manual' as const } };
		const first = await chat('conv-manual', 'What grew in Q3?', manual);
		expect(first.savedStaticData).toBeUndefined();
		expect(conversationOf(await chat('conv-manual', 'And the risks?', manual)).turn).toBe(2); // same process: continues
		conversationMemory.clear();
		expect(conversationOf(await chat('conv-manual', 'Summarise that', manual))).toMatchObject({ turn: 1, new_session: true, store: 'node' });
	});

	it('keeps no conversation ID in the static data it saves, only digests', async () => {
		const result = await chat('a-bearer-secret-conversation-id', 'What grew in Q3?');
		const saved = JSON.stringify(result.savedStaticData);
		expect(saved).toContain(conversationOf(result).session_id as string);
		expect(saved).not.toContain('a-bearer-secret-conversation-id');
	});

	it('two messages of one conversation at once create one session and take turns', async () => {
		sandbox.setStreamBehaviour({ contextAnswers: true, deltaDelayMs: 5 });
		const [x, y] = await Promise.all([chat('conv-race', 'What grew in Q3?'), chat('conv-race', 'And the risks?')]);
		expect(sandbox.stats.sessionsCreated).toBe(1);
		expect([conversationOf(x).turn, conversationOf(y).turn].sort()).toEqual([1, 2]);
		expect(conversationOf(x).session_id).toBe(conversationOf(y).session_id);
	});

	it('a third message that comes while the second waits or runs waits for it too, and nothing stays queued after', async () => {
		sandbox.setStreamBehaviour({ contextAnswers: true, deltaDelayMs: 20 });
		const first = chat('conv-three', 'What grew in Q3?');
		const second = chat('conv-three', 'And the risks?');
		expect(conversationOf(await first).turn).toBe(1);
		// The first is answered, the second is running now: the third must still wait for it.
		const third = await chat('conv-three', 'Summarise that');
		expect(conversationOf(await second).turn).toBe(2);
		expect(conversationOf(third)).toMatchObject({ turn: 3, session_id: conversationOf(await first).session_id });
		expect(outputOf(third).answer).toMatch(/^Turn 3, following up on "And the risks\?"/);
		expect(sandbox.stats.sessionsCreated).toBe(1);
		expect(conversationMemory.busy).toBe(0);
	});

	it('messages of different conversations do not wait for each other', async () => {
		// The first conversation's message is held for a second before LlamaCloud answers it.
		sandbox.injectFault({
			method: 'POST',
			path: STREAM_PATH,
			when: (request) => (request.body as IDataObject | undefined)?.prompt === 'A slow question',
			action: { type: 'delay', ms: 1000 },
		});
		const answered: string[] = [];
		const slow = chat('conv-slow', 'A slow question').then(() => answered.push('slow'));
		await new Promise((resolve) => setTimeout(resolve, 100)); // the slow one is under way
		await chat('conv-quick', 'A quick question').then(() => answered.push('quick'));
		await slow;
		expect(answered).toEqual(['quick', 'slow']);
		expect(conversationMemory.busy).toBe(0);
	});

	it('two items of one conversation in one run (Items per Batch 2) also share one session', async () => {
		const result = await runWorkflow({
			credentials: credentialsFor(sandbox),
			mode: 'webhook',
			items: [
				{ sessionId: 'conv-items', chatInput: 'What grew in Q3?' },
				{ sessionId: 'conv-items', chatInput: 'And the risks?' },
			],
			nodes: [{ name: 'Ask', parameters: { resource: 'message', operation: 'ask', indexIds: ['idx-q3-reports'], options: { batching: { batch: { batchSize: 2 } } } } }],
		});
		const [first, second] = result.output('Ask').map((item) => item.json.conversation as IDataObject);
		expect(sandbox.stats.sessionsCreated).toBe(1);
		expect(first).toMatchObject({ turn: 1, new_session: true, store: 'node' });
		expect(second).toMatchObject({ turn: 2, new_session: false, session_id: first.session_id });
		expect(result.output('Ask').map((item) => item.pairedItem)).toEqual([{ item: 0 }, { item: 1 }]);
	});

	it('a session LlamaCloud no longer has (404) starts a new one for the conversation, and the chat gets its answer', async () => {
		const say = conversationRunner();
		const first = conversationOf(await say('conv-deleted', 'What grew in Q3?'));
		await fetch(`${sandbox.url}/api/v1/chat/${first.session_id as string}`, { method: 'DELETE', headers: { Authorization: `Bearer ${sandbox.apiKey}` } });

		const again = await say('conv-deleted', 'And the risks?');
		expect(conversationOf(again)).toMatchObject({ id: 'conv-deleted', turn: 1, new_session: true, store: 'node' });
		expect(conversationOf(again).session_id).not.toBe(first.session_id);
		expect(outputOf(again).answer).toMatch(/^Turn 1, no earlier question/);
		// The refused message went to the new session once; nothing was sent twice.
		expect(streamRequests(sandbox).map((request) => request.body)).toEqual([
			{ index_ids: ['idx-q3-reports'], prompt: 'What grew in Q3?' },
			{ index_ids: ['idx-q3-reports'], prompt: 'And the risks?' },
			{ index_ids: ['idx-q3-reports'], prompt: 'And the risks?' },
		]);
		expect(sandbox.stats.turnsCompleted).toBe(2);
		// ... and the next message continues the new session.
		expect(conversationOf(await say('conv-deleted', 'Thanks'))).toMatchObject({ session_id: conversationOf(again).session_id, turn: 2 });
	});

	it('a gone session is forgotten even when no new one can be created: the next message does not try it again', async () => {
		const say = conversationRunner();
		const first = conversationOf(await say('conv-gone', 'What grew in Q3?'));
		await fetch(`${sandbox.url}/api/v1/chat/${first.session_id as string}`, { method: 'DELETE', headers: { Authorization: `Bearer ${sandbox.apiKey}` } });
		sandbox.injectFault({ method: 'POST', path: '/api/v1/chat', action: { type: 'status', status: 403, body: { detail: 'Forbidden' } } });
		const failed = await say('conv-gone', 'And the risks?');
		expect(errorOf(failed).message).toBe('LlamaCloud error 403: Forbidden');
		const saved = failed.savedStaticData as Record<string, { conversations: IDataObject }>;
		expect(saved['node:Ask'].conversations).toEqual({});

		const next = await say('conv-gone', 'And the risks, again?');
		expect(conversationOf(next)).toMatchObject({ turn: 1, new_session: true, store: 'node' });
		const toGone = streamRequests(sandbox).filter((request) => request.path.includes(first.session_id as string));
		expect(toGone).toHaveLength(2); // the first turn, and the message that found the session gone
	});

	it('any other failure fails the message and keeps the conversation: no new session, the next message continues', async () => {
		const say = conversationRunner();
		const first = conversationOf(await say('conv-failure', 'What grew in Q3?'));
		sandbox.injectFault({ method: 'POST', path: STREAM_PATH, action: { type: 'status', status: 400, body: { detail: 'Bad prompt' } } });
		const failed = await say('conv-failure', 'And the risks?');
		expect(errorOf(failed).message).toBe('LlamaCloud error 400: Bad prompt');
		const next = await say('conv-failure', 'And the risks, again?');
		expect(conversationOf(next)).toEqual({ id: 'conv-failure', session_id: first.session_id, turn: 2, new_session: false, store: 'node' });
		expect(sandbox.stats.sessionsCreated).toBe(1);
	});

	it('changing the Indexes starts a new session (a session keeps the index set of its first message)', async () => {
		const say = conversationRunner();
		const first = conversationOf(await say('conv-indexes', 'What grew in Q3?'));
		const other = conversationOf(await say('conv-indexes', 'What does the handbook say?', { indexIds: ['idx-product-handbook', 'idx-q3-reports'] }));
		expect(other).toMatchObject({ turn: 1, new_session: true, store: 'node' });
		expect(other.session_id).not.toBe(first.session_id);
		expect(sandbox.getSession(other.session_id as string).index_ids).toEqual(['idx-product-handbook', 'idx-q3-reports']);
		// The same set in another order is the same set.
		const reordered = await say('conv-indexes', 'And?', { indexIds: ['idx-q3-reports', 'idx-product-handbook'] });
		expect(conversationOf(reordered)).toMatchObject({ session_id: other.session_id, turn: 2 });
	});

	it("'Forget After' starts a new session after the idle time; each saved conversation is dropped by its own Forget After", async () => {
		const say = conversationRunner();
		const first = await say('conv-idle', 'What grew in Q3?', { options: { forgetAfterHours: 1 } });
		const other = await say('conv-other', 'What grew in Q3?'); // the default, 24 hours
		const never = await say('conv-never', 'What grew in Q3?', { options: { forgetAfterHours: 0 } });
		// Age every remembered conversation by two hours, as if the chat had been idle.
		// n8n keeps a node's static data under `node:<name>`.
		const aged = JSON.parse(JSON.stringify(never.savedStaticData)) as Record<string, { conversations: Record<string, { usedAt: number }> }>;
		expect(Object.keys(aged['node:Ask'].conversations)).toHaveLength(3);
		for (const entry of Object.values(aged['node:Ask'].conversations)) entry.usedAt -= 2 * 3_600_000;
		conversationMemory.clear();

		const later = await chat('conv-idle', 'And the risks?', { staticData: aged, parameters: { options: { forgetAfterHours: 1 } } });
		expect(conversationOf(later)).toMatchObject({ turn: 1, new_session: true, store: 'node' });
		expect(conversationOf(later).session_id).not.toBe(conversationOf(first).session_id);
		const saved = later.savedStaticData as Record<string, { conversations: Record<string, { session: string }> }>;
		const kept = Object.values(saved['node:Ask'].conversations);
		// The other two keep their own Forget After (24 hours, never): two hours idle does not drop them.
		expect(kept.map((entry) => entry.session)).toEqual([conversationOf(other).session_id, conversationOf(never).session_id, conversationOf(later).session_id]);

		// Past its own 24 hours, the default one is dropped at the next save, and the one that never expires is kept.
		const older = JSON.parse(JSON.stringify(later.savedStaticData)) as Record<string, { conversations: Record<string, { usedAt: number }> }>;
		for (const entry of Object.values(older['node:Ask'].conversations)) entry.usedAt -= 30 * 3_600_000;
		conversationMemory.clear();
		const next = await chat('conv-new', 'What grew in Q3?', { staticData: older });
		const after = Object.values((next.savedStaticData as typeof saved)['node:Ask'].conversations).map((entry) => entry.session);
		expect(after).toEqual([conversationOf(never).session_id, conversationOf(next).session_id]);

		// Within the idle time the same aged conversation would have continued.
		conversationMemory.clear();
		const within = await chat('conv-other', 'And the risks?', { staticData: aged, parameters: { options: { forgetAfterHours: 3 } } });
		expect(conversationOf(within)).toMatchObject({ session_id: conversationOf(other).session_id, turn: 2 });
	});

	it("'Forget After' 0 never forgets by time: a conversation idle for a month continues", async () => {
		const first = await chat('conv-month', 'What grew in Q3?');
		const aged = JSON.parse(JSON.stringify(first.savedStaticData)) as Record<string, { conversations: Record<string, { usedAt: number }> }>;
		for (const entry of Object.values(aged['node:Ask'].conversations)) entry.usedAt -= 30 * 24 * 3_600_000;
		conversationMemory.clear();
		const later = await chat('conv-month', 'And the risks?', { staticData: aged, parameters: { options: { forgetAfterHours: 0 } } });
		expect(conversationOf(later)).toMatchObject({ session_id: conversationOf(first).session_id, turn: 2, new_session: false });
	});

	it.each([
		['not a number', 'soon'],
		['negative', -1],
	])("a saved entry whose own Forget After is %s is read with the default, 24 hours", async (_case, forgetMs) => {
		const first = await chat('conv-own', 'What grew in Q3?');
		const saved = (first.savedStaticData as Record<string, { conversations: Record<string, IDataObject> }>)['node:Ask'];
		const [[key, entry]] = Object.entries(saved.conversations);
		const aged = (hours: number) => ({ 'node:Ask': { ...saved, conversations: { [key]: { ...entry, forgetMs, usedAt: Date.now() - hours * 3_600_000 } } } });
		conversationMemory.clear();
		const kept = await chat('conv-other-own', 'What grew in Q3?', { staticData: aged(23) });
		expect(Object.keys((kept.savedStaticData as Record<string, { conversations: IDataObject }>)['node:Ask'].conversations)).toContain(key);
		conversationMemory.clear();
		const dropped = await chat('conv-other-own', 'What grew in Q3?', { staticData: aged(25) });
		expect(Object.keys((dropped.savedStaticData as Record<string, { conversations: IDataObject }>)['node:Ask'].conversations)).not.toContain(key);
	});

	it("a first message whose answer broke off leaves its session to the conversation: the next message continues it", async () => {
		sandbox.setStreamBehaviour({ contextAnswers: true, mode: 'drop-mid-stream' });
		const say = conversationRunner();
		const broken = await say('conv-broken-first', 'What grew in Q3?');
		expect(broken.error).toBeDefined();
		sandbox.setStreamBehaviour({ contextAnswers: true });
		const next = await chat('conv-broken-first', 'And the risks?');
		expect(sandbox.stats.sessionsCreated).toBe(1);
		expect(conversationOf(next)).toMatchObject({ turn: 1, new_session: false });
	});

	describe(`keeps at most ${MAX_STORED_CONVERSATIONS} conversations per node, the least recently used dropped first`, () => {
		/** Static data holding `conversation`'s entry, used before `count` others. */
		async function crowded(conversation: string, count: number) {
			const first = await chat(conversation, 'What grew in Q3?');
			const saved = (first.savedStaticData as Record<string, { conversations: Record<string, IDataObject> }>)['node:Ask'];
			const [[key, entry]] = Object.entries(saved.conversations);
			const conversations: Record<string, IDataObject> = { [key]: entry };
			// Saved out of order (newest first): the order of use is read from the times, not the keys.
			for (let index = count - 1; index >= 0; index--) {
				conversations[`other-${index}`] = { ...entry, session: `ses-other-${index}`, usedAt: (entry.usedAt as number) + 1 + index };
			}
			conversationMemory.clear(); // a restart: the next run reads this
			return { key, first, staticData: { 'node:Ask': { ...saved, conversations } } };
		}
		const writtenBy = (result: RunResult) =>
			(result.savedStaticData as Record<string, { conversations: Record<string, IDataObject> }>)['node:Ask'].conversations;

		it('a new conversation past the bound drops the least recently used, in this process and in the saved data', async () => {
			const { key, staticData } = await crowded('conv-lru-oldest', MAX_STORED_CONVERSATIONS - 1);
			const next = await chat('conv-lru-new', 'And the risks?', { staticData });
			const written = writtenBy(next);
			expect(Object.keys(written)).toHaveLength(MAX_STORED_CONVERSATIONS);
			expect(written).not.toHaveProperty(key);
			expect(written).toHaveProperty('other-0');
			const again = await chat('conv-lru-oldest', 'Summarise');
			expect(conversationOf(again)).toMatchObject({ turn: 1, new_session: true });
		});

		it(`${MAX_STORED_CONVERSATIONS} one-message conversations (a public chat reloaded) do not evict a conversation in use, in this process nor after a restart`, async () => {
			const say = conversationRunner();
			const first = conversationOf(await say('conv-in-use', 'What grew in Q3?'));
			await say('conv-in-use', 'And the risks?');
			// One production run of a thousand visitors, each asking one question.
			const crowd = await runWorkflow({
				credentials: credentialsFor(sandbox),
				mode: 'webhook',
				items: Array.from({ length: MAX_STORED_CONVERSATIONS }, (_, index) => ({ sessionId: `visitor-${index}`, chatInput: 'Hello?' })),
				staticData: (await say('conv-in-use-probe', 'Hi')).savedStaticData,
				nodes: [{ name: 'Ask', parameters: { resource: 'message', operation: 'ask', indexIds: ['idx-q3-reports'], options: { batching: { batch: { batchSize: 100 } } } } }],
			});
			expect(crowd.output('Ask')).toHaveLength(MAX_STORED_CONVERSATIONS);
			const staticData = crowd.savedStaticData;
			const written = writtenBy(crowd);
			expect(Object.keys(written)).toHaveLength(MAX_STORED_CONVERSATIONS);
			expect(Object.values(written).filter((entry) => (entry.turns as number) >= 2)).toHaveLength(1);

			const third = await chat('conv-in-use', 'Summarise that for the board', { staticData });
			expect(conversationOf(third)).toEqual({ id: 'conv-in-use', session_id: first.session_id, turn: 3, new_session: false, store: 'node' });
			conversationMemory.clear(); // a restart: the saved copy keeps it too
			const fourth = await chat('conv-in-use', 'And the next steps?', { staticData: third.savedStaticData });
			expect(conversationOf(fourth)).toMatchObject({ session_id: first.session_id, turn: 4, new_session: false });
			// The newest visitors are kept; the oldest one-message conversations made room.
			expect(conversationOf(await chat('visitor-999', 'And then?', { staticData: fourth.savedStaticData }))).toMatchObject({ turn: 2, new_session: false });
			expect(conversationOf(await chat('visitor-0', 'And then?'))).toMatchObject({ turn: 1, new_session: true });
		}, 120_000);

		it(`conversations in use are bounded too: past ${MAX_PROTECTED_CONVERSATIONS}, the least recently used of them is dropped`, async () => {
			const say = conversationRunner();
			await say('conv-protected-oldest', 'What grew in Q3?');
			const second = await say('conv-protected-oldest', 'And the risks?');
			const saved = (second.savedStaticData as Record<string, { conversations: Record<string, IDataObject> }>)['node:Ask'];
			const [[key, entry]] = Object.entries(saved.conversations);
			const conversations: Record<string, IDataObject> = { [key]: entry };
			for (let index = 0; index < MAX_PROTECTED_CONVERSATIONS; index++) {
				conversations[`in-use-${index}`] = { ...entry, session: `ses-in-use-${index}`, usedAt: (entry.usedAt as number) + 1 + index };
			}
			conversationMemory.clear();
			const next = await chat('conv-protected-oldest', 'Summarise', { staticData: { 'node:Ask': { ...saved, conversations } } });
			expect(conversationOf(next)).toMatchObject({ turn: 1, new_session: true });
			const written = writtenBy(next);
			expect(Object.keys(written)).toHaveLength(MAX_PROTECTED_CONVERSATIONS + 1);
			expect(written).toHaveProperty('in-use-0');
			expect(written[key]).toMatchObject({ session: conversationOf(next).session_id, turns: 1 }); // its new session
		});

		it('saved data over the bound is read back as its most recently used conversations', async () => {
			const { key, first, staticData } = await crowded('conv-lru-used', MAX_STORED_CONVERSATIONS + 5);
			// The entry is the least recently used of all: it is not read back.
			const next = await chat('conv-lru-used', 'And the risks?', { staticData });
			expect(conversationOf(next)).toMatchObject({ turn: 1, new_session: true });
			expect(conversationOf(next).session_id).not.toBe(conversationOf(first).session_id);
			const written = writtenBy(next);
			expect(Object.keys(written)).toHaveLength(MAX_STORED_CONVERSATIONS);
			expect(written).not.toHaveProperty('other-5');
			expect(written).toHaveProperty('other-6');
			expect(Object.keys(written)).toContain(key); // its new entry, now the most recent
		});
	});

	it("'Forget After' is a bound to the millisecond: a conversation idle exactly that long continues, and others as idle are kept", async () => {
		const say = conversationRunner();
		const first = conversationOf(await say('conv-edge', 'What grew in Q3?'));
		const other = await say('conv-edge-other', 'What grew in Q3?');
		// An hour later by n8n's clock, both last used exactly one hour before.
		const now = Date.now() + 3_600_000;
		const aged = JSON.parse(JSON.stringify(other.savedStaticData)) as Record<string, { conversations: Record<string, { usedAt: number }> }>;
		for (const entry of Object.values(aged['node:Ask'].conversations)) entry.usedAt = now - 3_600_000;
		conversationMemory.clear();
		const clock = jest.spyOn(Date, 'now').mockReturnValue(now);
		let edge: RunResult;
		try {
			edge = await chat('conv-edge', 'And the risks?', { staticData: aged, parameters: { options: { forgetAfterHours: 1 } } });
		} finally {
			clock.mockRestore();
		}
		expect(conversationOf(edge)).toMatchObject({ session_id: first.session_id, turn: 2, new_session: false, store: 'node' });
		const saved = edge.savedStaticData as Record<string, { conversations: Record<string, { usedAt: number }> }>;
		expect(Object.values(saved['node:Ask'].conversations).map((entry) => entry.usedAt)).toEqual([now - 3_600_000, now]);
	});

	describe('security', () => {
		it('a session ID sent as the conversation ID does not open that session', async () => {
			const victim = await createSessionDirectly(sandbox, ['idx-q3-reports']);
			const result = await chat(victim, 'What grew in Q3?');
			expect(conversationOf(result)).toMatchObject({ id: victim, turn: 1, new_session: true, store: 'node' });
			expect(conversationOf(result).session_id).not.toBe(victim);
			expect(sandbox.getSession(victim).events).toEqual([]);
			expect(streamRequests(sandbox).every((request) => !request.path.includes(victim))).toBe(true);
		});

		it('the memory is scoped by workflow and node: the same conversation ID elsewhere is another conversation', async () => {
			const here = conversationOf(await chat('conv-shared', 'What grew in Q3?'));
			const otherNode = conversationOf(await chat('conv-shared', 'What grew in Q3?', { nodeName: 'Ask the handbook' }));
			const otherWorkflow = conversationOf(await chat('conv-shared', 'What grew in Q3?', { run: { workflowId: 'another-workflow' } }));
			expect(new Set([here.session_id, otherNode.session_id, otherWorkflow.session_id]).size).toBe(3);
			expect([otherNode.new_session, otherWorkflow.new_session]).toEqual([true, true]);
		});

		it('an ID that is empty after trimming means a one-shot question, where Delete Session After Answer works', async () => {
			const output = outputOf(await chat('   ', 'What grew in Q3?', { parameters: { options: { deleteSession: true } } }));
			expect(output).not.toHaveProperty('conversation');
			expect(output.session_deleted).toBe(true);
			expect(sandbox.getSession(output.session_id as string)).toBeUndefined();
		});

		it('refuses an ID over 512 characters, before any request, naming the field and the fix', async () => {
			const result = await chat('x'.repeat(513), 'What grew in Q3?');
			const error = errorOf(result);
			expect(error.message).toBe('Conversation ID is too long: 513 characters, at most 512');
			expect(error.description).toContain('{{ $json.sessionId }}');
			expect(sandbox.requests).toHaveLength(0);
			expect(conversationOf(await chat('y'.repeat(512), 'What grew in Q3?'))).toMatchObject({ turn: 1 });
		});

		it.each([
			['a list', '={{ ["conv", 1] }}'],
			['object', '={{ { id: "conv" } }}'],
			['boolean', '={{ true }}'],
		])('refuses a Conversation ID that is %s, before any request, naming the field and the fix', async (kind, expression) => {
			const error = errorOf(await chat('ignored', 'What grew in Q3?', { parameters: { conversationId: expression } }));
			expect(error.message).toBe(`Conversation ID must be text, got ${kind}`);
			expect(error.description).toBe("Map the chat's session ID, e.g. {{ $json.sessionId }}, or leave it empty for one-shot questions.");
			expect(sandbox.requests).toHaveLength(0);
		});

		it.each(['={{ null }}', '={{ undefined }}'])('takes a Conversation ID of %s as none: a one-shot question', async (expression) => {
			const output = outputOf(await chat('ignored', 'What grew in Q3?', { parameters: { conversationId: expression } }));
			expect(output).not.toHaveProperty('conversation');
			expect(output.answer).toContain('Q3 revenue grew 12%');
		});

		it('takes a number as a Conversation ID, the same conversation as its text', async () => {
			const run = conversationRunner();
			const first = outputOf(await run('ignored', 'What grew in Q3?', { conversationId: '={{ 42 }}' }));
			const second = outputOf(await run('ignored', 'And in Q4?', { conversationId: '42' }));
			expect(second.session_id).toBe(first.session_id);
			expect(second.conversation).toMatchObject({ turn: 2 });
		});

		it('keeps the session of a conversation even with Delete Session After Answer set, and hides that option for a fixed Conversation ID', async () => {
			const output = outputOf(await chat('conv-keep', 'What grew in Q3?', { parameters: { options: { deleteSession: true } } }));
			expect(output).not.toHaveProperty('session_deleted');
			expect(sandbox.getSession(output.session_id as string)).toBeDefined();

			// What the editor shows, decided by n8n's own displayParameter() on the node's description.
			const description = new LlamaCloudChat().description;
			const ask = { resource: 'message', operation: 'ask' };
			const options = description.properties.find((property) => property.name === 'options' && displayParameter(ask, property, { typeVersion: 1 }, description)) as INodeProperties;
			const tool = { ...description, name: `${description.name}Tool` };
			const shown = (name: string, values: IDataObject, type = description) => {
				const root = { ...ask, ...values } as INodeParameters;
				return [...(options.options as INodeProperties[]), ...type.properties]
					.filter((option) => option.name === name)
					.some((option) => displayParameter(root, option, { typeVersion: 1 }, type, root));
			};
			const conversation = { conversationId: 'support-chat' };
			expect(shown('deleteSession', conversation)).toBe(false);
			expect(shown('deleteSession', { conversationId: '' })).toBe(true);
			expect(shown('forgetAfterHours', conversation)).toBe(true);
			expect(shown('forgetAfterHours', { conversationId: '' })).toBe(false);
			// An expression (the default) is only known per item: n8n shows both, and the run decides.
			expect(shown('deleteSession', { conversationId: '={{ $json.sessionId }}' })).toBe(true);
			// As an AI Agent tool: no conversations, and Delete Session After Answer is offered.
			expect(shown('conversationId', {}, tool)).toBe(false);
			expect(shown('conversationId', {})).toBe(true);
			expect(shown('deleteSession', {}, tool)).toBe(true);
			expect(shown('forgetAfterHours', {}, tool)).toBe(false);
		});
	});
});
