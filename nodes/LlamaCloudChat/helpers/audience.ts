import { NodeApiError, type IExecuteFunctions, type NodeOperationError } from 'n8n-workflow';

import { runsAsTool } from './runsAsTool';

/**
 * Who reads a failed item's error besides the operator (see CONTRIBUTING, "Error texts: who reads what"):
 * - `operator`: nobody else; message and description are the operator's, as built.
 * - `chat`: the execution streams, and n8n-core streams a failed node's `description` into the chat
 *   (WorkflowExecute sends `sendChunk({ type: 'error', content: error.description })`); or it is a
 *   Chat Hub execution (mode `chat`), whose user is shown the description, else the message.
 * - `model`: the node runs as an AI Agent tool. The agent's model reads the error's `message`
 *   (n8n-core hands a failed tool node's `{ error: message }` back to the agent; the MCP Server
 *   Trigger and older agents read `message`, then "Details:" and the description), and n8n still
 *   streams the description into the chat when the agent's execution streams.
 */
export type Reader = 'operator' | 'chat' | 'model';

interface StreamingFunctions {
	isStreaming?: () => boolean;
	sendChunk?: unknown;
}

/** Who reads what the item's error says (see `Reader`). */
export function readerOf(context: IExecuteFunctions): Reader {
	if (runsAsTool(context)) return 'model';
	// n8n's Chat Hub shows a failed execution's error description (else its message) to the chat user.
	if (context.getMode() === 'chat') return 'chat';
	const functions = context as unknown as StreamingFunctions;
	if (typeof functions.isStreaming === 'function') return functions.isStreaming.call(context) === true ? 'chat' : 'operator';
	// An n8n that can stream but cannot say whether it does: a public chat may be reading.
	return typeof functions.sendChunk === 'function' ? 'chat' : 'operator';
}

/** What kind of failure it is, as far as a chat user or a model can do anything about it. */
type Kind = 'rejected' | 'unavailable' | 'transient';

function kindOf(error: NodeApiError | NodeOperationError): Kind {
	const status = error instanceof NodeApiError ? Number(error.httpCode) : NaN;
	if (status === 400 || status === 422) return 'rejected';
	if (status === 401 || status === 403 || status === 404) return 'unavailable';
	// What did not come from LlamaCloud (no delivery tag) is the node's set-up: a parameter, the
	// memory, the credential. Everything else from LlamaCloud may pass: 408, 409, 429, 5xx, the network,
	// a stream that broke off or stalled, a turn that failed inside LlamaCloud, a refused retry.
	if (error.context.delivery === undefined && error.context.turnFailed !== true && !(error instanceof NodeApiError)) return 'unavailable';
	return 'transient';
}

/** What a chat user reads: short, no IDs, URLs or operator steps. */
export const CHAT_TEXTS: Record<Kind, string> = {
	transient: 'LlamaCloud could not answer right now. Please try again in a moment.',
	rejected: 'LlamaCloud could not take this message. Please rephrase it and send it again.',
	unavailable: 'LlamaCloud cannot answer messages at the moment.',
};

const ANSWER_WITHOUT = 'answer without the documents, and say that they could not be searched.';

/** What a model reads: what failed, and what it can do. The same words wherever a model reads them. */
export function modelText(kind: Kind, detail?: string): string {
	switch (kind) {
		case 'transient':
			return `The LlamaCloud document search failed: LlamaCloud could not answer right now. You may call this tool once more with the same question; if it fails again, ${ANSWER_WITHOUT}`;
		case 'rejected':
			return `The LlamaCloud document search turned the question away${detail ? ` (${detail})` : ''}. You may rephrase the question and call this tool once more; otherwise ${ANSWER_WITHOUT}`;
		case 'unavailable':
			return `The LlamaCloud document search is not available: it is not set up correctly. Do not call this tool again for this question; ${ANSWER_WITHOUT}`;
	}
}

/** LlamaCloud's own words in an error message "LlamaCloud error 422: …" (already redacted). */
function detailOfMessage(message: string): string | undefined {
	const match = /^LlamaCloud error \d{3}: (.+)$/s.exec(message);
	return match ? match[1] : undefined;
}

/**
 * The error as its readers should see it. For the operator alone, unchanged. When a chat user or a
 * model reads it too, a copy whose description is the chat user's short text and, for a model, whose
 * message says what failed and what the model can do; the operator's own message and description go
 * to `context.data`, which n8n's execution view shows under the error's details. A cancelled
 * execution's error is nobody's to act on: unchanged.
 */
export function forReaders<E extends NodeApiError | NodeOperationError>(error: E, reader: Reader): E {
	if (reader === 'operator' || error.context.cancelled === true) return error;
	const kind = kindOf(error);
	const shown = Object.assign(Object.create(Object.getPrototypeOf(error) as object) as E, error);
	shown.name = error.name;
	shown.stack = error.stack;
	const operator = [error.message, error.description].filter(Boolean).join('\n\n');
	shown.context = { ...error.context, data: reader === 'model' ? operator : (error.description ?? '') };
	shown.message = reader === 'model' ? modelText(kind, kind === 'rejected' ? detailOfMessage(error.message) : undefined) : error.message;
	shown.description = CHAT_TEXTS[kind];
	return shown;
}
