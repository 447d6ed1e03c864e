// The contract checker itself, and every operation of the node held to LlamaCloud's published
// contract under both API revisions: '2026-08' (the published spec) and 'current' (reference §8).
// The jest setup (test/contract/setup.ts) checks every exchange of every test file the same way;
// this file proves that the checker sees the node's whole surface and that it catches what it must.

import type { IDataObject } from 'n8n-workflow';

import { testCredential } from '../harness/credential-test';
import { logLines } from '../harness/logs';
import { listSearch, loadOptions } from '../harness/methods';
import { runWorkflow, type RunResult, type WorkflowNode } from '../harness/run-workflow';
import { byId, sandboxCredentials, useSandbox } from '../harness/support';
import type { RecordedRequest, Sandbox } from '../sandbox';
import { ContractChecker, formatViolation } from './checker';
import { contractCoverage, takeContractViolations } from './setup';
import { REVISIONS, specFor, type Revision } from './spec';

let sandbox: Sandbox;

useSandbox((started) => (sandbox = started));

const node = (name: string, parameters: IDataObject): WorkflowNode => ({ name, parameters });

function outputOf(result: RunResult, name: string): IDataObject[] {
	if (result.error) throw new Error(`The workflow failed: ${result.error.message}`);
	return result.output(name).map((item) => item.json);
}

async function run(nodes: WorkflowNode[]): Promise<RunResult> {
	return await runWorkflow({ credentials: sandboxCredentials(sandbox), items: [{}], nodes });
}

const OPERATIONS = Object.entries(specFor('2026-08').paths as Record<string, Record<string, { operationId: string }>>)
	.flatMap(([, item]) => Object.values(item).map((op) => op.operationId))
	// Creating indexes and reading one project are not part of what the node does.
	.filter((id) => id !== 'create_index_api_v1_indexes_post' && id !== 'get_project_api_v1_projects__project_id__get');

describe.each(REVISIONS)('every operation of the node, as it sends it, holds to the contract of revision %s', (revision) => {
	beforeEach(() => sandbox.setRevision(revision));

	it('Create → Send → Get → Get Summary → Get Many → Delete, Ask, the lists and the credential test', async () => {
		const { defaultProjectId, organizationId } = sandbox.fixtures;
		const project = byId(defaultProjectId);
		const conversation = await run([
			node('Create', { resource: 'session', operation: 'create', indexIds: ['idx-q3-reports'], project }),
			node('Send', { resource: 'message', operation: 'send', prompt: 'What grew in Q3?', project }),
			node('Get', { resource: 'session', operation: 'get', sessionId: byId('={{ $json.session_id }}'), project }),
			node('Summary', { resource: 'session', operation: 'getSummary', sessionId: byId('={{ $json.session_id }}'), project }),
			node('Many', { resource: 'session', operation: 'getAll', returnAll: true, project }),
			node('Delete', { resource: 'session', operation: 'delete', sessionId: byId('={{ $json.session_id }}'), project }),
		]);
		expect(outputOf(conversation, 'Send')[0].answer).toContain('12%');
		expect(outputOf(conversation, 'Delete')).toEqual([{ deleted: true, session_id: expect.any(String) }]);

		const ask = await run([
			node('Ask', {
				resource: 'message',
				operation: 'ask',
				prompt: 'Refund policy?',
				indexIds: ['idx-product-handbook'],
				options: { deleteSession: true },
			}),
		]);
		expect(outputOf(ask, 'Ask')[0]).toMatchObject({ is_error: false, session_deleted: true });

		// Unbound: the indexes come with the message.
		const unbound = await run([
			node('Create', { resource: 'session', operation: 'create', indexIds: [] }),
			node('Send', { resource: 'message', operation: 'send', prompt: 'SSO?', indexIds: ['idx-support-tickets'] }),
		]);
		expect(outputOf(unbound, 'Send')[0].answer).not.toBe('');

		const editor = { credentials: sandboxCredentials(sandbox), parameters: { organization: byId(organizationId), project } };
		expect((await loadOptions('getIndexes', editor)).length).toBeGreaterThan(0);
		expect((await listSearch('searchOrganizations', editor)).results.length).toBeGreaterThan(0);
		expect((await listSearch('searchProjects', editor)).results.length).toBeGreaterThan(0);
		expect((await listSearch('searchSessions', editor)).results.length).toBeGreaterThan(0);
		expect((await testCredential(sandboxCredentials(sandbox))).status).toBe('OK');

		// The checker saw every operation of the spec the node uses (violations fail this test in afterEach).
		const coverage = contractCoverage();
		expect(OPERATIONS.filter((id) => !coverage.has(id))).toEqual([]);
	});

	it('refusals: a 422 from LlamaCloud, a 404 and a 400 are in FastAPI shape', async () => {
		const tooLong = await fetch(`${sandbox.url}/api/v1/chat/ses-x/messages/stream`, {
			method: 'POST',
			headers: { Authorization: `Bearer ${sandbox.apiKey}`, 'Content-Type': 'application/json' },
			body: JSON.stringify({ index_ids: ['idx-q3-reports'], prompt: 'x'.repeat(1001) }),
		});
		expect(tooLong.status).toBe(422);
		// The request was outside the contract on purpose; the 422 the sandbox sent was not.
		expect(takeContractViolations()).toEqual([expect.stringContaining('request body.prompt: must NOT have more than 1000 characters')]);

		const missing = await run([node('Get', { resource: 'session', operation: 'get', sessionId: byId('ses-missing') })]);
		expect(missing.error?.message).toContain('404');
	});
});

describe('the current revision (reference §8), through the node', () => {
	beforeEach(() => sandbox.setRevision('current'));

	it("Create and Ask send 'Share Link Access' only when set, and output what LlamaCloud answers", async () => {
		const created = await run([
			node('Default', { resource: 'session', operation: 'create', indexIds: ['idx-q3-reports'] }),
			node('Query', { resource: 'session', operation: 'create', indexIds: ['idx-q3-reports'], options: { sharedAccess: 'query' } }),
		]);
		expect(outputOf(created, 'Default')[0].shared_access).toBe('read_only');
		expect(outputOf(created, 'Query')[0].shared_access).toBe('query');
		const creates = sandbox.requests.filter((r) => r.method === 'POST' && r.path === '/api/v1/chat');
		expect(creates.map((r) => r.body)).toEqual([{ index_ids: ['idx-q3-reports'] }, { index_ids: ['idx-q3-reports'], shared_access: 'query' }]);

		const asked = await run([
			node('Ask', {
				resource: 'message',
				operation: 'ask',
				prompt: 'Q3?',
				indexIds: ['idx-q3-reports'],
				options: { sharedAccess: 'read_only' },
			}),
		]);
		expect(outputOf(asked, 'Ask')[0].shared_access).toBe('read_only');
		expect(sandbox.requests.filter((r) => r.path === '/api/v1/chat').pop()?.body).toEqual({
			index_ids: ['idx-q3-reports'],
			shared_access: 'read_only',
		});
	});

	it('a turn that skipped an unqueryable index succeeds, lists it, and n8n logs a warning', async () => {
		sandbox.setIndexQueryable('idx-product-handbook', false);
		const result = await run([
			node('Ask', { resource: 'message', operation: 'ask', prompt: 'Q3 revenue and refunds?', indexIds: ['idx-q3-reports', 'idx-product-handbook'] }),
		]);
		const output = outputOf(result, 'Ask')[0];
		expect(output).toMatchObject({ is_error: false, skipped_index_ids: ['idx-product-handbook'] });
		expect(String(output.answer)).toContain('12%');
		const warning = logLines.find((line) => line.level === 'warn' && /could not query/.test(line.message));
		expect(warning?.metadata).toMatchObject({ skippedIndexIds: ['idx-product-handbook'] });
	});

	it('with Require All Indexes on, the same turn fails with what LlamaCloud said', async () => {
		sandbox.setIndexQueryable('idx-product-handbook', false);
		const result = await run([
			node('Ask', {
				resource: 'message',
				operation: 'ask',
				prompt: 'Q3 revenue and refunds?',
				indexIds: ['idx-q3-reports', 'idx-product-handbook'],
				options: { requireAllIndexes: true },
			}),
		]);
		expect(result.error?.message).toContain('idx-product-handbook cannot be queried');
		const [stream] = sandbox.requests.filter((r) => r.path.endsWith('/messages/stream'));
		expect(stream.body).toMatchObject({ require_all_indexes: true });
	});

	it('a turn with every index queryable lists none skipped and warns about nothing', async () => {
		const result = await run([node('Ask', { resource: 'message', operation: 'ask', prompt: 'Q3?', indexIds: ['idx-q3-reports'] })]);
		expect(sandbox.requests.length).toBeGreaterThan(0);
		expect(outputOf(result, 'Ask')[0]).not.toHaveProperty('skipped_index_ids');
		expect(logLines.filter((line) => line.level === 'warn')).toEqual([]);
	});
});

describe('revision 2026-08: the fields of the newer revision are absent and the node does without them', () => {
	it('no shared_access, no skipped_index_ids in the output; an unqueryable index is skipped silently', async () => {
		sandbox.setRevision('2026-08');
		sandbox.setIndexQueryable('idx-product-handbook', false);
		const result = await run([
			node('Ask', { resource: 'message', operation: 'ask', prompt: 'Q3?', indexIds: ['idx-q3-reports', 'idx-product-handbook'] }),
		]);
		const output = outputOf(result, 'Ask')[0];
		expect(output.is_error).toBe(false);
		expect(output).not.toHaveProperty('shared_access');
		expect(output).not.toHaveProperty('skipped_index_ids');
	});

	it("setting 'Share Link Access' against a 2026-08 deployment is reported as outside its contract", async () => {
		sandbox.setRevision('2026-08');
		await run([node('Create', { resource: 'session', operation: 'create', indexIds: [], options: { sharedAccess: 'query' } })]);
		expect(takeContractViolations()).toEqual([
			'LlamaCloud contract (2026-08): POST /api/v1/chat (create_session_api_v1_chat_post): request body.shared_access: is not in the contract (no such field)',
		]);
	});
});

describe('the checker catches what is outside the contract, naming the operation and the field', () => {
	const request = (overrides: Partial<RecordedRequest>): RecordedRequest => ({
		method: 'POST',
		path: '/api/v1/chat',
		query: {},
		rawQuery: '',
		headers: { 'content-type': 'application/json' },
		body: undefined,
		rawBody: '{}',
		...overrides,
	});
	const json = (status: number, body: unknown) => ({
		status,
		headers: { 'content-type': 'application/json' },
		body: JSON.stringify(body),
		complete: true,
	});
	const session = { session_id: 'ses-1', last_updated_at: '2026-04-22T12:34:41.342245', index_ids: null, generated_title: null, job_metadata: null };

	function check(revision: Revision, act: (checker: ContractChecker) => void): string[] {
		const checker = new ContractChecker({ revision: () => revision, requests: true });
		act(checker);
		return checker.take().map(formatViolation);
	}

	const CREATE = 'POST /api/v1/chat (create_session_api_v1_chat_post)';
	const STREAM = 'POST /api/v1/chat/{session_id}/messages/stream (stream_messages_api_v1_chat__session_id__messages_stream_post)';
	const LIST = 'GET /api/v1/chat (list_sessions_api_v1_chat_get)';

	it.each<[string, Revision, (c: ContractChecker) => void, string]>([
		['more than 10 indexes on create', '2026-08', (c) => c.request(request({ rawBody: JSON.stringify({ index_ids: Array(11).fill('i') }) })), `${CREATE}: request body.index_ids: must NOT have more than 10 items`],
		['an empty index_ids on a message', '2026-08', (c) => c.request(request({ path: '/api/v1/chat/ses-1/messages/stream', rawBody: '{"index_ids":[],"prompt":"hi"}' })), `${STREAM}: request body.index_ids: must NOT have fewer than 1 items`],
		['a missing prompt', '2026-08', (c) => c.request(request({ path: '/api/v1/chat/ses-1/messages/stream', rawBody: '{"index_ids":["i"]}' })), `${STREAM}: request body.prompt: is required but missing`],
		['require_all_indexes in 2026-08', '2026-08', (c) => c.request(request({ path: '/api/v1/chat/ses-1/messages/stream', rawBody: '{"index_ids":["i"],"prompt":"hi","require_all_indexes":true}' })), `${STREAM}: request body.require_all_indexes: is not in the contract (no such field)`],
		['a bad shared_access value', 'current', (c) => c.request(request({ rawBody: '{"shared_access":"write"}' })), `${CREATE}: request body.shared_access: must be equal to one of the allowed values`],
		['a page_size that is not an integer', '2026-08', (c) => c.request(request({ method: 'GET', query: { page_size: '2.5' }, rawBody: '' })), `${LIST}: query page_size: must be integer (sent "2.5")`],
		['an empty organization_id', '2026-08', (c) => c.request(request({ method: 'GET', query: { organization_id: '' }, rawBody: '' })), `${LIST}: query organization_id: must match format "uuid" (sent "")`],
		['an unknown query parameter', '2026-08', (c) => c.request(request({ method: 'GET', query: { cursor: 'x' }, rawBody: '' })), `${LIST}: query cursor: is not a parameter of this operation`],
		['a body on a GET', '2026-08', (c) => c.request(request({ method: 'GET', rawBody: '{}' })), `${LIST}: request body: is sent, but the operation takes none`],
		['a path outside the published API', '2026-08', (c) => c.request(request({ method: 'GET', path: '/api/v2/projects', rawBody: '' })), 'GET /api/v2/projects: request: is not an operation of the published API'],
		['Create answering 200', '2026-08', (c) => c.response(request({}), json(200, session), undefined), `${CREATE}: response status: 200 is not a documented response (documented: 201, 422)`],
		['a session without session_id', '2026-08', (c) => c.response(request({}), json(201, { ...session, session_id: undefined }), undefined), `${CREATE}: response body.session_id: is required but missing`],
		['shared_access in a 2026-08 session', '2026-08', (c) => c.response(request({}), json(201, { ...session, shared_access: 'read_only' }), undefined), `${CREATE}: response body.shared_access: is not in the contract (no such field)`],
		['no shared_access in a current session', 'current', (c) => c.response(request({}), json(201, session), undefined), `${CREATE}: response body.shared_access: is required but missing`],
		['a 422 item without msg', '2026-08', (c) => c.response(request({}), json(422, { detail: [{ loc: ['body'], type: 'missing' }] }), undefined), `${CREATE}: response body.detail[0].msg: is required but missing`],
		['a 404 whose detail is not a string', '2026-08', (c) => c.response(request({ method: 'GET', path: '/api/v1/chat/x' }), json(404, { detail: { a: 1 } }), undefined), 'GET /api/v1/chat/{session_id} (get_full_session_api_v1_chat__session_id__get): response body.detail: must be string'],
		['a Delete answering 204 with a body', '2026-08', (c) => c.response(request({ method: 'DELETE', path: '/api/v1/chat/x', rawBody: '' }), json(204, {}), undefined), 'DELETE /api/v1/chat/{session_id} (delete_session_api_v1_chat__session_id__delete): response body: must be empty for 204, got 2 bytes'],
		['a delta framed as `event: text_delta`', '2026-08', (c) => c.sseMessage(request({ path: '/api/v1/chat/s/messages/stream' }), { event: 'text_delta', data: '{"type":"text_delta","content":"a"}' }, undefined), `${STREAM}: stream event 1 (text_delta): SSE event field is "text_delta", the guide documents "delta"`],
		['a stop without usage', '2026-08', (c) => c.sseMessage(request({ path: '/api/v1/chat/s/messages/stream' }), { event: 'message', data: '{"type":"stop","is_error":false,"error":null}' }, undefined), `${STREAM}: stream event 1.usage: is required but missing`],
		['skipped_index_ids in a 2026-08 stop', '2026-08', (c) => c.sseMessage(request({ path: '/api/v1/chat/s/messages/stream' }), { event: 'message', data: '{"type":"stop","is_error":false,"error":null,"usage":{},"skipped_index_ids":[]}' }, undefined), `${STREAM}: stream event 1.skipped_index_ids: is not in the contract (no such field)`],
		['a stream that ends without stop', '2026-08', (c) => c.response(request({ path: '/api/v1/chat/s/messages/stream' }), { status: 200, headers: { 'content-type': 'text/event-stream' }, body: '', complete: true }, undefined), `${STREAM}: response stream: ended without a stop event`],
	])('%s', (_title, revision, act, expected) => {
		expect(check(revision, act)).toEqual([`LlamaCloud contract (${revision}): ${expected}`]);
	});

	it('passes what the contract allows: the newer fields in the current revision, and responses a test faked on purpose', () => {
		expect(
			check('current', (c) => {
				c.request(request({ rawBody: '{"index_ids":null,"shared_access":"query"}' }));
				c.response(request({}), json(201, { ...session, shared_access: 'query' }), undefined);
				c.sseMessage(request({ path: '/api/v1/chat/s/messages/stream' }), { event: 'message', data: '{"type":"stop","is_error":false,"error":null,"usage":{"turns":1},"skipped_index_ids":["i"]}' }, undefined);
				c.response(request({}), json(503, 'Service Unavailable'), 'injected fault (status)');
			}),
		).toEqual([]);
	});
});
