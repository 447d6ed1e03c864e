import { NodeApiError, type INode, type JsonObject } from 'n8n-workflow';

import { MAX_SERVER_DELAY_MS, type RetryMode } from './retry';

/** What stands in for a secret in any text from upstream. */
export const REDACTED = '[redacted]';

/**
 * Removes the API key, and any Bearer token or LlamaCloud-style key (`llx-…`), from a text that
 * came from upstream: some proxies and frameworks echo the request's headers in their error bodies.
 * Every upstream text passes here before it reaches a message, description, context or log.
 */
export function redactSecrets(text: string, apiKey?: string): string {
	let redacted = text;
	const key = apiKey?.trim();
	if (key) redacted = redacted.split(key).join(REDACTED);
	return redacted
		.replace(/\bBearer\s+[^\s"'`,;]+/gi, `Bearer ${REDACTED}`)
		.replace(/\bllx-[A-Za-z0-9_-]{6,}/g, REDACTED);
}

/**
 * What LlamaCloud said, as text: FastAPI's `detail` string, the joined `msg`s of a 422 list, a
 * `message`, or else the body itself (HTML reduced to its words), at most 300 characters.
 */
export function detailOf(body: unknown, apiKey?: string): string | undefined {
	// Redacted before it is shortened, so that no cut-off part of a secret survives the cut.
	const clean = (text: string) => redactSecrets(text, apiKey);
	const shorten = (text: string) => {
		const redacted = clean(text);
		return redacted.length > 300 ? redacted.slice(0, 300) + '…' : redacted;
	};
	const read = (value: unknown): string | undefined => {
		if (typeof value === 'string') {
			const text = value.trim();
			if (text === '') return undefined;
			// A streamed request's error body arrives as text: read it as JSON when it is JSON and says something.
			try {
				const fromJson = read(JSON.parse(text));
				if (fromJson !== undefined) return fromJson;
			} catch {
				// not JSON: plain text
			}
			// HTML error pages from proxies: keep the words, drop the markup.
			return shorten(text.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim());
		}
		if (!value || typeof value !== 'object') return undefined;
		const { detail, message } = value as { detail?: unknown; message?: unknown };
		if (typeof detail === 'string') return clean(detail);
		if (Array.isArray(detail)) {
			const messages = detail.map((entry) => {
				if (!entry || typeof entry !== 'object') return String(entry);
				const { loc, msg } = entry as { loc?: unknown; msg?: unknown };
				const where = Array.isArray(loc) ? loc.filter((part) => part !== 'body' && part !== 'query').join('.') : '';
				return where ? `${where}: ${String(msg)}` : String(msg);
			});
			return clean(messages.join('; '));
		}
		if (detail !== undefined && detail !== null) return shorten(JSON.stringify(detail));
		if (typeof message === 'string') return clean(message);
		// JSON without a field we know: show it as it came rather than guess.
		return shorten(JSON.stringify(value));
	};
	return read(body);
}

/**
 * A NodeApiError that keeps exactly our message. NodeApiError swaps any message naming a system
 * error code (ECONNRESET, ETIMEDOUT, ...) for generic advice such as "consider Retry on Fail",
 * which would hide LlamaCloud's own words and could invite a duplicate chat turn.
 */
export function llamaCloudError(
	node: INode,
	response: JsonObject,
	options: { message: string; description?: string; httpCode?: string; itemIndex?: number },
): NodeApiError {
	const error = new NodeApiError(node, response, options);
	error.message = options.message;
	return error;
}

/**
 * Whether LlamaCloud acted on the request: `not_sent` (it never reached a server), `rejected` (LlamaCloud
 * answered with an error status instead of doing it: 4xx, or 429/503 with Retry-After) or `unknown`
 * (it was sent and no answer came, or a 408/5xx, which may come after LlamaCloud started on it).
 * Ask uses it to say truthfully what happened to the question, and whether to clean up.
 */
export type Delivery = 'not_sent' | 'rejected' | 'unknown';

export interface FailureContext {
	method: string;
	path: string;
	itemIndex?: number;
	retries: number;
	/** The retry mode of the request (see retry.ts): decides which advice is true. */
	mode: RetryMode;
	/** Whether the retry policy repeats this kind of failure: only then can "raise 'Retries'" help. */
	retriable: boolean;
	/** LlamaCloud asked to wait this long before a retry, more than the node waits: it was not retried. */
	waitTooLongMs?: number;
	/** The credential's API key, redacted from whatever upstream text the error quotes. */
	apiKey?: string;
}

const RATE_LIMIT = "LlamaCloud is rate limiting this key. Lower 'Items per Batch' or add a 'Batch Interval'";

const HINTS: Record<number, string> = {
	400: 'LlamaCloud rejected the request. Check the parameters named in the message.',
	401: "Check the API key in the 'LlamaCloud API' credential, and that its Region is the one the key was created in.",
	403: 'The API key has no access to this project or organization. Choose another project, or use a key of that organization.',
	404: 'Check the ID: the session or index may have been deleted, or it belongs to another project than the one selected.',
	409: 'LlamaCloud reported a conflict (usually a lock held by another request). Try again shortly.',
	422: 'LlamaCloud rejected a parameter. The message names the field.',
};

/** What "not repeated automatically" means for a request that may have been acted on. */
function notRepeated(mode: RetryMode, sessionId: string | undefined): string {
	if (mode === 'stream') {
		const session = sessionId ? `session ${sessionId}` : 'the session';
		return `The message was not sent again, since that could duplicate a chat turn: check ${session} with Session → Get before sending it again.`;
	}
	return 'The session was not created again, since the failed attempt may have created one: Session → Get Many lists the sessions that exist.';
}

/** Advice for an HTTP error status; every sentence holds for the retry policy of this request. */
function hintFor(status: number, context: FailureContext, sessionId: string | undefined): string {
	const { mode, retriable, waitTooLongMs } = context;
	if (waitTooLongMs !== undefined) {
		const what = status === 429 ? `${RATE_LIMIT}.` : 'LlamaCloud is unavailable for now.';
		return `${what} It asked to be retried in ${Math.ceil(waitTooLongMs / 1000)} s, longer than the node waits (at most ${MAX_SERVER_DELAY_MS / 1000} s), so the request was not repeated: try again later.`;
	}
	const retriesHelp = retriable ? ", or raise 'Retries'" : '';
	if (status === 429) {
		if (mode === 'idempotent' || retriable) return `${RATE_LIMIT}${retriesHelp}.`;
		return `${RATE_LIMIT}. LlamaCloud did not say when to retry (no Retry-After), so this was not repeated automatically: try again later.`;
	}
	if (status === 408 || status >= 500) {
		const what = status === 408 ? 'LlamaCloud timed out.' : 'LlamaCloud had a server problem; it is usually temporary.';
		if (mode === 'idempotent' || retriable) return `${what} Try again later${retriesHelp}.`;
		return `${what} ${notRepeated(mode, sessionId)}`;
	}
	return HINTS[status] ?? 'LlamaCloud refused the request.';
}

function gaveUp(retries: number): string {
	return retries > 0 ? ` Gave up after ${retries} ${retries === 1 ? 'retry' : 'retries'}.` : '';
}

/** The session a chat path names, for advice that points at it. */
function sessionIdOfPath(path: string): string | undefined {
	const match = /^\/api\/v1\/chat\/([^/]+)/.exec(path);
	return match ? decodeURIComponent(match[1]) : undefined;
}

function tagged(error: NodeApiError, delivery: Delivery): NodeApiError {
	error.context.delivery = delivery;
	return error;
}

export function apiErrorFromResponse(node: INode, status: number, body: unknown, context: FailureContext): NodeApiError {
	const detail = detailOf(body, context.apiKey) ?? 'no details given';
	const hint = hintFor(status, context, sessionIdOfPath(context.path));
	const response: JsonObject = { status, detail, method: context.method, path: context.path };
	const error = llamaCloudError(node, response, {
		message: `LlamaCloud error ${status}: ${detail}`,
		description: hint + gaveUp(context.retries),
		httpCode: String(status),
		itemIndex: context.itemIndex,
	});
	// A 408 or 5xx may come after LlamaCloud started on the request, unless it was turned away with Retry-After.
	const mayHaveActed = (status === 408 || status >= 500) && !(context.mode !== 'idempotent' && context.retriable);
	return tagged(error, mayHaveActed ? 'unknown' : 'rejected');
}

/** Codes that mean the request never reached a server (see retry.ts). */
const NOT_SENT: Record<string, string> = {
	ECONNREFUSED: 'Nothing accepted the connection. Check the Region or Base URL of the credential.',
	ENOTFOUND: 'The host name did not resolve. Check the Region or Base URL of the credential.',
	EAI_AGAIN: "The host name could not be resolved right now. Check the network and the credential's Base URL.",
};
const RAISE_TIMEOUT = " If LlamaCloud is often this slow, raise the node's 'Timeout' option.";
const TIMED_OUT = new Set(['ECONNABORTED', 'ETIMEDOUT', 'ESOCKETTIMEDOUT', 'ERR_SOCKET_CONNECTION_TIMEOUT']);

export function apiErrorFromNetwork(
	node: INode,
	code: string | undefined,
	reason: string,
	context: FailureContext & { baseUrl: string; timeoutMs: number },
): NodeApiError {
	reason = redactSecrets(reason, context.apiKey);
	const response: JsonObject = { code: code ?? 'UNKNOWN', method: context.method, path: context.path };
	const make = (message: string, description: string, delivery: Delivery) =>
		tagged(
			llamaCloudError(node, response, { message, description: description + gaveUp(context.retries), itemIndex: context.itemIndex }),
			delivery,
		);
	if (code !== undefined && NOT_SENT[code]) {
		return make(`Could not reach LlamaCloud at ${context.baseUrl} (${code})`, NOT_SENT[code], 'not_sent');
	}
	const timedOut = code !== undefined && TIMED_OUT.has(code);
	const sessionId = sessionIdOfPath(context.path);
	if (context.mode === 'idempotent') {
		return timedOut
			? make(`LlamaCloud did not answer within ${context.timeoutMs} ms (${code})`, "Raise the node's 'Timeout' option, or try again later.", 'unknown')
			: make(`The connection to LlamaCloud at ${context.baseUrl} failed (${code ?? reason})`, 'The request failed before LlamaCloud answered. Try again later.', 'unknown');
	}
	// A POST that was sent and got no answer: LlamaCloud may have acted on it.
	if (context.mode === 'stream') {
		return timedOut
			? make(`LlamaCloud did not start answering within ${context.timeoutMs} ms (${code})`, `The message was sent, and the turn may still be running. ${notRepeated('stream', sessionId)}${RAISE_TIMEOUT}`, 'unknown')
			: make(`The connection broke before LlamaCloud answered (${code ?? reason})`, `The message may have reached LlamaCloud. ${notRepeated('stream', sessionId)}`, 'unknown');
	}
	return timedOut
		? make(`LlamaCloud did not answer within ${context.timeoutMs} ms (${code})`, `${notRepeated('create', sessionId)}${RAISE_TIMEOUT}`, 'unknown')
		: make(`The connection broke before LlamaCloud answered (${code ?? reason})`, notRepeated('create', sessionId), 'unknown');
}

export function apiErrorFromUnexpectedBody(
	node: INode,
	status: number,
	body: unknown,
	context: { expected: 'object' | 'array'; method: string; path: string; itemIndex?: number; apiKey?: string },
): NodeApiError {
	const what = context.expected === 'array' ? 'a JSON list' : 'a JSON object';
	const got = Array.isArray(body) ? 'a JSON list' : (detailOf(body, context.apiKey) ?? 'an empty body');
	const response: JsonObject = { status, method: context.method, path: context.path };
	return llamaCloudError(node, response, {
		message: `LlamaCloud answered ${status} without ${what}: ${got}`,
		description:
			"This does not look like the LlamaCloud API. Check the credential's Region or Base URL; a proxy or login page may be answering instead.",
		httpCode: String(status),
		itemIndex: context.itemIndex,
	});
}
