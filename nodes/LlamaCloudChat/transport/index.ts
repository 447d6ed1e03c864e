import type {
	IDataObject,
	IExecuteFunctions,
	IHttpRequestMethods,
	IHttpRequestOptions,
	ILoadOptionsFunctions,
	IN8nHttpFullResponse,
} from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import { CREDENTIAL_TYPE, llamaCloudCredentials } from '../helpers/credentials';
import { elapsed } from '../helpers/timers';

import { rememberSent } from './sentTurns';
import { cancelSignalOf, waitUnlessCancelled } from './wait';

import { apiErrorFromNetwork, apiErrorFromResponse, apiErrorFromUnexpectedBody, redactSecrets } from './errors';
import { MAX_SERVER_DELAY_MS, isRetryable, retryDelayMs, type FailedAttempt, type RetryMode } from './retry';

import type { Delivery } from './errors';

export type { Delivery };
export { repeatedItem, settleTurns } from './sentTurns';
export { cancelledError, cancelSignalOf, waitUnlessCancelled } from './wait';

export type LlamaCloudFunctions = IExecuteFunctions | ILoadOptionsFunctions;

/** A response body read as a stream: bytes in order, and a way to stop it. */
export interface ByteStream extends AsyncIterable<Uint8Array | string> {
	destroy(error?: Error): void;
}

export interface AnswerStream {
	body: ByteStream;
	/** Call when the stream made progress (an SSE event's data arrived): it restarts the idle timeout. */
	received(): void;
	/** Call when done reading, however it ended. */
	finished(): void;
	/** Whether the stream was cut because LlamaCloud sent nothing for the idle timeout. */
	idleTimedOut(): boolean;
	/** Rejects when the idle timeout strikes; race it with reads, since some streams finish a pending read first. */
	whenIdle: Promise<never>;
}

export { CREDENTIAL_TYPE };

export const REGION_BASE_URLS: Record<string, string> = {
	na: 'https://api.cloud.llamaindex.ai',
	eu: 'https://api.cloud.eu.llamaindex.ai',
};

export const DEFAULT_MAX_RETRIES = 2;
export const DEFAULT_TIMEOUT_MS = 60_000;

export interface RequestConfig {
	qs?: IDataObject;
	body?: IDataObject;
	/** The input item the request is made for: options are read for it and errors name it. */
	itemIndex?: number;
	/** Defaults: GET/DELETE `idempotent`, POST `create`. */
	retry?: RetryMode;
	/** The JSON a success must carry (default: an object; nothing for DELETE). Anything else is an error. */
	response?: 'object' | 'array' | 'none';
	/** Raises the request timeout to at least this (for streams, see `llamaCloudStream`). */
	minimumTimeoutMs?: number;
	/**
	 * For DELETE: a 404 on a retry means an earlier attempt did delete it (its answer was lost),
	 * so the retry counts as done rather than failing a delete that happened.
	 */
	notFoundAfterRetryIsDone?: boolean;
	/** Gives up when it aborts (e.g. a chat turn's time ran out): the request is aborted, a retry wait ends. */
	stop?: AbortSignal;
}

interface RequestSettings {
	maxRetries: number;
	timeoutMs: number;
}

// One lookup per node run (the credential itself is decrypted once per execution, see helpers/credentials).
const credentialByContext = new WeakMap<object, Promise<{ baseUrl: string; apiKey: string }>>();

function credentialOf(context: LlamaCloudFunctions): Promise<{ baseUrl: string; apiKey: string }> {
	let credential = credentialByContext.get(context);
	if (!credential) {
		// A credential that cannot be used fails every request of the run the same way: kept too.
		credential = resolveCredential(context);
		credentialByContext.set(context, credential);
	}
	return credential;
}

/** The credential's API host, without a trailing slash. */
export async function getBaseUrl(context: LlamaCloudFunctions): Promise<string> {
	return (await credentialOf(context)).baseUrl;
}

/** Removes the credential's API key and any Bearer token from a text that came from upstream (see errors.ts). */
export async function redactorOf(context: LlamaCloudFunctions): Promise<(text: string) => string> {
	const { apiKey } = await credentialOf(context);
	return (text) => redactSecrets(text, apiKey);
}

async function resolveCredential(context: LlamaCloudFunctions): Promise<{ baseUrl: string; apiKey: string }> {
	const credentials = (await llamaCloudCredentials(context)) as { region?: string; baseUrl?: string; apiKey?: string };
	const region = credentials.region ?? 'na';
	const baseUrl = region === 'custom' ? String(credentials.baseUrl ?? '').trim() : REGION_BASE_URLS[region];
	if (!baseUrl || !/^https?:\/\/[^\s/]+/i.test(baseUrl)) {
		throw new NodeOperationError(
			context.getNode(),
			`The LlamaCloud credential has no usable Base URL ("${baseUrl ?? ''}")`,
			{ description: 'Choose a Region in the credential, or give a Custom Base URL such as https://llamacloud.example.com' },
		);
	}
	return { baseUrl: baseUrl.replace(/\/+$/, ''), apiKey: String(credentials.apiKey ?? '').trim() };
}

function requestSettings(context: LlamaCloudFunctions, itemIndex: number | undefined): RequestSettings {
	if (itemIndex === undefined || !('getInputData' in context)) {
		return { maxRetries: DEFAULT_MAX_RETRIES, timeoutMs: DEFAULT_TIMEOUT_MS };
	}
	const options = context.getNodeParameter('options', itemIndex, {}) as IDataObject;
	const maxRetries = Number(options.maxRetries ?? DEFAULT_MAX_RETRIES);
	const timeoutMs = Number(options.timeout ?? DEFAULT_TIMEOUT_MS);
	return {
		maxRetries: Number.isFinite(maxRetries) ? Math.max(0, Math.min(10, Math.floor(maxRetries))) : DEFAULT_MAX_RETRIES,
		timeoutMs: Number.isFinite(timeoutMs) && timeoutMs > 0 ? timeoutMs : DEFAULT_TIMEOUT_MS,
	};
}

/** Drops empty values: LlamaCloud answers `?project_id=` with 422, so "not set" must mean "not sent". */
function compactQuery(qs: IDataObject | undefined): IDataObject | undefined {
	if (!qs) return undefined;
	const result: IDataObject = {};
	for (const [key, value] of Object.entries(qs)) {
		if (value !== undefined && value !== null && value !== '') result[key] = value;
	}
	return result;
}

/** The system error code of a failed request. n8n wraps it in a NodeApiError whose `httpCode` holds it. */
function networkErrorOf(error: unknown): { code?: string; message: string } {
	const err = error as { code?: unknown; httpCode?: unknown; message?: unknown; cause?: { code?: unknown; message?: unknown } };
	const code = [err?.cause?.code, err?.code, err?.httpCode].find(
		(value): value is string => typeof value === 'string' && /^E[A-Z_]+$/.test(value),
	);
	const message = err?.cause?.message ?? err?.message;
	return { code, message: typeof message === 'string' ? message : 'request failed' };
}

/**
 * An abort signal that fires when either of two does (the execution's cancel signal may be missing).
 * (An abort signal fires once, so its listeners need no `once`.)
 */
function eitherSignal(own: AbortSignal, other: AbortSignal | undefined): AbortSignal {
	if (!other) return own;
	const both = new AbortController();
	const abort = () => both.abort();
	if (own.aborted || other.aborted) abort();
	own.addEventListener('abort', abort);
	other.addEventListener('abort', abort);
	return both.signal;
}

/**
 * Sends a request through n8n's `httpRequestWithAuthentication` so that `abort` cancels it. n8n-core
 * (2.x) replaces a request's `abortSignal` with the one `getExecutionCancelSignal()` returns, so the
 * helper is called with a view of the node's context whose cancel signal is "the execution was
 * cancelled, or our deadline struck"; n8n versions that keep a request's own `abortSignal` get the
 * same signal that way.
 */
async function sendAbortable(context: LlamaCloudFunctions, request: IHttpRequestOptions, abort: AbortController, stop?: AbortSignal) {
	const signal = eitherSignal(eitherSignal(abort.signal, stop), cancelSignalOf(context));
	const requester = Object.create(context, { getExecutionCancelSignal: { value: () => signal } }) as LlamaCloudFunctions;
	return await sendAuthenticated(context, requester, { ...request, abortSignal: signal });
}

/**
 * n8n's `httpRequestWithAuthentication`, given the credential as this execution already decrypted it
 * (helpers/credentials): n8n would otherwise decrypt it again for every request.
 */
async function sendAuthenticated(context: LlamaCloudFunctions, requester: LlamaCloudFunctions, request: IHttpRequestOptions) {
	const data = { ...(await llamaCloudCredentials(context)) };
	const credentialsDecrypted = { id: context.getNode().credentials?.[CREDENTIAL_TYPE]?.id ?? '', name: '', type: CREDENTIAL_TYPE, data };
	return (await context.helpers.httpRequestWithAuthentication.call(requester, CREDENTIAL_TYPE, request, { credentialsDecrypted })) as IN8nHttpFullResponse;
}

const DEADLINE: unique symbol = Symbol('deadline');

/**
 * The request timeout for a stream: how long LlamaCloud may take to start answering. (n8n's own
 * timeout is raised for streams, see `llamaCloudStream`, so it has to be enforced here.) When it
 * strikes, the request is aborted, so no socket is left waiting for an answer nobody reads.
 */
async function answerStarts(
	sent: Promise<IN8nHttpFullResponse>,
	timeoutMs: number,
	abort: AbortController,
): Promise<IN8nHttpFullResponse> {
	let timedOut = false;
	const answered = new AbortController();
	const deadline = elapsed(timeoutMs, answered.signal).then((): typeof DEADLINE => DEADLINE);
	// Only an answer that came in time is read; one that raced the deadline is closed.
	sent.then(
		(late) => timedOut && (late.body as unknown as ByteStream | undefined)?.destroy?.(),
		() => undefined,
	);
	try {
		const first = await Promise.race([sent, deadline]);
		if (first !== DEADLINE) return first;
		timedOut = true;
		abort.abort();
		throw Object.assign(new Error(`timeout of ${timeoutMs}ms exceeded`), { code: 'ECONNABORTED' });
	} finally {
		answered.abort(); // ends the timer
	}
}

async function readText(stream: ByteStream, maxBytes = 65_536): Promise<string> {
	const chunks: Buffer[] = [];
	let size = 0;
	for await (const chunk of stream) {
		const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
		if (size < maxBytes) chunks.push(buffer);
		size += buffer.length;
	}
	return Buffer.concat(chunks).toString('utf8');
}

/**
 * Tells the item's record (helpers/sentTurns) that a POST may have been acted on, so that n8n's
 * Retry On Fail does not send it again: a message that may have reached LlamaCloud (answered or
 * not), or a session creation whose outcome is unknown. What surely did nothing (not sent, turned
 * away) is not recorded; reads and deletes are safe to repeat.
 */
function rememberIfActed(context: LlamaCloudFunctions, mode: RetryMode, itemIndex: number | undefined, outcome: Delivery | 'done'): void {
	if (mode === 'idempotent' || itemIndex === undefined || !('getInputData' in context)) return;
	if (outcome === 'not_sent' || outcome === 'rejected') return;
	const blocks = mode === 'stream' ? 'message' : outcome === 'unknown' ? 'session' : undefined;
	rememberSent(context, itemIndex, blocks);
}

/**
 * The one way this node talks to LlamaCloud: base URL from the credential's region, Bearer auth
 * through n8n's credential system, query cleanup, retries with backoff, and errors that carry
 * LlamaCloud's `detail` and status (never the API key: errors are built from plain data).
 */
async function execute(
	context: LlamaCloudFunctions,
	method: IHttpRequestMethods,
	path: string,
	config: RequestConfig & { stream?: boolean },
): Promise<IN8nHttpFullResponse> {
	const node = context.getNode();
	const { baseUrl, apiKey } = await credentialOf(context);
	const { maxRetries, timeoutMs } = requestSettings(context, config.itemIndex);
	const mode: RetryMode = config.retry ?? (method === 'POST' ? 'create' : 'idempotent');
	const request: IHttpRequestOptions = {
		method,
		url: baseUrl + path,
		qs: compactQuery(config.qs),
		body: config.body,
		timeout: Math.max(timeoutMs, config.minimumTimeoutMs ?? 0),
		returnFullResponse: true,
		ignoreHttpStatusErrors: true,
		...(config.stream
			? {
					encoding: 'stream',
					json: false,
					// Uncompressed, so the body is the socket's own stream (see below).
					headers: { Accept: 'text/event-stream', 'Content-Type': 'application/json', 'Accept-Encoding': 'identity' },
				}
			: { json: true }),
	};

	for (let retries = 0; ; retries++) {
		let failure: FailedAttempt;
		let errorBody: unknown;
		let networkMessage = '';
		try {
			let response: IN8nHttpFullResponse;
			if (config.stream) {
				const abort = new AbortController();
				response = await answerStarts(sendAbortable(context, request, abort, config.stop), timeoutMs, abort);
			} else {
				response = await sendAuthenticated(context, context, request);
			}
			if (response.statusCode < 400) {
				rememberIfActed(context, mode, config.itemIndex, 'done');
				return response;
			}
			if (response.statusCode === 404 && retries > 0 && config.notFoundAfterRetryIsDone) {
				return { ...response, statusCode: 204, body: undefined };
			}
			failure = { status: response.statusCode, headers: response.headers as Record<string, unknown> };
			errorBody = config.stream ? await readText(response.body as unknown as ByteStream) : response.body;
		} catch (error) {
			const { code, message } = networkErrorOf(error);
			failure = { errorCode: code };
			networkMessage = message;
		}

		const retriable = isRetryable(mode, failure);
		const delayMs = retryDelayMs(retries, failure.headers);
		// LlamaCloud asked for a longer wait than the node makes: fail now and say so, rather than
		// wait the cap and be turned away again.
		const waitTooLongMs = retries < maxRetries && retriable && delayMs > MAX_SERVER_DELAY_MS ? delayMs : undefined;
		if (retries < maxRetries && retriable && waitTooLongMs === undefined) {
			context.logger.warn('LlamaCloud request failed; retrying', {
				node: node.name,
				method,
				path,
				status: failure.status,
				code: failure.errorCode,
				retry: retries + 1,
				maxRetries,
				delayMs,
			});
			await waitUnlessCancelled(context, delayMs, 'while waiting to retry a LlamaCloud request', config.itemIndex, config.stop);
			// Given up during the wait: the failed attempt stands (its caller says why it gave up).
			if (!config.stop?.aborted) continue;
		}

		const errorContext = { method, path, itemIndex: config.itemIndex, retries, mode, retriable, waitTooLongMs, apiKey };
		const error =
			failure.status !== undefined
				? apiErrorFromResponse(node, failure.status, errorBody, errorContext)
				: apiErrorFromNetwork(node, failure.errorCode, networkMessage, { ...errorContext, baseUrl, timeoutMs });
		rememberIfActed(context, mode, config.itemIndex, error.context.delivery as Delivery);
		throw error;
	}
}

export async function llamaCloudRequest<T = IDataObject>(
	context: LlamaCloudFunctions,
	method: IHttpRequestMethods,
	path: string,
	config: RequestConfig = {},
): Promise<T> {
	const response = await execute(context, method, path, config);
	const expected = config.response ?? (method === 'DELETE' ? 'none' : 'object');
	const body: unknown = response.body;
	const isObject = typeof body === 'object' && body !== null && !Array.isArray(body);
	if ((expected === 'object' && !isObject) || (expected === 'array' && !Array.isArray(body))) {
		// A login page or proxy answering 200 must not flow on as if it were a session.
		throw apiErrorFromUnexpectedBody(context.getNode(), response.statusCode, body, {
			expected,
			method,
			path,
			itemIndex: config.itemIndex,
			apiKey: (await credentialOf(context)).apiKey,
		});
	}
	return body as T;
}

/** Opens an SSE response. The caller owns the body stream and must consume or destroy it. */
export async function llamaCloudStream(
	context: LlamaCloudFunctions,
	path: string,
	config: RequestConfig & { idleTimeoutMs: number },
): Promise<AnswerStream> {
	const response = await execute(context, 'POST', path, {
		...config,
		retry: 'stream',
		stream: true,
		// n8n's HTTP client leaves the request timeout on the socket for the whole body, where it
		// would cut the answer at its first long pause: never let it be shorter than the idle timeout.
		minimumTimeoutMs: config.idleTimeoutMs,
	});
	const body = response.body as unknown as ByteStream;
	return { body, ...watchIdle(body, config.idleTimeoutMs) };
}

/**
 * Destroys `body` when the reader reported no progress for `idleMs`. One timer per quiet period
 * (re-armed for the time left), not one per event; it ends when the reader is done. It relies on
 * nothing but the reader, so it works on whatever stream n8n's HTTP client hands over.
 */
function watchIdle(body: ByteStream, idleMs: number): Omit<AnswerStream, 'body'> {
	let lastProgressAt = Date.now();
	let idle = false;
	const ended = new AbortController();
	let strike: (error: Error) => void = () => {};
	const whenIdle = new Promise<never>((_, reject) => (strike = reject));
	whenIdle.catch(() => {}); // observed by the reader's race; never unhandled
	const watch = async () => {
		for (let wait = idleMs; ; wait = idleMs - (Date.now() - lastProgressAt)) {
			if (wait <= 0) break;
			await elapsed(wait, ended.signal);
			if (ended.signal.aborted) return;
		}
		idle = true;
		const error = new Error('idle timeout');
		strike(error);
		body.destroy(error);
	};
	void watch();
	return {
		received: () => (lastProgressAt = Date.now()),
		finished: () => ended.abort(),
		idleTimedOut: () => idle,
		whenIdle,
	};
}

/** A page token LlamaCloud already gave: paging on would never end (it would read the same pages again). */
function repeatedPageToken(context: LlamaCloudFunctions, token: string, itemIndex: number | undefined): NodeOperationError {
	const shown = token.length > 40 ? `${token.slice(0, 40)}…` : token;
	return new NodeOperationError(context.getNode(), `LlamaCloud sent the page token "${shown}" a second time: the list was not read further`, {
		itemIndex,
		description:
			"Reading on would repeat the same pages forever. Turn off 'Return All' and set a 'Limit', or try again later; if it keeps happening, LlamaCloud's paging is at fault.",
	});
}

interface Page<T> {
	items?: T[];
	next_page_token?: string | null;
}

/**
 * Cursor pagination as LlamaCloud's SDK does it: repeat the request with `page_token` set to the
 * previous `next_page_token`; stop when that is empty or a page has no items.
 */
export async function llamaCloudRequestAllItems<T = IDataObject>(
	context: LlamaCloudFunctions,
	path: string,
	config: RequestConfig & {
		limit?: number;
		pageSize?: number;
		/** Keeps only matching items; pages are fetched until `limit` items match. */
		filter?: (item: T) => boolean;
	} = {},
): Promise<T[]> {
	const { limit, pageSize = 100, filter, ...rest } = config;
	const results: T[] = [];
	const tokensSeen = new Set<string>();
	let pageToken: string | undefined;
	do {
		// Without a filter, ask for no more than still needed; with one, full pages waste fewer requests.
		const wanted = limit === undefined || filter ? pageSize : Math.min(pageSize, limit - results.length);
		const page = await llamaCloudRequest<Page<T>>(context, 'GET', path, {
			...rest,
			qs: { ...rest.qs, page_size: wanted, page_token: pageToken },
		});
		const items = Array.isArray(page?.items) ? page.items : [];
		results.push(...(filter ? items.filter(filter) : items));
		pageToken = items.length > 0 && page.next_page_token ? page.next_page_token : undefined;
		if (pageToken !== undefined && tokensSeen.has(pageToken)) throw repeatedPageToken(context, pageToken, config.itemIndex);
		if (pageToken !== undefined) tokensSeen.add(pageToken);
	} while (pageToken && (limit === undefined || results.length < limit));
	return limit === undefined ? results : results.slice(0, limit);
}
