// AnswerStreamer's own promises, with a context that records what n8n's sendChunk would get. The
// engine tests (test/node/message/streaming.test.ts) stream through n8n-core itself; these pin what
// no flow of the node reaches today: the stream is closed once, and nothing is sent after that.

import type { IExecuteFunctions } from 'n8n-workflow';

import { AnswerStreamer } from '../../nodes/LlamaCloudChat/turn/relayToChat';

function streaming() {
	const chunks: Array<[string, number, string | undefined]> = [];
	const context = {
		isStreaming: () => true,
		sendChunk: (type: string, itemIndex: number, content?: string) => chunks.push([type, itemIndex, content]),
		getNode: () => ({ name: 'Ask' }),
		logger: { warn: () => {} },
	} as unknown as IExecuteFunctions;
	return { chunks, streamer: new AnswerStreamer(context, 2, true) };
}

describe('AnswerStreamer', () => {
	it('closes the stream once, and sends nothing after it is closed', async () => {
		const { chunks, streamer } = streaming();
		await streamer.text('Revenue ');
		await streamer.end();
		await streamer.end();
		await streamer.text('grew.');
		await streamer.finish('Revenue grew.', '');
		expect(chunks).toEqual([
			['begin', 2, undefined],
			['item', 2, 'Revenue '],
			['end', 2, undefined],
		]);
	});

	it('opens no stream it would only close: nothing streamed, nothing to end', async () => {
		const { chunks, streamer } = streaming();
		await streamer.end();
		await streamer.finish('', '');
		expect(chunks).toEqual([]);
	});
});
