import type { IDataObject, IExecuteFunctions, NodeApiError } from 'n8n-workflow';

import { cancelSignalOf, cancelledError, whenAborted } from '../helpers/cancel';
import { sessionPath } from '../helpers/session';
import { elapsed } from '../helpers/timers';
import { llamaCloudStream, redactorOf } from '../transport';
import { llamaCloudError } from '../transport/errors';
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
	/** Fail when no SSE event arrives for this long while the answer streams (keep-alive comments do not count). */
	idleTimeoutMs: number;
	/** Fail when the turn has not ended this long after the message was sent. */
	turnTimeoutMs: number;
	requireAllIndexes?: boolean;
	/** Stream the answer text into the execution's response when n8n streams it. */
	streamToChat: boolean;
	/** Add the cited files and pages after the answer: only when streaming, always, or never. */
	appendSources: 'streaming' | 'always' | 'never';
}

const AFTER_STOP_GRACE_MS = 2000;
const GRACE_OVER: unique symbol = Symbol('grace over');
const TURN_OVER: unique symbol = Symbol('turn over');
const CANCELLED: unique symbol = Symbol('cancelled');

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
	const streamError = (message: string, description: string) =>
		llamaCloudError(node, { session_id: request.sessionId }, { message, description, itemIndex: request.itemIndex });
	// The whole turn is bounded, from sending the message to its last event: an answer that streams
	// on (or a connection kept alive) forever must not hold the item, its worker and its conversation.
	const turnEnded = new AbortController();
	const turnExpired = new AbortController();
	const turnOver = elapsed(options.turnTimeoutMs, turnEnded.signal).then((): typeof TURN_OVER => {
		if (!turnEnded.signal.aborted) turnExpired.abort();
		return TURN_OVER;
	});
	const turnTimedOut = () => {
		const error = streamError(
			`LlamaCloud did not finish the answer within ${formatDuration(options.turnTimeoutMs)}`,
			"The turn may still finish on LlamaCloud, and its connection was closed. Check the session before asking again, or raise the 'Turn Timeout' option.",
		);
		error.context.session_id = request.sessionId;
		return error;
	};
	const cancel = whenAborted(cancelSignalOf(context));
	const cancelled = cancel.aborted.then((): typeof CANCELLED => CANCELLED);
	try {
		return await readTurn(context, request, options, streamer, { turnOver, turnExpired: turnExpired.signal, cancelled, streamError, turnTimedOut });
	} finally {
		turnEnded.abort();
		cancel.stop();
	}
}

interface TurnBounds {
	turnOver: Promise<typeof TURN_OVER>;
	turnExpired: AbortSignal;
	cancelled: Promise<typeof CANCELLED>;
	streamError: (message: string, description: string) => NodeApiError;
	turnTimedOut: () => NodeApiError;
}

async function readTurn(
	context: IExecuteFunctions,
	request: ChatTurnRequest,
	options: MessageOptions,
	streamer: AnswerStreamer | undefined,
	{ turnOver, turnExpired, cancelled, streamError, turnTimedOut }: TurnBounds,
): Promise<TurnResult> {
	const node = context.getNode();
	// JSON leaves `require_all_indexes` out when it is not set, and LlamaCloud applies its default.
	const body: IDataObject = { index_ids: request.indexIds, prompt: request.prompt, require_all_indexes: options.requireAllIndexes };
	const answer = llamaCloudStream(context, sessionPath(request.sessionId, '/messages/stream'), {
		qs: request.qs,
		body,
		itemIndex: request.itemIndex,
		idleTimeoutMs: options.idleTimeoutMs,
		stop: turnExpired,
	}).catch((error: unknown) => {
		// The turn's time ran out before the answer started (or while waiting to send it again).
		if (turnExpired.aborted && (error as NodeApiError).context?.cancelled !== true) throw turnTimedOut();
		throw error;
	});
	const { body: stream, received, finished, idleTimedOut, whenIdle } = await answer;

	// Whatever LlamaCloud (or a proxy) writes into the stream is upstream text: never the API key.
	const redact = await redactorOf(context);
	const collector = new TurnCollector(options.includeEvents);
	const parser = collector.parser();
	// Ends the after-stop grace period once reading is over.
	const readingDone = new AbortController();
	let wasCancelled = false;

	try {
		const chunks = stream[Symbol.asyncIterator]();
		let afterStop: Promise<typeof GRACE_OVER> | undefined;
		for (;;) {
			// Every wait of the read races the idle timeout, the turn's time, n8n cancelling the execution
			// and, after the stop event, the grace period.
			const next = await Promise.race([chunks.next(), whenIdle, turnOver, cancelled, ...(afterStop ? [afterStop] : [])]);
			if (next === CANCELLED) wasCancelled = true;
			if (next === GRACE_OVER || next === TURN_OVER || next === CANCELLED || next.done) break;
			const messages = parser.push(next.value);
			// Only SSE events are progress: keep-alive comments alone never hold the turn open.
			if (parser.carriedData || messages.length > 0) received();
			for (const message of messages) {
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
			if (collector.stopped && !afterStop) afterStop = elapsed(AFTER_STOP_GRACE_MS, readingDone.signal).then((): typeof GRACE_OVER => GRACE_OVER);
		}
	} catch (error) {
		if (turnExpired.aborted && !collector.stopped) throw turnTimedOut();
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
		readingDone.abort();
		finished();
		// Closes the connection, however the read ended (a stalled turn's too).
		stream.destroy();
	}
	if (wasCancelled) throw cancelledError(context, 'while LlamaCloud was answering', request.itemIndex);
	// The turn's time ran out before its stop event (after it, the answer is complete and kept).
	if (turnExpired.aborted && !collector.stopped) throw turnTimedOut();
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
