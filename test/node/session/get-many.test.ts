// Specification of "Session → Get Many": cursor pagination with page_size / page_token, limits,
// and project scoping, run through n8n's real execution engine against the sandbox.

import type { IDataObject, INodeParameters } from 'n8n-workflow';

import { runWorkflow, type RunResult } from '../../harness/run-workflow';
import { useSandbox } from '../../harness/support';
import type { RecordedRequest, Sandbox } from '../../sandbox';
import { byId, sandboxCredentials, workflowError } from './support';

let sandbox: Sandbox;

useSandbox((started) => (sandbox = started));


async function getMany(parameters: INodeParameters, items: IDataObject[] = [{}]): Promise<RunResult> {
	return await runWorkflow({
		credentials: sandboxCredentials(sandbox),
		items,
		nodes: [{ name: 'Get Many', parameters: { resource: 'session', operation: 'getAll', ...parameters } }],
	});
}

function listRequests(): RecordedRequest[] {
	return sandbox.requests.filter((request) => request.method === 'GET' && request.path === '/api/v1/chat');
}

function sessionIds(result: RunResult): string[] {
	return result.output('Get Many').map((item) => item.json.session_id as string);
}

/** addSessions creates sessions oldest first; LlamaCloud lists the most recently updated first. */
function newestFirst(ids: string[]): string[] {
	return [...ids].reverse();
}

describe('Session → Get Many', () => {
	describe('Last Updated Before (for cleanups)', () => {
		const day = 86_400_000;

		it('returns only the sessions not updated since the given moment, across pages', async () => {
			const projectId = sandbox.fixtures.defaultProjectId;
			const old = sandbox.addSessions(projectId, 120, { lastUpdatedAt: new Date(Date.now() - 30 * day) });
			sandbox.addSessions(projectId, 80);
			const result = await getMany({
				returnAll: true,
				filters: { updatedBefore: '={{ $now.minus({ days: 7 }).toISO() }}' },
			});
			expect(result.error).toBeUndefined();
			expect(sessionIds(result).sort()).toEqual([...old].sort());
		});

		it('with a Limit, stops once that many old sessions were found', async () => {
			const projectId = sandbox.fixtures.defaultProjectId;
			sandbox.addSessions(projectId, 30, { lastUpdatedAt: new Date(Date.now() - 30 * day) });
			sandbox.addSessions(projectId, 5);
			const result = await getMany({ returnAll: false, limit: 10, filters: { updatedBefore: new Date(Date.now() - day).toISOString() } });
			expect(sessionIds(result)).toHaveLength(10);
		});

		it('refuses a value that is not a date, before any request', async () => {
			const result = await getMany({ returnAll: true, filters: { updatedBefore: '={{ "last week" }}' } });
			expect(workflowError(result, sandbox.apiKey).message).toBe('Last Updated Before: "last week" is not a date');
			expect(listRequests()).toHaveLength(0);
		});
	});

	describe('Return All', () => {
		it('returns every session of the project exactly once, following page_token across pages', async () => {
			const { defaultProjectId } = sandbox.fixtures;
			const created = sandbox.addSessions(defaultProjectId, 230);

			const result = await getMany({ returnAll: true, project: byId(defaultProjectId) });

			expect(result.error).toBeUndefined();
			const ids = sessionIds(result);
			expect(ids).toHaveLength(230);
			expect(new Set(ids).size).toBe(230);
			expect(ids).toEqual(newestFirst(created));

			const requests = listRequests();
			expect(requests).toHaveLength(3);
			expect(requests.map((request) => request.query.page_size)).toEqual(['100', '100', '100']);
			expect(requests[0].query.page_token).toBeUndefined();
			const tokens = requests.slice(1).map((request) => request.query.page_token);
			for (const token of tokens) expect(token).toEqual(expect.any(String));
			expect(new Set(tokens).size).toBe(2);
			for (const request of requests) {
				expect(request.query.project_id).toBe(defaultProjectId);
				expect(request.query).not.toHaveProperty('cursor');
				expect(request.rawQuery).not.toContain('cursor');
			}
		});

		it('outputs each session as LlamaCloud listed it, paired with the input item', async () => {
			const [sessionId] = sandbox.addSessions(sandbox.fixtures.defaultProjectId, 1);

			const result = await getMany({ returnAll: true });

			const output = result.output('Get Many');
			expect(output).toHaveLength(1);
			const { events, project_id, index_set_locked, ...summary } = sandbox.getSession(sessionId) as IDataObject;
			expect([events, project_id, index_set_locked]).toEqual([[], sandbox.fixtures.defaultProjectId, false]);
			expect(output[0]).toEqual({ json: summary, pairedItem: { item: 0 } });
		});

		it('returns zero items for a project without sessions, after a single request', async () => {
			const result = await getMany({ returnAll: true, project: byId(sandbox.fixtures.secondProjectId) });

			expect(result.error).toBeUndefined();
			expect(result.output('Get Many')).toEqual([]);
			expect(listRequests()).toHaveLength(1);
		});

		it('stops at an empty page even if LlamaCloud still sends a next_page_token', async () => {
			sandbox.addSessions(sandbox.fixtures.defaultProjectId, 3);
			sandbox.injectFault({
				method: 'GET',
				path: '/api/v1/chat',
				when: (request) => request.query.page_token === undefined,
				action: { type: 'status', status: 200, body: { items: [], next_page_token: 'more-but-empty' } },
			});

			const result = await getMany({ returnAll: true });

			expect(result.error).toBeUndefined();
			expect(result.output('Get Many')).toEqual([]);
			expect(listRequests()).toHaveLength(1);
		});
	});

	describe('Limit', () => {
		it('returns exactly the first 120 sessions and stops requesting once it has them', async () => {
			const created = sandbox.addSessions(sandbox.fixtures.defaultProjectId, 230);

			const result = await getMany({ returnAll: false, limit: 120 });

			expect(result.error).toBeUndefined();
			const ids = sessionIds(result);
			expect(ids).toHaveLength(120);
			expect(new Set(ids).size).toBe(120);
			expect(ids).toEqual(newestFirst(created).slice(0, 120));

			const requests = listRequests();
			expect(requests).toHaveLength(2);
			expect(requests.map((request) => request.query.page_size)).toEqual(['100', '20']);
			expect(requests[0].query.page_token).toBeUndefined();
			expect(requests[1].query.page_token).toEqual(expect.any(String));
		});

		it('asks for just 5 sessions in one request when the limit is 5', async () => {
			const created = sandbox.addSessions(sandbox.fixtures.defaultProjectId, 40);

			const result = await getMany({ limit: 5 });

			expect(sessionIds(result)).toEqual(newestFirst(created).slice(0, 5));
			const requests = listRequests();
			expect(requests).toHaveLength(1);
			expect(requests[0].query).toEqual({ page_size: '5' });
		});

		it('makes one request when the limit is exactly one page, even though more pages exist', async () => {
			sandbox.addSessions(sandbox.fixtures.defaultProjectId, 150);

			const result = await getMany({ limit: 100 });

			expect(sessionIds(result)).toHaveLength(100);
			expect(listRequests()).toHaveLength(1);
		});

		it('returns what there is when the project has fewer sessions than the limit', async () => {
			sandbox.addSessions(sandbox.fixtures.defaultProjectId, 30);

			const result = await getMany({ limit: 50 });

			expect(sessionIds(result)).toHaveLength(30);
			expect(listRequests()).toHaveLength(1);
		});

		it('uses a limit of 50 when none is set', async () => {
			sandbox.addSessions(sandbox.fixtures.defaultProjectId, 60);

			const result = await getMany({});

			expect(sessionIds(result)).toHaveLength(50);
			expect(listRequests().map((request) => request.query.page_size)).toEqual(['50']);
		});
		// Regression: a fractional limit is floored; a non-numeric one is refused before any request.
		it.each([
			['a fractional limit', 2.5],
			['a mapped fractional limit', '={{ 2.5 }}'],
			['a mapped limit that is not a number', '={{ "ten" }}'],
		])('never sends a page_size LlamaCloud rejects, for %s', async (_kind, limit) => {
			sandbox.addSessions(sandbox.fixtures.defaultProjectId, 10);

			const result = await getMany({ limit });

			expect(result.error?.message ?? '').not.toContain('LlamaCloud error 422');
			for (const request of listRequests()) expect(request.query.page_size).toMatch(/^[1-9]\d*$/);
		});

		it('accepts a limit mapped as text', async () => {
			sandbox.addSessions(sandbox.fixtures.defaultProjectId, 10);

			const result = await getMany({ limit: '={{ "7" }}' });

			expect(sessionIds(result)).toHaveLength(7);
			expect(listRequests()[0].query.page_size).toBe('7');
		});
	});

	describe('projects', () => {
		it('lists only the sessions of the chosen project', async () => {
			const { defaultProjectId, secondProjectId } = sandbox.fixtures;
			const inSecond = sandbox.addSessions(secondProjectId, 4);
			const inDefault = sandbox.addSessions(defaultProjectId, 3);

			const defaultResult = await getMany({ returnAll: true, project: byId(defaultProjectId) });
			const secondResult = await getMany({ returnAll: true, project: byId(secondProjectId, 'list') });

			expect(sessionIds(defaultResult).sort()).toEqual([...inDefault].sort());
			expect(sessionIds(secondResult).sort()).toEqual([...inSecond].sort());
		});

		it("lists the key's default project when no project is chosen, without project_id in the query", async () => {
			const inDefault = sandbox.addSessions(sandbox.fixtures.defaultProjectId, 2);
			sandbox.addSessions(sandbox.fixtures.secondProjectId, 2);

			const result = await getMany({ returnAll: true, organization: byId('', 'list'), project: byId('', 'list') });

			expect(sessionIds(result).sort()).toEqual([...inDefault].sort());
			expect(listRequests()[0].rawQuery).toBe('page_size=100');
		});

		it('runs once per input item: each item lists its own project and its sessions are paired with it', async () => {
			const { defaultProjectId, secondProjectId } = sandbox.fixtures;
			const inDefault = sandbox.addSessions(defaultProjectId, 2);
			const inSecond = sandbox.addSessions(secondProjectId, 3);

			const result = await getMany({ returnAll: true, project: byId('={{ $json.project }}') }, [
				{ project: secondProjectId },
				{ project: defaultProjectId },
			]);

			const output = result.output('Get Many');
			expect(output.map((item) => item.json.session_id)).toEqual([...newestFirst(inSecond), ...newestFirst(inDefault)]);
			expect(output.map((item) => item.pairedItem)).toEqual([
				{ item: 0 },
				{ item: 0 },
				{ item: 0 },
				{ item: 1 },
				{ item: 1 },
			]);
		});

		it('reports a project the key may not use as a 403 with LlamaCloud\'s detail', async () => {
			const result = await getMany({ returnAll: true, project: byId(sandbox.fixtures.forbiddenProjectId) });

			const error = workflowError(result, sandbox.apiKey);
			expect(error.httpCode).toBe('403');
			expect(error.message).toBe('LlamaCloud error 403: You do not have access to this project');
			expect(error.description).toMatch(/no access/);
		});
	});
});
