/* eslint-disable @n8n/community-nodes/no-restricted-imports -- Node.js test/dev code, never run inside n8n */
// Lets a checker see every exchange the sandbox has: the request as received and the response as
// written on the wire (status, headers, body; a stream's SSE messages one by one, as they are sent).
// The contract tests (test/contract) hang Ajv off this. Nothing is captured while no observer is set,
// so the benchmark's sandbox pays nothing.

import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { StringDecoder } from 'node:string_decoder';

import type { RecordedRequest } from './faults';

export interface ObservedResponse {
	status: number;
	headers: OutgoingHttpHeaders;
	/** The whole body (non-stream responses only). */
	body: string;
	/** The response was ended by the server (false: the connection closed first). */
	complete: boolean;
}

export interface ObservedSseMessage {
	/** The `event:` field, if the message had one. */
	event?: string;
	/** The `data:` lines joined with `\n`. */
	data: string;
}

/**
 * Why a response is outside the contract on purpose (a test asked for it), or undefined when the
 * sandbox answered on its own and must follow the contract.
 */
export type Deliberate = string | undefined;

export interface ExchangeObserver {
	request(request: RecordedRequest): void;
	/** Once the response is complete (for a stream: after its last byte). */
	response(request: RecordedRequest, response: ObservedResponse, deliberate: Deliberate): void;
	/** Each SSE message of a `text/event-stream` response, in order, as it is written. */
	sseMessage(request: RecordedRequest, message: ObservedSseMessage, deliberate: Deliberate): void;
	/** A `:` comment line of a stream (keep-alive pings). */
	sseComment?(request: RecordedRequest, comment: string): void;
}

/** Splits written SSE text into messages; independent of the node's own parser on purpose. */
class WireSse {
	private readonly decoder = new StringDecoder('utf8');
	private parts: string[] = [];
	private afterCR = false;
	private event: string | undefined;
	private data: string[] = [];

	constructor(
		private readonly onMessage: (m: ObservedSseMessage) => void,
		private readonly onComment: (c: string) => void,
	) {}

	push(bytes: Buffer): void {
		const text = this.decoder.write(bytes);
		let start = this.afterCR && text.startsWith('\n') ? 1 : 0;
		this.afterCR = false;
		for (let i = start; i < text.length; i++) {
			const code = text.charCodeAt(i);
			if (code !== 10 && code !== 13) continue;
			this.parts.push(text.slice(start, i));
			const line = this.parts.join('');
			this.parts = [];
			this.line(line);
			if (code === 13) {
				if (i + 1 === text.length) this.afterCR = true;
				else if (text.charCodeAt(i + 1) === 10) i++;
			}
			start = i + 1;
		}
		if (start < text.length) this.parts.push(text.slice(start));
	}

	end(): void {
		const rest = this.parts.join('') + this.decoder.end();
		this.parts = [];
		if (rest !== '') this.line(rest);
		this.line('');
	}

	private line(line: string): void {
		if (line === '') {
			if (this.data.length > 0) this.onMessage({ event: this.event, data: this.data.join('\n') });
			this.data = [];
			this.event = undefined;
			return;
		}
		if (line.startsWith(':')) return this.onComment(line.slice(1));
		const colon = line.indexOf(':');
		const field = colon < 0 ? line : line.slice(0, colon);
		let value = colon < 0 ? '' : line.slice(colon + 1);
		if (value.startsWith(' ')) value = value.slice(1);
		if (field === 'data') this.data.push(value);
		else if (field === 'event') this.event = value;
	}
}

/**
 * Wraps `res` so the observer sees what is written. `deliberate()` is read when the response
 * completes, so a fault decided after the request arrived still counts.
 */
export function observeResponse(
	observer: ExchangeObserver,
	request: RecordedRequest,
	res: ServerResponse,
	deliberate: () => Deliberate,
): void {
	const chunks: Buffer[] = [];
	let sse: WireSse | undefined;
	let done = false;
	const isStream = (): boolean => String(res.getHeader('content-type') ?? '').startsWith('text/event-stream');
	const take = (chunk: unknown, encoding?: unknown): void => {
		if (chunk === undefined || chunk === null || typeof chunk === 'function') return;
		const buf = Buffer.isBuffer(chunk)
			? chunk
			: chunk instanceof Uint8Array
				? Buffer.from(chunk)
				: Buffer.from(String(chunk), typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
		if (isStream()) {
			sse ??= new WireSse(
				(m) => observer.sseMessage(request, m, deliberate()),
				(c) => observer.sseComment?.(request, c),
			);
			sse.push(buf);
		} else chunks.push(buf);
	};
	let ended = false;
	const finish = (): void => {
		if (done) return;
		done = true;
		// Nothing was answered (the sandbox closed, or the client left before the response began).
		if (!res.headersSent) return;
		if (ended) sse?.end();
		const headers = res.getHeaders();
		const body = isStream() ? '' : Buffer.concat(chunks).toString('utf8');
		observer.response(request, { status: res.statusCode, headers, body, complete: ended }, deliberate());
	};
	const write = res.write.bind(res) as (...args: unknown[]) => boolean;
	const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
	const writeHead = res.writeHead.bind(res) as (...args: unknown[]) => ServerResponse;
	// writeHead's headers argument is applied to the response before getHeaders() is read.
	res.writeHead = ((status: number, ...rest: unknown[]) => {
		const headers = rest.find((r) => r && typeof r === 'object') as OutgoingHttpHeaders | undefined;
		if (headers) for (const [k, v] of Object.entries(headers)) if (v !== undefined) res.setHeader(k, v);
		return writeHead(status, ...rest.filter((r) => typeof r === 'string'));
	}) as ServerResponse['writeHead'];
	res.write = ((chunk: unknown, ...rest: unknown[]) => {
		take(chunk, rest[0]);
		return write(chunk, ...rest);
	}) as ServerResponse['write'];
	res.end = ((chunk?: unknown, ...rest: unknown[]) => {
		take(chunk, rest[0]);
		ended = true;
		const out = end(chunk, ...rest);
		finish();
		return out;
	}) as ServerResponse['end'];
	// A stream cut on purpose (socket destroyed) still completes its observation.
	res.on('close', finish);
}
