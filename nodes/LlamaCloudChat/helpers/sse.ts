/**
 * Incremental Server-Sent Events parser (the WHATWG framing rules), fed raw bytes as they arrive.
 * It accepts LF, CRLF and CR line endings, comments and keep-alives (`:` lines), multi-line
 * `data:` fields, and chunks that split a line or a UTF-8 character anywhere.
 */
export interface SseMessage {
	/** The `event:` field, when the server sent one. */
	event?: string;
	/** The `data:` lines joined with `\n`. */
	data: string;
}

export class SseParser {
	private readonly decoder = new TextDecoder('utf-8');

	private pending = '';

	private dataLines: string[] = [];

	private eventName: string | undefined;

	/** Parses a chunk and returns the messages it completed. */
	push(chunk: Uint8Array | string): SseMessage[] {
		this.pending += typeof chunk === 'string' ? chunk : this.decoder.decode(chunk, { stream: true });
		return this.drain(false);
	}

	/** Flushes what is left at end of stream; a last message without its blank line still counts. */
	end(): SseMessage[] {
		this.pending += this.decoder.decode();
		const messages = this.drain(true);
		const last = this.dispatch();
		if (last) messages.push(last);
		return messages;
	}

	private drain(final: boolean): SseMessage[] {
		const messages: SseMessage[] = [];
		const text = this.pending;
		let lineStart = 0;
		for (let i = 0; i < text.length; i++) {
			const code = text.charCodeAt(i);
			if (code !== 10 && code !== 13) continue;
			// A CR at the very end may be the first half of a CRLF split across chunks.
			if (code === 13 && i === text.length - 1 && !final) break;
			const message = this.line(text.slice(lineStart, i));
			if (message) messages.push(message);
			if (code === 13 && text.charCodeAt(i + 1) === 10) i++;
			lineStart = i + 1;
		}
		this.pending = final ? '' : text.slice(lineStart);
		if (final && lineStart < text.length) {
			const message = this.line(text.slice(lineStart));
			if (message) messages.push(message);
		}
		return messages;
	}

	private line(line: string): SseMessage | undefined {
		if (line === '') return this.dispatch();
		if (line.charCodeAt(0) === 58 /* ':' comment */) return undefined;
		const colon = line.indexOf(':');
		const field = colon === -1 ? line : line.slice(0, colon);
		let value = colon === -1 ? '' : line.slice(colon + 1);
		if (value.charCodeAt(0) === 32) value = value.slice(1);
		if (field === 'data') this.dataLines.push(value);
		else if (field === 'event') this.eventName = value;
		return undefined;
	}

	private dispatch(): SseMessage | undefined {
		const hasData = this.dataLines.length > 0;
		const message = hasData ? { event: this.eventName, data: this.dataLines.join('\n') } : undefined;
		this.dataLines = [];
		this.eventName = undefined;
		return message;
	}
}
