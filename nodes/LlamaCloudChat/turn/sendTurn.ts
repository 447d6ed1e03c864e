import type { IDataObject, IExecuteFunctions } from 'n8n-workflow';

import { llamaCloudStream, redactorOf } from '../transport';
import { llamaCloudError } from '../transport/errors';
import { sessionPath } from '../helpers/session';
import { TurnCollector, chatEventOf, type TurnResult } from './collectAnswer';
import type { AnswerStreamer } from './relayToChat';

export interface ChatTurnRequest {
	sessionId: string;
	prompt: string;
	indexIds: string[];
	qs: IDataObject;
	itemIndex: number;
}

/** The user's choices for a message (Send and Ask). */
export interface MessageOptions {
	includeEvents: boolean;
	simplify: boolean;
	/** Fail when no byte arrives for this long while the answer streams. */
	idleTimeoutMs: number;
	requireAllIndexes?: boolean;
	/** Stream the answer text into the execution's response when n8n streams it. */
	streamToChat: boolean;
	/** Add the cited files and pages after the answer: only when streaming, always, or never. */
	appendSources: 'streaming' | 'always' | 'never';
}

const AFTER_STOP_GRACE_MS = 2000;
const GRACE_OVER: unique symbol = Symbol('grace over');

function gracePeriod(ms: number): Promise<typeof GRACE_OVER> {
	return new Promise((resolve) =>
		AbortSignal.timeout(ms).addEventListener('abort', () => resolve(GRACE_OVER)),
	);
}

function formatDuration(ms: number): string {
	return ms < 1000 ? `${ms} ms` : `${Number((ms / 1000).toFixed(1))} s`;
}

/**
 * Sends one chat turn and reads its Server-Sent Events as they arrive, keeping memory flat however
 * long the answer. The POST is never repeated once LlamaCloud started answering (see transport/retry).
 */
export async function runChatTurn(
	context: IExecuteFunctions,
	request: ChatTurnRequest,
	options: MessageOptions,
	streamer?: AnswerStreamer,
): Promise<TurnResult> {
	const node = context.getNode();
	// JSON leaves `require_all_indexes` out when it is not set, and LlamaCloud applies its default.
	const body: IDataObject = { index_ids: request.indexIds, prompt: request.prompt, require_all_indexes: options.requireAllIndexes };
	const { body: stream, received, finished, idleTimedOut, whenIdle } = await llamaCloudStream(
		context,
		sessionPath(request.sessionId, '/messages/stream'),
		{ qs: request.qs, body, itemIndex: request.itemIndex, idleTimeoutMs: options.idleTimeoutMs },
	);

	// Whatever LlamaCloud (or a proxy) writes into the stream is upstream text: never the API key.
	const redact = await redactorOf(context);
	const collector = new TurnCollector(options.includeEvents);
	const parser = collector.parser();
	const streamError = (message: string, description: string) =>
		llamaCloudError(node, { session_id: request.sessionId }, { message, description, itemIndex: request.itemIndex });

	try {
		const chunks = stream[Symbol.asyncIterator]();
		let afterStop: Promise<typeof GRACE_OVER> | undefined;
		for (;;) {
			const next = await Promise.race([chunks.next(), whenIdle, ...(afterStop ? [afterStop] : [])]);
			if (next === GRACE_OVER || next.done) break;
			received();
			for (const message of parser.push(next.value)) {
				const event = chatEventOf(message);
				if (!event) continue;
				collector.add(event);
				// Only the answer's own text reaches the chat: no thinking, tool calls or raw events.
				if (streamer?.active && typeof event.content === 'string' && !collector.stopped) {
					if (event.type === 'text_delta') await streamer.text(event.content);
					else if (event.type === 'text') await streamer.block(event.content);
				}
			}
			// The turn is over at `stop`. Read on until LlamaCloud closes the stream (closing first could
			// look like a cancelled turn to the server), but a connection kept open after it, e.g. with
			// a proxy's keep-alives, must not hold the item.
			if (collector.stopped && !afterStop) afterStop = gracePeriod(AFTER_STOP_GRACE_MS);
		}
	} catch (error) {
		if (idleTimedOut()) {
			throw streamError(
				`LlamaCloud stopped sending the answer for ${formatDuration(options.idleTimeoutMs)}`,
				`The turn in session ${request.sessionId} may still finish on LlamaCloud: check it with Session → Get before asking again, or raise the 'Stream Idle Timeout' option.`,
			);
		}
		throw streamError(
			`The connection broke while LlamaCloud was answering (${redact((error as Error).message)})`,
			`The message was not sent again, to avoid a duplicate turn. Check session ${request.sessionId} with Session → Get, then send the message again if it is missing.`,
		);
	} finally {
		finished();
		stream.destroy();
	}
	for (const message of parser.end()) {
		const event = chatEventOf(message);
		if (event) collector.add(event);
	}

	const result = collector.result();
	if (result.is_error) {
		const said = redact(String(result.error));
		const error = llamaCloudError(node, { session_id: request.sessionId, error: said }, {
			message: `LlamaCloud could not answer: ${said}`,
			description: `The turn failed inside LlamaCloud (session ${request.sessionId}). Check that the indexes exist and are synced, then try again.`,
			itemIndex: request.itemIndex,
		});
		error.context.turnFailed = true;
		throw error;
	}
	if (!result.complete) {
		throw streamError(
			'The answer stream ended before LlamaCloud finished the turn',
			`No closing "stop" event arrived, so the answer (${result.answer.length} characters so far) may be incomplete. The message was not sent again; check session ${request.sessionId} with Session → Get.`,
		);
	}
	return result;
}
