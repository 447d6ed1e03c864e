/* eslint-disable @n8n/community-nodes/no-hardcoded-secrets -- Node.js test/dev code, never run inside n8n */
// Specification of "Session → Create", run through n8n's real execution engine against the sandbox.

import type { IDataObject, INodeParameters } from 'n8n-workflow';

import { runWorkflow, type RunResult } from '../../harness/run-workflow';
import { useSandbox } from '../../harness/support';
import type { FaultRule, Sandbox } from '../../sandbox';
import {
	byId,
	chatRequests,
	expectApiKeyNotLeaked,
	sandboxCredentials,
	workflowError,
	type NodeErrorView,
} from './support';

let sandbox: Sandbox;

useSandbox((started) => (sandbox = started));


const WRONG_KEY = 'llx-wrong-key-000000000000';

function createParameters(overrides: INodeParameters = {}): INodeParameters {
	return {
		resource: 'session',
		operation: 'create',
		indexIds: ['idx-q3-reports'],
		project: byId(sandbox.fixtures.defaultProjectId),
		...overrides,
	};
}

async function create(
	overrides: INodeParameters = {},
	run: { items?: IDataObject[]; continueOnFail?: boolean; apiKey?: string } = {},
): Promise<RunResult> {
	return await runWorkflow({
		credentials: sandboxCredentials(sandbox, run.apiKey ? { apiKey: run.apiKey } : {}),
		items: run.items ?? [{}],
		nodes: [{ name: 'Create', parameters: createParameters(overrides), continueOnFail: run.continueOnFail ?? false }],
	});
}

/** What the sandbox stored for a session, in the shape the API returns it (no events, no internals). */
function storedSummary(sessionId: string): IDataObject {
	const stored = sandbox.getSession(sessionId);
	expect(stored).toBeDefined();
	const { events, project_id, index_set_locked, ...summary } = stored as IDataObject;
	expect(events).toEqual([]);
	expect(typeof project_id).toBe('string');
	expect(index_set_locked).toBe(false);
	return summary;
}

describe('Session → Create', () => {
	describe('creating sessions', () => {
		it('creates a session bound to the chosen indexes and outputs it exactly as LlamaCloud returned it', async () => {
			const result = await create({ indexIds: ['idx-q3-reports', 'idx-product-handbook'] });

			expect(result.error).toBeUndefined();
			const output = result.output('Create');
			expect(output).toHaveLength(1);
			const session = output[0].json;
			expect(session.session_id).toMatch(/^ses-/);
			expect(session).toEqual(storedSummary(session.session_id as string));
			expect(session).toMatchObject({
				index_ids: ['idx-q3-reports', 'idx-product-handbook'],
				generated_title: null,
				job_metadata: null,
			});
			expect(sandbox.stats.sessionsCreated).toBe(1);
		});

		it('creates an unbound session when no index is chosen: index_ids is sent as null and comes back null', async () => {
			const result = await create({ indexIds: [] });

			expect(result.error).toBeUndefined();
			const [request] = chatRequests(sandbox);
			expect(request.method).toBe('POST');
			// A JSON body, as LlamaCloud's SDK always sends one (n8n would drop an empty `{}`).
			expect(request.body).toEqual({ index_ids: null });
			expect(request.headers['content-type']).toMatch(/^application\/json/);
			const session = result.output('Create')[0].json;
			expect(session.index_ids).toBeNull();
			expect(session).toEqual(storedSummary(session.session_id as string));
			expect(sandbox.getSession(session.session_id as string).index_ids).toBeNull();
		});

		it('also creates an unbound session when the mapped index value is empty', async () => {
			const result = await create({ indexIds: '={{ $json.indexes }}' }, { items: [{ indexes: '' }] });

			expect(result.error).toBeUndefined();
			expect(chatRequests(sandbox)[0].body).toEqual({ index_ids: null });
			expect(result.output('Create')[0].json.index_ids).toBeNull();
		});

		it('outputs one session per input item, each paired with the item it was created for', async () => {
			const result = await create({}, { items: [{ n: 0 }, { n: 1 }, { n: 2 }] });

			expect(result.error).toBeUndefined();
			const output = result.output('Create');
			expect(output).toHaveLength(3);
			expect(output.map((item) => item.pairedItem)).toEqual([{ item: 0 }, { item: 1 }, { item: 2 }]);
			const ids = output.map((item) => item.json.session_id as string);
			expect(new Set(ids).size).toBe(3);
			for (const item of output) expect(item.json).toEqual(storedSummary(item.json.session_id as string));
			expect(sandbox.stats.sessionsCreated).toBe(3);
			expect(chatRequests(sandbox)).toHaveLength(3);
		});

		it('with Items per Batch, creates several sessions at once but still outputs them in input order', async () => {
			sandbox.setLatency({ min: 0, max: 40 });
			const items = [0, 1, 2, 3, 4].map((n) => ({ indexes: sandbox.fixtures.indexIds[n % 3], n }));

			const result = await create(
				{ indexIds: '={{ $json.indexes }}', options: { batching: { batch: { batchSize: 3 } } } },
				{ items },
			);

			expect(result.error).toBeUndefined();
			const output = result.output('Create');
			expect(output.map((item) => item.pairedItem)).toEqual(items.map((_, item) => ({ item })));
			expect(output.map((item) => item.json.index_ids)).toEqual(items.map((item) => [item.indexes]));
		});
	});

	describe('project and organization', () => {
		it('sends project and organization in the query string (never in the body) with the Bearer API key', async () => {
			const { organizationId, secondProjectId } = sandbox.fixtures;
			const result = await create({
				indexIds: ['idx-onboarding-faq'],
				organization: byId(organizationId),
				project: byId(secondProjectId),
			});

			expect(result.error).toBeUndefined();
			const requests = chatRequests(sandbox);
			expect(requests).toHaveLength(1);
			const [request] = requests;
			expect(request.method).toBe('POST');
			expect(request.path).toBe('/api/v1/chat');
			expect(request.query).toEqual({ organization_id: organizationId, project_id: secondProjectId });
			expect(request.body).toEqual({ index_ids: ['idx-onboarding-faq'] });
			expect(request.headers.authorization).toBe(`Bearer ${sandbox.apiKey}`);
			expect(request.headers['content-type']).toMatch(/^application\/json/);

			const sessionId = result.output('Create')[0].json.session_id as string;
			expect(sandbox.getSession(sessionId).project_id).toBe(secondProjectId);
		});

		it('accepts a project chosen from the list the same way as one given by ID', async () => {
			const result = await create({ project: byId(sandbox.fixtures.secondProjectId, 'list'), indexIds: ['idx-release-notes'] });

			expect(result.error).toBeUndefined();
			expect(chatRequests(sandbox)[0].query).toEqual({ project_id: sandbox.fixtures.secondProjectId });
		});

		it("leaves an empty project and organization out of the query entirely, so the key's default project is used", async () => {
			const result = await create({ organization: byId('', 'list'), project: byId('', 'list') });

			expect(result.error).toBeUndefined();
			const [request] = chatRequests(sandbox);
			expect(request.rawQuery).toBe('');
			const sessionId = result.output('Create')[0].json.session_id as string;
			expect(sandbox.getSession(sessionId).project_id).toBe(sandbox.fixtures.defaultProjectId);
		});

		it('also leaves out a project that an expression maps to an empty value', async () => {
			const result = await create(
				{ organization: byId('={{ $json.organization }}'), project: byId('={{ $json.project }}') },
				{ items: [{ organization: '', project: '' }] },
			);

			expect(result.error).toBeUndefined();
			expect(chatRequests(sandbox)[0].rawQuery).toBe('');
		});

		// Regression: an empty "By ID" value means the API key's default, and n8n must accept it.
		it('also runs when project and organization are left empty in "By ID" mode', async () => {
			const result = await create({ organization: byId('', 'id'), project: byId('', 'id') });

			expect(result.error).toBeUndefined();
			expect(chatRequests(sandbox)[0].rawQuery).toBe('');
		});

		it('refuses to run with a malformed project ID typed "By ID" (n8n checks the UUID format), sending nothing', async () => {
			await expect(create({ project: byId('not-a-project-uuid') })).rejects.toThrow('The workflow has issues');
			expect(sandbox.requests).toEqual([]);
		});

		it.each([
			['project', 'Project', 'not-a-project-uuid'],
			['organization', 'Organization', 'acme'],
		])('rejects a malformed %s ID mapped by an expression before sending any request', async (parameter, field, value) => {
			const result = await create({ [parameter]: byId('={{ $json.scope }}') }, { items: [{ scope: value }] });

			const error = workflowError(result, sandbox.apiKey);
			expect(error.name).toBe('NodeOperationError');
			expect(error.message).toBe(`${field} must be a UUID, got "${value}"`);
			expect(error.description).toContain('leave it empty');
			expect(sandbox.requests).toEqual([]);
		});
	});

	describe('index IDs', () => {
		it('takes the IDs chosen in the list, dropping duplicates and keeping their order', async () => {
			const result = await create({ indexIds: ['idx-support-tickets', 'idx-q3-reports', 'idx-support-tickets'] });

			expect(result.error).toBeUndefined();
			expect(chatRequests(sandbox)[0].body).toEqual({ index_ids: ['idx-support-tickets', 'idx-q3-reports'] });
			expect(result.output('Create')[0].json.index_ids).toEqual(['idx-support-tickets', 'idx-q3-reports']);
		});

		it.each([
			['an array', ['idx-q3-reports', 'idx-product-handbook', 'idx-q3-reports']],
			['a comma-separated string', ' idx-q3-reports, idx-product-handbook ,idx-q3-reports,, '],
			['a newline-separated string', 'idx-q3-reports\nidx-product-handbook\n'],
		])('takes the IDs from an expression giving %s, trimmed and without duplicates', async (_kind, indexes) => {
			const result = await create({ indexIds: '={{ $json.indexes }}' }, { items: [{ indexes }] });

			expect(result.error).toBeUndefined();
			expect(chatRequests(sandbox)[0].body).toEqual({ index_ids: ['idx-q3-reports', 'idx-product-handbook'] });
		});

		it('resolves the expression per item, so each item can bind its own indexes', async () => {
			const result = await create(
				{ indexIds: '={{ $json.indexes }}' },
				{ items: [{ indexes: 'idx-q3-reports' }, { indexes: ['idx-product-handbook', 'idx-support-tickets'] }] },
			);

			expect(result.error).toBeUndefined();
			expect(chatRequests(sandbox).map((request) => request.body)).toEqual([
				{ index_ids: ['idx-q3-reports'] },
				{ index_ids: ['idx-product-handbook', 'idx-support-tickets'] },
			]);
		});

		it('counts the 10-index limit after removing duplicates', async () => {
			const extra = sandbox.addIndexes(sandbox.fixtures.defaultProjectId, 7, 'Extra').map((index) => index.id);
			const ten = [...sandbox.fixtures.indexIds, ...extra];
			expect(ten).toHaveLength(10);

			const result = await create({ indexIds: [...ten, ten[0], ten[5]] });

			expect(result.error).toBeUndefined();
			expect(chatRequests(sandbox)[0].body).toEqual({ index_ids: ten });
		});

		it('rejects more than 10 indexes with an error naming Indexes, and sends nothing', async () => {
			const eleven = Array.from({ length: 11 }, (_, n) => `idx-${n + 1}`);
			const result = await create({ indexIds: eleven });

			const error = workflowError(result, sandbox.apiKey);
			expect(error.name).toBe('NodeOperationError');
			expect(error.message).toMatch(/^Indexes: .*at most 10 indexes, got 11/);
			expect(error.description).toContain('Remove 1');
			expect(sandbox.requests).toEqual([]);
		});

		it.each<[string, unknown]>([
			['an ID with a space', 'idx a'],
			['an ID with a slash', 'a/b'],
			['an ID with a query character', 'idx-1?x=1'],
			['a number', [42]],
			['an object', [{ id: 'idx-q3-reports' }]],
			['an empty object', {}],
		])('rejects %s as an index with an error naming Indexes, and sends nothing', async (_kind, indexes) => {
			const result = await create({ indexIds: '={{ $json.indexes }}' }, { items: [{ indexes }] as IDataObject[] });

			const error = workflowError(result, sandbox.apiKey);
			expect(error.name).toBe('NodeOperationError');
			expect(error.message).toMatch(/^Indexes: /);
			expect(error.description).toBeTruthy();
			expect(sandbox.requests).toEqual([]);
		});

		it('rejects a malformed index chosen in the list too', async () => {
			const result = await create({ indexIds: ['idx-q3-reports', 'a/b'] });

			expect(workflowError(result, sandbox.apiKey).message).toBe('Indexes: "a/b" is not a valid index ID');
			expect(sandbox.requests).toEqual([]);
		});
	});

	describe('when LlamaCloud refuses the request', () => {
		interface RefusalCase {
			title: string;
			status: string;
			detail: string[];
			hint: RegExp;
			arrange?: () => void;
			parameters?: () => INodeParameters;
			apiKey?: string;
		}

		const fault = (rule: FaultRule) => () => sandbox.injectFault(rule);
		const detail422 = {
			detail: [
				{ loc: ['body', 'index_ids', 0], msg: 'String should have at least 1 character', type: 'string_too_short' },
				{ loc: ['query', 'project_id'], msg: 'Input should be a valid UUID', type: 'uuid_parsing' },
			],
		};

		const cases: RefusalCase[] = [
			{
				title: '401 for a wrong API key',
				status: '401',
				detail: ['Invalid authentication token'],
				hint: /API key/,
				apiKey: WRONG_KEY,
			},
			{
				title: '403 for a project the key may not use',
				status: '403',
				detail: ['You do not have access to this project'],
				hint: /no access to this project/,
				parameters: () => ({ project: byId(sandbox.fixtures.forbiddenProjectId) }),
			},
			{
				title: '403 for an organization the key is not a member of',
				status: '403',
				detail: ['You do not have access to this organization'],
				hint: /organization/,
				parameters: () => ({ organization: byId(sandbox.fixtures.otherOrganizationId), project: byId('', 'list') }),
			},
			{
				title: '404 for an unknown index',
				status: '404',
				detail: ["Index 'idx-does-not-exist' not found"],
				hint: /Check the ID/,
				parameters: () => ({ indexIds: ['idx-does-not-exist'] }),
			},
			{
				title: '404 for an index of another project',
				status: '404',
				detail: ["Index 'idx-onboarding-faq' not found"],
				hint: /another project/,
				parameters: () => ({ indexIds: ['idx-onboarding-faq'] }),
			},
			{
				title: '422 with a FastAPI validation list (every msg is shown)',
				status: '422',
				detail: ['String should have at least 1 character', 'Input should be a valid UUID', '; '],
				hint: /rejected a parameter/,
				arrange: fault({ method: 'POST', path: '/api/v1/chat', action: { type: 'status', status: 422, body: detail422 } }),
			},
			{
				title: '500 server error (retries off)',
				status: '500',
				detail: ['Upstream database unavailable'],
				hint: /server problem/,
				arrange: fault({
					method: 'POST',
					path: '/api/v1/chat',
					action: { type: 'status', status: 500, body: { detail: 'Upstream database unavailable' } },
				}),
				parameters: () => ({ options: { maxRetries: 0 } }),
			},
		];

		it.each(cases)('reports $title with the status, LlamaCloud\'s detail and a hint', async (refusal) => {
			refusal.arrange?.();
			const result = await create(refusal.parameters?.() ?? {}, { apiKey: refusal.apiKey });

			const error: NodeErrorView = refusal.apiKey
				? workflowError(result, sandbox.apiKey, refusal.apiKey)
				: workflowError(result, sandbox.apiKey);
			expect(error.name).toBe('NodeApiError');
			expect(error.httpCode).toBe(refusal.status);
			expect(error.message).toContain(`LlamaCloud error ${refusal.status}`);
			for (const text of refusal.detail) expect(error.message).toContain(text);
			expect(error.description).toMatch(refusal.hint);
			expect(error.context?.itemIndex).toBe(0);
			// A create is never repeated on its own after LlamaCloud answered with an error.
			expect(chatRequests(sandbox)).toHaveLength(1);
			expect(sandbox.stats.sessionsCreated).toBe(0);
		});

		it('names the failing item when a later item fails, and stops there', async () => {
			const result = await create(
				{ indexIds: '={{ $json.indexes }}' },
				{ items: [{ indexes: 'idx-q3-reports' }, { indexes: 'idx-unknown' }, { indexes: 'idx-q3-reports' }] },
			);

			const error = workflowError(result, sandbox.apiKey);
			expect(error.httpCode).toBe('404');
			expect(error.message).toContain("Index 'idx-unknown' not found");
			expect(error.context?.itemIndex).toBe(1);
			expect(chatRequests(sandbox)).toHaveLength(2);
		});
	});

	describe('Continue On Fail', () => {
		it('keeps every item: a failed item becomes an error item paired with its input', async () => {
			const result = await create(
				{ indexIds: '={{ $json.indexes }}' },
				{
					continueOnFail: true,
					items: [{ indexes: 'idx-q3-reports' }, { indexes: 'idx a' }, { indexes: 'idx-product-handbook' }],
				},
			);

			expect(result.error).toBeUndefined();
			const output = result.output('Create');
			expect(output).toHaveLength(3);
			expect(output.map((item) => item.pairedItem)).toEqual([{ item: 0 }, { item: 1 }, { item: 2 }]);
			expect(output[0].json.index_ids).toEqual(['idx-q3-reports']);
			expect(output[2].json.index_ids).toEqual(['idx-product-handbook']);
			expect(output[1].json).toEqual({
				error: 'Indexes: "idx a" is not a valid index ID',
				description: expect.any(String),
			});
			expect(output[1].json.session_id).toBeUndefined();
			// The invalid item was never sent; the others were.
			expect(chatRequests(sandbox).map((request) => request.body)).toEqual([
				{ index_ids: ['idx-q3-reports'] },
				{ index_ids: ['idx-product-handbook'] },
			]);
			expectApiKeyNotLeaked(result, sandbox.apiKey);
		});

		it('turns a LlamaCloud refusal into an error item carrying the HTTP status', async () => {
			const result = await create(
				{ indexIds: '={{ $json.indexes }}' },
				{
					continueOnFail: true,
					items: [{ indexes: 'idx-q3-reports' }, { indexes: 'idx-unknown' }, { indexes: 'idx-support-tickets' }],
				},
			);

			expect(result.error).toBeUndefined();
			const output = result.output('Create');
			expect(output).toHaveLength(3);
			expect(output.map((item) => item.pairedItem)).toEqual([{ item: 0 }, { item: 1 }, { item: 2 }]);
			expect(output[1].json).toMatchObject({
				error: "LlamaCloud error 404: Index 'idx-unknown' not found",
				httpCode: '404',
			});
			expect(output[1].json.description).toMatch(/Check the ID/);
			expect(sandbox.stats.sessionsCreated).toBe(2);
			expectApiKeyNotLeaked(result, sandbox.apiKey);
		});
	});
});
