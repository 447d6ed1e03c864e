import { NodeOperationError, type IExecuteFunctions } from 'n8n-workflow';

import { cancelSignalOf, cancelledError, whenAborted } from '../helpers/cancel';

/** Messages of one conversation that may wait in this process while another one is answered. */
export const MAX_WAITING_PER_CONVERSATION = 4;

/**
 * One queue per conversation in this process, so that two messages of one conversation never run
 * at once: the second waits, then continues the session the first created or continued. The wait is
 * bounded: past MAX_WAITING_PER_CONVERSATION waiting messages, the next one fails at once.
 */
class ConversationQueues {
	private readonly tails = new Map<string, Promise<void>>();

	private readonly waiting = new Map<string, number>();

	/** Conversations with a message running or waiting in this process: none once all are answered. */
	get busy(): number {
		return this.tails.size;
	}

	clear(): void {
		this.tails.clear();
		this.waiting.clear();
	}

	/** Runs `task` after every earlier task of the same conversation in this process. */
	async serialized<T>(context: IExecuteFunctions, itemIndex: number, key: string, task: () => Promise<T>): Promise<T> {
		const previous = this.tails.get(key);
		const waiting = this.waiting.get(key) ?? 0;
		if (previous && waiting >= MAX_WAITING_PER_CONVERSATION) {
			throw new NodeOperationError(
				context.getNode(),
				`This conversation already has ${waiting} messages waiting for an answer, the most it takes`,
				{
					itemIndex,
					description: 'Messages of one conversation are answered one after another. Send the next message once an answer has arrived.',
				},
			);
		}
		let release = () => {};
		const current = new Promise<void>((resolve) => (release = resolve));
		const tail = (previous ?? Promise.resolve()).then(async () => await current);
		this.tails.set(key, tail);
		// The conversation is free once this message and every one before it are done.
		const done = () => {
			release();
			if (this.tails.get(key) === tail) this.tails.delete(key);
		};
		if (previous) {
			this.waiting.set(key, waiting + 1);
			// A message whose execution is cancelled leaves the queue at once, sending nothing: it gives
			// its place back, and the messages behind it still wait for the one before it (`tail`).
			const cancel = whenAborted(cancelSignalOf(context));
			const cancelled = await Promise.race([previous.then(() => false), cancel.aborted]);
			cancel.stop();
			const left = (this.waiting.get(key) ?? 1) - 1;
			if (left > 0) this.waiting.set(key, left);
			else this.waiting.delete(key);
			if (cancelled) {
				release();
				void tail.then(done);
				throw cancelledError(context, 'while an earlier message of this conversation was being answered', itemIndex);
			}
		}
		try {
			return await task();
		} finally {
			done();
		}
	}
}

export const conversationQueues = new ConversationQueues();
