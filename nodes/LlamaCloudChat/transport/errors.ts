import { NodeApiError, type INode, type JsonObject } from 'n8n-workflow';

/** What LlamaCloud said, as text: FastAPI's `detail` string, or the joined `msg`s of a 422 list. */
export function detailOf(body: unknown): string | undefined {
	if (typeof body === 'string') {
		const text = body.trim();
		if (text === '') return undefined;
		if (text.startsWith('{') || text.startsWith('[')) {
			try {
				return detailOf(JSON.parse(text));
			} catch {
				// not JSON after all: fall through to plain text
			}
		}
		// HTML error pages from proxies: keep the words, drop the markup.
		const plain = text.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim();
		return plain.length > 300 ? plain.slice(0, 300) + '…' : plain;
	}
	if (!body || typeof body !== 'object') return undefined;
	const { detail, message } = body as { detail?: unknown; message?: unknown };
	if (typeof detail === 'string') return detail;
	if (Array.isArray(detail)) {
		const messages = detail.map((entry) => {
			if (!entry || typeof entry !== 'object') return String(entry);
			const { loc, msg } = entry as { loc?: unknown; msg?: unknown };
			const where = Array.isArray(loc) ? loc.filter((part) => part !== 'body' && part !== 'query').join('.') : '';
			return where ? `${where}: ${String(msg)}` : String(msg);
		});
		return messages.join('; ');
	}
	if (detail && typeof detail === 'object') return JSON.stringify(detail);
	if (typeof message === 'string') return message;
	return undefined;
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

const HINTS: Record<number, string> = {
	400: 'LlamaCloud rejected the request. Check the parameters named in the message.',
	401: "Check the API key in the 'LlamaCloud API' credential, and that its Region is the one the key was created in.",
	403: 'The API key has no access to this project or organization. Choose another project, or use a key of that organization.',
	404: 'Check the ID: the session or index may have been deleted, or it belongs to another project than the one selected.',
	408: 'LlamaCloud timed out. Try again, or raise the node\'s Timeout option.',
	409: 'LlamaCloud reported a conflict (usually a lock held by another request). Try again shortly.',
	422: 'LlamaCloud rejected a parameter. The message names the field.',
	429: "LlamaCloud is rate limiting this key. Lower 'Items per Batch', add a 'Batch Interval', or raise 'Retries'.",
};

function hintFor(status: number): string {
	if (HINTS[status]) return HINTS[status];
	if (status >= 500) return 'LlamaCloud had a server problem. It is usually temporary: try again later, or raise \'Retries\'.';
	return 'LlamaCloud refused the request.';
}

/** Sending a message is never repeated automatically (see retry.ts), so "raise Retries" would not help. */
function hintForMessage(status: number): string {
	const what = status === 429 ? 'LlamaCloud is rate limiting this key.' : 'LlamaCloud had a server problem.';
	return `${what} A message is never re-sent automatically, so that a chat turn cannot be duplicated: send it again later, or slow down with a lower 'Items per Batch' or a 'Batch Interval'.`;
}

export function apiErrorFromResponse(
	node: INode,
	status: number,
	body: unknown,
	context: { method: string; path: string; itemIndex?: number; retries: number; stream?: boolean },
): NodeApiError {
	const detail = detailOf(body) ?? 'no details given';
	const hint = context.stream && (status === 429 || status >= 500) ? hintForMessage(status) : hintFor(status);
	const retried = context.retries > 0 ? ` Gave up after ${context.retries} ${context.retries === 1 ? 'retry' : 'retries'}.` : '';
	const response: JsonObject = { status, detail, method: context.method, path: context.path };
	return llamaCloudError(node, response, {
		message: `LlamaCloud error ${status}: ${detail}`,
		description: hint + retried,
		httpCode: String(status),
		itemIndex: context.itemIndex,
	});
}

const NETWORK_HINTS: Record<string, string> = {
	ECONNREFUSED: 'Nothing accepted the connection. Check the Region or Base URL of the credential.',
	ENOTFOUND: 'The host name did not resolve. Check the Region or Base URL of the credential.',
	EAI_AGAIN: 'The host name could not be resolved right now. Check the network and the credential\'s Base URL.',
	ECONNABORTED: "LlamaCloud did not answer in time. Raise the node's Timeout option or try again.",
	ETIMEDOUT: "LlamaCloud did not answer in time. Raise the node's Timeout option or try again.",
	ECONNRESET: 'The connection was closed before LlamaCloud answered. Try again.',
};

export function apiErrorFromNetwork(
	node: INode,
	code: string | undefined,
	reason: string,
	context: { method: string; path: string; baseUrl: string; itemIndex?: number; retries: number },
): NodeApiError {
	const retried = context.retries > 0 ? ` Gave up after ${context.retries} ${context.retries === 1 ? 'retry' : 'retries'}.` : '';
	const response: JsonObject = { code: code ?? 'UNKNOWN', method: context.method, path: context.path };
	return llamaCloudError(node, response, {
		message: `Could not reach LlamaCloud at ${context.baseUrl} (${code ?? reason})`,
		description: (NETWORK_HINTS[code ?? ''] ?? 'The request failed before LlamaCloud answered. Try again.') + retried,
		itemIndex: context.itemIndex,
	});
}

export function apiErrorFromUnexpectedBody(
	node: INode,
	status: number,
	body: unknown,
	context: { expected: 'object' | 'array'; method: string; path: string; itemIndex?: number },
): NodeApiError {
	const what = context.expected === 'array' ? 'a JSON list' : 'a JSON object';
	const got = detailOf(body) ?? (Array.isArray(body) ? 'a JSON list' : 'an empty body');
	const response: JsonObject = { status, method: context.method, path: context.path };
	return llamaCloudError(node, response, {
		message: `LlamaCloud answered ${status} without ${what}: ${got}`,
		description:
			"This does not look like the LlamaCloud API. Check the credential's Region or Base URL; a proxy or login page may be answering instead.",
		httpCode: String(status),
		itemIndex: context.itemIndex,
	});
}
