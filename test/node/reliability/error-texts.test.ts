/* eslint-disable @n8n/community-nodes/no-restricted-globals, @n8n/community-nodes/no-restricted-imports -- Node.js test/dev code, never run inside n8n */
// What an error says when LlamaCloud (or something in front of it) answers with an error body the
// fault matrix does not send: empty or whitespace bodies, JSON without `detail`, a JSON string, long
// HTML pages, FastAPI's 422 lists with query fields, `detail` objects, a bare `message`, a 408.
// Each message keeps the server's own words, shortened where they are long, and never invents them.

import dns from 'node:dns';

import type { INodeParameters } from 'n8n-workflow';

import { listSearch } from '../../harness/methods';
import { runWorkflow, type RunResult } from '../../harness/run-workflow';
import { useSandbox } from '../../harness/support';
import type { FaultAction, Sandbox } from '../../sandbox';
import { byId, credentialsFor, seedSessions, workflowError } from './support';

let sandbox: Sandbox;

useSandbox((started) => (sandbox = started));

type Op = 'Create' | 'Get Summary' | 'Get Many' | 'Send Message';

interface Failure {
	message: string;
	description: string;
	/** What n8n shows under the error's details (NodeApiError's errorResponse). */
	errorResponse?: unknown;
	/** What the node says happened to the request (see transport/errors.ts, Delivery). */
	delivery?: unknown;
}

async function fail(op: Op, action: FaultAction, options: INodeParameters = {}): Promise<Failure> {
	const [sessionId] = op === 'Create' || op === 'Get Many' ? [] : await seedSessions(sandbox, 1);
	let parameters: INodeParameters;
	let target: { method: string; path: string | RegExp };
	switch (op) {
		case 'Create':
			parameters = { resource: 'session', operation: 'create', indexIds: ['idx-q3-reports'], options };
			target = { method: 'POST', path: '/api/v1/chat' };
			break;
		case 'Get Summary':
			parameters = { resource: 'session', operation: 'getSummary', sessionId: byId(sessionId), options };
			target = { method: 'GET', path: /\/summary$/ };
			break;
		case 'Get Many':
			parameters = { resource: 'session', operation: 'getAll', returnAll: true, options };
			target = { method: 'GET', path: '/api/v1/chat' };
			break;
		case 'Send Message':
			parameters = { resource: 'message', operation: 'send', sessionId: byId(sessionId), prompt: 'What grew in Q3?', options };
			target = { method: 'POST', path: /\/messages\/stream$/ };
			break;
	}
	// Every attempt fails the same way, so retried cases show what the last attempt said.
	sandbox.injectFault({ ...target, action, times: Infinity });
	const result: RunResult = await runWorkflow({
		credentials: credentialsFor(sandbox),
		items: [{}],
		nodes: [{ name: op, parameters }],
	});
	const error = workflowError(result) as ReturnType<typeof workflowError> & { errorResponse?: unknown; context?: { delivery?: unknown } };
	return { message: error.message, description: error.description ?? '', errorResponse: error.errorResponse, delivery: error.context?.delivery };
}

const text = (status: number, body: string, contentType = 'text/plain'): FaultAction => ({ type: 'status', status, body, contentType });

describe('error bodies without words', () => {
	it.each<Op>(['Create', 'Send Message'])('%s: a body of only whitespace gives "no details given", not an empty message', async (op) => {
		const { message } = await fail(op, text(400, '  \r\n\t \n'));
		expect(message).toBe('LlamaCloud error 400: no details given');
	});

	it.each<Op>(['Create', 'Send Message'])('%s: an empty body gives "no details given"', async (op) => {
		const { message } = await fail(op, text(400, ''));
		expect(message).toBe('LlamaCloud error 400: no details given');
	});
});

describe('JSON error bodies, also when a stream request reads them as text', () => {
	it('takes `detail` from JSON surrounded by whitespace', async () => {
		const { message } = await fail('Send Message', text(400, '\n  {"detail": "Index idx-gone was deleted"}  \n', 'application/json'));
		expect(message).toBe('LlamaCloud error 400: Index idx-gone was deleted');
	});

	it('unquotes a body that is a JSON string', async () => {
		const { message } = await fail('Send Message', text(409, '"Session is busy with another message"', 'application/json'));
		expect(message).toBe('LlamaCloud error 409: Session is busy with another message');
	});

	it.each<Op>(['Send Message', 'Create'])('%s: shows JSON without `detail` or `message` as it came', async (op) => {
		const { message } = await fail(op, text(400, '{"error":"upstream rejected the request"}', 'application/json'));
		expect(message).toBe('LlamaCloud error 400: {"error":"upstream rejected the request"}');
	});

	it('keeps a number that is the whole body', async () => {
		const { message } = await fail('Send Message', text(400, '400', 'text/plain'));
		expect(message).toBe('LlamaCloud error 400: 400');
	});

	it('reads a `message` field when there is no `detail`', async () => {
		const { message } = await fail('Get Summary', { type: 'status', status: 400, body: { message: 'Bad project scope' } });
		expect(message).toBe('LlamaCloud error 400: Bad project scope');
	});

	it('gives "no details given" for a JSON null', async () => {
		const { message } = await fail('Get Summary', text(400, 'null', 'application/json'));
		expect(message).toBe('LlamaCloud error 400: no details given');
	});

	it('shows a `detail` object as JSON', async () => {
		const { message } = await fail('Create', { type: 'status', status: 409, body: { detail: { reason: 'locked', holder: 'req-7' } } });
		expect(message).toBe('LlamaCloud error 409: {"reason":"locked","holder":"req-7"}');
	});

	it.each([
		['a number', { detail: 42 }, 'LlamaCloud error 409: 42'],
		['true', { detail: true }, 'LlamaCloud error 409: true'],
		['null, next to a message', { detail: null, message: 'Locked' }, 'LlamaCloud error 409: Locked'],
	])('shows a `detail` that is %s as LlamaCloud sent it', async (_kind, body, expected) => {
		expect((await fail('Create', { type: 'status', status: 409, body })).message).toBe(expected);
	});

	it('names query fields of a 422 without the "query" prefix, and keeps entries that are plain text', async () => {
		const body = {
			detail: [
				{ loc: ['query', 'page_size'], msg: 'ensure this value is less than or equal to 100', type: 'value_error' },
				'the page token has expired',
				{ loc: ['body', 'index_ids', 0], msg: 'not a valid index', type: 'value_error' },
				{ msg: 'something else is wrong', type: 'value_error' },
			],
		};
		const { message } = await fail('Get Many', { type: 'status', status: 422, body });
		expect(message).toBe(
			'LlamaCloud error 422: page_size: ensure this value is less than or equal to 100; the page token has expired; index_ids.0: not a valid index; something else is wrong',
		);
	});
});

describe('HTML error pages', () => {
	it('keeps the words of a long page, cut at 300 characters with an ellipsis', async () => {
		const words = Array.from({ length: 60 }, (_, i) => `word${i}`).join(' ');
		const { message } = await fail('Get Summary', text(400, `<html><body><h1>Blocked</h1><p>${words}</p></body></html>`, 'text/html'));
		const plain = `Blocked ${words}`;
		expect(plain.length).toBeGreaterThan(300);
		expect(message).toBe(`LlamaCloud error 400: ${plain.slice(0, 300)}…`);
	});

	it('keeps a page of exactly 300 characters whole', async () => {
		const plain = 'x'.repeat(300);
		const { message } = await fail('Get Summary', text(400, `<p>${plain}</p>`, 'text/html'));
		expect(message).toBe(`LlamaCloud error 400: ${plain}`);
	});
});

describe('a status without advice of its own', () => {
	it('says LlamaCloud refused the request, and adds nothing it cannot know', async () => {
		const { message, description } = await fail('Get Summary', { type: 'status', status: 410, body: { detail: 'This API version is retired' } });
		expect(message).toBe('LlamaCloud error 410: This API version is retired');
		expect(description).toBe('LlamaCloud refused the request.');
	});
});

// LlamaCloud's SDK header: `x-should-retry: false` tells clients not to repeat, so Retries cannot help.
describe('a read LlamaCloud says not to retry', () => {
	const noRetry = { 'x-should-retry': 'false' };

	it('429: names the rate limit, without advice to raise Retries and without claiming there was no Retry-After', async () => {
		const { description } = await fail('Get Summary', { type: 'status', status: 429, body: { detail: 'Too many requests' }, headers: { ...noRetry, 'retry-after': '1' } });
		expect(description).toBe("LlamaCloud is rate limiting this key. Lower 'Items per Batch' or add a 'Batch Interval'.");
		expect(sandbox.requests.filter((request) => request.path.endsWith('/summary'))).toHaveLength(1);
	});

	it('500: says to try again later, without advice to raise Retries', async () => {
		const { description } = await fail('Get Summary', { type: 'status', status: 500, body: { detail: 'Internal error' }, headers: noRetry });
		expect(description).toBe('LlamaCloud had a server problem; it is usually temporary. Try again later.');
	});
});

describe('408 Request Timeout', () => {
	it('says LlamaCloud timed out, and that Retries can help a read', async () => {
		const { message, description } = await fail('Get Summary', { type: 'status', status: 408, body: { detail: 'Request timeout' } }, { maxRetries: 0 });
		expect(message).toBe('LlamaCloud error 408: Request timeout');
		expect(description).toBe("LlamaCloud timed out. Try again later, or raise 'Retries'.");
	});

	it('says a Create that timed out was not repeated, and where to look', async () => {
		const { description } = await fail('Create', { type: 'status', status: 408, body: { detail: 'Request timeout' } });
		expect(description).toBe(
			'LlamaCloud timed out. The session was not created again, since the failed attempt may have created one: Session → Get Many lists the sessions that exist.',
		);
	});
});

describe('a success whose body is not what LlamaCloud sends (a proxy, a login page)', () => {
	const NOT_LLAMACLOUD =
		"This does not look like the LlamaCloud API. Check the credential's Region or Base URL; a proxy or login page may be answering instead.";

	it.each<[Op, string, FaultAction, string]>([
		['Get Summary', 'a JSON list', { type: 'status', status: 200, body: [1, 2, 3] }, 'LlamaCloud answered 200 without a JSON object: a JSON list'],
		['Create', 'an empty body', text(200, '', 'application/json'), 'LlamaCloud answered 200 without a JSON object: an empty body'],
		['Create', 'a login page', text(200, '<html><h1>Sign in</h1></html>', 'text/html'), 'LlamaCloud answered 200 without a JSON object: Sign in'],
		['Get Summary', 'JSON null', text(200, 'null', 'application/json'), 'LlamaCloud answered 200 without a JSON object: an empty body'],
	])('%s answered with %s', async (op, _label, action, expected) => {
		const { message, description, errorResponse } = await fail(op, action);
		expect(message).toBe(expected);
		expect(description).toBe(NOT_LLAMACLOUD);
		expect(errorResponse).toEqual({ status: 200, method: op === 'Create' ? 'POST' : 'GET', path: expect.stringMatching(/^\/api\/v1\/chat/) });
	});

	it('says "a JSON list" was expected where a list is', async () => {
		sandbox.injectFault({ method: 'GET', path: '/api/v1/projects', action: { type: 'status', status: 200, body: { projects: [] } } });
		const searching = listSearch('searchProjects', { credentials: credentialsFor(sandbox), parameters: {} });
		await expect(searching).rejects.toThrow('LlamaCloud answered 200 without a JSON list: {"projects":[]}');
	});
});

describe('network failures', () => {
	it('a read whose connection breaks says it failed before LlamaCloud answered, naming the code', async () => {
		const { message, description } = await fail('Get Summary', { type: 'drop' }, { maxRetries: 0 });
		expect(message).toBe(`The connection to LlamaCloud at ${sandbox.url} failed (ECONNRESET)`);
		expect(description).toBe('The request failed before LlamaCloud answered. Try again later.');
	});

	describe('a host name that does not resolve', () => {
		const HOST = 'llamacloud.invalid';
		const realLookup = dns.lookup;
		let code = 'ENOTFOUND';

		beforeEach(() => {
			// The system resolver's answer for this one host, without asking a DNS server (this machine has none).
			(dns as { lookup: unknown }).lookup = (hostname: string, ...rest: unknown[]) => {
				if (hostname !== HOST) return (realLookup as (...args: unknown[]) => void)(hostname, ...rest);
				const callback = rest[rest.length - 1] as (error: Error) => void;
				process.nextTick(() => callback(Object.assign(new Error(`getaddrinfo ${code} ${hostname}`), { code, hostname })));
			};
		});
		afterEach(() => {
			dns.lookup = realLookup;
		});

		it.each([
			['ENOTFOUND', 'The host name did not resolve. Check the Region or Base URL of the credential.'],
			['EAI_AGAIN', "The host name could not be resolved right now. Check the network and the credential's Base URL."],
		])('%s: says LlamaCloud was not reached, and nothing was sent', async (failure, description) => {
			code = failure;
			const result = await runWorkflow({
				credentials: { ...credentialsFor(sandbox), baseUrl: `http://${HOST}:8787` },
				nodes: [{ name: 'Create', parameters: { resource: 'session', operation: 'create', options: { maxRetries: 0 } } }],
			});
			const error = workflowError(result);
			expect(error.message).toBe(`Could not reach LlamaCloud at http://${HOST}:8787 (${failure})`);
			expect(error.description).toBe(description);
			expect((error as { context?: { delivery?: string } }).context?.delivery).toBe('not_sent');
			expect(sandbox.requests).toEqual([]);
		});
	});
});

describe('what else an error carries', () => {
	it('counts a single retry as "1 retry"', async () => {
		const { description } = await fail('Get Summary', { type: 'status', status: 500, body: { detail: 'Internal error' } }, { maxRetries: 1 });
		expect(description).toBe("LlamaCloud had a server problem; it is usually temporary. Try again later, or raise 'Retries'. Gave up after 1 retry.");
	});

	it("keeps LlamaCloud's status, words, and the request's method and path (never the key) in the error details", async () => {
		const { errorResponse } = await fail('Create', { type: 'status', status: 400, body: { detail: 'Bad index' } });
		expect(errorResponse).toEqual({ status: 400, detail: 'Bad index', method: 'POST', path: '/api/v1/chat' });
		expect(JSON.stringify(errorResponse)).not.toContain(sandbox.apiKey);
	});

	it('a Create whose connection breaks says so, naming the code, and that it was not created again', async () => {
		const { message, description } = await fail('Create', { type: 'drop' }, { maxRetries: 0 });
		expect(message).toBe('The connection broke before LlamaCloud answered (ECONNRESET)');
		expect(description).toBe(
			'The session was not created again, since the failed attempt may have created one: Session → Get Many lists the sessions that exist.',
		);
	});

	it('keeps the network code and the request in the error details', async () => {
		const { errorResponse } = await fail('Get Summary', { type: 'drop' }, { maxRetries: 0 });
		expect(errorResponse).toEqual({ code: 'ECONNRESET', method: 'GET', path: expect.stringMatching(/^\/api\/v1\/chat\/[^/]+\/summary$/) });
	});

	// Ask reads the tag to say truthfully what became of the question, and whether to delete its session.
	it.each<[string, Op, FaultAction, INodeParameters, string]>([
		['a refused request (400)', 'Create', { type: 'status', status: 400, body: { detail: 'Bad index' } }, {}, 'rejected'],
		['a 429 with Retry-After, retried to the end', 'Create', { type: 'status', status: 429, headers: { 'retry-after': '0' } }, { maxRetries: 1 }, 'rejected'],
		['a 500 on a Create', 'Create', { type: 'status', status: 500, body: { detail: 'Internal error' } }, {}, 'unknown'],
		['a 500 on a read, retried to the end', 'Get Summary', { type: 'status', status: 500, body: { detail: 'Internal error' } }, { maxRetries: 1 }, 'unknown'],
		['a 408 on a message', 'Send Message', { type: 'status', status: 408, body: { detail: 'Request timeout' } }, {}, 'unknown'],
		['a connection reset after sending', 'Send Message', { type: 'drop' }, {}, 'unknown'],
	])('tags %s as %s', async (_case, op, action, options, delivery) => {
		expect((await fail(op, action, options)).delivery).toBe(delivery);
	});
});
