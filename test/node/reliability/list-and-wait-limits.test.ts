// Smaller limits of lists and waits: a pasted session shows once in the Session list however far
// the user scrolls; Return All stops when LlamaCloud repeats a page token; a Retry-After longer
// than the node waits fails at once with a clear error instead of waiting the cap and retrying.

import type { IDataObject } from 'n8n-workflow';

import { listSearch } from '../../harness/methods';
import { runWorkflow, type RunResult, type WorkflowNode } from '../../harness/run-workflow';
import { byId, useSandbox } from '../../harness/support';
import type { Sandbox } from '../../sandbox';
import { credentialsFor, workflowError } from './support';

let sandbox: Sandbox;

useSandbox((started) => (sandbox = started));

const run = async (node: WorkflowNode, items: IDataObject[] = [{}]): Promise<RunResult> =>
	await runWorkflow({ credentials: credentialsFor(sandbox), nodes: [node], items });

describe('the Session list search', () => {
	it('shows a pasted session once, also after scrolling to the pages after the first search', async () => {
		// More sessions than one search scans (20 pages of 100): the oldest ones come after it.
		const ids = sandbox.addSessions(sandbox.fixtures.defaultProjectId, 2050);
		const pasted = ids[0];
		const state = { credentials: credentialsFor(sandbox), parameters: {}, filter: pasted };

		const first = await listSearch('searchSessions', state);
		expect(first.results.map((result) => result.value)).toEqual([pasted]);
		const shown = [...first.results];
		let token = first.paginationToken as string | undefined;
		for (let scrolls = 0; token && scrolls < 5; scrolls++) {
			const next = await listSearch('searchSessions', { ...state, paginationToken: token });
			shown.push(...next.results);
			token = next.paginationToken as string | undefined;
		}
		expect(shown.filter((result) => result.value === pasted)).toHaveLength(1);
	});
});

describe('Session → Get Many with Return All', () => {
	it('stops with a clear error when LlamaCloud repeats a page token, instead of paging forever', async () => {
		const [sessionId] = sandbox.addSessions(sandbox.fixtures.defaultProjectId, 1);
		sandbox.injectFault({
			method: 'GET',
			path: '/api/v1/chat',
			times: 50,
			action: { type: 'status', status: 200, body: { items: [{ session_id: sessionId }], next_page_token: 'page-2' } },
		});
		const result = await run({ name: 'Get Many', parameters: { resource: 'session', operation: 'getAll', returnAll: true } });
		const error = workflowError(result);
		expect(error.message).toBe('LlamaCloud sent the page token "page-2" a second time: the list was not read further');
		expect(error.description).toContain("set a 'Limit'");
		// The first page, then the page of token page-2, whose next token repeats it.
		expect(sandbox.requests.map((request) => request.query.page_token)).toEqual([undefined, 'page-2']);
	});
});

describe('a Retry-After longer than the node waits', () => {
	it.each([
		['Retry-After', { 'retry-after': '120' }],
		['retry-after-ms', { 'retry-after-ms': '90000' }],
	])('(%s) fails at once, saying what LlamaCloud asked, and sends nothing more', async (_case, headers) => {
		const [sessionId] = sandbox.addSessions(sandbox.fixtures.defaultProjectId, 1);
		sandbox.injectFault({ method: 'GET', times: Infinity, action: { type: 'status', status: 429, body: { detail: 'Rate limit exceeded' }, headers } });
		const result = await run({ name: 'Get', parameters: { resource: 'session', operation: 'get', sessionId: byId(sessionId) } });
		const error = workflowError(result);
		expect(error.message).toBe('LlamaCloud error 429: Rate limit exceeded');
		expect(error.description).toMatch(/It asked to be retried in (120|90) s, longer than the node waits \(at most 60 s\), so the request was not repeated: try again later\.$/);
		expect(error.description).not.toContain("raise 'Retries'");
		expect(sandbox.requests).toHaveLength(1);
	});
});
