/* eslint-disable @n8n/community-nodes/no-restricted-globals, @n8n/community-nodes/no-restricted-imports -- Node.js test/dev code, never run inside n8n */
// Spec tests for the LlamaCloud sandbox, over raw HTTP. They pin the sandbox to
// the behaviour described in the API reference (shared/llamacloud-chat-api.md) (§2–§7, §9, §10).

import http from 'node:http';

import { startSandbox, type Sandbox, type StreamBehaviour } from './index';

let sb: Sandbox;

beforeAll(async () => {
	// The published spec's revision, whatever SANDBOX_REVISION says: these tests pin its shapes.
	sb = await startSandbox({ requestsFrom: 'tests', revision: '2026-08' });
});

afterAll(async () => {
	await sb.close();
});

beforeEach(() => {
	sb.reset();
});

interface ApiResponse {
	status: number;
	headers: Headers;
	text: string;
	// eslint-disable-next-line @typescript-eslint/no-explicit-any -- loosely-typed JSON for assertions
	json: any;
}

interface ApiOptions {
	body?: unknown;
	rawBody?: string;
	headers?: Record<string, string>;
	auth?: boolean;
	signal?: AbortSignal;
}

async function api(method: string, path: string, o: ApiOptions = {}): Promise<ApiResponse> {
	const headers: Record<string, string> = { ...(o.headers ?? {}) };
	if (o.auth !== false) headers.Authorization = `Bearer ${sb.apiKey}`;
	let body: string | undefined = o.rawBody;
	if (o.body !== undefined) {
		body = JSON.stringify(o.body);
		headers['Content-Type'] = 'application/json';
	}
	const res = await fetch(sb.url + path, {
		method,
		headers,
		body,
		signal: o.signal,
		redirect: 'manual',
	});
	const text = await res.text();
	let json: unknown;
	try {
		json = text ? JSON.parse(text) : undefined;
	} catch {
		json = undefined;
	}
	return { status: res.status, headers: res.headers, text, json };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- loosely-typed JSON for assertions
type AnyObj = any;

/** Minimal SSE parser (blank-line separated, comments dropped, data lines joined, [DONE] skipped). */
function parseSse(text: string): Array<{ event?: string; data: AnyObj }> {
	const out: Array<{ event?: string; data: AnyObj }> = [];
	for (const block of text.replace(/\r\n/g, '\n').split('\n\n')) {
		let event: string | undefined;
		const data: string[] = [];
		for (const line of block.split('\n')) {
			if (line.startsWith(':') || line === '') continue;
			if (line.startsWith('event:')) event = line.slice(6).trim();
			else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
		}
		if (!data.length) continue;
		const joined = data.join('\n');
		if (joined === '[DONE]') continue;
		out.push({ event, data: JSON.parse(joined) });
	}
	return out;
}

const q = (params: Record<string, string>): string => '?' + new URLSearchParams(params).toString();

async function createSession(indexIds?: string[] | null, query = ''): Promise<AnyObj> {
	const r = await api(
		'POST',
		`/api/v1/chat${query}`,
		indexIds === undefined ? {} : { body: { index_ids: indexIds } },
	);
	expect(r.status).toBe(201);
	return r.json;
}

async function stream(
	sessionId: string,
	prompt: string,
	indexIds: string[],
	query = '',
): Promise<ApiResponse> {
	return api('POST', `/api/v1/chat/${sessionId}/messages/stream${query}`, {
		body: { index_ids: indexIds, prompt },
	});
}

/** Reads a body until it ends or errors, returning what arrived. */
async function readUntilError(res: Response): Promise<{ text: string; error?: unknown }> {
	const reader = (res.body as ReadableStream<Uint8Array>).getReader();
	const dec = new TextDecoder();
	let text = '';
	try {
		for (;;) {
			const { done, value } = await reader.read();
			if (done) return { text };
			text += dec.decode(value, { stream: true });
		}
	} catch (error) {
		return { text, error };
	}
}

describe('authentication (§2, §10.1)', () => {
	test('missing Authorization header -> 401 Not authenticated', async () => {
		const r = await api('GET', '/api/v1/projects', { auth: false });
		expect(r.status).toBe(401);
		expect(r.headers.get('content-type')).toMatch(/^application\/json/);
		expect(r.json).toEqual({ detail: 'Not authenticated' });
	});

	test('malformed Authorization header -> 401 Not authenticated', async () => {
		for (const value of [`Basic ${sb.apiKey}`, 'Bearer', sb.apiKey]) {
			const r = await api('GET', '/api/v1/chat', {
				auth: false,
				headers: { Authorization: value },
			});
			expect(r.status).toBe(401);
			expect(r.json).toEqual({ detail: 'Not authenticated' });
		}
	});

	test('wrong key -> 401 Invalid authentication token, and the key is never echoed', async () => {
		const r = await api('GET', '/api/v1/chat', {
			auth: false,
			headers: { Authorization: 'Bearer llx-wrong-key-123' },
		});
		expect(r.status).toBe(401);
		expect(r.json).toEqual({ detail: 'Invalid authentication token' });
		expect(r.text).not.toContain('llx-wrong-key-123');
	});

	test('SDK headers (X-Stainless-*, User-Agent, Accept) are ignored', async () => {
		const r = await api('GET', '/api/v1/projects', {
			headers: {
				'X-Stainless-Retry-Count': '0',
				'X-Stainless-Lang': 'js',
				'User-Agent': 'LlamaCloud/JS 2.16.0',
				Accept: 'application/json',
			},
		});
		expect(r.status).toBe(200);
		expect(r.text).not.toContain(sb.apiKey);
	});

	test('unknown route -> 404 Not Found; wrong method -> 405', async () => {
		expect((await api('GET', '/api/v1/nope')).json).toEqual({ detail: 'Not Found' });
		const r = await api('PUT', '/api/v1/chat');
		expect(r.status).toBe(405);
		expect(r.json).toEqual({ detail: 'Method Not Allowed' });
	});

	test('trailing slash -> 307 to the canonical path (FastAPI redirect_slashes)', async () => {
		const r = await api('GET', '/api/v1/chat/?page_size=1');
		expect(r.status).toBe(307);
		expect(r.headers.get('location')).toBe('/api/v1/chat?page_size=1');
	});
});

describe('scope validation (§3, §10.3)', () => {
	test('malformed project_id -> 422 uuid_parsing in FastAPI shape', async () => {
		const r = await api('GET', '/api/v1/chat?project_id=not-a-uuid');
		expect(r.status).toBe(422);
		expect(r.json.detail).toHaveLength(1);
		expect(r.json.detail[0]).toMatchObject({ loc: ['query', 'project_id'], type: 'uuid_parsing' });
		expect(r.json.detail[0].msg).toMatch(/^Input should be a valid UUID/);
	});

	test('empty ?organization_id= (SDK null quirk) -> 422', async () => {
		const r = await api('POST', '/api/v1/chat?organization_id=', { body: {} });
		expect(r.status).toBe(422);
		expect(r.json.detail[0].loc).toEqual(['query', 'organization_id']);
		expect(sb.stats.sessionsCreated).toBe(0);
	});

	test('unknown project uuid -> 404, forbidden project -> 403, foreign org -> 403', async () => {
		const unknown = await api(
			'GET',
			`/api/v1/chat${q({ project_id: '11111111-2222-4333-8444-555555555555' })}`,
		);
		expect(unknown.status).toBe(404);
		expect(unknown.json).toEqual({ detail: 'Project not found' });

		const forbidden = await api(
			'GET',
			`/api/v1/chat${q({ project_id: sb.fixtures.forbiddenProjectId })}`,
		);
		expect(forbidden.status).toBe(403);
		expect(typeof forbidden.json.detail).toBe('string');

		const foreignOrg = await api(
			'GET',
			`/api/v1/indexes${q({ organization_id: sb.fixtures.otherOrganizationId })}`,
		);
		expect(foreignOrg.status).toBe(403);
	});

	test('project outside the given organization -> 404; matching org+project -> 200', async () => {
		const mismatch = await api(
			'GET',
			`/api/v1/chat${q({ organization_id: sb.fixtures.organizationId, project_id: sb.fixtures.forbiddenProjectId })}`,
		);
		expect(mismatch.status).toBe(404);
		const ok = await api(
			'GET',
			`/api/v1/chat${q({ organization_id: sb.fixtures.organizationId, project_id: sb.fixtures.secondProjectId })}`,
		);
		expect(ok.status).toBe(200);
	});

	test('page_size must be an integer; the spec sets no bounds, so any integer is served', async () => {
		for (const v of ['abc', '', '2.5']) {
			const r = await api('GET', `/api/v1/chat?page_size=${v}`);
			expect(r.status).toBe(422);
			expect(r.json.detail).toEqual([
				{
					type: 'int_parsing',
					loc: ['query', 'page_size'],
					msg: 'Input should be a valid integer, unable to parse string as an integer',
					input: v,
				},
			]);
		}
		sb.addSessions(sb.fixtures.defaultProjectId, 120);
		expect((await api('GET', '/api/v1/chat?page_size=101')).json.items).toHaveLength(101);
		// No page_size, or one below 1: the sandbox's default page (50).
		expect((await api('GET', '/api/v1/chat')).json.items).toHaveLength(50);
		expect((await api('GET', '/api/v1/chat?page_size=0')).json.items).toHaveLength(50);
	});

	test('pageSizeLimit (an explicit option) answers 422 outside [1, max]', async () => {
		const limited = await startSandbox({ requestsFrom: 'tests', pageSizeLimit: { max: 100 } });
		try {
			const get = (v: string) =>
				fetch(`${limited.url}/api/v1/chat?page_size=${v}`, {
					headers: { Authorization: `Bearer ${limited.apiKey}` },
				}).then(async (r) => ({ status: r.status, json: (await r.json()) as AnyObj }));
			const over = await get('101');
			expect(over.status).toBe(422);
			expect(over.json.detail[0]).toMatchObject({ type: 'less_than_equal', ctx: { le: 100 } });
			expect((await get('0')).json.detail[0]).toMatchObject({ type: 'greater_than_equal', ctx: { ge: 1 } });
			expect((await get('100')).status).toBe(200);
		} finally {
			await limited.close();
		}
	});
});

describe('projects, organizations, indexes (§9)', () => {
	test('GET /api/v1/projects returns a bare array of accessible projects with filters', async () => {
		const all = await api('GET', '/api/v1/projects');
		expect(Array.isArray(all.json)).toBe(true);
		const ids = all.json.map((p: AnyObj) => p.id);
		expect(ids).toEqual([sb.fixtures.defaultProjectId, sb.fixtures.secondProjectId]);
		expect(all.json[0]).toMatchObject({
			organization_id: sb.fixtures.organizationId,
			is_default: true,
			name: 'Default',
		});

		const byName = await api('GET', `/api/v1/projects${q({ project_name: 'Customer Support' })}`);
		expect(byName.json.map((p: AnyObj) => p.id)).toEqual([sb.fixtures.secondProjectId]);
		const byOrg = await api(
			'GET',
			`/api/v1/projects${q({ organization_id: sb.fixtures.organizationId })}`,
		);
		expect(byOrg.json).toHaveLength(2);

		const one = await api('GET', `/api/v1/projects/${sb.fixtures.secondProjectId}`);
		expect(one.json.id).toBe(sb.fixtures.secondProjectId);
		expect((await api('GET', `/api/v1/projects/${sb.fixtures.forbiddenProjectId}`)).status).toBe(
			403,
		);
		expect((await api('GET', '/api/v1/projects/xyz')).json.detail[0].loc).toEqual([
			'path',
			'project_id',
		]);
	});

	test('GET /api/v2/projects is cursor-paginated', async () => {
		const p1 = await api('GET', '/api/v2/projects?page_size=1');
		expect(p1.json.items).toHaveLength(1);
		expect(typeof p1.json.next_page_token).toBe('string');
		const p2 = await api(
			'GET',
			`/api/v2/projects?page_size=1&page_token=${p1.json.next_page_token}`,
		);
		expect(p2.json.items[0].id).toBe(sb.fixtures.secondProjectId);
		expect(p2.json.next_page_token).toBeUndefined();
	});

	test('GET /api/v1/organizations returns the member organizations', async () => {
		const r = await api('GET', '/api/v1/organizations');
		expect(r.status).toBe(200);
		expect(r.json).toEqual([
			expect.objectContaining({ id: sb.fixtures.organizationId, name: 'Acme Research' }),
		]);
	});

	test('organizationsEndpoint:false -> 404 {"detail":"Not Found"}', async () => {
		const other = await startSandbox({ organizationsEndpoint: false, requestsFrom: 'tests' });
		try {
			const res = await fetch(`${other.url}/api/v1/organizations`, {
				headers: { Authorization: `Bearer ${other.apiKey}` },
			});
			expect(res.status).toBe(404);
			expect(await res.json()).toEqual({ detail: 'Not Found' });
			const projects = await fetch(`${other.url}/api/v1/projects`, {
				headers: { Authorization: `Bearer ${other.apiKey}` },
			});
			expect(projects.status).toBe(200);
		} finally {
			await other.close();
		}
	});

	test('GET /api/v1/indexes is project-scoped and paginated (null token on last page)', async () => {
		const all = await api('GET', '/api/v1/indexes');
		expect(all.json.items.map((i: AnyObj) => i.id)).toEqual(sb.fixtures.indexIds);
		expect(all.json.next_page_token).toBeNull();
		expect(all.json.items[0]).toMatchObject({
			id: 'idx-q3-reports',
			name: 'Q3 reports',
			project_id: sb.fixtures.defaultProjectId,
			source_directory_id: expect.any(String),
			export_config_id: expect.any(String),
		});

		const second = await api(
			'GET',
			`/api/v1/indexes${q({ project_id: sb.fixtures.secondProjectId })}`,
		);
		expect(second.json.items.map((i: AnyObj) => i.id)).toEqual(sb.fixtures.secondProjectIndexIds);

		sb.addIndexes(sb.fixtures.defaultProjectId, 120, 'Bulk');
		const seen: string[] = [];
		let token: string | undefined;
		let pages = 0;
		do {
			const r = await api(
				'GET',
				`/api/v1/indexes?page_size=50${token ? `&page_token=${token}` : ''}`,
			);
			seen.push(...r.json.items.map((i: AnyObj) => i.id));
			token = r.json.next_page_token ?? undefined;
			pages++;
		} while (token);
		expect(pages).toBe(3);
		expect(new Set(seen).size).toBe(123);

		expect((await api('GET', '/api/v1/indexes/idx-product-handbook')).json.name).toBe(
			'Product handbook',
		);
		expect((await api('GET', '/api/v1/indexes/idx-board-minutes')).status).toBe(404);
	});
});

describe('chat sessions: create / list / get / summary / delete (§7.1–§7.5)', () => {
	test('create bound session returns a ChatSessionSummary', async () => {
		const r = await api('POST', '/api/v1/chat', {
			body: { index_ids: ['idx-q3-reports', 'idx-product-handbook'] },
		});
		expect(r.status).toBe(201);
		expect(r.json).toEqual({
			last_updated_at: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}$/),
			session_id: expect.stringMatching(/^ses-[0-9a-f-]{36}$/),
			generated_title: null,
			index_ids: ['idx-q3-reports', 'idx-product-handbook'],
			job_metadata: null,
		});
	});

	test('revision 2026-08 (the spec) has no shared_access and ignores it on create, as FastAPI ignores unknown fields', async () => {
		expect(sb.revision).toBe('2026-08');
		const r = await api('POST', '/api/v1/chat', { body: { index_ids: null, shared_access: 'bogus' } });
		expect(r.status).toBe(201);
		expect(r.json).not.toHaveProperty('shared_access');
	});

	test('the current revision: shared_access on create (read_only by default), in every session, validated', async () => {
		sb.setRevision('current');
		const plain = await createSession(['idx-q3-reports']);
		expect(plain.shared_access).toBe('read_only');
		const shared = await api('POST', '/api/v1/chat', { body: { index_ids: null, shared_access: 'query' } });
		expect(shared.status).toBe(201);
		expect(shared.json.shared_access).toBe('query');
		expect((await api('GET', `/api/v1/chat/${shared.json.session_id}/summary`)).json.shared_access).toBe('query');
		expect((await api('GET', `/api/v1/chat/${shared.json.session_id}`)).json.shared_access).toBe('query');
		expect((await api('GET', '/api/v1/chat')).json.items.map((i: AnyObj) => i.shared_access).sort()).toEqual([
			'query',
			'read_only',
		]);
		const bad = await api('POST', '/api/v1/chat', { body: { shared_access: 'write' } });
		expect(bad.status).toBe(422);
		expect(bad.json.detail).toEqual([
			{
				type: 'enum',
				loc: ['body', 'shared_access'],
				msg: "Input should be 'read_only' or 'query'",
				input: 'write',
				ctx: { expected: "'read_only' or 'query'" },
			},
		]);
		sb.reset();
		expect(sb.revision).toBe('2026-08');
	});

	test('create with no body, empty body, {} or null index_ids -> unbound (index_ids: null)', async () => {
		const variants: ApiOptions[] = [
			{},
			{ rawBody: '', headers: { 'Content-Type': 'application/json' } },
			{ body: {} },
			{ body: { index_ids: null } },
		];
		for (const v of variants) {
			const r = await api('POST', '/api/v1/chat', v);
			expect(r.status).toBe(201);
			expect(r.json.index_ids).toBeNull();
		}
		expect(sb.stats.sessionsCreated).toBe(4);
	});

	test('create with index_ids: [] is stored as sent (the spec allows it); it binds nothing, so messages choose', async () => {
		const r = await api('POST', '/api/v1/chat', { body: { index_ids: [] } });
		expect(r.status).toBe(201);
		expect(r.json.index_ids).toEqual([]);
		expect((await stream(r.json.session_id, 'refunds', ['idx-product-handbook'])).status).toBe(200);
		expect((await api('GET', `/api/v1/chat/${r.json.session_id}/summary`)).json.index_ids).toEqual([]);
	});

	test('create validation: >10 ids -> 422, wrong types -> 422, bad JSON -> 422', async () => {
		const eleven = Array.from({ length: 11 }, (_, i) => `idx-${i}`);
		const tooMany = await api('POST', '/api/v1/chat', { body: { index_ids: eleven } });
		expect(tooMany.status).toBe(422);
		// FastAPI's shape: pydantic v2's error with input and ctx (no url).
		expect(tooMany.json.detail).toEqual([
			{
				type: 'too_long',
				loc: ['body', 'index_ids'],
				msg: 'List should have at most 10 items after validation, not 11',
				input: eleven,
				ctx: { field_type: 'List', max_length: 10, actual_length: 11 },
			},
		]);

		expect(
			(await api('POST', '/api/v1/chat', { body: { index_ids: 'idx-q3-reports' } })).status,
		).toBe(422);
		// An empty-string ID is a string, as the spec asks: no 422, but no such index either.
		expect(await api('POST', '/api/v1/chat', { body: { index_ids: [''] } })).toMatchObject({
			status: 404,
			json: { detail: "Index '' not found" },
		});
		const badJson = await api('POST', '/api/v1/chat', {
			rawBody: '{"index_ids": [',
			headers: { 'Content-Type': 'application/json' },
		});
		expect(badJson.status).toBe(422);
		expect(badJson.json.detail[0].type).toBe('json_invalid');
		expect(sb.stats.sessionsCreated).toBe(0);
	});

	test('create with unknown index, or an index of another project -> 404', async () => {
		const r = await api('POST', '/api/v1/chat', {
			body: { index_ids: ['idx-q3-reports', 'idx-nope'] },
		});
		expect(r.status).toBe(404);
		expect(r.json).toEqual({ detail: "Index 'idx-nope' not found" });
		const cross = await api('POST', '/api/v1/chat', {
			body: { index_ids: ['idx-onboarding-faq'] },
		});
		expect(cross.status).toBe(404);
	});

	test('list paginates with page_token, newest first; `cursor` does not paginate', async () => {
		const ids = sb.addSessions(sb.fixtures.defaultProjectId, 5);
		const seen: string[] = [];
		let token: string | undefined;
		const pageSizes: number[] = [];
		do {
			const r = await api(
				'GET',
				`/api/v1/chat?page_size=2${token ? `&page_token=${encodeURIComponent(token)}` : ''}`,
			);
			expect(r.status).toBe(200);
			pageSizes.push(r.json.items.length);
			seen.push(...r.json.items.map((s: AnyObj) => s.session_id));
			token = r.json.next_page_token;
		} while (token);
		expect(pageSizes).toEqual([2, 2, 1]);
		expect(seen).toEqual([...ids].reverse());

		const first = await api('GET', '/api/v1/chat?page_size=2');
		const withCursor = await api(
			'GET',
			`/api/v1/chat?page_size=2&cursor=${first.json.next_page_token}`,
		);
		expect(withCursor.json.items.map((s: AnyObj) => s.session_id)).toEqual(ids.slice(3).reverse());

		const bad = await api('GET', '/api/v1/chat?page_token=garbage');
		expect(bad.status).toBe(422);
		expect(bad.json.detail[0].loc).toEqual(['query', 'page_token']);
	});

	test('get (with events), summary (without), delete 204, then 404', async () => {
		const s = await createSession(['idx-q3-reports']);
		const full = await api('GET', `/api/v1/chat/${s.session_id}`);
		expect(full.json).toMatchObject({
			session_id: s.session_id,
			events: [],
			index_ids: ['idx-q3-reports'],
		});
		const summary = await api('GET', `/api/v1/chat/${s.session_id}/summary`);
		expect(summary.json.session_id).toBe(s.session_id);
		expect(summary.json).not.toHaveProperty('events');

		const del = await api('DELETE', `/api/v1/chat/${s.session_id}`, { headers: { Accept: '*/*' } });
		expect(del.status).toBe(204);
		expect(del.text).toBe('');
		const gone = await api('GET', `/api/v1/chat/${s.session_id}`);
		expect(gone.status).toBe(404);
		expect(gone.json).toEqual({ detail: 'Session not found' });
		expect((await api('DELETE', `/api/v1/chat/${s.session_id}`)).status).toBe(404);
		expect(sb.stats.sessionsDeleted).toBe(1);
		expect(sb.getSession(s.session_id)).toBeUndefined();
	});

	test('sessions are isolated per project', async () => {
		const second = q({ project_id: sb.fixtures.secondProjectId });
		const s = await createSession(['idx-onboarding-faq'], second);
		expect((await api('GET', `/api/v1/chat/${s.session_id}`)).status).toBe(404);
		expect((await api('GET', `/api/v1/chat/${s.session_id}${second}`)).status).toBe(200);
		expect((await api('GET', '/api/v1/chat')).json.items).toHaveLength(0);
		expect((await api('GET', `/api/v1/chat${second}`)).json.items).toHaveLength(1);
		expect((await stream(s.session_id, 'hi', ['idx-onboarding-faq'])).status).toBe(404);
	});

	test('percent-encoded session ids are decoded before lookup', async () => {
		const r = await api('GET', '/api/v1/chat/ses%201%2Fx');
		expect(r.status).toBe(404);
		expect(r.json).toEqual({ detail: 'Session not found' });
		expect(sb.requests[sb.requests.length - 1].path).toBe('/api/v1/chat/ses%201%2Fx');
	});
});

describe('stream messages (§7.6)', () => {
	test('stallAfterEvents: one event, then only `: ping` every keepAliveEveryMs, the connection open; other prompts pass with stallPrompt', async () => {
		const s = await createSession(['idx-q3-reports']);
		sb.setStreamBehaviour({ stallAfterEvents: 1, keepAliveEveryMs: 50, stallPrompt: 'Stalls' });
		const abort = new AbortController();
		const res = await fetch(`${sb.url}/api/v1/chat/${s.session_id}/messages/stream`, {
			method: 'POST',
			headers: { Authorization: `Bearer ${sb.apiKey}`, 'Content-Type': 'application/json' },
			body: JSON.stringify({ index_ids: ['idx-q3-reports'], prompt: 'Stalls' }),
			signal: abort.signal,
		});
		setTimeout(() => abort.abort(), 500);
		const { text } = await readUntilError(res);
		expect(parseSse(text).map((e) => e.data.type)).toEqual(['thinking_delta']);
		const afterEvent = text.slice(text.indexOf('thinking_delta'));
		expect(afterEvent.split(': ping\n\n').length - 1).toBeGreaterThanOrEqual(4);

		// One message at a time per session (409 otherwise): the next one once the sandbox saw the client leave.
		const stalled = sb.requests[sb.requests.length - 1];
		while (sb.connectionOpen(stalled)) await new Promise((resolve) => setTimeout(resolve, 10));
		const other = await stream(s.session_id, 'What grew in Q3?', ['idx-q3-reports']);
		expect(parseSse(other.text).map((e) => e.data.type).slice(-1)).toEqual(['stop']);
	});

	test('happy path: SSE sequence, then history, title, job_metadata and lock are updated', async () => {
		const s = await createSession(['idx-q3-reports', 'idx-product-handbook']);
		const r = await stream(s.session_id, 'What were the main findings in Q3 revenue?', [
			'idx-q3-reports',
			'idx-product-handbook',
		]);
		expect(r.status).toBe(200);
		expect(r.headers.get('content-type')).toBe('text/event-stream');
		expect(r.headers.get('cache-control')).toBe('no-cache');

		const events = parseSse(r.text);
		// The documented framing: the kind in the JSON; `delta` or `message` as the SSE event; pings.
		for (const e of events) expect(e.event).toBe(e.data.type.endsWith('_delta') ? 'delta' : 'message');
		expect(r.text.startsWith(': ping\n\n')).toBe(true);
		const types = events.map((e) => e.data.type);
		expect(types.slice(0, 3)).toEqual(['thinking_delta', 'tool_call', 'tool_result']);
		expect(types.slice(-2)).toEqual(['text', 'stop']);
		expect(types.filter((t) => t === 'text_delta').length).toBeGreaterThanOrEqual(3);

		const call = events[1].data;
		expect(call).toMatchObject({
			name: 'search',
			arguments: { query: 'What were the main findings in Q3 revenue?' },
		});
		const result = events[2].data;
		expect(result.call_id).toBe(call.call_id);
		expect(result.image_attachment).toBeNull();
		expect(result.result[0]).toEqual({
			text: expect.stringContaining('revenue grew 12%'),
			index_id: 'idx-q3-reports',
			file_name: 'q3-2026-board-report.pdf',
			page: 2,
		});

		const deltas = events
			.filter((e) => e.data.type === 'text_delta')
			.map((e) => e.data.content)
			.join('');
		const text = events.find((e) => e.data.type === 'text')?.data.content;
		expect(deltas).toBe(text);
		expect(text).toContain('q3-2026-board-report.pdf');
		const stop = events[events.length - 1].data;
		expect(stop).toMatchObject({ error: null, is_error: false });
		expect(stop.usage).toEqual({
			duration_ms: expect.any(Number),
			total_input_tokens: expect.any(Number),
			total_output_tokens: expect.any(Number),
			turns: 2,
		});

		const full = (await api('GET', `/api/v1/chat/${s.session_id}`)).json;
		expect(full.events[0]).toEqual({
			type: 'user_input',
			content: 'What were the main findings in Q3 revenue?',
		});
		expect(full.events.slice(1)).toEqual(events.map((e) => e.data));
		expect(full.generated_title).toBe('What were the main findings in Q3 revenue?');
		expect(full.job_metadata).toMatchObject({
			is_error: false,
			error: null,
			turns: 2,
			export_config_ids: ['exp-q3-reports', 'exp-product-handbook'],
			total_output_tokens: stop.usage.total_output_tokens,
		});
		expect(full.last_updated_at > s.last_updated_at).toBe(true);
		expect(sb.getSession(s.session_id).index_set_locked).toBe(true);

		// Same set in another order is fine; a different set is rejected once locked.
		expect(
			(await stream(s.session_id, 'And refunds?', ['idx-product-handbook', 'idx-q3-reports']))
				.status,
		).toBe(200);
		const locked = await stream(s.session_id, 'x', ['idx-support-tickets']);
		expect(locked.status).toBe(400);
		expect(locked.json.detail).toContain('idx-q3-reports, idx-product-handbook');
		expect(sb.stats).toEqual({
			sessionsCreated: 1,
			turnsStarted: 2,
			turnsCompleted: 2,
			sessionsDeleted: 0,
		});
		expect((await api('GET', `/api/v1/chat/${s.session_id}/summary`)).json.generated_title).toBe(
			full.generated_title,
		);
	});

	test('unbound sessions accept any index set per message and keep index_ids null', async () => {
		const s = await createSession();
		expect((await stream(s.session_id, 'refund policy', ['idx-product-handbook'])).status).toBe(
			200,
		);
		const r = await stream(s.session_id, 'SSO login loop', ['idx-support-tickets']);
		expect(parseSse(r.text)[2].data.result[0].index_id).toBe('idx-support-tickets');
		// More than 10 on a message: the spec bounds only a session's binding.
		const eleven = sb.addIndexes(sb.fixtures.defaultProjectId, 8).map((i) => i.id);
		const wide = await stream(s.session_id, 'all of it', [...sb.fixtures.indexIds, ...eleven]);
		expect(wide.status).toBe(200);
		expect((await api('GET', `/api/v1/chat/${s.session_id}/summary`)).json.index_ids).toBeNull();
	});

	test('an empty index_ids on a message is a 422 (ChatParams minItems 1), bound or not, before or after the first message', async () => {
		const unbound = await createSession();
		const bound = await createSession(['idx-q3-reports']);
		for (const s of [unbound, bound]) {
			const r = await stream(s.session_id, 'hello', []);
			expect(r.status).toBe(422);
			expect(r.json.detail).toEqual([
				{
					type: 'too_short',
					loc: ['body', 'index_ids'],
					msg: 'List should have at least 1 item after validation, not 0',
					input: [],
					ctx: { field_type: 'List', min_length: 1, actual_length: 0 },
				},
			]);
		}
		expect((await stream(bound.session_id, 'Q3', ['idx-q3-reports'])).status).toBe(200);
		expect((await stream(bound.session_id, 'hello', [])).status).toBe(422);
		expect(sb.stats.turnsStarted).toBe(1);
	});

	test("a bound session's set is its own: a different set is refused, even on the first message, and never re-binds it", async () => {
		const s = await createSession(['idx-q3-reports']);
		const first = await stream(s.session_id, 'refunds', ['idx-product-handbook']);
		expect(first.status).toBe(400);
		expect(first.json.detail).toContain('idx-q3-reports');
		const summary = (await api('GET', `/api/v1/chat/${s.session_id}/summary`)).json;
		expect(summary.index_ids).toEqual(['idx-q3-reports']);
		expect(sb.stats.turnsStarted).toBe(0);
	});

	test("boundSetMismatch 'use-session-set' (an explicit option) answers from the session's own set instead", async () => {
		const lenient = await startSandbox({ requestsFrom: 'tests', boundSetMismatch: 'use-session-set' });
		try {
			const headers = { Authorization: `Bearer ${lenient.apiKey}`, 'Content-Type': 'application/json' };
			const created = await fetch(`${lenient.url}/api/v1/chat`, {
				method: 'POST',
				headers,
				body: JSON.stringify({ index_ids: ['idx-q3-reports'] }),
			});
			const { session_id: id } = (await created.json()) as { session_id: string };
			const r = await fetch(`${lenient.url}/api/v1/chat/${id}/messages/stream`, {
				method: 'POST',
				headers,
				body: JSON.stringify({ index_ids: ['idx-product-handbook'], prompt: 'refunds' }),
			});
			const events = parseSse(await r.text());
			expect(events[2].data.result[0].index_id).toBe('idx-q3-reports');
			expect(lenient.getSession(id).index_ids).toEqual(['idx-q3-reports']);
		} finally {
			await lenient.close();
		}
	});

	test('long first prompt -> title is the first 60 chars + "..."', async () => {
		const s = await createSession();
		const prompt =
			'Please summarise every risk mentioned in the quarterly report, including customer concentration';
		await stream(s.session_id, prompt, ['idx-q3-reports']);
		const title = (await api('GET', `/api/v1/chat/${s.session_id}/summary`)).json.generated_title;
		expect(title.endsWith('...')).toBe(true);
		expect(prompt.startsWith(title.slice(0, -3))).toBe(true);
		expect(title.length).toBeLessThanOrEqual(63);
	});

	test('request validation happens before streaming (422 / 404 as JSON)', async () => {
		const s = await createSession();
		const path = `/api/v1/chat/${s.session_id}/messages/stream`;
		const noPrompt = await api('POST', path, { body: { index_ids: ['idx-q3-reports'] } });
		expect(noPrompt.status).toBe(422);
		expect(noPrompt.json.detail).toEqual([
			expect.objectContaining({ loc: ['body', 'prompt'], msg: 'Field required', type: 'missing' }),
		]);
		const tooLong = await api('POST', path, {
			body: { index_ids: ['idx-q3-reports'], prompt: 'x'.repeat(1001) },
		});
		expect(tooLong.json.detail).toEqual([
			{
				type: 'string_too_long',
				loc: ['body', 'prompt'],
				msg: 'String should have at most 1000 characters',
				input: 'x'.repeat(1001),
				ctx: { max_length: 1000 },
			},
		]);
		expect(
			(await api('POST', path, { body: { index_ids: ['idx-q3-reports'], prompt: 'x'.repeat(1000) } }))
				.status,
		).toBe(200);
		const noIds = await api('POST', path, { body: { prompt: 'hi' } });
		expect(noIds.json.detail[0].loc).toEqual(['body', 'index_ids']);
		expect((await api('POST', path)).status).toBe(422);
		expect(
			(await api('POST', path, { body: { prompt: 'hi', index_ids: ['idx-x'] } })).json,
		).toEqual({ detail: "Index 'idx-x' not found" });
		expect(
			(
				await api('POST', '/api/v1/chat/ses-missing/messages/stream', {
					body: { prompt: 'hi', index_ids: ['idx-q3-reports'] },
				})
			).status,
		).toBe(404);
		expect(sb.stats.turnsStarted).toBe(1);
	});

	test('mode in-band-error: HTTP 200 with stop.is_error and the message; job_metadata records it', async () => {
		const s = await createSession(['idx-q3-reports']);
		sb.setStreamBehaviour({ mode: 'in-band-error', errorMessage: 'Model overloaded' });
		const r = await stream(s.session_id, 'Q3 revenue', ['idx-q3-reports']);
		expect(r.status).toBe(200);
		const events = parseSse(r.text);
		expect(events.map((e) => e.data.type)).not.toContain('text');
		expect(events[events.length - 1].data).toMatchObject({
			type: 'stop',
			is_error: true,
			error: 'Model overloaded',
		});
		const meta = (await api('GET', `/api/v1/chat/${s.session_id}/summary`)).json.job_metadata;
		expect(meta).toMatchObject({ is_error: true, error: 'Model overloaded' });
		expect(sb.stats.turnsCompleted).toBe(1);
	});

	test('mode truncate-before-stop: clean end of body without a stop event', async () => {
		const s = await createSession(['idx-q3-reports']);
		sb.setStreamBehaviour({ mode: 'truncate-before-stop' });
		const r = await stream(s.session_id, 'Q3 revenue', ['idx-q3-reports']);
		expect(r.status).toBe(200);
		const types = parseSse(r.text).map((e) => e.data.type);
		expect(types).toContain('text');
		expect(types).not.toContain('stop');
		expect(sb.stats).toMatchObject({ turnsStarted: 1, turnsCompleted: 0 });
		expect(sb.getSession(s.session_id).job_metadata).toBeNull();
	});

	test('mode drop-mid-stream: the socket dies mid-body', async () => {
		const s = await createSession(['idx-q3-reports']);
		sb.setStreamBehaviour({ mode: 'drop-mid-stream' });
		const res = await fetch(`${sb.url}/api/v1/chat/${s.session_id}/messages/stream`, {
			method: 'POST',
			headers: { Authorization: `Bearer ${sb.apiKey}`, 'Content-Type': 'application/json' },
			body: JSON.stringify({ prompt: 'Q3 revenue', index_ids: ['idx-q3-reports'] }),
		});
		expect(res.status).toBe(200);
		const { text, error } = await readUntilError(res);
		expect(error).toBeDefined();
		expect(text).toContain('event: delta\ndata: {"type":"thinking_delta"');
		expect(text).not.toContain('"type":"stop"');
		expect(text.endsWith('\n\n')).toBe(false); // cut inside a frame
		expect(sb.stats).toMatchObject({ turnsStarted: 1, turnsCompleted: 0 });
	});

	test('pingEveryMs: `: ping` comments between the frames for as long as the stream runs, never inside a frame', async () => {
		const s = await createSession(['idx-q3-reports']);
		sb.setStreamBehaviour({ pingEveryMs: 5, deltaDelayMs: 20, chunkSize: 7 });
		const r = await stream(s.session_id, 'Q3 revenue', ['idx-q3-reports']);
		const blocks = r.text.split('\n\n').filter(Boolean);
		const pings = blocks.filter((b) => b === ': ping');
		// The documented opening ping, then the timer's: about one per 5 ms of a turn of several 20 ms pauses.
		expect(pings.length).toBeGreaterThan(3);
		// Every other block is a whole event: the pings never split one.
		for (const block of blocks.filter((b) => b !== ': ping')) expect(block).toMatch(/^event: (delta|message)\ndata: \{.*\}$/);
		expect(parseSse(r.text).map((e) => e.data.type).pop()).toBe('stop');
	});

	test('pingEveryMs also fills a stalled stream (stallAfterEvents): no further event and no end, only the pings, until the client leaves', async () => {
		const s = await createSession(['idx-q3-reports']);
		sb.setStreamBehaviour({ pingEveryMs: 10, stallAfterEvents: 1 });
		const controller = new AbortController();
		const res = await fetch(`${sb.url}/api/v1/chat/${s.session_id}/messages/stream`, {
			method: 'POST',
			headers: { Authorization: `Bearer ${sb.apiKey}`, 'Content-Type': 'application/json' },
			body: JSON.stringify({ prompt: 'Q3 revenue', index_ids: ['idx-q3-reports'] }),
			signal: controller.signal,
		});
		const reader = (res.body as ReadableStream<Uint8Array>).getReader();
		const dec = new TextDecoder();
		let text = '';
		while ((text.match(/: ping\n\n/g) ?? []).length < 6) text += dec.decode((await reader.read()).value, { stream: true });
		controller.abort();
		expect(parseSse(text).map((e) => e.data.type)).toEqual(['thinking_delta']);
		expect(text.endsWith(': ping\n\n')).toBe(true);
		expect(sb.stats).toMatchObject({ turnsStarted: 1, turnsCompleted: 0 });
	});

	test("a 'stream' fault gives one request its own behaviour on top of the current one", async () => {
		const s = await createSession(['idx-q3-reports']);
		sb.setStreamBehaviour({ contextAnswers: true });
		sb.injectFault({ path: /\/messages\/stream$/, when: (req) => (req.body as AnyObj)?.prompt === 'cut me', action: { type: 'stream', behaviour: { mode: 'truncate-before-stop' } } });
		const cut = await stream(s.session_id, 'cut me', ['idx-q3-reports']);
		const whole = await stream(s.session_id, 'and me?', ['idx-q3-reports']);
		expect(parseSse(cut.text).map((e) => e.data.type)).not.toContain('stop');
		expect(parseSse(whole.text).map((e) => e.data.type).pop()).toBe('stop');
		// The current behaviour still applies under the fault's, and after it.
		expect(parseSse(cut.text).find((e) => e.data.type === 'text_delta')?.data.content).toMatch(/^Turn 1/);
		expect(parseSse(whole.text).find((e) => e.data.type === 'text_delta')?.data.content).toMatch(/^Turn 2/);
		expect(sb.turnTimings.map((t) => t.finishedAt! >= t.startedAt)).toEqual([true, true]);
	});

	test('a second message in a session while the first is answered: 409 with a detail, nothing stored; the session takes the next one', async () => {
		const s = await createSession(['idx-q3-reports']);
		sb.setStreamBehaviour({ deltaDelayMs: 300 }); // the first answer takes a second or more
		const first = await fetch(`${sb.url}/api/v1/chat/${s.session_id}/messages/stream`, {
			method: 'POST',
			headers: { Authorization: `Bearer ${sb.apiKey}`, 'Content-Type': 'application/json' },
			body: JSON.stringify({ prompt: 'Q3 revenue', index_ids: ['idx-q3-reports'] }),
		});
		expect(first.status).toBe(200);
		const second = await stream(s.session_id, 'And the risks?', ['idx-q3-reports']);
		expect(second.status).toBe(409);
		expect(second.json).toEqual({ detail: 'A message is already being answered in this session' });
		expect((await readUntilError(first)).text).toContain('"type":"stop"');
		const asked = (sb.getSession(s.session_id).events as AnyObj[]).filter((e) => e.type === 'user_input');
		expect(asked.map((e) => e.content)).toEqual(['Q3 revenue']);
		sb.setStreamBehaviour({});
		expect((await stream(s.session_id, 'And the risks?', ['idx-q3-reports'])).status).toBe(200);
		expect(sb.stats).toMatchObject({ turnsStarted: 2, turnsCompleted: 2 });
	});

	const framingCases: Array<[NonNullable<StreamBehaviour['framing']>, (raw: string) => void]> = [
		[
			'documented',
			(raw) => {
				expect(raw).toMatch(/^: ping\n\nevent: delta\ndata: \{"type":"thinking_delta"/);
				expect(raw).toMatch(/\nevent: message\ndata: \{"type":"stop"[^\n]*\n\n$/);
			},
		],
		['event-and-data', (raw) => expect(raw).toMatch(/^event: thinking_delta\ndata: \{/)],
		['data-only', (raw) => expect(raw).not.toMatch(/^event:/m)],
		[
			'crlf',
			(raw) => {
				expect(raw).toContain('\r\n\r\n');
				expect(raw.replace(/\r\n/g, '')).not.toContain('\n');
			},
		],
		['comments', (raw) => expect(raw.match(/^: keep-alive$/gm)?.length).toBeGreaterThan(3)],
		['done-marker', (raw) => expect(raw.endsWith('data: [DONE]\n\n')).toBe(true)],
		[
			'multiline-data',
			(raw) => {
				const first = raw.split('\n\n')[0].split('\n');
				expect(first.filter((l) => l.startsWith('data: ')).length).toBeGreaterThan(2);
			},
		],
		[
			'error-event',
			(raw) => {
				const err = raw.indexOf('event: error\ndata: {"detail":');
				expect(err).toBeGreaterThan(0);
				expect(err).toBeLessThan(raw.indexOf('event: stop'));
			},
		],
	];

	test.each(framingCases)(
		'framing %s produces the advertised bytes and still parses',
		async (framing, check) => {
			const s = await createSession();
			sb.setStreamBehaviour({ framing, answer: 'Revenue grew 12% to €4.2M in Q3.' });
			const r = await stream(s.session_id, 'Q3 revenue', ['idx-q3-reports']);
			check(r.text);
			const data = parseSse(r.text)
				.filter((e) => e.event !== 'error')
				.map((e) => e.data);
			expect(data.map((d) => d.type)).toEqual([
				'thinking_delta',
				'tool_call',
				'tool_result',
				...Array(3).fill('text_delta'),
				'text',
				'stop',
			]);
			expect(data[data.length - 2].content).toBe('Revenue grew 12% to €4.2M in Q3.');
			// Decorations (comments, [DONE], error frames) are not stored as chat events.
			expect(sb.getSession(s.session_id).events).toHaveLength(9);
		},
	);

	test('chunkSize splits the raw body into many chunks, even inside UTF-8 characters', async () => {
		const s = await createSession();
		sb.setStreamBehaviour({ chunkSize: 7, answer: 'Umsatz: €4.2M — Wachstum über 12 %. ✓' });
		const chunks: Buffer[] = await new Promise((resolve, reject) => {
			const req = http.request(
				`${sb.url}/api/v1/chat/${s.session_id}/messages/stream`,
				{
					method: 'POST',
					headers: { Authorization: `Bearer ${sb.apiKey}`, 'Content-Type': 'application/json' },
				},
				(res) => {
					const got: Buffer[] = [];
					res.on('data', (c: Buffer) => got.push(c));
					res.on('end', () => resolve(got));
					res.on('error', reject);
				},
			);
			req.on('error', reject);
			req.end(JSON.stringify({ prompt: 'Q3', index_ids: ['idx-q3-reports'] }));
		});
		const body = Buffer.concat(chunks);
		expect(chunks.length).toBeGreaterThan(body.length / 7 / 2);
		expect(chunks.every((c) => c.length <= 7)).toBe(true);
		const strict = new TextDecoder('utf-8', { fatal: true });
		const splitsInsideChar = chunks.filter((c) => {
			try {
				strict.decode(c);
				return false;
			} catch {
				return true;
			}
		});
		expect(splitsInsideChar.length).toBeGreaterThan(0);
		const events = parseSse(body.toString('utf8'));
		expect(events.find((e) => e.data.type === 'text')?.data.content).toBe(
			'Umsatz: €4.2M — Wachstum über 12 %. ✓',
		);
	});

	test('chunkDelayMs slows the stream down', async () => {
		const s = await createSession();
		sb.setStreamBehaviour({ chunkDelayMs: 15, answer: 'one two three' });
		const t0 = Date.now();
		await stream(s.session_id, 'Q3', ['idx-q3-reports']);
		expect(Date.now() - t0).toBeGreaterThanOrEqual(15 * 5);
	});

	test('answerBytes pads the stream to about the requested size', async () => {
		const s = await createSession();
		sb.setStreamBehaviour({ answerBytes: 300_000 });
		const r = await stream(s.session_id, 'Q3 revenue', ['idx-q3-reports']);
		const bytes = Buffer.byteLength(r.text);
		expect(bytes).toBeGreaterThan(270_000);
		expect(bytes).toBeLessThan(330_000);
		const events = parseSse(r.text);
		const deltas = events
			.filter((e) => e.data.type === 'text_delta')
			.map((e) => e.data.content)
			.join('');
		expect(events.find((e) => e.data.type === 'text')?.data.content).toBe(deltas);
		expect(events[events.length - 1].data.type).toBe('stop');
	});

	test('scripted events are streamed verbatim and stored in history', async () => {
		const s = await createSession();
		const scripted = [
			{ type: 'text_delta', content: 'Hi' },
			{ type: 'mystery_event', payload: 1 },
			{
				type: 'stop',
				error: null,
				is_error: false,
				usage: { duration_ms: 5, total_input_tokens: 3, total_output_tokens: 1, turns: 1 },
			},
		];
		sb.setStreamBehaviour({ events: scripted });
		const r = await stream(s.session_id, 'hello', ['idx-q3-reports']);
		expect(parseSse(r.text).map((e) => e.data)).toEqual(scripted);
		const session = sb.getSession(s.session_id);
		expect(session.events).toEqual([{ type: 'user_input', content: 'hello' }, ...scripted]);
		expect(session.job_metadata).toMatchObject({ duration_ms: 5, total_input_tokens: 3, turns: 1 });
	});
});

describe('faults, latency, recording', () => {
	test('status fault with retry-after is served once (times defaults to 1)', async () => {
		sb.injectFault({
			method: 'GET',
			path: '/api/v1/chat',
			action: {
				type: 'status',
				status: 429,
				headers: { 'retry-after': '0' },
				body: { detail: 'Too many requests' },
			},
		});
		const first = await api('GET', '/api/v1/chat');
		expect(first.status).toBe(429);
		expect(first.headers.get('retry-after')).toBe('0');
		expect(first.json).toEqual({ detail: 'Too many requests' });
		expect((await api('GET', '/api/v1/chat')).status).toBe(200);
		expect(sb.requests.map((r) => r.path)).toEqual(['/api/v1/chat', '/api/v1/chat']);
	});

	test('503 HTML page, regex path, `when` predicate and times:2', async () => {
		sb.injectFault({
			path: /\/messages\/stream$/,
			times: 2,
			when: (req) => (req.body as AnyObj)?.prompt === 'boom',
			action: {
				type: 'status',
				status: 503,
				body: '<html><body>Service Unavailable</body></html>',
				contentType: 'text/html',
			},
		});
		const s = await createSession();
		const a = await stream(s.session_id, 'boom', ['idx-q3-reports']);
		expect(a.status).toBe(503);
		expect(a.headers.get('content-type')).toBe('text/html');
		expect(a.text).toContain('<html>');
		expect((await stream(s.session_id, 'fine', ['idx-q3-reports'])).status).toBe(200); // predicate false: not consumed
		expect((await stream(s.session_id, 'boom', ['idx-q3-reports'])).status).toBe(503);
		expect((await stream(s.session_id, 'boom', ['idx-q3-reports'])).status).toBe(200);
		expect(sb.stats.turnsStarted).toBe(2);
	});

	test('drop fault destroys the connection without a response', async () => {
		sb.injectFault({ path: '/api/v1/projects', action: { type: 'drop' } });
		await expect(api('GET', '/api/v1/projects')).rejects.toThrow();
		expect(sb.requests).toHaveLength(1);
		expect((await api('GET', '/api/v1/projects')).status).toBe(200);
	});

	test('hang fault never answers (client timeout fires)', async () => {
		sb.injectFault({ path: '/api/v1/projects', action: { type: 'hang' } });
		const t0 = Date.now();
		await expect(
			api('GET', '/api/v1/projects', { signal: AbortSignal.timeout(150) }),
		).rejects.toThrow();
		expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
	});

	test('delay fault and latency slow responses down', async () => {
		sb.injectFault({ action: { type: 'delay', ms: 80 }, times: Infinity, method: 'GET' });
		let t0 = Date.now();
		expect((await api('GET', '/api/v1/projects')).status).toBe(200);
		expect(Date.now() - t0).toBeGreaterThanOrEqual(75);
		sb.clearFaults();
		sb.setLatency({ min: 40, max: 50 });
		t0 = Date.now();
		await api('GET', '/api/v1/projects');
		expect(Date.now() - t0).toBeGreaterThanOrEqual(38);
	});

	test('close() returns promptly with hanging and slow-streaming sockets open', async () => {
		const other = await startSandbox({ requestsFrom: 'tests' });
		other.injectFault({ path: '/api/v1/projects', action: { type: 'hang' } });
		const hanging = fetch(`${other.url}/api/v1/projects`).catch((e: unknown) => e);
		const createdRes = await fetch(`${other.url}/api/v1/chat`, {
			method: 'POST',
			headers: { Authorization: `Bearer ${other.apiKey}` },
		});
		const created = (await createdRes.json()) as { session_id: string };
		other.setStreamBehaviour({ chunkDelayMs: 10_000 });
		const slow = await fetch(`${other.url}/api/v1/chat/${created.session_id}/messages/stream`, {
			method: 'POST',
			headers: { Authorization: `Bearer ${other.apiKey}` },
			body: JSON.stringify({ prompt: 'hi', index_ids: ['idx-q3-reports'] }),
		});
		const slowBody = readUntilError(slow);
		while (other.requests.length < 3) await new Promise((r) => setTimeout(r, 5));
		const t0 = Date.now();
		await other.close();
		expect(Date.now() - t0).toBeLessThan(500);
		expect(await hanging).toMatchObject({ name: 'TypeError', message: 'fetch failed' });
		expect((await slowBody).error).toBeDefined();
	});

	test('requests are recorded with query, raw query, headers and parsed body', async () => {
		await api('POST', `/api/v1/chat?project_id=${sb.fixtures.defaultProjectId}&x=1&x=2`, {
			body: { index_ids: ['idx-q3-reports'] },
			headers: { 'X-Stainless-Retry-Count': '1' },
		});
		await api('POST', '/api/v1/chat', { rawBody: 'not json' });
		const [a, b] = sb.requests;
		expect(a).toMatchObject({
			method: 'POST',
			path: '/api/v1/chat',
			query: { project_id: sb.fixtures.defaultProjectId, x: ['1', '2'] },
			rawQuery: `project_id=${sb.fixtures.defaultProjectId}&x=1&x=2`,
			body: { index_ids: ['idx-q3-reports'] },
		});
		expect(a.headers['x-stainless-retry-count']).toBe('1');
		expect(b).toMatchObject({ body: 'not json', rawBody: 'not json' });
		sb.clearRequests();
		expect(sb.requests).toHaveLength(0);
	});

	test('reset() restores fixtures and clears state', async () => {
		const s = await createSession();
		sb.addIndexes(sb.fixtures.defaultProjectId, 2);
		sb.injectFault({
			action: { type: 'status', status: 500 },
			times: Infinity,
			path: '/api/v1/organizations',
		});
		sb.reset();
		expect(sb.getSession(s.session_id)).toBeUndefined();
		expect(sb.stats).toEqual({
			sessionsCreated: 0,
			turnsStarted: 0,
			turnsCompleted: 0,
			sessionsDeleted: 0,
		});
		expect(sb.requests).toHaveLength(0);
		expect((await api('GET', '/api/v1/organizations')).status).toBe(200);
		expect((await api('GET', '/api/v1/indexes')).json.items).toHaveLength(3);
	});
});
