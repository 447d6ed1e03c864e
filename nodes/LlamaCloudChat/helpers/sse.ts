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

	/** The current, unfinished line, in the pieces it arrived in (joined once, when it ends). */
	private lineParts: string[] = [];

	/** The last chunk ended in CR: a LF starting the next chunk belongs to the same line break. */
	private afterCR = false;

	private dataLines: string[] = [];

	private eventName: string | undefined;

	/**
	 * @param onEventName told each `event:` name as soon as its line arrives, before the data.
	 * @param onDataStart told the first piece of a message's first `data:` line (without `data:`)
	 *   when that line is longer than the chunk it starts in: a long payload is on its way.
	 */
	constructor(
		private readonly onEventName?: (name: string) => void,
		private readonly onDataStart?: (start: string) => void,
	) {}

	/** Parses a chunk and returns the messages it completed. Only the new text is scanned. */
	push(chunk: Uint8Array | string): SseMessage[] {
		return this.scan(typeof chunk === 'string' ? chunk : this.decoder.decode(chunk, { stream: true }));
	}

	/** Flushes what is left at end of stream; a last message without its blank line still counts. */
	end(): SseMessage[] {
		const messages = this.scan(this.decoder.decode());
		if (this.lineParts.length > 0) {
			const message = this.line(this.takeLine(''));
			if (message) messages.push(message);
		}
		const last = this.dispatch();
		if (last) messages.push(last);
		return messages;
	}

	private scan(text: string): SseMessage[] {
		const messages: SseMessage[] = [];
		if (text === '') return messages;
		let start = 0;
		if (this.afterCR && text.charCodeAt(0) === 10) start = 1;
		this.afterCR = false;
		for (let i = start; i < text.length; i++) {
			const code = text.charCodeAt(i);
			if (code !== 10 && code !== 13) continue;
			const message = this.line(this.takeLine(text.slice(start, i)));
			if (message) messages.push(message);
			if (code === 13) {
				if (i + 1 === text.length) this.afterCR = true;
				else if (text.charCodeAt(i + 1) === 10) i++;
			}
			start = i + 1;
		}
		if (start < text.length) {
			const piece = text.slice(start);
			if (this.onDataStart && this.lineParts.length === 0 && this.dataLines.length === 0 && piece.startsWith('data:')) {
				this.onDataStart(piece.charCodeAt(5) === 32 ? piece.slice(6) : piece.slice(5));
			}
			this.lineParts.push(piece);
		}
		return messages;
	}

	private takeLine(lastPart: string): string {
		if (this.lineParts.length === 0) return lastPart;
		this.lineParts.push(lastPart);
		const line = this.lineParts.join('');
		this.lineParts = [];
		return line;
	}

	private line(line: string): SseMessage | undefined {
		if (line === '') return this.dispatch();
		if (line.charCodeAt(0) === 58 /* ':' comment */) return undefined;
		const colon = line.indexOf(':');
		const field = colon === -1 ? line : line.slice(0, colon);
		let value = colon === -1 ? '' : line.slice(colon + 1);
		if (value.charCodeAt(0) === 32) value = value.slice(1);
		if (field === 'data') this.dataLines.push(value);
		else if (field === 'event') {
			this.eventName = value;
			this.onEventName?.(value);
		}
		return undefined;
	}

	private dispatch(): SseMessage | undefined {
		const hasData = this.dataLines.length > 0;
		// One data line (the usual case) is passed on as it is: joining would copy a megabyte-long line.
		const data = this.dataLines.length === 1 ? this.dataLines[0] : this.dataLines.join('\n');
		const message = hasData ? { event: this.eventName, data } : undefined;
		this.dataLines = [];
		this.eventName = undefined;
		return message;
	}
}
