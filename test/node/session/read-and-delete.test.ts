// Specification of "Session → Get", "Get Summary" and "Delete", run through n8n's real execution
// engine against the sandbox.

import type { IDataObject, INodeParameters } from 'n8n-workflow';

import { logLines } from '../../harness/logs';
import { runWorkflow, type RunResult, type WorkflowNode } from '../../harness/run-workflow';
import { useSandbox } from '../../harness/support';
import type { Sandbox } from '../../sandbox';
import {
	byId,
	chatRequests,
	expectApiKeyNotLeaked,
	sandboxCredentials,
	seedSession,
	workflowError,
} from './support';

let sandbox: Sandbox;

useSandbox((started) => (sandbox = started));


const PROMPT = 'What were the main findings in Q3?';

async function runOne(
	operation: 'get' | 'getSummary' | 'delete',
	parameters: INodeParameters,
	items: IDataObject[] = [{}],
): Promise<RunResult> {
	return await runWorkflow({
		credentials: sandboxCredentials(sandbox),
		items,
		nodes: [{ name: 'Session', parameters: { resource: 'session', operation, ...parameters } }],
	});
}

/** The session as the API returns it from GET /chat/{id}: the stored record without sandbox internals. */
function storedFull(sessionId: string): IDataObject {
	const { project_id, index_set_locked, ...full } = sandbox.getSession(sessionId) as IDataObject;
	expect(typeof project_id).toBe('string');
	expect(typeof index_set_locked).toBe('boolean');
	return full;
}

function storedSummary(sessionId: string): IDataObject {
	const { events, ...summary } = storedFull(sessionId);
	expect(Array.isArray(events)).toBe(true);
	return summary;
}

/** A session with one completed turn, and a clean request log. */
async function sessionWithHistory(projectId = sandbox.fixtures.defaultProjectId): Promise<string> {
	const indexIds = projectId === sandbox.fixtures.defaultProjectId ? ['idx-q3-reports'] : ['idx-onboarding-faq'];
	const sessionId = await seedSession(sandbox, { projectId, indexIds, prompt: PROMPT });
	sandbox.clearRequests();
	return sessionId;
}

describe('Session → Get', () => {
	it('outputs the full session with its conversation history, as LlamaCloud returned it', async () => {
		const sessionId = await sessionWithHistory();

		const result = await runOne('get', { sessionId: byId(sessionId), project: byId(sandbox.fixtures.defaultProjectId) });

		expect(result.error).toBeUndefined();
		const output = result.output('Session');
		expect(output).toHaveLength(1);
		expect(output[0].pairedItem).toEqual({ item: 0 });
		const session = output[0].json;
		expect(session).toEqual(storedFull(sessionId));
		expect(session.generated_title).toBe(PROMPT);
		expect(session.job_metadata).toMatchObject({ is_error: false, error: null });
		const events = session.events as IDataObject[];
		expect(events[0]).toEqual({ type: 'user_input', content: PROMPT });
		expect(events.map((event) => event.type)).toEqual(expect.arrayContaining(['tool_call', 'tool_result', 'text', 'stop']));

		const [request] = chatRequests(sandbox);
		expect(request.method).toBe('GET');
		expect(request.path).toBe(`/api/v1/chat/${sessionId}`);
		expect(request.query).toEqual({ project_id: sandbox.fixtures.defaultProjectId });
		expect(request.headers.authorization).toBe(`Bearer ${sandbox.apiKey}`);
	});

	it('leaves the history out when "Include Events" is off, keeping every other field', async () => {
		const sessionId = await sessionWithHistory();

		const result = await runOne('get', { sessionId: byId(sessionId), options: { includeEvents: false } });

		expect(result.error).toBeUndefined();
		const session = result.output('Session')[0].json;
		expect(session).not.toHaveProperty('events');
		expect(session).toEqual(storedSummary(sessionId));
	});

	it('accepts a session picked from the list', async () => {
		const sessionId = await sessionWithHistory();

		const result = await runOne('get', { sessionId: byId(sessionId, 'list') });

		expect(result.error).toBeUndefined();
		expect(result.output('Session')[0].json.session_id).toBe(sessionId);
	});

	it('finds a session only in its own project: another project answers 404', async () => {
		const sessionId = await sessionWithHistory(sandbox.fixtures.secondProjectId);

		const inOwnProject = await runOne('get', { sessionId: byId(sessionId), project: byId(sandbox.fixtures.secondProjectId) });
		const inDefaultProject = await runOne('get', { sessionId: byId(sessionId) });

		expect(inOwnProject.error).toBeUndefined();
		expect(inOwnProject.output('Session')[0].json.session_id).toBe(sessionId);
		const error = workflowError(inDefaultProject, sandbox.apiKey);
		expect(error.httpCode).toBe('404');
		expect(error.message).toBe('LlamaCloud error 404: Session not found');
		expect(error.description).toMatch(/another project/);
	});

	it('reads one session per input item, each paired with its item', async () => {
		const first = await sessionWithHistory();
		const second = await seedSession(sandbox, { indexIds: ['idx-product-handbook'] });
		sandbox.clearRequests();

		const result = await runOne('get', {}, [{ session_id: first }, { session_id: second }]);

		expect(result.error).toBeUndefined();
		const output = result.output('Session');
		expect(output.map((item) => [item.json.session_id, item.pairedItem])).toEqual([
			[first, { item: 0 }],
			[second, { item: 1 }],
		]);
		expect(output[1].json.events).toEqual([]);
	});

	it('retries a read after a temporary server error', async () => {
		const sessionId = await sessionWithHistory();
		sandbox.injectFault({
			method: 'GET',
			path: `/api/v1/chat/${sessionId}`,
			action: { type: 'status', status: 503, headers: { 'retry-after': '0' } },
		});

		const result = await runOne('get', { sessionId: byId(sessionId), options: { maxRetries: 1 } });

		expect(result.error).toBeUndefined();
		expect(result.output('Session')[0].json.session_id).toBe(sessionId);
		expect(chatRequests(sandbox)).toHaveLength(2);
		// The retry is logged for the operator, without the API key.
		expect(logLines).toEqual([expect.objectContaining({ level: 'warn', message: expect.stringContaining('retrying') })]);
		expectApiKeyNotLeaked(result, sandbox.apiKey);
	});

	// Regression: n8n reports the network code in NodeApiError.httpCode; reads retry on it.
	it('retries a read after the connection was dropped', async () => {
		const sessionId = await sessionWithHistory();
		sandbox.injectFault({ method: 'GET', path: `/api/v1/chat/${sessionId}`, action: { type: 'drop' } });

		const result = await runOne('get', { sessionId: byId(sessionId), options: { maxRetries: 1 } });

		expect(result.error).toBeUndefined();
		expect(chatRequests(sandbox)).toHaveLength(2);
	});
});

describe('Session → Get Summary', () => {
	it('outputs the title and last-run metadata without the history', async () => {
		const sessionId = await sessionWithHistory();

		const result = await runOne('getSummary', { sessionId: byId(sessionId), project: byId(sandbox.fixtures.defaultProjectId) });

		expect(result.error).toBeUndefined();
		const summary = result.output('Session')[0].json;
		expect(summary).toEqual(storedSummary(sessionId));
		expect(summary).not.toHaveProperty('events');
		expect(summary.generated_title).toBe(PROMPT);
		expect(summary.job_metadata).toMatchObject({ is_error: false, turns: expect.any(Number) });

		const [request] = chatRequests(sandbox);
		expect(request.method).toBe('GET');
		expect(request.path).toBe(`/api/v1/chat/${sessionId}/summary`);
		expect(request.query).toEqual({ project_id: sandbox.fixtures.defaultProjectId });
	});

	it('reports an unknown session as a 404 with LlamaCloud\'s detail', async () => {
		const result = await runOne('getSummary', { sessionId: byId('ses-does-not-exist') });

		const error = workflowError(result, sandbox.apiKey);
		expect(error.name).toBe('NodeApiError');
		expect(error.httpCode).toBe('404');
		expect(error.message).toBe('LlamaCloud error 404: Session not found');
		expect(error.description).toMatch(/Check the ID/);
	});
});

describe('Session → Delete', () => {
	it('deletes the session and outputs { deleted: true, session_id }', async () => {
		const sessionId = await sessionWithHistory();

		const result = await runOne('delete', { sessionId: byId(sessionId), project: byId(sandbox.fixtures.defaultProjectId) });

		expect(result.error).toBeUndefined();
		expect(result.output('Session')).toEqual([{ json: { deleted: true, session_id: sessionId }, pairedItem: { item: 0 } }]);
		expect(sandbox.getSession(sessionId)).toBeUndefined();
		expect(sandbox.stats.sessionsDeleted).toBe(1);

		const [request] = chatRequests(sandbox);
		expect(request.method).toBe('DELETE');
		expect(request.path).toBe(`/api/v1/chat/${sessionId}`);
		expect(request.query).toEqual({ project_id: sandbox.fixtures.defaultProjectId });
		expect(request.headers.authorization).toBe(`Bearer ${sandbox.apiKey}`);
	});

	it('leaves other sessions alone', async () => {
		const doomed = await sessionWithHistory();
		const kept = await seedSession(sandbox);

		await runOne('delete', { sessionId: byId(doomed) });

		expect(sandbox.getSession(doomed)).toBeUndefined();
		expect(sandbox.getSession(kept)).toBeDefined();
	});

	it('a deleted session is gone: Get afterwards fails with 404 and LlamaCloud\'s detail', async () => {
		const sessionId = await sessionWithHistory();
		await runOne('delete', { sessionId: byId(sessionId) });

		const result = await runOne('get', { sessionId: byId(sessionId) });

		const error = workflowError(result, sandbox.apiKey);
		expect(error.name).toBe('NodeApiError');
		expect(error.httpCode).toBe('404');
		expect(error.message).toBe('LlamaCloud error 404: Session not found');
		expect(error.description).toMatch(/deleted/);
	});

	it('deleting a session that does not exist fails with 404 instead of claiming success', async () => {
		const result = await runOne('delete', { sessionId: byId('ses-never-existed') });

		const error = workflowError(result, sandbox.apiKey);
		expect(error.httpCode).toBe('404');
		expect(error.message).toContain('Session not found');
		expect(result.output('Session')).toEqual([]);
		expect(sandbox.stats.sessionsDeleted).toBe(0);
	});
});

describe('session IDs', () => {
	it.each([
		['an ID with a colon', 'ses:abc', '/api/v1/chat/ses%3Aabc'],
		['an ID with a tilde', 'ses~abc', '/api/v1/chat/ses~abc'],
		['an ID with dots', 'ses.v2..1', '/api/v1/chat/ses.v2..1'],
		['a UUID', '0b6f1c2a-3b4d-4e5f-8a71-0b2c3d4e5f60', '/api/v1/chat/0b6f1c2a-3b4d-4e5f-8a71-0b2c3d4e5f60'],
	])('accepts %s and sends it percent-encoded in the path', async (_kind, sessionId, path) => {
		const result = await runOne('getSummary', { sessionId: byId('={{ $json.id }}') }, [{ id: sessionId }]);

		// The sandbox has no such session; what matters is that the request was made, correctly encoded.
		expect(workflowError(result, sandbox.apiKey).message).toBe('LlamaCloud error 404: Session not found');
		expect(chatRequests(sandbox).map((request) => request.path)).toEqual([`${path}/summary`]);
	});

	it('trims spaces around a mapped session ID', async () => {
		const sessionId = await sessionWithHistory();

		const result = await runOne('get', { sessionId: byId('={{ $json.id }}') }, [{ id: `  ${sessionId}\n` }]);

		expect(result.error).toBeUndefined();
		expect(chatRequests(sandbox)[0].path).toBe(`/api/v1/chat/${sessionId}`);
	});

	it.each([
		['a space', 'ses 1'],
		['a slash', 'ses-1/summary'],
		['a path traversal', '../projects'],
		['a query string', 'ses-1?project_id=x'],
		['a percent sign', 'ses%2F1'],
	])('rejects an ID with %s before sending anything', async (_kind, sessionId) => {
		const result = await runOne('delete', { sessionId: byId('={{ $json.id }}') }, [{ id: sessionId }]);

		const error = workflowError(result, sandbox.apiKey);
		expect(error.name).toBe('NodeOperationError');
		expect(error.message).toBe(`Session "${sessionId}" is not a valid ID`);
		expect(error.description).toMatch(/no spaces/);
		expect(sandbox.requests).toEqual([]);
	});

	it.each([
		['an empty', ''],
		['a missing', undefined],
	])('reports %s session ID as required, before sending anything', async (_kind, id) => {
		// No Session parameter: the default mapping {{ $json.session_id }} is used.
		const result = await runOne('get', {}, [{ session_id: id }]);

		const error = workflowError(result, sandbox.apiKey);
		expect(error.name).toBe('NodeOperationError');
		expect(error.message).toMatch(/^Session is required/);
		expect(error.description).toContain('$json.session_id');
		expect(sandbox.requests).toEqual([]);
	});

	it('refuses to run with an ID containing a space typed "By ID" (n8n checks the format), sending nothing', async () => {
		await expect(runOne('get', { sessionId: byId('ses 1') })).rejects.toThrow('The workflow has issues');
		expect(sandbox.requests).toEqual([]);
	});
});

describe('chaining Create → Get Summary → Delete', () => {
	it('passes each session on through the default Session mapping {{ $json.session_id }}', async () => {
		const { secondProjectId } = sandbox.fixtures;
		const project = byId(secondProjectId);
		const nodes: WorkflowNode[] = [
			{ name: 'Create', parameters: { resource: 'session', operation: 'create', indexIds: ['idx-release-notes'], project } },
			{ name: 'Summary', parameters: { resource: 'session', operation: 'getSummary', project } },
			{ name: 'Delete', parameters: { resource: 'session', operation: 'delete', project } },
		];

		const result = await runWorkflow({ credentials: sandboxCredentials(sandbox), items: [{}, {}], nodes });

		expect(result.error).toBeUndefined();
		const created = result.output('Create').map((item) => item.json.session_id as string);
		expect(created).toHaveLength(2);
		expect(new Set(created).size).toBe(2);

		const summaries = result.output('Summary');
		expect(summaries.map((item) => item.json.session_id)).toEqual(created);
		expect(summaries.map((item) => item.json.index_ids)).toEqual([['idx-release-notes'], ['idx-release-notes']]);
		expect(summaries.map((item) => item.pairedItem)).toEqual([{ item: 0 }, { item: 1 }]);

		expect(result.output('Delete')).toEqual([
			{ json: { deleted: true, session_id: created[0] }, pairedItem: { item: 0 } },
			{ json: { deleted: true, session_id: created[1] }, pairedItem: { item: 1 } },
		]);
		for (const sessionId of created) expect(sandbox.getSession(sessionId)).toBeUndefined();
		expect(sandbox.stats).toMatchObject({ sessionsCreated: 2, sessionsDeleted: 2 });

		expect(chatRequests(sandbox).map((request) => `${request.method} ${request.path}?${request.rawQuery}`)).toEqual([
			`POST /api/v1/chat?project_id=${secondProjectId}`,
			`POST /api/v1/chat?project_id=${secondProjectId}`,
			`GET /api/v1/chat/${created[0]}/summary?project_id=${secondProjectId}`,
			`GET /api/v1/chat/${created[1]}/summary?project_id=${secondProjectId}`,
			`DELETE /api/v1/chat/${created[0]}?project_id=${secondProjectId}`,
			`DELETE /api/v1/chat/${created[1]}?project_id=${secondProjectId}`,
		]);
	});
});
