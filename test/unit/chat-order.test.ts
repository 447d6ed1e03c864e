// The chat order of one node run and the streamer's text rules, with a context that records what
// n8n's sendChunk would get. The engine tests (test/node/message/stream-order.test.ts) run the same
// through n8n-core; these pin the cases a sandbox turn does not produce on demand.

import type { IExecuteFunctions } from 'n8n-workflow';

import { AnswerStreamer, CUT_OFF_NOTICE, chatItemDone, orderChatByItem } from '../../nodes/LlamaCloudChat/turn/relayToChat';

function chat(options: { failOn?: (type: string, itemIndex: number) => boolean } = {}) {
	const chunks: Array<[string, number, string | undefined]> = [];
	const warnings: string[] = [];
	const context = {
		isStreaming: () => true,
		sendChunk: async (type: string, itemIndex: number, content?: string) => {
			if (options.failOn?.(type, itemIndex)) throw new Error('the chat client went away');
			chunks.push([type, itemIndex, content]);
		},
		getNode: () => ({ name: 'Ask' }),
		logger: { warn: (message: string) => warnings.push(message) },
	} as unknown as IExecuteFunctions;
	return { chunks, warnings, context, streamer: (itemIndex: number) => new AnswerStreamer(context, itemIndex, true) };
}

describe('the chat order of a node run', () => {
	it('sends items in item order, whatever order they finish in, each later item as one piece of text', async () => {
		const { chunks, context, streamer } = chat();
		orderChatByItem(context);
		const [first, second, third] = [streamer(0), streamer(1), streamer(2)];
		await third.text('C1 ');
		await third.finish('C1 C2', '');
		await second.text('B1');
		await first.text('A1');
		expect(chunks).toEqual([
			['begin', 0, undefined],
			['item', 0, 'A1'],
		]);
		await chatItemDone(context, 2);
		await second.finish('B1', '');
		await chatItemDone(context, 1);
		expect(chunks).toHaveLength(2);
		await first.finish('A1', '');
		await chatItemDone(context, 0);
		expect(chunks).toEqual([
			['begin', 0, undefined],
			['item', 0, 'A1'],
			['end', 0, undefined],
			['begin', 1, undefined],
			['item', 1, 'B1'],
			['end', 1, undefined],
			['begin', 2, undefined],
			['item', 2, 'C1 C2'],
			['end', 2, undefined],
		]);
	});

	it('streams an item live once the items before it are done', async () => {
		const { chunks, context, streamer } = chat();
		orderChatByItem(context);
		const second = streamer(1);
		await second.text('B1');
		await chatItemDone(context, 0);
		await second.text('B2');
		expect(chunks).toEqual([
			['begin', 1, undefined],
			['item', 1, 'B1'],
			['item', 1, 'B2'],
		]);
	});

	it('a held item whose chunk cannot be sent sends nothing more, and the next items still go out', async () => {
		const { chunks, warnings, context, streamer } = chat({ failOn: (type, itemIndex) => type === 'item' && itemIndex === 1 });
		orderChatByItem(context);
		const [second, third] = [streamer(1), streamer(2)];
		await second.finish('B', '');
		await third.finish('C', '');
		await chatItemDone(context, 2);
		await chatItemDone(context, 1);
		await chatItemDone(context, 0);
		expect(chunks).toEqual([
			['begin', 1, undefined],
			['begin', 2, undefined],
			['item', 2, 'C'],
			['end', 2, undefined],
		]);
		expect(warnings).toEqual(['Streaming the answer to the chat failed; the node output still has it']);
	});

	it('without an order (a run not through the router) streams at once', async () => {
		const { chunks, streamer } = chat();
		await streamer(3).text('D');
		expect(chunks).toEqual([
			['begin', 3, undefined],
			['item', 3, 'D'],
		]);
	});
});

describe('what the streamer writes', () => {
	const texts = (chunks: Array<[string, number, string | undefined]>) => chunks.filter(([type]) => type === 'item').map(([, , content]) => content);

	it('ends a cut-off answer with a short notice, without transport details', async () => {
		const { chunks, streamer } = chat();
		const answer = streamer(0);
		await answer.text('Revenue');
		await answer.cutOff();
		expect(texts(chunks)).toEqual(['Revenue', `\n\n${CUT_OFF_NOTICE}`]);
		expect(CUT_OFF_NOTICE).toBe('_(The answer was cut off before it was complete.)_');
		expect(chunks[chunks.length - 1][0]).toBe('end');
	});

	it('shows no notice for an answer that never began', async () => {
		const { chunks, streamer } = chat();
		await streamer(0).cutOff();
		expect(chunks).toEqual([]);
	});

	it('separates blocks by a blank line, and streams nothing of a block that rewrites its deltas', async () => {
		const { chunks, streamer } = chat();
		const answer = streamer(0);
		await answer.text('Revenue rose');
		await answer.block('Revenue grew 12%.');
		await answer.block('');
		await answer.text('Q4');
		await answer.block('Q4 is not reported.');
		expect(texts(chunks)).toEqual(['Revenue rose', '\n\n', '\n\nQ4', ' is not reported.']);
	});
});
