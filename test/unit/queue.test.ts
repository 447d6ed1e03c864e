/* eslint-disable @n8n/community-nodes/no-restricted-globals -- Node.js test code, never run inside n8n */
// The per-conversation queue on its own: the engine tests (test/node/message/turn-ends.test.ts,
// conversation.test.ts) run it through n8n; a cancelled message's error and the bound's bookkeeping are
// pinned here, since n8n discards a cancelled execution's output.

import type { IExecuteFunctions, INode } from 'n8n-workflow';

import { MAX_WAITING_PER_CONVERSATION, conversationQueues } from '../../nodes/LlamaCloudChat/conversations/queue';

const node = { name: 'LlamaCloud Chat' } as INode;
const contextWith = (signal?: AbortSignal) =>
	({ getNode: () => node, ...(signal ? { getExecutionCancelSignal: () => signal } : {}) }) as unknown as IExecuteFunctions;

/** A task that runs until `finish()` is called. */
function heldTask(ran: string[], name: string) {
	let finish: () => void = () => {};
	const finished = new Promise<void>((resolve) => (finish = resolve));
	return {
		task: async () => {
			ran.push(name);
			await finished;
			return name;
		},
		finish: () => finish(),
	};
}

const settle = async () => await new Promise<void>((resolve) => setImmediate(resolve));

afterEach(() => conversationQueues.clear());

describe('the queue of one conversation', () => {
	it('a waiting message whose execution is cancelled leaves at once with the cancellation, and its task never runs', async () => {
		const ran: string[] = [];
		const first = heldTask(ran, 'first');
		const running = conversationQueues.serialized(contextWith(), 0, 'c', first.task);
		const abort = new AbortController();
		const second = heldTask(ran, 'second');
		const waiting = conversationQueues.serialized(contextWith(abort.signal), 0, 'c', second.task);
		await settle();
		abort.abort();

		await expect(waiting).rejects.toMatchObject({
			message: 'The execution was cancelled while an earlier message of this conversation was being answered',
			context: { cancelled: true },
		});
		// It left while the first one still runs, and never ran.
		expect(ran).toEqual(['first']);
		first.finish();
		await expect(running).resolves.toBe('first');
		await settle();
		expect(ran).toEqual(['first']);
		expect(conversationQueues.busy).toBe(0);
	});

	it('counts the messages still waiting after one starts: the bound holds across starts', async () => {
		const ran: string[] = [];
		const first = heldTask(ran, 'first');
		const all = [conversationQueues.serialized(contextWith(), 0, 'c', first.task)];
		const waiting = Array.from({ length: MAX_WAITING_PER_CONVERSATION }, (_, n) => heldTask(ran, `w${n}`));
		for (const w of waiting) all.push(conversationQueues.serialized(contextWith(), 0, 'c', w.task));
		await settle();
		// The first is done: w0 runs, three still wait, so one more may wait and the next is refused.
		first.finish();
		await settle();
		await settle();
		expect(ran).toEqual(['first', 'w0']);
		const late = heldTask(ran, 'late');
		all.push(conversationQueues.serialized(contextWith(), 0, 'c', late.task));
		await expect(conversationQueues.serialized(contextWith(), 0, 'c', async () => 'refused')).rejects.toMatchObject({
			message: `This conversation already has ${MAX_WAITING_PER_CONVERSATION} messages waiting for an answer, the most it takes`,
		});
		for (const w of [...waiting, late]) w.finish();
		await Promise.all(all);
		expect(conversationQueues.busy).toBe(0);
	});
});
