import type { IExecuteFunctions } from 'n8n-workflow';

type ChunkType = 'begin' | 'item' | 'end';

/** n8n's node streaming API (n8n-workflow ≥ 1.100, n8n ≥ 1.105); older n8n has neither method. */
interface StreamingFunctions {
	isStreaming?: () => boolean;
	sendChunk?: (type: ChunkType, itemIndex: number, content?: string) => unknown;
}

/**
 * Streams one item's answer text into the execution's response (Chat Trigger or Webhook in
 * streaming mode, the editor's chat) through n8n's `sendChunk`: `begin`, the text as it arrives,
 * `end`. Inert when n8n does not stream this execution, when the n8n version has no streaming
 * API, or when the user turned streaming off. A failing chunk never fails the turn: the answer is
 * still returned as the node's output, the rest of the stream is just not sent.
 */
export class AnswerStreamer {
	private readonly send: StreamingFunctions['sendChunk'];

	private begun = false;

	private ended = false;

	/** What was streamed so far, to finish with whatever the final answer adds to it. */
	private streamed = '';

	constructor(
		private readonly context: IExecuteFunctions,
		private readonly itemIndex: number,
		enabled: boolean,
	) {
		const functions = context as unknown as StreamingFunctions;
		// n8n-workflow 1.98 has sendChunk without isStreaming; every version with isStreaming has both.
		const streaming = enabled && typeof functions.isStreaming === 'function' && functions.isStreaming.call(context) === true;
		this.send = streaming ? functions.sendChunk : undefined;
	}

	/** Whether this execution's response streams and the node takes part. */
	get active(): boolean {
		return this.send !== undefined;
	}

	async text(content: string): Promise<void> {
		if (content === '' || !this.send || this.ended) return;
		if (!this.begun) {
			this.begun = true;
			await this.chunk('begin');
		}
		this.streamed += content;
		await this.chunk('item', content);
	}

	/**
	 * Completes the streamed text to `answer` (e.g. when the turn sent its answer only as a complete
	 * block, or a block longer than its deltas), then appends `suffix` (the sources).
	 */
	async finish(answer: string, suffix: string): Promise<void> {
		// (Inert when not streaming or already ended: text() and end() check that.)
		if (answer.startsWith(this.streamed)) await this.text(answer.slice(this.streamed.length));
		await this.text(suffix);
		await this.end();
	}

	/** Closes the stream (once), e.g. when the turn failed half-way. */
	async end(): Promise<void> {
		if (!this.send || !this.begun || this.ended) return;
		this.ended = true;
		await this.chunk('end');
	}

	private async chunk(type: ChunkType, content?: string): Promise<void> {
		try {
			await this.send?.call(this.context, type, this.itemIndex, content);
		} catch (error) {
			this.ended = true;
			this.context.logger.warn('Streaming the answer to the chat failed; the node output still has it', {
				node: this.context.getNode().name,
				error: (error as Error).message,
			});
		}
	}
}
