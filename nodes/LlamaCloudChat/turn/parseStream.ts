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

/** `data:` as bytes. */
const DATA_FIELD = [100, 97, 116, 97, 58];

/** `data:` at the start of a line's bytes (past its end, a Uint8Array reads `undefined`). */
function startsWithData(bytes: Uint8Array): boolean {
	return bytes[0] === 100 && bytes[1] === 97 && bytes[2] === 116 && bytes[3] === 97 && bytes[4] === 58;
}

export class SseParser {
	/** Decodes one complete line: a line break byte never occurs inside a UTF-8 character. */
	private readonly decoder = new TextDecoder('utf-8', { ignoreBOM: true });

	private readonly encoder = new TextEncoder();

	/**
	 * The current, unfinished line, as the bytes it arrived in (decoded once, when it ends). Bytes,
	 * not text: a megabyte-long line costs half as much as UTF-8 as it would as decoded pieces.
	 */
	private lineParts: Uint8Array[] = [];

	/** The last chunk ended in CR: a LF starting the next chunk belongs to the same line break. */
	private afterCR = false;

	/** Nothing was read yet: a UTF-8 byte order mark here is skipped (once, as the SSE spec says). */
	private atStart = true;

	private dataLines: string[] = [];

	private eventName: string | undefined;

	/** Whether the current line is a `data` field; `undefined` while too little of it arrived to tell. */
	private lineIsData: boolean | undefined;

	/** How many bytes of `data:` the current line starts with so far. */
	private dataPrefix = 0;

	/**
	 * Whether the last chunk pushed carried bytes of a `data` field: what counts as the stream's
	 * progress. Only `data` makes an SSE event (a message without data is never dispatched), so
	 * comments (`: ping`), blank keep-alive lines and data-less fields (`event:`, `id:`, `retry:`)
	 * never count, however often they come. The bytes of a data line count as they arrive, before
	 * the line ends: a megabyte-long `text` block spread over many slow chunks is progress, not silence.
	 */
	carriedData = false;

	/**
	 * @param onEventName told each `event:` name as soon as its line arrives, before the data.
	 * @param onDataStart told the first piece of a message's first `data:` line (without `data:`)
	 *   when that line is longer than the chunk it starts in: a long payload is on its way.
	 */
	constructor(
		private readonly onEventName?: (name: string) => void,
		private readonly onDataStart?: (start: string) => void,
	) {}

	/** Parses a chunk and returns the messages it completed. Only the new bytes are scanned. */
	push(chunk: Uint8Array | string): SseMessage[] {
		this.carriedData = false;
		return this.scan(typeof chunk === 'string' ? this.encoder.encode(chunk) : chunk);
	}

	/** Flushes what is left at end of stream; a last message without its blank line still counts. */
	end(): SseMessage[] {
		// The rest of the last line ends (when there is none, that empty line ends the message), then the message.
		const messages = [this.line(this.takeLine(new Uint8Array(0))), this.dispatch()];
		return messages.filter((message): message is SseMessage => message !== undefined);
	}

	private scan(bytes: Uint8Array): SseMessage[] {
		const messages: SseMessage[] = [];
		if (bytes.length === 0) return messages;
		let start = 0;
		if (this.atStart) {
			// A server sends the mark with its first bytes; one split across chunks is not skipped (it
			// then begins the first field's name, which is no field), and none later is.
			this.atStart = false;
			if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) start = 3;
		}
		if (this.afterCR && bytes[start] === 10) start++;
		this.afterCR = false;
		for (let i = start; i < bytes.length; i++) {
			const code = bytes[i];
			if (code !== 10 && code !== 13) continue;
			this.noteLineBytes(bytes.subarray(start, i), true);
			const message = this.line(this.takeLine(bytes.subarray(start, i)));
			if (message) messages.push(message);
			if (code === 13) {
				if (i + 1 === bytes.length) this.afterCR = true;
				else if (bytes[i + 1] === 10) i++;
			}
			start = i + 1;
		}
		if (start < bytes.length) {
			const piece = bytes.subarray(start);
			this.noteLineBytes(piece, false);
			if (this.onDataStart && this.lineParts.length === 0 && this.dataLines.length === 0 && startsWithData(piece)) {
				const head = this.decoder.decode(piece.subarray(5, 5 + 64));
				this.onDataStart(head.charCodeAt(0) === 32 ? head.slice(1) : head);
			}
			// A copy: the chunk's buffer may be reused by the stream once this returns.
			this.lineParts.push(piece.slice());
		}
		return messages;
	}

	/** Follows the kind of the current line through its next bytes (`ended`: the line ends after them). */
	private noteLineBytes(part: Uint8Array, ended: boolean): void {
		for (let i = 0; this.lineIsData === undefined && i < part.length; i++) {
			if (part[i] !== DATA_FIELD[this.dataPrefix]) this.lineIsData = false;
			else if (++this.dataPrefix === DATA_FIELD.length) this.lineIsData = true;
		}
		// `data` without a colon is a data field too (with an empty value).
		if (this.lineIsData === undefined && ended) this.lineIsData = this.dataPrefix === 4;
		if (this.lineIsData === true && part.length > 0) this.carriedData = true;
		if (ended) {
			this.lineIsData = undefined;
			this.dataPrefix = 0;
		}
	}

	private takeLine(lastPart: Uint8Array): string {
		if (this.lineParts.length === 0) return this.decoder.decode(lastPart);
		this.lineParts.push(lastPart);
		let length = 0;
		for (const part of this.lineParts) length += part.length;
		const line = new Uint8Array(length);
		let offset = 0;
		for (const part of this.lineParts) {
			line.set(part, offset);
			offset += part.length;
		}
		this.lineParts = [];
		return this.decoder.decode(line);
	}

	private line(line: string): SseMessage | undefined {
		if (line === '') return this.dispatch();
		// A comment (`: ping`) is a field with an empty name, which nothing reads.
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
