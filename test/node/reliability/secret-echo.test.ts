// Some proxies and frameworks echo the request's headers in their error bodies, so an upstream text
// can carry the API key (as `Authorization: Bearer …`). The node redacts the key and any Bearer
// token from every upstream text before it reaches a message, description, context, output or log.
// Through n8n's engine against the sandbox, whose fault rules echo what the node really sent.

import type { IDataObject, INodeParameters } from 'n8n-workflow';

import { logLines } from '../../harness/logs';
import { runWorkflow, type RunResult } from '../../harness/run-workflow';
import { useSandbox } from '../../harness/support';
import type { FaultAction, RecordedRequest, Sandbox } from '../../sandbox';
import { credentialsFor, expectErrorItem, seedSessions, byId } from './support';

let sandbox: Sandbox;

useSandbox((started) => (sandbox = started));

const STREAM = /\/messages\/stream$/;

/**
 * A fault that answers with `answer(request)`: the body is built from the request the node sent,
 * as an echoing proxy does. Returns the requests it echoed, so the test can check the key was there.
 */
function echoFault(target: { method: string; path: string | RegExp }, answer: (request: RecordedRequest) => FaultAction): RecordedRequest[] {
	const echoed: RecordedRequest[] = [];
	const action = { type: 'status', status: 500 } as FaultAction;
	sandbox.injectFault({
		...target,
		times: Infinity,
		when: (request) => {
			echoed.push(request);
			Object.assign(action, answer(request));
			return true;
		},
		action,
	});
	return echoed;
}

const authorization = (request: RecordedRequest) => String(request.headers.authorization);

/** An SSE answer that ends in LlamaCloud's error stop, with `error` as its text. */
function errorStop(error: string): string {
	const stop = { type: 'stop', error, is_error: true, usage: { duration_ms: 1, total_input_tokens: 1, total_output_tokens: 0, turns: 1 } };
	return `event: stop\ndata: ${JSON.stringify(stop)}\n\n`;
}

async function run(parameters: INodeParameters, continueOnFail: boolean, streaming = false): Promise<RunResult> {
	return await runWorkflow({
		credentials: credentialsFor(sandbox),
		items: [{}],
		nodes: [{ name: 'LlamaCloud', parameters: { ...parameters, options: { maxRetries: 0, ...(parameters.options as IDataObject) } }, continueOnFail }],
		...(streaming ? { mode: 'webhook' as const, streaming: true } : {}),
	});
}

/** Everything of a run a person or a log collector can read, as text. */
function readable(result: RunResult): string {
	const error = result.error as unknown as { message?: string; description?: string; context?: unknown } | undefined;
	const errorTexts = error ? [error.message, error.description, JSON.stringify(error.context)] : [];
	return [JSON.stringify(result.run), JSON.stringify(result.chunks), ...errorTexts, JSON.stringify(logLines)].join('\n');
}

function expectRedacted(result: RunResult, echoed: RecordedRequest[]): void {
	// The echo really carried the key: otherwise this test would prove nothing.
	expect(echoed.length).toBeGreaterThan(0);
	for (const request of echoed) expect(authorization(request)).toBe(`Bearer ${sandbox.apiKey}`);
	const text = readable(result);
	expect(text).not.toContain(sandbox.apiKey);
	// Nor a part of it that a cut to the shown length left.
	expect(text).not.toContain(sandbox.apiKey.slice(0, 12));
	expect(text).not.toMatch(/Bearer (?!\[redacted\])/);
	// The upstream words themselves are still shown, with the secret replaced.
	expect(text).toContain('[redacted]');
}

const ask: INodeParameters = { resource: 'message', operation: 'ask', prompt: 'What grew in Q3?', indexIds: ['idx-q3-reports'] };

describe('the API key never appears, even when an upstream body echoes it', () => {
	const cases: Array<[string, { method: string; path: string | RegExp }, (request: RecordedRequest) => FaultAction]> = [
		[
			'a JSON error body echoing the request headers (a 502 from a proxy)',
			{ method: 'POST', path: STREAM },
			(request) => ({ type: 'status', status: 502, body: { detail: { error: 'upstream failed', request_headers: request.headers } } }),
		],
		[
			'a FastAPI detail quoting the Authorization header (401)',
			{ method: 'POST', path: '/api/v1/chat' },
			(request) => ({ type: 'status', status: 401, body: { detail: `Invalid token in header "Authorization: ${authorization(request)}"` } }),
		],
		[
			'a plain-text page echoing the header where the 300 characters shown end inside the key',
			{ method: 'POST', path: STREAM },
			(request) => ({
				type: 'status',
				status: 503,
				contentType: 'text/plain',
				body: `${'x'.repeat(260)} authorization: ${authorization(request)} and again ${sandbox.apiKey}`,
			}),
		],
		[
			"the stream's error stop quoting the key",
			{ method: 'POST', path: STREAM },
			() => ({ type: 'status', status: 200, contentType: 'text/event-stream', body: errorStop(`Model call failed with key ${sandbox.apiKey}`) }),
		],
	];

	it.each(cases)('%s: not in the thrown error, the execution, the chat or the logs', async (_label, target, answer) => {
		const echoed = echoFault(target, answer);
		const result = await run(ask, false, true);
		expect(result.error).toBeDefined();
		expectRedacted(result, echoed);
	});

	it.each(cases)('%s: not in the Continue On Fail item either', async (_label, target, answer) => {
		const echoed = echoFault(target, answer);
		const result = await run(ask, true);
		expect(result.error).toBeUndefined();
		const json = expectErrorItem(result.output('LlamaCloud')[0], 0);
		expect(JSON.stringify(json)).not.toContain(sandbox.apiKey);
		expectRedacted(result, echoed);
	});

	it('a success answer that is no JSON object (a login page echoing the header) is redacted too', async () => {
		const [sessionId] = await seedSessions(sandbox, 1);
		const echoed = echoFault({ method: 'GET', path: /^\/api\/v1\/chat\/[^/]+$/ }, (request) => ({
			type: 'status',
			status: 200,
			contentType: 'text/html',
			body: `<html><body>Signed in with ${authorization(request)}</body></html>`,
		}));
		const result = await run({ resource: 'session', operation: 'get', sessionId: byId(sessionId) }, false);
		expect(result.error).toBeDefined();
		expectRedacted(result, echoed);
	});
});
