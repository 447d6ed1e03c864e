// What the chat shows when n8n streams the execution: several items' answers one after another in
// item order (n8n's chat client groups chunks by node and run, not by item), a visible notice when
// an answer breaks off, and exactly the answer of `output`, however many text blocks it has.

import type { IDataObject } from 'n8n-workflow';

import { runWorkflow, type RunOptions, type RunResult, type WorkflowNode } from '../../harness/run-workflow';
import { useSandbox } from '../../harness/support';
import type { Sandbox } from '../../sandbox';
import { credentialsFor } from './support';

let sandbox: Sandbox;

useSandbox((started) => (sandbox = started));

const ask = (parameters: IDataObject = {}): WorkflowNode => ({
	name: 'Ask',
	parameters: { resource: 'message', operation: 'ask', prompt: '={{ $json.q }}', indexIds: ['idx-q3-reports'], ...parameters },
});

async function run(node: WorkflowNode, items: IDataObject[], options: Partial<RunOptions> = {}): Promise<RunResult> {
	return await runWorkflow({ credentials: credentialsFor(sandbox), nodes: [node], items, mode: 'webhook', streaming: true, ...options });
}

const streamedText = (result: RunResult, itemIndex = 0) =>
	result.chunks
		.filter((chunk) => chunk.type === 'item' && chunk.metadata.itemIndex === itemIndex)
		.map((chunk) => chunk.content)
		.join('');

const stop = { type: 'stop', error: null, is_error: false, usage: { duration_ms: 1, total_input_tokens: 1, total_output_tokens: 1, turns: 1 } };

describe('Several items reach the chat one answer at a time, in item order', () => {
	/** Items 'first' and 'second' with Items per Batch 2, the first item's turn held back `firstDelayMs` by the sandbox. */
	async function twoItems(firstDelayMs?: number): Promise<RunResult> {
		sandbox.setStreamBehaviour({ deltaDelayMs: 10 });
		if (firstDelayMs !== undefined) {
			sandbox.injectFault({ method: 'POST', path: /\/messages\/stream$/, when: (request) => (request.body as IDataObject).prompt === 'first', action: { type: 'delay', ms: firstDelayMs } });
		}
		const result = await run(ask({ options: { batching: { batch: { batchSize: 2 } } } }), [{ q: 'first' }, { q: 'second' }]);
		expect(result.error).toBeUndefined();
		return result;
	}

	it.each([
		['both stream at once', undefined],
		['the first item is answered last', 400],
	])('with Items per Batch 2 (%s), every chunk of item 0 comes before any of item 1', async (_case, firstDelayMs) => {
		const result = await twoItems(firstDelayMs);

		const order = result.chunks.map((chunk) => `${chunk.metadata.itemIndex}:${chunk.type}`);
		const firstOfSecond = order.findIndex((entry) => entry.startsWith('1:'));
		expect(order.slice(0, firstOfSecond).every((entry) => entry.startsWith('0:'))).toBe(true);
		expect(order.slice(firstOfSecond).every((entry) => entry.startsWith('1:'))).toBe(true);
		expect([order[0], order[firstOfSecond - 1], order[firstOfSecond], order[order.length - 1]]).toEqual(['0:begin', '0:end', '1:begin', '1:end']);
		const [first, second] = result.output('Ask');
		expect(streamedText(result, 0)).toBe(first.json.output);
		expect(streamedText(result, 1)).toBe(second.json.output);
		expect(sandbox.stats.turnsCompleted).toBe(2);
	});

	it('holds back only the chunks, not the turns: the second item is answered while the first is still delayed', async () => {
		// (A delay far above a turn's time on a loaded machine: the order of events is what is checked.)
		await twoItems(2000);
		const turn = (prompt: string) => sandbox.turnTimings.find((timing) => timing.prompt === prompt) as (typeof sandbox.turnTimings)[number];
		expect(turn('second').finishedAt as number).toBeLessThan(turn('first').deltas[0].writtenAt);
	});
});

describe('An answer that breaks mid-stream ends with a visible notice', () => {
	it.each([
		['under Continue On Fail', true],
		['without it', false],
	])('%s, the chat reads that the answer was cut off, before the stream ends', async (_case, continueOnFail) => {
		sandbox.setStreamBehaviour({ mode: 'drop-mid-stream' });
		const result = await run({ ...ask(), continueOnFail }, [{ q: 'What grew in Q3?' }]);
		const own = result.chunks.filter((chunk) => chunk.metadata.itemIndex === 0 && chunk.type !== 'error');
		expect(own[0].type).toBe('begin');
		expect(own[own.length - 1].type).toBe('end');
		const notice = own[own.length - 2];
		expect(notice.type).toBe('item');
		expect(notice.content).toBe('\n\n_(The answer was cut off before it was complete.)_');
		if (continueOnFail) expect(result.output('Ask')[0].json.error).toMatch(/^The connection broke while LlamaCloud was answering/);
	});
});

describe('Streamed text equals `output`, however many text blocks the answer has', () => {
	it.each([
		[
			'deltas, each block closed by its complete event',
			[
				{ type: 'text_delta', content: 'Revenue grew' },
				{ type: 'text_delta', content: ' 12%.' },
				{ type: 'text', content: 'Revenue grew 12%.' },
				{ type: 'tool_call', call_id: 'call_1', name: 'search', arguments: { query: 'Q4' } },
				{ type: 'tool_result', call_id: 'call_1', name: 'search', result: [] },
				{ type: 'text_delta', content: 'Q4 is' },
				{ type: 'text_delta', content: ' not reported.' },
				{ type: 'text', content: 'Q4 is not reported.' },
			],
		],
		[
			'complete blocks only',
			[
				{ type: 'text', content: 'Revenue grew 12%.' },
				{ type: 'text', content: 'Q4 is not reported.' },
				{ type: 'text', content: 'Ask again next quarter.' },
			],
		],
		[
			'an empty block between two (its blank line kept, as in `answer`)',
			[
				{ type: 'text', content: 'Revenue grew 12%.' },
				{ type: 'text', content: '' },
				{ type: 'text', content: 'Q4 is not reported.' },
			],
		],
		[
			'a block longer than its deltas',
			[
				{ type: 'text_delta', content: 'Revenue' },
				{ type: 'text', content: 'Revenue grew 12%.' },
				{ type: 'text_delta', content: 'Q4' },
				{ type: 'text', content: 'Q4 is not reported.' },
			],
		],
	])('%s', async (_case, events) => {
		sandbox.setStreamBehaviour({ events: [...events, stop] });
		const result = await run(ask({ options: { appendSources: 'never' } }), [{ q: 'What grew?' }]);
		expect(result.error).toBeUndefined();
		const output = result.output('Ask')[0].json;
		expect(output.answer).toContain('\n\n');
		expect(streamedText(result)).toBe(output.output);
		expect(output.output).toBe(output.answer);
	});
});
