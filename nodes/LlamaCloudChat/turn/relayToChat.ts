import type { IExecuteFunctions } from 'n8n-workflow';

type ChunkType = 'begin' | 'item' | 'end';

/** n8n's node streaming API (n8n-workflow ≥ 1.100, n8n ≥ 1.105); older n8n has neither method. */
interface StreamingFunctions {
	isStreaming?: () => boolean;
	sendChunk?: (type: ChunkType, itemIndex: number, content?: string) => unknown;
}

/** A chunk held back until the earlier items' answers are through. */
interface HeldChunk {
	streamer: AnswerStreamer;
	type: ChunkType;
	content?: string;
}

/**
 * The order in which one node run's items reach the chat: one answer at a time, in item order.
 * n8n's chat client groups chunks by node and run, not by item, so answers streamed side by side
 * would interleave. The item whose turn it is streams live; a later item's chunks are held (its
 * turn runs on meanwhile, and its output is not delayed) and follow once every earlier item is
 * done. Sends go out one after another, in the order they were released.
 */
class ChatOrder {
	/** The lowest item index not done yet: its chunks go out live. */
	private current = 0;

	private readonly done = new Set<number>();

	private readonly held = new Map<number, HeldChunk[]>();

	private sending: Promise<void> = Promise.resolve();

	emit(itemIndex: number, chunk: HeldChunk): Promise<void> {
		if (itemIndex <= this.current) return this.send(chunk);
		const held = this.held.get(itemIndex) ?? [];
		const last = held[held.length - 1];
		// Consecutive text of one item is kept as one piece: a long answer stays one string.
		if (last && last.type === 'item' && chunk.type === 'item') last.content = `${last.content ?? ''}${chunk.content ?? ''}`;
		else held.push(chunk);
		this.held.set(itemIndex, held);
		return Promise.resolve();
	}

	/** The item ran: the next items' held chunks go out, in order, until one that is still running. */
	itemDone(itemIndex: number): Promise<void> {
		this.done.add(itemIndex);
		while (this.done.has(this.current)) {
			this.done.delete(this.current);
			this.current++;
			for (const chunk of this.held.get(this.current) ?? []) void this.send(chunk);
			this.held.delete(this.current);
		}
		return this.sending;
	}

	private send(chunk: HeldChunk): Promise<void> {
		this.sending = this.sending.then(() => chunk.streamer.deliver(chunk.type, chunk.content));
		return this.sending;
	}
}

/** The chat order of each node run (n8n gives every run its own context object). */
const chatOrders = new WeakMap<object, ChatOrder>();

/** Makes this run's items stream one answer at a time, in item order (the router runs the items). */
export function orderChatByItem(context: IExecuteFunctions): void {
	if (!chatOrders.has(context)) chatOrders.set(context, new ChatOrder());
}

/** The item is done (answered, failed or skipped): later items may stream. Resolves once what was released is sent. */
export async function chatItemDone(context: IExecuteFunctions, itemIndex: number): Promise<void> {
	await chatOrders.get(context)?.itemDone(itemIndex);
}

const BLOCK_SEPARATOR = '\n\n';

/**
 * Streams one item's answer text into the execution's response (Chat Trigger or Webhook in
 * streaming mode, the editor's chat) through n8n's `sendChunk`: `begin`, the text as it arrives,
 * `end`. What streams is what `answer` holds: text blocks are separated by a blank line, as there.
 * Inert when n8n does not stream this execution, when the n8n version has no streaming API, or
 * when the user turned streaming off. A failing chunk never fails the turn: the answer is still
 * returned as the node's output, the rest of the stream is just not sent.
 */
/** What the chat shows after an answer that broke off. */
export const CUT_OFF_NOTICE = '_(The answer was cut off before it was complete.)_';

export class AnswerStreamer {
	private readonly send: StreamingFunctions['sendChunk'];

	private readonly order: ChatOrder | undefined;

	private begun = false;

	private ended = false;

	/** A chunk could not be sent: nothing more is. */
	private broken = false;

	/** What was streamed so far, to finish with whatever the final answer adds to it. */
	private streamed = '';

	/** The text streamed of the block being written. */
	private blockText = '';

	/** A block was completed: the next one starts with a blank line. */
	private separatorDue = false;

	constructor(
		private readonly context: IExecuteFunctions,
		private readonly itemIndex: number,
		enabled: boolean,
	) {
		const functions = context as unknown as StreamingFunctions;
		// n8n-workflow 1.98 has sendChunk without isStreaming; every version with isStreaming has both.
		const streaming = enabled && typeof functions.isStreaming === 'function' && functions.isStreaming.call(context) === true;
		this.send = streaming ? functions.sendChunk : undefined;
		this.order = chatOrders.get(context);
	}

	/** Whether this execution's response streams and the node takes part. */
	get active(): boolean {
		return this.send !== undefined;
	}

	/** A piece of the answer (a `text_delta`). */
	async text(content: string): Promise<void> {
		if (content === '') return;
		this.blockText += content;
		await this.writeInBlock(content);
	}

	/**
	 * A complete text block: what its deltas did not stream yet is streamed now, when the block
	 * continues them (what was streamed cannot be taken back). The next block follows a blank line.
	 */
	async block(content: string): Promise<void> {
		// (An empty block still has its blank line, as in `answer`.)
		if (content.startsWith(this.blockText)) await this.writeInBlock(content.slice(this.blockText.length));
		this.blockText = '';
		this.separatorDue = true;
	}

	/**
	 * Completes the streamed text to `answer` (e.g. when the turn sent its answer only as a complete
	 * block, or a block longer than its deltas), then appends `suffix` (the sources).
	 */
	async finish(answer: string, suffix: string): Promise<void> {
		// (Inert when not streaming or already ended: write() and end() check that.)
		if (answer.startsWith(this.streamed)) await this.write(answer.slice(this.streamed.length));
		await this.write(suffix);
		await this.end();
	}

	/**
	 * Ends an answer that broke off half-way with a short notice saying so, then closes the stream. The
	 * chat's reader gets no transport details: those are in the item's error and n8n's log.
	 */
	async cutOff(): Promise<void> {
		if (this.begun) await this.write(`${BLOCK_SEPARATOR}${CUT_OFF_NOTICE}`);
		await this.end();
	}

	/** Closes the stream (once), e.g. when the turn failed half-way. */
	async end(): Promise<void> {
		if (!this.send || !this.begun || this.ended) return;
		this.ended = true;
		await this.chunk('end');
	}

	/** Sends one chunk to n8n now; the chat order calls it when the item's turn in the chat came. */
	async deliver(type: ChunkType, content?: string): Promise<void> {
		if (this.broken) return;
		try {
			await this.send?.call(this.context, type, this.itemIndex, content);
		} catch (error) {
			this.broken = true;
			this.ended = true;
			this.context.logger.warn('Streaming the answer to the chat failed; the node output still has it', {
				node: this.context.getNode().name,
				error: (error as Error).message,
			});
		}
	}

	/** Text of the current block, after the blank line that separates it from the one before. */
	private async writeInBlock(content: string): Promise<void> {
		const separator = this.separatorDue ? BLOCK_SEPARATOR : '';
		this.separatorDue = false;
		await this.write(separator + content);
	}

	private async write(content: string): Promise<void> {
		if (content === '' || !this.send || this.ended) return;
		if (!this.begun) {
			this.begun = true;
			await this.chunk('begin');
		}
		this.streamed += content;
		await this.chunk('item', content);
	}

	private async chunk(type: ChunkType, content?: string): Promise<void> {
		if (this.order) await this.order.emit(this.itemIndex, { streamer: this, type, content });
		else await this.deliver(type, content);
	}
}
