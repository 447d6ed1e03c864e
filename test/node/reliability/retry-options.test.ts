// The Retries option as users meet it, through n8n's engine against the sandbox: its default when
// the option was never added, its upper bound, and the statuses a read retries. Every fault below
// carries `retry-after: 0`, so the retries cost no waiting.

import type { INodeParameters } from 'n8n-workflow';

import { listSearch } from '../../harness/methods';
import { useSandbox } from '../../harness/support';
import type { FaultAction, Sandbox } from '../../sandbox';
import { TrackedRuns, byId, credentialsFor, retryMetadata, seedSessions, workflowError } from './support';

let sandbox: Sandbox;
const runs = new TrackedRuns();

useSandbox((started) => (sandbox = started));

afterEach(() => {
	runs.expectNoSecrets(sandbox.apiKey);
});

const unavailable = (status = 503): FaultAction => ({ type: 'status', status, body: { detail: 'Try later' }, headers: { 'retry-after': '0' } });

/** Get Summary of one seeded session, with `times` failures injected first; returns the attempts made. */
async function getSummary(options: INodeParameters | undefined, action: FaultAction, times: number) {
	const [sessionId] = await seedSessions(sandbox, 1);
	const path = `/api/v1/chat/${sessionId}/summary`;
	sandbox.injectFault({ method: 'GET', path, times, action });
	const parameters: INodeParameters = { resource: 'session', operation: 'getSummary', sessionId: byId(sessionId) };
	if (options) parameters.options = options;
	const result = await runs.run({ credentials: credentialsFor(sandbox), nodes: [{ name: 'LlamaCloud', parameters }] });
	const attempts = sandbox.requests.filter((request) => request.method === 'GET' && request.path === path).length;
	return { result, attempts, sessionId };
}

describe('Retries option', () => {
	it('retries twice when the option was never added (the documented default of 2)', async () => {
		const { result, attempts } = await getSummary(undefined, unavailable(), Infinity);

		expect(attempts).toBe(3);
		expect(workflowError(result).description).toContain('Gave up after 2 retries.');
		expect(retryMetadata().map((line) => line.maxRetries)).toEqual([2, 2]);
	});

	it('succeeds on the third attempt with the default, so two failures in a row do not fail the item', async () => {
		const { result, attempts, sessionId } = await getSummary({}, unavailable(), 2);

		expect(result.error).toBeUndefined();
		expect(result.output('LlamaCloud')[0].json.session_id).toBe(sessionId);
		expect(attempts).toBe(3);
	});

	it('is capped at 10 retries, whatever is set', async () => {
		const { result, attempts } = await getSummary({ maxRetries: 50 }, unavailable(), Infinity);

		expect(attempts).toBe(11);
		expect(workflowError(result).description).toContain('Gave up after 10 retries.');
		expect(retryMetadata().map((line) => line.maxRetries)).toEqual(new Array(10).fill(10));
	});

	it('takes a fractional value down to whole retries', async () => {
		const { attempts } = await getSummary({ maxRetries: 1.9 }, unavailable(), Infinity);

		expect(attempts).toBe(2);
	});

	it('retries a 408 Request Timeout on a read', async () => {
		const { result, attempts } = await getSummary({ maxRetries: 2 }, unavailable(408), 1);

		expect(result.error).toBeUndefined();
		expect(attempts).toBe(2);
		expect(retryMetadata().map((line) => line.status)).toEqual([408]);
	});

	it('retries twice in the editor’s lists too, where no Retries option applies', async () => {
		sandbox.injectFault({ method: 'GET', path: '/api/v1/chat', times: 2, action: unavailable() });
		sandbox.addSessions(sandbox.fixtures.defaultProjectId, 2);

		const { results } = await listSearch('searchSessions', { credentials: credentialsFor(sandbox), parameters: {} });

		expect(results).toHaveLength(2);
		expect(sandbox.requests.filter((request) => request.path === '/api/v1/chat')).toHaveLength(3);
	});

	it('the lists keep their two retries even when the node is set to none (the option is for runs)', async () => {
		sandbox.injectFault({ method: 'GET', path: '/api/v1/chat', times: 2, action: unavailable() });
		sandbox.addSessions(sandbox.fixtures.defaultProjectId, 2);

		const { results } = await listSearch('searchSessions', { credentials: credentialsFor(sandbox), parameters: { options: { maxRetries: 0 } } });

		expect(results).toHaveLength(2);
		expect(sandbox.requests.filter((request) => request.path === '/api/v1/chat')).toHaveLength(3);
	});
});

describe('the first page of a list', () => {
	it('sends no page token when n8n asks for the first page with an empty one', async () => {
		sandbox.addSessions(sandbox.fixtures.defaultProjectId, 2);
		const { results } = await listSearch('searchSessions', { credentials: credentialsFor(sandbox), parameters: {}, paginationToken: '' });
		expect(results).toHaveLength(2);
		const [request] = sandbox.requests.filter((r) => r.path === '/api/v1/chat');
		expect(request.query).toEqual({ page_size: '50' });
	});
});

describe('Timeout option', () => {
	// n8n's number field allows no 0 here, but an expression can give one: it means "not set".
	it.each([0, -1, '={{ "soon" }}'])('a Timeout of %s means the default, not "no time at all"', async (timeout) => {
		const [sessionId] = await seedSessions(sandbox, 1);
		const result = await runs.run({
			credentials: credentialsFor(sandbox),
			nodes: [
				{
					name: 'LlamaCloud',
					parameters: { resource: 'message', operation: 'send', sessionId: byId(sessionId), prompt: 'What grew in Q3?', options: { timeout } },
				},
			],
		});
		expect(result.error).toBeUndefined();
		expect(result.output('LlamaCloud')[0].json.answer).toContain('Q3 revenue grew 12%');
	});
});
