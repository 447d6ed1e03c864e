// Spec tests for the streaming side of a chat turn, as pure units: the SSE framing parser
// (SseParser), the SSE message → chat event mapping (chatEventOf) and the turn builder
// (TurnCollector). The framing rules follow the API reference (shared/llamacloud-chat-api.md) §7.6
// ("robust node parser"); the byte-boundary tests use a body recorded from the sandbox.

import { SseParser, type SseMessage } from '../../nodes/LlamaCloudChat/turn/parseStream';
import { TurnCollector, chatEventOf, type ChatEvent, type TurnResult } from '../../nodes/LlamaCloudChat/turn/collectAnswer';
import { startSandbox, type Framing, type Sandbox } from '../sandbox';
import { frames } from '../sandbox/sse';

const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);

/** Every message a parser yields for the given chunks, end of stream included. */
function parseAll(chunks: Iterable<Uint8Array | string>): SseMessage[] {
	const parser = new SseParser();
	const messages: SseMessage[] = [];
	for (const chunk of chunks) messages.push(...parser.push(chunk));
	messages.push(...parser.end());
	return messages;
}

/** The chat events and the finished turn for the given chunks, the way a chat turn reads a stream. */
function turnOf(chunks: Iterable<Uint8Array | string>, keepEvents = true): TurnResult {
	const collector = new TurnCollector(keepEvents);
	for (const message of parseAll(chunks)) {
		const event = chatEventOf(message);
		if (event) collector.add(event);
	}
	return collector.result();
}

function collect(events: ChatEvent[]): TurnResult {
	const collector = new TurnCollector(true);
	for (const event of events) collector.add(event);
	return collector.result();
}

/** Two chunks, split at byte offset k. */
function* splitAt(bytes: Uint8Array, k: number): Generator<Uint8Array> {
	yield bytes.subarray(0, k);
	yield bytes.subarray(k);
}

/** One byte per chunk. */
function* byteByByte(bytes: Uint8Array): Generator<Uint8Array> {
	for (let i = 0; i < bytes.length; i++) yield bytes.subarray(i, i + 1);
}

const stop = (usage = { duration_ms: 10, total_input_tokens: 5, total_output_tokens: 2, turns: 1 }) => ({
	type: 'stop',
	error: null,
	is_error: false,
	usage,
});

describe('SseParser: reading the SSE framing', () => {
	it('reads "event:" + "data:" frames into one message each, keeping the event name', () => {
		const messages = parseAll([
			'event: text_delta\ndata: {"type":"text_delta","content":"Hi"}\n\nevent: stop\ndata: {"type":"stop"}\n\n',
		]);
		expect(messages).toEqual([
			{ event: 'text_delta', data: '{"type":"text_delta","content":"Hi"}' },
			{ event: 'stop', data: '{"type":"stop"}' },
		]);
	});

	it('reads data-only frames (no "event:" line)', () => {
		expect(parseAll(['data: {"type":"text","content":"a"}\n\ndata: {"type":"stop"}\n\n'])).toEqual([
			{ event: undefined, data: '{"type":"text","content":"a"}' },
			{ event: undefined, data: '{"type":"stop"}' },
		]);
	});

	it('accepts CRLF line endings', () => {
		expect(parseAll(['event: text\r\ndata: {"content":"a"}\r\n\r\ndata: x\r\n\r\n'])).toEqual([
			{ event: 'text', data: '{"content":"a"}' },
			{ event: undefined, data: 'x' },
		]);
	});

	it('accepts bare CR line endings', () => {
		expect(parseAll(['event: text\rdata: {"content":"a"}\r\rdata: x\r\r'])).toEqual([
			{ event: 'text', data: '{"content":"a"}' },
			{ event: undefined, data: 'x' },
		]);
	});

	it('does not see an extra blank line when a CRLF is split between two chunks', () => {
		// A wrong split would end the message after "a" and dispatch "b" on its own.
		expect(parseAll(['data: a\r', '\ndata: b\r', '\n\r', '\n'])).toEqual([{ event: undefined, data: 'a\nb' }]);
	});

	it('ignores comments and keep-alives (lines starting with ":")', () => {
		expect(parseAll([': keep-alive\n\n:\n\nevent: text\n: in between\ndata: y\n\n: bye\n\n'])).toEqual([
			{ event: 'text', data: 'y' },
		]);
	});

	it('joins several "data:" lines of one message with "\\n"', () => {
		expect(parseAll(['data: first\ndata: second\ndata:\ndata: fourth\n\n'])).toEqual([
			{ event: undefined, data: 'first\nsecond\n\nfourth' },
		]);
	});

	it('strips exactly one space after "data:" and keeps the rest', () => {
		expect(parseAll(['data:no-space\n\ndata:  two spaces\n\n'])).toEqual([
			{ event: undefined, data: 'no-space' },
			{ event: undefined, data: ' two spaces' },
		]);
	});

	it('ignores fields it does not know (id:, retry:) and a message without data', () => {
		expect(parseAll(['id: 7\nretry: 1000\n\nevent: ping\n\nid: 8\ndata: z\n\n'])).toEqual([{ event: undefined, data: 'z' }]);
	});

	it('tells the start of a long first data line before the line ends, once, and nothing for short lines', () => {
		const starts: string[] = [];
		const parser = new SseParser(undefined, (start) => starts.push(start));
		expect(parser.push('event: delta\ndata: {"type":"text_delta","content":"a"}\n\n')).toHaveLength(1);
		expect(parser.push('event: message\ndata: {"type":"text","content":"Rev')).toEqual([]);
		expect(starts).toEqual(['{"type":"text","content":"Rev']);
		expect(parser.push('enue grew')).toEqual([]);
		expect(parser.push(' 12%."}\n\n')).toEqual([{ event: 'message', data: '{"type":"text","content":"Revenue grew 12%."}' }]);
		expect(starts).toHaveLength(1);
	});

	it('forgets the event name of a message once it is dispatched', () => {
		expect(parseAll(['event: text\ndata: a\n\ndata: b\n\n'])).toEqual([
			{ event: 'text', data: 'a' },
			{ event: undefined, data: 'b' },
		]);
	});

	it('still delivers a last message that has no closing blank line when the stream ends', () => {
		const parser = new SseParser();
		expect(parser.push('data: one\n\ndata: {"type":"stop"}')).toEqual([{ event: undefined, data: 'one' }]);
		expect(parser.end()).toEqual([{ event: undefined, data: '{"type":"stop"}' }]);
	});

	it('decodes multi-byte UTF-8 characters split across chunks', () => {
		const bytes = utf8('data: € 📈 第三季度\n\n');
		const messages = parseAll(byteByByte(bytes));
		expect(messages).toEqual([{ event: undefined, data: '€ 📈 第三季度' }]);
	});
});

describe('chatEventOf: SSE messages to chat events', () => {
	it('parses the JSON data into an event', () => {
		expect(chatEventOf({ event: 'text', data: '{"type":"text","content":"Hello"}' })).toEqual({
			type: 'text',
			content: 'Hello',
		});
	});

	it('skips the "[DONE]" marker and empty data', () => {
		expect(chatEventOf({ data: '[DONE]' })).toBeUndefined();
		expect(chatEventOf({ data: ' [DONE] ' })).toBeUndefined();
		expect(chatEventOf({ data: '' })).toBeUndefined();
		expect(chatEventOf({ event: 'text', data: ' \n ' })).toBeUndefined();
	});

	it('takes the type from the "event:" field when the payload has none', () => {
		expect(chatEventOf({ event: 'text_delta', data: '{"content":"Re"}' })).toEqual({ type: 'text_delta', content: 'Re' });
	});

	it('prefers the payload type over the "event:" field', () => {
		expect(chatEventOf({ event: 'message', data: '{"type":"text","content":"x"}' })?.type).toBe('text');
	});

	it('keeps non-JSON data visible instead of dropping it', () => {
		expect(chatEventOf({ event: 'notice', data: 'warming up' })).toEqual({ type: 'notice', data: 'warming up' });
		expect(chatEventOf({ data: 'plain text' })).toEqual({ type: 'message', data: 'plain text' });
	});

	it('does not take a chat event whose data cannot be read for that event (a cut stop is not a stop)', () => {
		const cut = chatEventOf({ event: 'stop', data: '{"type":"stop","error":"Model crashed","is_err' });
		expect(cut).toEqual({ type: 'unparsed', event: 'stop', data: '{"type":"stop","error":"Model crashed","is_err' });
		const collector = new TurnCollector(false);
		collector.add({ type: 'text', content: 'Half an ans' });
		collector.add(cut!);
		expect(collector.result().complete).toBe(false);
	});

	it('keeps JSON that is not an object (numbers, arrays) as data', () => {
		expect(chatEventOf({ data: '42' })).toEqual({ type: 'message', data: 42 });
		expect(chatEventOf({ event: 'list', data: '[1,2]' })).toEqual({ type: 'list', data: [1, 2] });
	});

	it('parses pretty-printed JSON spread over several data lines', () => {
		const [message] = parseAll(['event: text\ndata: {\ndata:   "type": "text",\ndata:   "content": "multi"\ndata: }\n\n']);
		expect(chatEventOf(message)).toEqual({ type: 'text', content: 'multi' });
	});
});

describe('TurnCollector: building the answer of a turn', () => {
	it('prefers the complete "text" blocks over the deltas', () => {
		const result = collect([
			{ type: 'text_delta', content: 'Rev' },
			{ type: 'text_delta', content: 'enue grew' },
			{ type: 'text', content: 'Revenue grew 12%.' },
			stop(),
		]);
		expect(result.answer).toBe('Revenue grew 12%.');
	});

	it('joins several "text" blocks with a blank line', () => {
		expect(collect([{ type: 'text', content: 'First.' }, { type: 'text', content: 'Second.' }, stop()]).answer).toBe(
			'First.\n\nSecond.',
		);
	});

	it('joins the deltas when no "text" block arrived', () => {
		const result = collect([
			{ type: 'text_delta', content: 'Revenue ' },
			{ type: 'text_delta', content: 'grew ' },
			{ type: 'text_delta', content: '12%.' },
			stop(),
		]);
		expect(result.answer).toBe('Revenue grew 12%.');
	});

	it('builds the reasoning the same way (thinking blocks, else thinking deltas)', () => {
		expect(collect([{ type: 'thinking_delta', content: 'Search' }, { type: 'thinking_delta', content: 'ing' }, stop()]).thinking).toBe(
			'Searching',
		);
		expect(
			collect([{ type: 'thinking_delta', content: 'x' }, { type: 'thinking', content: 'Searching the Q3 report.' }, stop()]).thinking,
		).toBe('Searching the Q3 report.');
	});

	it('pairs tool calls with their results by call_id to make citations, in call order', () => {
		const result = collect([
			{ type: 'tool_call', call_id: 'call_1', name: 'search', arguments: { query: 'Q3' } },
			{ type: 'tool_call', call_id: 'call_2', name: 'search', arguments: { query: 'Q4 risk' } },
			{ type: 'tool_result', call_id: 'call_2', name: 'search', result: [{ text: 'Concentration risk' }], image_attachment: null },
			{
				type: 'tool_result',
				call_id: 'call_1',
				name: 'search',
				result: [{ text: 'Revenue grew 12%' }],
				image_attachment: { attachment_name: 'page-2.png', source_id: 'src-1' },
			},
			stop(),
		]);
		expect(result.citations).toEqual([
			{
				call_id: 'call_1',
				tool: 'search',
				arguments: { query: 'Q3' },
				result: [{ text: 'Revenue grew 12%' }],
				image_attachment: { attachment_name: 'page-2.png', source_id: 'src-1' },
			},
			{ call_id: 'call_2', tool: 'search', arguments: { query: 'Q4 risk' }, result: [{ text: 'Concentration risk' }] },
		]);
	});

	it('names tool calls that come without a call_id by their place, and keeps each one', () => {
		const result = collect([
			{ type: 'tool_call', name: 'search', arguments: { query: 'Q3' } },
			{ type: 'tool_call', arguments: { query: 'Q4' } },
			stop(),
		]);
		expect(result.citations).toEqual([
			{ call_id: 'call-0', tool: 'search', arguments: { query: 'Q3' }, result: null },
			{ call_id: 'call-1', tool: null, arguments: { query: 'Q4' }, result: null },
		]);
	});

	it('keeps a tool result without a matching call as a citation of its own', () => {
		const result = collect([{ type: 'tool_result', call_id: 'lost', name: 'search', result: { hits: 1 } }, stop()]);
		expect(result.citations).toEqual([{ call_id: 'lost', tool: 'search', arguments: null, result: { hits: 1 } }]);
	});

	it('reports the usage of the stop event and marks the turn complete', () => {
		const usage = { duration_ms: 812.5, total_input_tokens: 120, total_output_tokens: 9, turns: 1 };
		const result = collect([{ type: 'text', content: 'ok' }, stop(usage)]);
		expect(result).toMatchObject({ usage, complete: true, is_error: false, error: null, stop: stop(usage) });
	});

	it('marks a turn without a stop event as incomplete', () => {
		const result = collect([{ type: 'text_delta', content: 'Revenue gr' }]);
		expect(result).toMatchObject({ complete: false, stop: null, usage: null, answer: 'Revenue gr' });
	});

	it('reports an error stop with its message', () => {
		const result = collect([
			{ type: 'text_delta', content: 'Rev' },
			{ type: 'stop', error: 'Model overloaded', is_error: true, usage: { turns: 1 } },
		]);
		expect(result).toMatchObject({ is_error: true, error: 'Model overloaded', complete: true });
	});

	it('still reports an error stop that gives no message', () => {
		const result = collect([{ type: 'stop', error: null, is_error: true, usage: {} }]);
		expect(result.is_error).toBe(true);
		expect(result.error).toEqual(expect.stringContaining('error'));
	});

	it('turns an "event: error" frame into an error, even when a normal stop follows', () => {
		const result = turnOf([
			'event: text_delta\ndata: {"type":"text_delta","content":"Hi"}\n\n',
			'event: error\ndata: {"detail":"Index idx-q3-reports is not synced"}\n\n',
			`event: stop\ndata: ${JSON.stringify(stop())}\n\n`,
		]);
		expect(result).toMatchObject({ is_error: true, error: 'Index idx-q3-reports is not synced', complete: true });
	});

	it('reports the text of an "event: error" frame whose data is not JSON', () => {
		const result = turnOf(['event: error\ndata: Upstream model timed out\n\n']);
		expect(result).toMatchObject({ is_error: true, complete: false });
		expect(result.error).toContain('Upstream model timed out');
	});

	it('passes unknown event types through without changing the answer', () => {
		const events = [
			{ type: 'text_delta', content: 'A' },
			{ type: 'progress', content: 'should not be in the answer', percent: 50 },
			{ type: 'text_delta', content: 'B' },
			stop(),
		];
		const result = collect(events);
		expect(result.answer).toBe('AB');
		expect(result.events).toEqual(events);
	});

	it('keeps the raw events only when asked to', () => {
		const chunks = ['data: {"type":"text","content":"x"}\n\n', `data: ${JSON.stringify(stop())}\n\n`];
		expect(turnOf(chunks, true).events).toHaveLength(2);
		expect(turnOf(chunks, false).events).toEqual([]);
	});

	it('reads a stream that mixes every framing decoration the same as a clean one', () => {
		const clean = turnOf([
			'event: text_delta\ndata: {"type":"text_delta","content":"Revenue "}\n\n',
			'event: text_delta\ndata: {"type":"text_delta","content":"grew."}\n\n',
			`event: stop\ndata: ${JSON.stringify(stop())}\n\n`,
		]);
		const decorated = turnOf([
			': keep-alive\r\n\r\n',
			'data: {"type":"text_delta",\ndata: "content":"Revenue "}\r\r',
			'event: text_delta\r\ndata: {"content":"grew."}\r\n\r\n',
			`: keep-alive\n\ndata: ${JSON.stringify(stop())}\n\ndata: [DONE]\n\n`,
		]);
		expect(decorated).toEqual(clean);
	});
});

describe('A recorded LlamaCloud stream, however it is cut into chunks', () => {
	// An answer with 2-, 3- and 4-byte UTF-8 characters, so that many cuts fall inside a character.
	const ANSWER = 'Umsatz +12 % → 4,2 M€ 📈; Marge 71 % ✓. 第三季度收入增长百分之十二。 Ελλάδα 🇩🇪 café';
	let sandbox: Sandbox;
	let body: Uint8Array;
	let storedEvents: ChatEvent[];

	beforeAll(async () => {
		sandbox = await startSandbox();
		const headers = { Authorization: `Bearer ${sandbox.apiKey}`, 'Content-Type': 'application/json' };
		const created = await fetch(`${sandbox.url}/api/v1/chat`, {
			method: 'POST',
			headers,
			body: JSON.stringify({ index_ids: ['idx-q3-reports'] }),
		});
		const { session_id: sessionId } = (await created.json()) as { session_id: string };
		// About 4 KB: big enough for every kind of event, small enough to cut at every byte.
		sandbox.setStreamBehaviour({ answer: ANSWER, answerBytes: 4096 });
		const streamed = await fetch(`${sandbox.url}/api/v1/chat/${sessionId}/messages/stream`, {
			method: 'POST',
			headers,
			body: JSON.stringify({ index_ids: ['idx-q3-reports'], prompt: 'How did revenue grow in Q3?' }),
		});
		expect(streamed.headers.get('content-type')).toContain('text/event-stream');
		body = new Uint8Array(await streamed.arrayBuffer());
		// What the sandbox says it sent: its history after the prompt.
		storedEvents = (sandbox.getSession(sessionId).events as ChatEvent[]).slice(1);
	});

	afterAll(async () => {
		await sandbox.close();
	});

	it('is a few KB of SSE that contains multi-byte characters', () => {
		expect(body.length).toBeGreaterThan(3000);
		expect(body.length).toBeLessThan(8000);
		const text = new TextDecoder().decode(body);
		// The documented framing: kind in the JSON, `delta`/`message` categories, `:` pings.
		expect(text).toContain('event: message\ndata: {"type":"tool_result"');
		expect(text).toContain('event: delta\ndata: {"type":"text_delta"');
		expect(text).toContain(': ping');
		expect(text).toContain('€');
		expect(text).toContain('📈');
		expect(text).toContain('第三季度');
	});

	it('read in one piece gives exactly the events the server sent, and the answer', () => {
		const result = turnOf([body]);
		expect(result.events).toEqual(storedEvents);
		expect(result.answer.startsWith(ANSWER)).toBe(true);
		expect(result.answer).toBe(storedEvents.find((event) => event.type === 'text')?.content);
		expect(result.citations).toHaveLength(1);
		expect(result.citations[0]).toMatchObject({ tool: 'search', arguments: { query: 'How did revenue grow in Q3?' } });
		expect(result).toMatchObject({ complete: true, is_error: false });
	});

	it('cut into two chunks at every byte offset gives the same events and answer', () => {
		const expected = JSON.stringify(turnOf([body]));
		const differing: number[] = [];
		for (let k = 0; k <= body.length; k++) {
			if (JSON.stringify(turnOf(splitAt(body, k))) !== expected) differing.push(k);
		}
		expect(differing).toEqual([]);
	});

	it('fed one byte at a time gives the same events and answer', () => {
		expect(turnOf(byteByByte(body))).toEqual(turnOf([body]));
	});

	it('gives the same turn in every framing LlamaCloud might use, cut at every byte or fed byte by byte', () => {
		const expected = JSON.stringify(turnOf([body]));
		const framings: Framing[] = ['data-only', 'crlf', 'comments', 'done-marker', 'multiline-data'];
		const variants: Array<[string, Uint8Array]> = framings.map((framing) => {
			const text = [...frames(storedEvents, framing, 'unused')].map((frame) => frame.text).join('');
			return [framing, utf8(text)];
		});
		// Old Mac line endings: every LF becomes a bare CR (the JSON itself has no raw line breaks).
		variants.push(['cr-only', utf8(new TextDecoder().decode(body).replace(/\n/g, '\r'))]);
		const failures: string[] = [];
		for (const [name, bytes] of variants) {
			if (JSON.stringify(turnOf(byteByByte(bytes))) !== expected) failures.push(`${name}: byte by byte`);
			for (let k = 0; k <= bytes.length; k++) {
				if (JSON.stringify(turnOf(splitAt(bytes, k))) !== expected) {
					failures.push(`${name}: split at ${k}`);
					break;
				}
			}
		}
		expect(failures).toEqual([]);
	});

	it('cut into many random-sized chunks gives the same answer', () => {
		const expected = turnOf([body]);
		let seed = 7;
		const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
		for (let round = 0; round < 50; round++) {
			const chunks: Uint8Array[] = [];
			for (let start = 0; start < body.length; ) {
				const end = Math.min(body.length, start + 1 + Math.floor(random() * 40));
				chunks.push(body.subarray(start, end));
				start = end;
			}
			expect(turnOf(chunks)).toEqual(expected);
		}
	});
});

describe('SseParser: the first bytes of a stream, and fields without a colon', () => {
	const BOM = [0xef, 0xbb, 0xbf];
	const withBytes = (prefix: number[], text: string) => new Uint8Array([...prefix, ...utf8(text)]);

	it('skips a UTF-8 byte order mark at the very start', () => {
		expect(parseAll([withBytes(BOM, 'data: hello\n\n')])).toEqual([{ data: 'hello' }]);
	});

	it.each([
		['U+FF3F (EF BC BF)', '\uff3f'],
		['U+FEFE (EF BB BE)', '\ufefe'],
		['U+3EFF (E3 BB BF)', '\u3eff'],
	])('keeps a first character that only starts like a byte order mark: %s', (_name, character) => {
		// The character is part of the first field's name, so that field is not `data` and yields nothing.
		expect(parseAll([utf8(`${character}data: hello\n\ndata: next\n\n`)])).toEqual([{ data: 'next' }]);
	});

	it('skips the byte order mark only there: one that starts a later line is part of that field name', () => {
		expect(parseAll([utf8('data: one\n\n\ufeffdata: two\n\ndata: three\n\n')])).toEqual([{ data: 'one' }, { data: 'three' }]);
		expect(parseAll([utf8('data: one\n\n'), withBytes(BOM, 'data: two\n\n')])).toEqual([{ data: 'one' }]);
	});

	it('skips no mark that arrives split over the first chunks, nor one after that', () => {
		const chunks = [new Uint8Array([0xef]), withBytes([0xbb, 0xbf], 'data: one\n\n'), withBytes(BOM, 'data: two\n\n'), utf8('data: three\n\n')];
		expect(parseAll(chunks)).toEqual([{ data: 'three' }]);
	});

	it('still skips the mark after empty chunks at the start', () => {
		expect(parseAll([new Uint8Array(0), '', withBytes(BOM, 'data: hello\n\n')])).toEqual([{ data: 'hello' }]);
	});

	it('keeps its own copy of an unfinished line: the stream may reuse the chunk\'s buffer', () => {
		const parser = new SseParser();
		const chunk = utf8('data: hel');
		expect(parser.push(chunk)).toEqual([]);
		chunk.fill(0x78); // the stream writes its next bytes into the same buffer
		expect(parser.push('lo\n\n')).toEqual([{ data: 'hello' }]);
	});

	it('reads comment lines (a colon first) as nothing, between the lines of a message too', () => {
		expect(parseAll([utf8(': ping\ndata: a\n:\n: data: b\ndata: c\n\n')])).toEqual([{ data: 'a\nc' }]);
	});

	it('reads a `data` line without a colon as an empty data line', () => {
		expect(parseAll([utf8('data\ndata: x\n\n')])).toEqual([{ data: '\nx' }]);
	});
});

// The early notice that lets a chat turn drop its deltas when a whole `text` block is on its way
// (turn/sendTurn.ts): only memory depends on it, so it is pinned here, at the parser.
describe('SseParser: told when a long data line starts', () => {
	function starts(chunks: string[]): string[] {
		const seen: string[] = [];
		const parser = new SseParser(undefined, (start) => seen.push(start));
		for (const chunk of chunks) parser.push(chunk);
		return seen;
	}

	it('tells the first piece of a data line that goes on past its chunk, without "data:" and its space', () => {
		expect(starts(['data: {"type":"text","content":"Rev', 'enue grew"}\n\n'])).toEqual(['{"type":"text","content":"Rev']);
		expect(starts(['data:{"type":"text"'])).toEqual(['{"type":"text"']);
	});

	it('tells at most the 64 bytes after "data:"', () => {
		expect(starts([`data:${'x'.repeat(100)}`])).toEqual(['x'.repeat(64)]);
		expect(starts([`data: ${'x'.repeat(100)}`])).toEqual(['x'.repeat(63)]);
	});

	it.each([
		['a data line that ends in its chunk', ['data: short\n']],
		['another field', ['event: text']],
		['a line that only starts like data', ['dat', 'a: x']],
		['"data" without its colon', ['data  x']],
		['a field that is not data', ['datb: x']],
		['a field differing from data in its second letter', ['dbta: x']],
		['a field differing from data in its third letter', ['daza: x']],
		['a line of only "data" so far', ['data']],
		['a field whose name only begins with data', ['databases: x']],
		['a field whose name only ends like data', ['meta: x']],
		['another field ending in "ata"', ['xata: x']],
		['a continuation of a line already started', ['event: te', 'data: x']],
		['a second data line of the same message', ['data: one\ndata: two']],
	])('says nothing for %s', (_case, chunks) => {
		expect(starts(chunks)).toEqual([]);
	});

	it('tells a long data line that starts a chunk right after a chunk ended with a whole message', () => {
		expect(starts(['data: one\n\n', 'data: {"type":"text","content":"Rev'])).toEqual(['{"type":"text","content":"Rev']);
	});

	it('tells the event name as soon as its line arrives', () => {
		const names: string[] = [];
		const parser = new SseParser((name) => names.push(name));
		parser.push('event: text\ndata: {"type":"te');
		expect(names).toEqual(['text']);
	});
});

describe('SseParser: what counts as progress of the stream (carriedData)', () => {
	/** For each chunk in turn, whether the parser saw bytes of a `data` field in it. */
	function progressOf(chunks: string[]): boolean[] {
		const parser = new SseParser();
		return chunks.map((chunk) => {
			parser.push(chunk);
			return parser.carriedData;
		});
	}

	it('counts no comment, blank keep-alive line or data-less field, however often they come', () => {
		expect(progressOf([': ping\n\n', ': ping - 2026-12-07 03:00:00\r\n\r\n', '\n', '\r\n', 'event: ping\n\n', 'id: 7\nretry: 1000\n\n', ':\n'])).toEqual([
			false, false, false, false, false, false, false,
		]);
	});

	it('counts every piece of a long data line as it arrives, before the line (and its event) is complete', () => {
		const line = `data: {"type":"text","content":"${'x'.repeat(300)}"}`;
		const pieces = [line.slice(0, 100), line.slice(100, 200), line.slice(200), '\n', '\n'];
		expect(progressOf(pieces)).toEqual([true, true, true, false, false]);
	});

	it('tells a data line from a comment even when its field name is split over chunks', () => {
		expect(progressOf(['da', 'ta: {"type":"text_delta"}\n\n'])).toEqual([false, true]);
		expect(progressOf([':', ' data: not a field\n\n'])).toEqual([false, false]);
		expect(progressOf(['dat', 'ax: no such field\n\n'])).toEqual([false, false]);
		expect(progressOf(['event: delta\n', 'data', ':'])).toEqual([false, false, true]);
	});

	it('counts a `data` line without a colon, and a comment between data lines does not count', () => {
		expect(progressOf(['data\n\n'])).toEqual([true]);
		expect(progressOf(['data: a\n', ': ping\n', 'data: b\n\n'])).toEqual([true, false, true]);
	});
});
