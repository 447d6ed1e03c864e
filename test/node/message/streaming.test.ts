// Streaming the answer into n8n's response (Chat Trigger / Webhook in streaming mode, the editor's
// chat), through n8n-core's own isStreaming()/sendChunk(): the harness registers the `sendChunk`
// lifecycle hook and sets `streamingEnabled`, exactly what n8n does for a streaming trigger.

import { ExecuteContext } from 'n8n-core';
import type { IDataObject } from 'n8n-workflow';

import { logLines } from '../../harness/logs';
import { runWorkflow, type RunOptions, type RunResult, type WorkflowNode } from '../../harness/run-workflow';
import { useSandbox } from '../../harness/support';
import type { Sandbox } from '../../sandbox';
import { byId, createSessionDirectly, credentialsFor, errorOf, streamRequests } from './support';

let sandbox: Sandbox;

useSandbox((started) => (sandbox = started));

const ask = (parameters: IDataObject = {}): WorkflowNode => ({
	name: 'Ask',
	parameters: { resource: 'message', operation: 'ask', prompt: 'What grew in Q3?', indexIds: ['idx-q3-reports'], ...parameters },
});

async function run(node: WorkflowNode, options: Partial<RunOptions> = {}): Promise<RunResult> {
	return await runWorkflow({ credentials: credentialsFor(sandbox), nodes: [node], mode: 'webhook', streaming: true, ...options });
}

function outputOf(result: RunResult, name = 'Ask'): IDataObject {
	if (result.error) throw new Error(`The workflow failed: ${result.error.message}`);
	return result.output(name)[0].json;
}

const items = (result: RunResult) => result.chunks.filter((chunk) => chunk.type === 'item');
const streamedText = (result: RunResult) => items(result).map((chunk) => chunk.content).join('');

describe('Streaming the answer into the chat', () => {
	it('streams each text delta as it arrives: begin, the deltas in order, end', async () => {
		sandbox.setStreamBehaviour({ deltaDelayMs: 15 });
		const result = await run(ask({ options: { appendSources: 'never' } }));
		const output = outputOf(result);

		expect(result.chunks.map((chunk) => chunk.type)).toEqual(['begin', ...items(result).map(() => 'item'), 'end']);
		const written = sandbox.turnTimings[0].deltas;
		expect(written.length).toBeGreaterThan(3);
		expect(items(result).map((chunk) => chunk.content)).toEqual(written.map((delta) => delta.content));
		expect(streamedText(result)).toBe(output.answer);
		expect(result.chunks.every((chunk) => chunk.metadata.nodeName === 'Ask' && chunk.metadata.itemIndex === 0)).toBe(true);
		// Streaming, not replay: the first delta reached n8n before the sandbox finished the turn,
		// and every delta reached it after the sandbox wrote it.
		expect(items(result)[0].receivedAt).toBeLessThan(sandbox.turnTimings[0].finishedAt as number);
		items(result).forEach((chunk, index) => expect(chunk.receivedAt).toBeGreaterThanOrEqual(written[index].writtenAt));
	});

	it('streams only the answer: no thinking, tool calls or raw events', async () => {
		const result = await run(ask({ options: { appendSources: 'never', includeEvents: true, simplify: false } }));
		const output = outputOf(result);
		expect(output.thinking).toContain('Searching');
		expect(streamedText(result)).toBe(output.answer);
		expect(streamedText(result)).not.toContain('Searching');
		expect(streamedText(result)).not.toContain('call_');
	});

	it('keeps the output item as it was, adds `output`, and appends the sources in the stream and the item', async () => {
		const result = await run(ask());
		const output = outputOf(result);
		expect(output).toMatchObject({ is_error: false, answer: expect.stringContaining('Q3 revenue grew 12%') });
		expect(output.citations).toHaveLength(1);
		// One line per retrieved passage's file and page, in retrieval order.
		const passages = (output.citations as Array<{ result: Array<{ file_name: string; page: number }> }>)[0].result;
		expect(passages.length).toBeGreaterThan(1);
		expect(output.sources_markdown).toBe(['**Sources**', ...passages.map((p) => `- ${p.file_name}, p. ${p.page}`)].join('\n'));
		expect(output.sources_markdown).toMatch(/^\*\*Sources\*\*\n- q3-2026-board-report\.pdf, p\. 2\n/);
		expect(output.output).toBe(`${output.answer as string}\n\n${output.sources_markdown as string}`);
		expect(streamedText(result)).toBe(output.output);
		expect(result.output('Ask')[0].pairedItem).toEqual({ item: 0 });
	});

	it('streams nothing and answers in `output` without sources when n8n does not stream (When Last Node Finishes)', async () => {
		const result = await run(ask(), { streaming: false });
		const output = outputOf(result);
		expect(result.chunks).toEqual([]);
		expect(output.output).toBe(output.answer);
		expect(output).not.toHaveProperty('sources_markdown');
	});

	it("Append Sources 'Always' adds them without streaming too", async () => {
		const output = outputOf(await run(ask({ options: { appendSources: 'always' } }), { streaming: false }));
		expect(output.sources_markdown).toContain('- q3-2026-board-report.pdf, p. 2');
		expect(output.output).toBe(`${output.answer as string}\n\n${output.sources_markdown as string}`);
	});

	it("'Stream to Chat' off: nothing streams, and the sources follow 'When Streaming' (not appended)", async () => {
		const result = await run(ask({ options: { streamToChat: false } }));
		expect(result.chunks).toEqual([]);
		expect(outputOf(result).output).toBe(outputOf(result).answer);
	});

	it('Send streams too', async () => {
		const sessionId = await createSessionDirectly(sandbox, ['idx-q3-reports']);
		const result = await run({
			name: 'Send',
			parameters: { resource: 'message', operation: 'send', sessionId: byId(sessionId), prompt: 'What grew in Q3?' },
		});
		const output = outputOf(result, 'Send');
		expect(result.chunks[0]).toMatchObject({ type: 'begin', metadata: { nodeName: 'Send', itemIndex: 0 } });
		expect(streamedText(result)).toBe(output.output);
		expect(output.output).toContain(output.answer as string);
	});

	it('a turn that sends its answer only as a complete block streams it once, at the end', async () => {
		sandbox.setStreamBehaviour({
			events: [
				{ type: 'text', content: 'Revenue grew 12%.' },
				{ type: 'stop', error: null, is_error: false, usage: { duration_ms: 1, total_input_tokens: 1, total_output_tokens: 1, turns: 1 } },
			],
		});
		const result = await run(ask());
		expect(result.chunks.map((chunk) => chunk.type)).toEqual(['begin', 'item', 'end']);
		expect(streamedText(result)).toBe('Revenue grew 12%.');
	});

	it.each([
		['extends', 'Revenue grew', 'Revenue grew 12% in Q3.', ['Revenue', ' grew', ' 12% in Q3.']],
		['rewrites', 'Revenue rose', 'Revenue grew 12% in Q3, led by the enterprise tier.', ['Revenue', ' rose']],
	])('when the final text block %s what was streamed, only a true continuation is streamed after it', async (_case, _streamed, block, items) => {
		const stop = { type: 'stop', error: null, is_error: false, usage: { duration_ms: 1, total_input_tokens: 1, total_output_tokens: 1, turns: 1 } };
		sandbox.setStreamBehaviour({
			events: [{ type: 'text_delta', content: 'Revenue' }, { type: 'text_delta', content: items[1] }, { type: 'text', content: block }, stop],
		});
		const result = await run(ask({ options: { appendSources: 'never' } }));
		expect(outputOf(result).answer).toBe(block);
		expect(result.chunks.map((chunk) => chunk.type)).toEqual(['begin', ...items.map(() => 'item'), 'end']);
		expect(result.chunks.filter((chunk) => chunk.type === 'item').map((chunk) => chunk.content)).toEqual(items);
	});

	it('a message LlamaCloud refuses before answering opens no stream: no begin, no end, only n8n\'s error', async () => {
		sandbox.injectFault({ method: 'POST', path: /\/messages\/stream$/, action: { type: 'status', status: 400, body: { detail: 'Bad index' } } });
		const result = await run(ask());
		expect(errorOf(result).message).toBe('LlamaCloud error 400: Bad index');
		expect(result.chunks.map((chunk) => chunk.type)).toEqual(['error']);
	});

	it.each([
		['the connection breaks half-way', 'drop-mid-stream' as const, /The connection broke while LlamaCloud was answering/],
		['LlamaCloud reports an error', 'in-band-error' as const, /LlamaCloud could not answer/],
	])('when %s, the stream ends cleanly and the item fails as without streaming', async (_case, mode, message) => {
		sandbox.setStreamBehaviour({ mode });
		const result = await run(ask());
		const error = errorOf(result);
		expect(error.message).toMatch(message);
		// The node closes its stream; then n8n itself reports the node's failure as an 'error' chunk.
		const types = result.chunks.map((chunk) => chunk.type);
		expect(types[0]).toBe('begin');
		expect(types.slice(-2)).toEqual(['end', 'error']);
		expect(types.filter((type) => type === 'end')).toHaveLength(1);
		expect(result.chunks[types.length - 1].content).toBe(error.description);
	});

	it('a chat that can no longer be written to stops the stream, not the turn: the answer is in the output and the failure is logged', async () => {
		let itemsWritten = 0;
		const result = await run(ask({ options: { appendSources: 'never' } }), {
			onChunk: (chunk) => {
				if (chunk.type === 'item' && ++itemsWritten === 3) throw new Error('the chat client went away');
			},
		});
		const output = outputOf(result);

		expect(output.answer).toContain('Q3 revenue grew 12%');
		expect(output.output).toBe(output.answer);
		// Two deltas reached the chat; nothing was sent after the failed third, not even `end`.
		expect(result.chunks.map((chunk) => chunk.type)).toEqual(['begin', 'item', 'item']);
		expect((output.answer as string).startsWith(streamedText(result))).toBe(true);
		const warnings = logLines.filter((line) => line.message === 'Streaming the answer to the chat failed; the node output still has it');
		expect(warnings).toEqual([expect.objectContaining({ level: 'warn', metadata: expect.objectContaining({ node: 'Ask', error: 'the chat client went away' }) })]);
		expect(streamRequests(sandbox)).toHaveLength(1);
	});

	it('several items stream each under its own item index', async () => {
		const result = await run(ask({ options: { batching: { batch: { batchSize: 2 } } } }), { items: [{}, {}] });
		expect(result.output('Ask')).toHaveLength(2);
		for (const itemIndex of [0, 1]) {
			const own = result.chunks.filter((chunk) => chunk.metadata.itemIndex === itemIndex);
			expect(own[0].type).toBe('begin');
			expect(own[own.length - 1].type).toBe('end');
			expect(own.filter((chunk) => chunk.type === 'item').map((chunk) => chunk.content).join('')).toBe(result.output('Ask')[itemIndex].json.output);
		}
	});

	describe('on an n8n without the streaming API (before n8n 1.105)', () => {
		const prototype = ExecuteContext.prototype as unknown as Record<string, unknown>;
		const saved = { isStreaming: prototype.isStreaming, sendChunk: prototype.sendChunk };
		beforeAll(() => {
			delete prototype.isStreaming;
			delete prototype.sendChunk;
		});
		afterAll(() => Object.assign(prototype, saved));

		it('runs unchanged: the answer in the output, nothing streamed', async () => {
			const result = await run(ask());
			const output = outputOf(result);
			expect(result.chunks).toEqual([]);
			expect(output.answer).toContain('Q3 revenue grew 12%');
			expect(output.output).toBe(output.answer);
		});
	});

	describe('on n8n-workflow 1.98 (sendChunk, but no isStreaming yet)', () => {
		const prototype = ExecuteContext.prototype as unknown as Record<string, unknown>;
		const saved = prototype.isStreaming;
		beforeAll(() => delete prototype.isStreaming);
		afterAll(() => (prototype.isStreaming = saved));

		it('does not stream: it cannot know whether the response streams', async () => {
			const result = await run(ask());
			const output = outputOf(result);
			expect(result.chunks).toEqual([]);
			expect(output.answer).toContain('Q3 revenue grew 12%');
			expect(output).not.toHaveProperty('sources_markdown');
		});
	});
});
