// How a turn lets go of its text deltas early. A turn's answer is its complete `text` blocks when
// there are any, so once one is on its way the deltas (as long as the block) are dropped before the
// block is read: that keeps memory flat on long answers (the benchmark's memory row) and changes no
// output, so it is pinned here, at the collector, and the engine tests pin the answers.

import { TurnCollector, chatEventOf } from '../../nodes/LlamaCloudChat/turn/collectAnswer';

/** Feeds chunks through the collector's own parser into the collector, as a chat turn does. */
function feeder() {
	const collector = new TurnCollector(false);
	const parser = collector.parser();
	const push = (chunk: string) => {
		for (const message of parser.push(chunk)) {
			const event = chatEventOf(message);
			if (event) collector.add(event);
		}
	};
	return { collector, push };
}

const delta = (content: string, event = 'text_delta') => `event: ${event}\ndata: ${JSON.stringify({ type: 'text_delta', content })}\n\n`;

describe('TurnCollector: text deltas let go once a complete text block is on its way', () => {
	it('holds the deltas while the answer streams', () => {
		const { collector, push } = feeder();
		push(delta('Revenue '));
		push(delta('grew.'));
		expect(collector.heldTextDeltas).toBe(2);
		expect(collector.result().answer).toBe('Revenue grew.');
	});

	it('lets them go when an `event: text` line arrives, before the block itself, and keeps no later delta', () => {
		const { collector, push } = feeder();
		push(delta('Revenue '));
		push('event: text\n');
		expect(collector.heldTextDeltas).toBe(0);
		push(delta('grew.'));
		expect(collector.heldTextDeltas).toBe(0);
		push(`data: ${JSON.stringify({ type: 'text', content: 'Revenue grew 12%.' })}\n\n`);
		expect(collector.result().answer).toBe('Revenue grew 12%.');
	});

	it('lets them go when a long data line starts as a text block (the `event: message` framing)', () => {
		const { collector, push } = feeder();
		push(delta('Revenue ', 'message'));
		expect(collector.heldTextDeltas).toBe(1);
		push('event: message\ndata: { "type" : "text", "content": "Revenue gr');
		expect(collector.heldTextDeltas).toBe(0);
		push('ew 12%."}\n\n');
		expect(collector.result().answer).toBe('Revenue grew 12%.');
	});

	it('holds no delta that comes after a complete block (added without any notice)', () => {
		const collector = new TurnCollector(false);
		collector.add({ type: 'text_delta', content: 'Revenue ' });
		collector.add({ type: 'text', content: 'Revenue grew 12%.' });
		expect(collector.heldTextDeltas).toBe(0);
		collector.add({ type: 'text_delta', content: 'Anything more' });
		expect(collector.heldTextDeltas).toBe(0);
		expect(collector.result().answer).toBe('Revenue grew 12%.');
	});

	it.each([
		['another event name', 'event: text_delta\n'],
		['an event name that only begins with text', 'event: texts\n'],
		['thinking', 'event: thinking\n'],
		['a long data line of a delta', 'data: {"type":"text_delta","content":"gr'],
		['a long data line of a thinking block', 'data: {"type":"thinking","content":"Let me'],
		['a long data line of another type beginning with text', 'data: {"type":"texts","content":"gr'],
	])('keeps them for %s', (_case, chunk) => {
		const { collector, push } = feeder();
		push(delta('Revenue '));
		push(chunk);
		expect(collector.heldTextDeltas).toBe(1);
	});
});

describe('TurnCollector: what counts as answer text', () => {
	it('takes only text content: a delta whose content is missing or not text adds nothing', () => {
		const collector = new TurnCollector(false);
		for (const content of ['Revenue ', null, 12, undefined, { text: 'x' }, 'grew.']) collector.add({ type: 'text_delta', content });
		expect(collector.result().answer).toBe('Revenue grew.');
	});
});

describe('TurnCollector: the turn\'s outcome from its stop event', () => {
	const stopped = (stop: Record<string, unknown>) => {
		const collector = new TurnCollector(false);
		collector.add({ type: 'text_delta', content: 'Revenue grew.' });
		collector.add({ type: 'stop', ...stop });
		return collector.result();
	};

	it('names an error that LlamaCloud reported without words, empty or missing', () => {
		for (const error of ['', null, undefined]) {
			expect(stopped({ is_error: true, error })).toMatchObject({ is_error: true, error: 'LlamaCloud reported an error without details' });
		}
		expect(stopped({ is_error: true, error: 'Index not synced' }).error).toBe('Index not synced');
		expect(stopped({ is_error: false, error: '' })).toMatchObject({ is_error: false, error: null, complete: true });
	});

	it('lists only the index IDs among the skipped ones, and none when the field is not a list', () => {
		expect(stopped({ skipped_index_ids: ['idx-a', 5, null, { id: 'idx-b' }, 'idx-c'] }).skippedIndexIds).toEqual(['idx-a', 'idx-c']);
		expect(stopped({ skipped_index_ids: 'idx-a' }).skippedIndexIds).toBeUndefined();
		expect(stopped({}).skippedIndexIds).toBeUndefined();
	});

	it('holds no thinking delta after a complete thinking block, and thinks in blocks then', () => {
		const collector = new TurnCollector(false);
		collector.add({ type: 'thinking_delta', content: 'Let me' });
		expect(collector.heldThinkingDeltas).toBe(1);
		collector.add({ type: 'thinking', content: 'Let me look at Q3.' });
		collector.add({ type: 'thinking_delta', content: 'More' });
		expect(collector.heldThinkingDeltas).toBe(0);
		expect(collector.result().thinking).toBe('Let me look at Q3.');
		collector.add({ type: 'thinking', content: 'Then at Q2.' });
		expect(collector.result().thinking).toBe('Let me look at Q3.\n\nThen at Q2.');
	});
});
