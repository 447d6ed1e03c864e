/**
 * When a failed LlamaCloud request may be sent again, and how long to wait first.
 *
 * The official SDK retries every POST on 408/409/429/5xx without an idempotency key, which can
 * duplicate sessions and chat turns. We only repeat what is safe to repeat:
 * - `idempotent` (GET, DELETE): network failures, timeouts, 408, 409, 429, 5xx; an `x-should-retry`
 *   response header overrides these status rules, as in LlamaCloud's SDKs.
 * - `create` (POST /chat) and `stream` (POST .../messages/stream): only when LlamaCloud provably did
 *   not act on the request. Two signals count as proof: the request never reached a server (connection
 *   refused, host not found), or LlamaCloud answered 429 or 503 together with `Retry-After` /
 *   `retry-after-ms` (it turned the request away and said when to come back). `x-should-retry: false`
 *   still vetoes a retry; `x-should-retry: true` alone proves nothing, so it is not followed here.
 *   A message is never repeated once a byte of its answer arrived (the stream is read elsewhere).
 */
export type RetryMode = 'idempotent' | 'create' | 'stream';

export interface FailedAttempt {
	/** HTTP status when LlamaCloud answered. */
	status?: number;
	headers?: Record<string, unknown>;
	/** Node/axios error code when no response arrived (ECONNREFUSED, ETIMEDOUT, ...). */
	errorCode?: string;
}

const BASE_DELAY_MS = 500;
const MAX_BACKOFF_MS = 8000;
/** The longest wait a server hint may ask for; a longer one is not waited for (see `retryDelayMs`). */
export const MAX_SERVER_DELAY_MS = 60_000;

/** The request never left this machine or never reached a server: repeating it cannot duplicate work. */
const NEVER_REACHED = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN']);
const TRANSIENT_NETWORK = new Set([
	...NEVER_REACHED,
	'ECONNRESET',
	'ETIMEDOUT',
	'ECONNABORTED',
	'EPIPE',
	'ESOCKETTIMEDOUT',
	'ERR_SOCKET_CONNECTION_TIMEOUT',
	'ECONNCLOSED',
]);

/** A response header by its lower-case name (Node gives incoming header names in lower case). */
function header(headers: Record<string, unknown> | undefined, name: string): string | undefined {
	const value = headers?.[name];
	if (Array.isArray(value)) return value[0] === undefined ? undefined : String(value[0]);
	return value === undefined || value === null ? undefined : String(value);
}

function hasRetryAfter(headers: Record<string, unknown> | undefined): boolean {
	return header(headers, 'retry-after') !== undefined || header(headers, 'retry-after-ms') !== undefined;
}

/** LlamaCloud provably did not act on the request: it never arrived, or was turned away with a time to come back. */
export function provablyNotProcessed(attempt: FailedAttempt): boolean {
	const { status, errorCode, headers } = attempt;
	if (status === undefined) return errorCode !== undefined && NEVER_REACHED.has(errorCode);
	return (status === 429 || status === 503) && hasRetryAfter(headers);
}

export function isRetryable(mode: RetryMode, attempt: FailedAttempt): boolean {
	const { status, errorCode, headers } = attempt;
	if (header(headers, 'x-should-retry') === 'false') return false;
	if (mode !== 'idempotent') return provablyNotProcessed(attempt);
	if (status === undefined) return errorCode !== undefined && TRANSIENT_NETWORK.has(errorCode);
	if (header(headers, 'x-should-retry') === 'true') return true;
	return status === 408 || status === 409 || status === 429 || status >= 500;
}

/**
 * Milliseconds to wait before retry number `retriesDone + 1`. Server hints win over backoff and are
 * returned as asked, even above MAX_SERVER_DELAY_MS: the caller does not retry then (a shorter wait
 * would only be turned away again).
 */
export function retryDelayMs(retriesDone: number, headers?: Record<string, unknown>, now = Date.now()): number {
	const ms = Number(header(headers, 'retry-after-ms'));
	if (Number.isFinite(ms) && ms >= 0) return ms;
	const retryAfter = header(headers, 'retry-after');
	if (retryAfter !== undefined) {
		const seconds = Number(retryAfter);
		if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
		const date = Date.parse(retryAfter);
		if (!Number.isNaN(date)) return Math.max(date - now, 0);
	}
	const backoff = Math.min(BASE_DELAY_MS * 2 ** retriesDone, MAX_BACKOFF_MS);
	// Jitter in [0.75, 1] spreads retries of many concurrent items apart.
	return Math.round(backoff * (1 - Math.random() * 0.25));
}
