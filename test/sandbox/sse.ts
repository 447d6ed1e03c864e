/* eslint-disable @n8n/community-nodes/no-restricted-globals, @n8n/community-nodes/no-restricted-imports -- Node.js test/dev code, never run inside n8n */
// SSE encoding. The default framing is the documented one (reference §7.6, LlamaCloud's chat
// guide): `event: delta` for *_delta events, `event: message` for complete events, the kind in the
// JSON `type`, and `:` comment pings. The other framings are options that exercise a client's
// tolerance (they are outside the documented contract). Plus a body writer that can split output at
// arbitrary byte offsets to exercise client-side buffering.

import type { ServerResponse } from 'node:http';

import type { ChatEvent } from './store';

export type Framing =
	/** The guide's framing (the default): `event: delta` / `event: message`, `: ping` comments. */
	| 'documented'
	/** `event: <type>` (the kind repeated in the SSE event field). */
	| 'event-and-data'
	| 'data-only'
	| 'crlf'
	| 'comments'
	| 'done-marker'
	| 'multiline-data'
	| 'error-event';

export interface Frame {
	text: string;
	/** The chat event this frame carries (undefined for comments, [DONE], error frames). */
	event?: ChatEvent;
}

export function encodeEvent(ev: ChatEvent, framing: Framing): string {
	const type = typeof ev.type === 'string' ? ev.type : undefined;
	switch (framing) {
		case 'documented':
			return `event: ${type?.endsWith('_delta') ? 'delta' : 'message'}\ndata: ${JSON.stringify(ev)}\n\n`;
		case 'data-only':
			return `data: ${JSON.stringify(ev)}\n\n`;
		case 'crlf':
			return `${type ? `event: ${type}\r\n` : ''}data: ${JSON.stringify(ev)}\r\n\r\n`;
		case 'multiline-data': {
			const lines = JSON.stringify(ev, null, 2)
				.split('\n')
				.map((l) => `data: ${l}`)
				.join('\n');
			return `${type ? `event: ${type}\n` : ''}${lines}\n\n`;
		}
		default:
			return `${type ? `event: ${type}\n` : ''}data: ${JSON.stringify(ev)}\n\n`;
	}
}

export const KEEP_ALIVE = ': keep-alive\n\n';
/** The documented framing's keep-alive: once when the stream opens, and while a tool runs (before each tool_result). */
export const PING = ': ping\n\n';
export const DONE_FRAME = 'data: [DONE]\n\n';

export function errorFrame(message: string): string {
	return `event: error\ndata: ${JSON.stringify({ detail: message })}\n\n`;
}

/**
 * Lazily yields frames for the events, adding the decorations the framing asks
 * for. `prepare` runs just before an event is encoded (used to stamp duration).
 */
export function* frames(
	events: ChatEvent[],
	framing: Framing,
	errorMessage: string,
	prepare?: (ev: ChatEvent) => void,
): Generator<Frame> {
	if (framing === 'comments') yield { text: KEEP_ALIVE };
	for (let i = 0; i < events.length; i++) {
		const ev = events[i];
		if (framing === 'comments' && i > 0) yield { text: KEEP_ALIVE };
		if (framing === 'documented' && (i === 0 || ev.type === 'tool_result')) yield { text: PING };
		if (framing === 'error-event' && ev.type === 'stop') yield { text: errorFrame(errorMessage) };
		prepare?.(ev);
		yield { text: encodeEvent(ev, framing), event: ev };
	}
	if (framing === 'done-marker') yield { text: DONE_FRAME };
}

export interface WriterOptions {
	chunkSize?: number;
	chunkDelayMs?: number;
	sleep: (ms: number) => Promise<void>;
}

/** Writes a response body with back-pressure, optionally in fixed-size byte chunks. */
export class BodyWriter {
	private pending: Buffer = Buffer.alloc(0);
	private gone = false;

	constructor(
		private readonly res: ServerResponse,
		private readonly opts: WriterOptions,
	) {
		res.on('close', () => {
			this.gone = true;
		});
	}

	get closed(): boolean {
		return this.gone || this.res.destroyed;
	}

	/** Returns false once the client has gone away. */
	async write(text: string | Buffer): Promise<boolean> {
		const buf = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
		const size = this.opts.chunkSize;
		if (!size || size < 1) return this.raw(buf);
		const data = this.pending.length ? Buffer.concat([this.pending, buf]) : buf;
		let off = 0;
		while (data.length - off >= size) {
			if (!(await this.raw(data.subarray(off, off + size)))) return false;
			off += size;
			await this.pause();
		}
		// Copy so the (possibly huge) source buffer can be collected.
		this.pending = Buffer.from(data.subarray(off));
		return !this.closed;
	}

	async flush(): Promise<boolean> {
		if (!this.pending.length) return !this.closed;
		const rest = this.pending;
		this.pending = Buffer.alloc(0);
		return this.raw(rest);
	}

	/** Gap between events when not chunking (chunked mode pauses between chunks instead). */
	async eventGap(): Promise<void> {
		if (!this.opts.chunkSize && this.opts.chunkDelayMs)
			await this.opts.sleep(this.opts.chunkDelayMs);
	}

	private pause(): Promise<void> {
		if (this.opts.chunkDelayMs) return this.opts.sleep(this.opts.chunkDelayMs);
		return new Promise((resolve) => setImmediate(resolve));
	}

	private async raw(buf: Buffer): Promise<boolean> {
		if (this.closed) return false;
		if (!this.res.write(buf)) {
			await new Promise<void>((resolve) => {
				const done = (): void => {
					this.res.off('drain', done);
					this.res.off('close', done);
					resolve();
				};
				this.res.on('drain', done);
				this.res.on('close', done);
			});
		}
		return !this.closed;
	}
}
