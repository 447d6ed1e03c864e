import type { IDataObject } from 'n8n-workflow';

import { SseParser, type SseMessage } from './parseStream';

/** One chat event as LlamaCloud streams it (`user_input`, `text_delta`, `tool_call`, `stop`, ...). */
export type ChatEvent = IDataObject & { type?: string };

export interface Citation extends IDataObject {
	call_id: string | null;
	tool: string | null;
	arguments: IDataObject | null;
	result: IDataObject[keyof IDataObject];
}

export interface TurnResult {
	answer: string;
	thinking: string;
	citations: Citation[];
	usage: IDataObject | null;
	is_error: boolean;
	error: string | null;
	/** A `stop` event arrived: the turn finished (successfully or not). */
	complete: boolean;
	stop: IDataObject | null;
	/** Indexes LlamaCloud could not query this turn (`stop.skipped_index_ids`, newer API revisions). */
	skippedIndexIds: string[] | undefined;
	events: ChatEvent[];
}

/** The start of a `text` block's JSON, where LlamaCloud's documented `event: message` framing names its type. */
const TEXT_BLOCK_START = /^\s*\{\s*"type"\s*:\s*"text"\s*[,}]/;

/** The event types of LlamaCloud's chat stream whose payload the turn is built from. */
const CHAT_EVENT_TYPES = new Set(['user_input', 'thinking_delta', 'thinking', 'text_delta', 'text', 'tool_call', 'tool_result', 'stop']);

/** Turns SSE messages into chat events: JSON `data`, type from the payload or else the `event:` field. */
export function chatEventOf(message: SseMessage): ChatEvent | undefined {
	// No trim() of the whole payload: an answer's data line can be megabytes, and JSON.parse
	// accepts the surrounding whitespace anyway.
	const data = message.data;
	let payload: unknown;
	try {
		payload = JSON.parse(data);
	} catch {
		if (data.trim() === '' || data.trim() === '[DONE]') return undefined;
		// Not JSON: keep it visible rather than dropping it. A chat event that cannot be read (e.g. a
		// cut `stop`) must not count as that event: it becomes `unparsed`, so the turn stays incomplete.
		const name = message.event ?? 'message';
		return CHAT_EVENT_TYPES.has(name) ? { type: 'unparsed', event: name, data: message.data } : { type: name, data: message.data };
	}
	if (!payload || typeof payload !== 'object' || Array.isArray(payload)) {
		return { type: message.event ?? 'message', data: payload as IDataObject[keyof IDataObject] };
	}
	const event = payload as ChatEvent;
	if (typeof event.type !== 'string' && message.event) return { ...event, type: message.event };
	return event;
}

/**
 * Builds a turn's answer from its events, as LlamaCloud's docs advise: the complete `text` blocks
 * when there are any, else the concatenated `text_delta`s; tool calls and results become citations.
 * Unknown event types pass through untouched.
 */
export class TurnCollector {
	private readonly textBlocks: string[] = [];

	private readonly textDeltas: string[] = [];

	private readonly thinkingBlocks: string[] = [];

	private readonly thinkingDeltas: string[] = [];

	private readonly citations = new Map<string, Citation>();

	private readonly orphanResults: Citation[] = [];

	private readonly events: ChatEvent[] = [];

	private stop: IDataObject | null = null;

	/** A `stop` event arrived: nothing after it belongs to this turn. */
	get stopped(): boolean {
		return this.stop !== null;
	}

	private errorFrame: string | null = null;

	constructor(private readonly keepEvents: boolean) {}

	/**
	 * The parser for this turn's stream. It tells the collector as soon as a complete `text` block is
	 * on its way, announced by `event: text` or by the start of its JSON: the deltas will not be used
	 * then, so they are let go before the block itself (often as long) is read.
	 */
	parser(): SseParser {
		return new SseParser(
			(name) => name === 'text' && this.textBlockComing(),
			(data) => TEXT_BLOCK_START.test(data) && this.textBlockComing(),
		);
	}

	/** Text deltas held for the answer: none once a complete block was announced or has arrived. */
	get heldTextDeltas(): number {
		return this.textDeltas.length;
	}

	/** Thinking deltas held: none once a complete thinking block has arrived. */
	get heldThinkingDeltas(): number {
		return this.thinkingDeltas.length;
	}

	private textBlockComing(): void {
		this.textBlockAnnounced = true;
		this.textDeltas.length = 0;
	}

	private textBlockAnnounced = false;

	add(event: ChatEvent): void {
		if (this.stopped) return;
		if (this.keepEvents) this.events.push(event);
		const content = typeof event.content === 'string' ? event.content : '';
		switch (event.type) {
			// Once a complete block arrived, the answer is built from blocks only: the deltas are
			// dropped rather than kept for nothing (they can be megabytes).
			case 'text':
				this.textBlocks.push(content);
				this.textDeltas.length = 0;
				break;
			case 'text_delta':
				if (this.textBlocks.length === 0 && !this.textBlockAnnounced) this.textDeltas.push(content);
				break;
			case 'thinking':
				this.thinkingBlocks.push(content);
				this.thinkingDeltas.length = 0;
				break;
			case 'thinking_delta':
				if (this.thinkingBlocks.length === 0) this.thinkingDeltas.push(content);
				break;
			case 'tool_call': {
				const callId = typeof event.call_id === 'string' ? event.call_id : `call-${this.citations.size}`;
				this.citations.set(callId, {
					call_id: callId,
					tool: typeof event.name === 'string' ? event.name : null,
					arguments: (event.arguments as IDataObject) ?? null,
					result: null,
				});
				break;
			}
			case 'tool_result': {
				const callId = typeof event.call_id === 'string' ? event.call_id : null;
				const citation = callId ? this.citations.get(callId) : undefined;
				const extra = event.image_attachment ? { image_attachment: event.image_attachment } : {};
				if (citation) Object.assign(citation, { result: (event.result as Citation['result']) ?? null }, extra);
				else
					this.orphanResults.push({
						call_id: callId,
						tool: typeof event.name === 'string' ? event.name : null,
						arguments: null,
						result: (event.result as Citation['result']) ?? null,
						...extra,
					});
				break;
			}
			case 'stop':
				this.stop = event;
				break;
			case 'error': {
				const text = [event.error, event.detail, event.message, event.data].find((value) => typeof value === 'string');
				this.errorFrame = typeof text === 'string' ? text : JSON.stringify(event);
				break;
			}
		}
	}

	result(): TurnResult {
		const stop = this.stop;
		const stopError = stop && typeof stop.error === 'string' && stop.error !== '' ? stop.error : null;
		const isError = stop?.is_error === true || this.errorFrame !== null;
		return {
			answer: this.textBlocks.length > 0 ? this.textBlocks.join('\n\n') : this.textDeltas.join(''),
			thinking: this.thinkingBlocks.length > 0 ? this.thinkingBlocks.join('\n\n') : this.thinkingDeltas.join(''),
			citations: [...this.citations.values(), ...this.orphanResults],
			usage: (stop?.usage as IDataObject) ?? null,
			is_error: isError,
			error: stopError ?? this.errorFrame ?? (isError ? 'LlamaCloud reported an error without details' : null),
			complete: stop !== null,
			stop,
			skippedIndexIds: Array.isArray(stop?.skipped_index_ids)
				? stop.skipped_index_ids.filter((id): id is string => typeof id === 'string')
				: undefined,
			events: this.events,
		};
	}
}
