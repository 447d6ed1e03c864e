// Specification of the "LlamaCloud API" credential (test button, regions, base URL) and of the
// lists the node loads while it is edited (projects, organizations, sessions, indexes).

import '../../harness/environment';

import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { LoadOptionsContext } from 'n8n-core';
import type { INodeParameters } from 'n8n-workflow';

import { getBaseUrl, REGION_BASE_URLS } from '../../../nodes/LlamaCloudChat/transport';
import { testCredential } from '../../harness/credential-test';
import { credentialType, resolveCredentialExpression, type LlamaCloudCredentialData } from '../../harness/credentials';
import { listSearch, loadOptions } from '../../harness/methods';
import { buildAdditionalData, buildWorkflow, runWorkflow } from '../../harness/run-workflow';
import { useSandbox } from '../../harness/support';
import { startSandbox, type RecordedRequest, type Sandbox } from '../../sandbox';
import { seedSession } from '../session/support';

let sandbox: Sandbox;

useSandbox((started) => (sandbox = started));

const NA_HOST = 'https://api.cloud.llamaindex.ai';
const EU_HOST = 'https://api.cloud.eu.llamaindex.ai';
const WRONG_KEY = 'llx-wrong-key-000000000000';

function credentials(overrides: Partial<LlamaCloudCredentialData> = {}): LlamaCloudCredentialData {
	return { apiKey: sandbox.apiKey, region: 'custom', baseUrl: sandbox.url, ...overrides };
}

function locator(value: string, mode: 'list' | 'id' = 'list') {
	return { __rl: true, mode, value };
}

function requestsTo(path: string): RecordedRequest[] {
	return sandbox.requests.filter((request) => request.path === path);
}

/** The URL of a server that has just stopped: connections to it are refused. */
async function closedUrl(): Promise<string> {
	const closed = await startSandbox();
	await closed.close();
	return closed.url;
}

/** The credential test's base URL for some credential data, resolved the way n8n resolves it (nothing is sent). */
function credentialTestBaseUrl(data: LlamaCloudCredentialData): unknown {
	const workflow = buildWorkflow([{ name: 'Credential test', parameters: {} }]);
	return resolveCredentialExpression(workflow, workflow.getNode('Credential test')!, credentialType.test!.request.baseURL, data);
}

/** The API host the node itself uses for some credential data, through n8n's own editor context (nothing is sent). */
async function nodeBaseUrl(data: LlamaCloudCredentialData): Promise<string> {
	const workflow = buildWorkflow([{ name: 'LlamaCloud Chat', parameters: {} }]);
	const context = new LoadOptionsContext(workflow, workflow.getNode('LlamaCloud Chat')!, buildAdditionalData(data), 'parameters');
	return await getBaseUrl(context);
}

describe('LlamaCloud API credential', () => {
	describe('the Test button', () => {
		it('succeeds with the right API key, by listing projects with a Bearer token', async () => {
			const result = await testCredential(credentials());

			expect(result.status).toBe('OK');
			expect(sandbox.requests).toHaveLength(1);
			const [request] = sandbox.requests;
			expect(request.method).toBe('GET');
			expect(request.path).toBe('/api/v1/projects');
			expect(request.rawQuery).toBe('');
			expect(request.headers.authorization).toBe(`Bearer ${sandbox.apiKey}`);
			expect(result.request).toMatchObject({ method: 'GET', baseURL: sandbox.url, url: '/api/v1/projects' });
		});

		it('succeeds with a trailing slash on the Base URL, without sending a double slash', async () => {
			const result = await testCredential(credentials({ baseUrl: `${sandbox.url}/` }));

			expect(result.status).toBe('OK');
			expect(sandbox.requests.map((request) => request.path)).toEqual(['/api/v1/projects']);
		});

		it('fails with a wrong API key, saying to check the key and region, and never showing the key', async () => {
			const result = await testCredential(credentials({ apiKey: WRONG_KEY }));

			expect(result.status).toBe('Error');
			expect(result.message).toContain('rejected the API key (401)');
			expect(result.message).toMatch(/Region/);
			expect(result.message).not.toContain(WRONG_KEY);
			expect(sandbox.requests[0].headers.authorization).toBe(`Bearer ${WRONG_KEY}`);
		});

		// The node trims the Custom Base URL, so the Test button does too.
		it('accepts a Custom Base URL with stray spaces, as the node does', async () => {
			const result = await testCredential(credentials({ baseUrl: ` ${sandbox.url} ` }));

			expect(result.status).toBe('OK');
		});

		it('fails with an empty API key as a rejected key', async () => {
			const result = await testCredential(credentials({ apiKey: '' }));

			expect(result.status).toBe('Error');
			expect(result.message).toContain('rejected the API key (401)');
			expect(sandbox.requests[0].headers.authorization).toMatch(/^Bearer\s*$/);
		});
	});

	describe('regions', () => {
		it.each([
			['North America', 'na' as const, NA_HOST],
			['Europe', 'eu' as const, EU_HOST],
		])('%s (region %s): the Test button and the node both call %s', async (_name, region, host) => {
			const data = credentials({ region, baseUrl: '' });

			expect(credentialTestBaseUrl(data)).toBe(host);
			expect(await nodeBaseUrl(data)).toBe(host);
			expect(REGION_BASE_URLS[region]).toBe(host);
		});

		// Credentials saved before the Region field existed, or by the API without it, hold no region.
		it('takes North America when the credential holds no region', async () => {
			const data: Partial<LlamaCloudCredentialData> = credentials({ baseUrl: '' });
			delete data.region;
			expect(await nodeBaseUrl(data as LlamaCloudCredentialData)).toBe(NA_HOST);
		});

		it('explains a region it does not know, and a Custom region whose Base URL is missing', async () => {
			await expect(nodeBaseUrl(credentials({ region: 'apac' as 'na', baseUrl: '' }))).rejects.toThrow(
				'The LlamaCloud credential has no usable Base URL ("")',
			);
			const data: Partial<LlamaCloudCredentialData> = credentials();
			delete data.baseUrl;
			await expect(nodeBaseUrl(data as LlamaCloudCredentialData)).rejects.toThrow('The LlamaCloud credential has no usable Base URL ("")');
		});

		it('ignores a leftover Base URL unless the region is Custom', async () => {
			const data = credentials({ region: 'eu', baseUrl: 'http://127.0.0.1:1' });

			expect(credentialTestBaseUrl(data)).toBe(EU_HOST);
			expect(await nodeBaseUrl(data)).toBe(EU_HOST);
		});

		it('Custom: uses the Base URL, without its trailing slash in the node', async () => {
			expect(credentialTestBaseUrl(credentials())).toBe(sandbox.url);
			expect(await nodeBaseUrl(credentials({ baseUrl: `  ${sandbox.url}//  ` }))).toBe(sandbox.url);
		});

		it('the node works against a Custom Base URL given with a trailing slash', async () => {
			const result = await runWorkflow({
				credentials: credentials({ baseUrl: `${sandbox.url}/` }),
				nodes: [{ name: 'Create', parameters: { resource: 'session', operation: 'create', indexIds: ['idx-q3-reports'] } }],
			});

			expect(result.error).toBeUndefined();
			expect(sandbox.requests.map((request) => `${request.method} ${request.path}`)).toEqual(['POST /api/v1/chat']);
		});

		it('the node reports a Base URL where nothing listens as unreachable, naming the URL', async () => {
			const url = await closedUrl();

			const result = await runWorkflow({
				credentials: credentials({ baseUrl: url }),
				nodes: [{ name: 'Create', parameters: { resource: 'session', operation: 'create', options: { maxRetries: 0 } } }],
			});

			expect(result.error?.message).toMatch(new RegExp(`^Could not reach LlamaCloud at ${url} \\(`));
		});

		// Regression: the network code (from NodeApiError.httpCode) and the Base URL are named.
		it('the node names the network error and points at the Base URL', async () => {
			const url = await closedUrl();

			const result = await runWorkflow({
				credentials: credentials({ baseUrl: url }),
				nodes: [{ name: 'Create', parameters: { resource: 'session', operation: 'create', options: { maxRetries: 0 } } }],
			});

			expect(result.error?.message).toBe(`Could not reach LlamaCloud at ${url} (ECONNREFUSED)`);
			expect(result.error?.description).toMatch(/Base URL/);
		});

		it('the node explains a Custom region without a Base URL, and sends nothing', async () => {
			const result = await runWorkflow({
				credentials: credentials({ baseUrl: '' }),
				nodes: [{ name: 'Create', parameters: { resource: 'session', operation: 'create' } }],
			});

			expect(result.error?.message).toContain('no usable Base URL');
			expect(result.error?.description).toContain('Custom Base URL');
			expect(sandbox.requests).toEqual([]);
		});
	});

	// n8n shows the credential's documentationUrl in the credential dialog and the codex's
	// credentialDocumentation in the node panel: both lead to LlamaCloud's API key page.
	it('links the same API key page from the credential dialog and the node codex', () => {
		const codexFile = join(__dirname, '../../../nodes/LlamaCloudChat/LlamaCloudChat.node.json');
		const codex = JSON.parse(readFileSync(codexFile, 'utf8')) as { resources: { credentialDocumentation: Array<{ url: string }> } };

		expect(codex.resources.credentialDocumentation.map((doc) => doc.url)).toEqual([credentialType.documentationUrl]);
		expect(credentialType.documentationUrl).toBe('https://developers.llamaindex.ai/llamaparse/general/api_key/');
	});
});

describe('lists while editing the node', () => {
	describe('projects (searchProjects)', () => {
		it('lists the projects the key can use, marking the default one', async () => {
			const { results } = await listSearch('searchProjects', { credentials: credentials(), parameters: {} });

			expect(results).toEqual([
				{ name: 'Default (default)', value: sandbox.fixtures.defaultProjectId },
				{ name: 'Customer Support', value: sandbox.fixtures.secondProjectId },
			]);
			const [request] = requestsTo('/api/v1/projects');
			expect(request.rawQuery).toBe('');
			expect(request.headers.authorization).toBe(`Bearer ${sandbox.apiKey}`);
		});

		it.each([
			['part of a name, in any case', 'SUPPORT', ['Customer Support']],
			['part of an ID', '3a1f7d2b', ['Customer Support']],
			['text that matches nothing', 'marketing', []],
		])('filters by %s', async (_kind, filter, names) => {
			const { results } = await listSearch('searchProjects', { credentials: credentials(), parameters: {}, filter });

			expect(results.map((result) => result.name)).toEqual(names);
		});

		it('lists only the projects of the chosen organization, asking LlamaCloud with organization_id', async () => {
			const { organizationId } = sandbox.fixtures;
			const { results } = await listSearch('searchProjects', {
				credentials: credentials(),
				parameters: { organization: locator(organizationId) } as INodeParameters,
			});

			expect(results).toHaveLength(2);
			expect(requestsTo('/api/v1/projects').map((request) => request.query)).toEqual([{ organization_id: organizationId }]);
		});

		it('does not send an organization that is not a UUID yet (still being typed)', async () => {
			await listSearch('searchProjects', {
				credentials: credentials(),
				parameters: { organization: locator('6f1c2a3b-4d5e', 'id') } as INodeParameters,
			});

			expect(requestsTo('/api/v1/projects')[0].rawQuery).toBe('');
		});

		it("reports a wrong API key with LlamaCloud's reason", async () => {
			await expect(
				listSearch('searchProjects', { credentials: credentials({ apiKey: WRONG_KEY }), parameters: {} }),
			).rejects.toThrow('LlamaCloud error 401: Invalid authentication token');
		});
	});

	describe('organizations (searchOrganizations)', () => {
		it('lists the organizations of the key from /api/v1/organizations', async () => {
			const { results } = await listSearch('searchOrganizations', { credentials: credentials(), parameters: {} });

			expect(results).toEqual([{ name: 'Acme Research', value: sandbox.fixtures.organizationId }]);
			expect(sandbox.requests.map((request) => request.path)).toEqual(['/api/v1/organizations']);
		});

		it('filters by name', async () => {
			const acme = await listSearch('searchOrganizations', { credentials: credentials(), parameters: {}, filter: 'acme' });
			const globex = await listSearch('searchOrganizations', { credentials: credentials(), parameters: {}, filter: 'globex' });

			expect(acme.results).toHaveLength(1);
			expect(globex.results).toEqual([]);
		});

		it('falls back to the distinct organizations of the projects when LlamaCloud has no organizations endpoint', async () => {
			const legacy = await startSandbox({ organizationsEndpoint: false });
			try {
				const { results } = await listSearch('searchOrganizations', {
					credentials: { apiKey: legacy.apiKey, region: 'custom', baseUrl: legacy.url },
					parameters: {},
				});

				expect(results).toEqual([{ name: legacy.fixtures.organizationId, value: legacy.fixtures.organizationId }]);
				expect(legacy.requests.map((request) => request.path)).toEqual(['/api/v1/organizations', '/api/v1/projects']);
			} finally {
				await legacy.close();
			}
		});

		it('does not hide other errors behind the fallback', async () => {
			await expect(
				listSearch('searchOrganizations', { credentials: credentials({ apiKey: WRONG_KEY }), parameters: {} }),
			).rejects.toThrow('Invalid authentication token');
			expect(requestsTo('/api/v1/projects')).toEqual([]);
		});
	});

	describe('sessions (searchSessions)', () => {
		it('pages through the sessions with a pagination token, one LlamaCloud page at a time', async () => {
			const created = sandbox.addSessions(sandbox.fixtures.defaultProjectId, 120);
			const state = { credentials: credentials(), parameters: {} };

			const first = await listSearch('searchSessions', state);
			// n8n hands the token of the previous answer back when the user scrolls further.
			const second = await listSearch('searchSessions', { ...state, paginationToken: first.paginationToken as string });
			const third = await listSearch('searchSessions', { ...state, paginationToken: second.paginationToken as string });

			expect(first.results).toHaveLength(50);
			expect(first.paginationToken).toEqual(expect.any(String));
			expect(second.results).toHaveLength(50);
			expect(second.paginationToken).toEqual(expect.any(String));
			expect(second.paginationToken).not.toBe(first.paginationToken);
			expect(third.results).toHaveLength(20);
			expect(third.paginationToken).toBeUndefined();

			const values = [...first.results, ...second.results, ...third.results].map((result) => result.value);
			expect(new Set(values).size).toBe(120);
			expect([...values].sort()).toEqual([...created].sort());

			const requests = requestsTo('/api/v1/chat');
			expect(requests.map((request) => request.query.page_token)).toEqual([undefined, first.paginationToken, second.paginationToken]);
			for (const request of requests) {
				expect(request.query.page_size).toBe('50');
				expect(request.query).not.toHaveProperty('cursor');
			}
		});

		it('names untitled sessions by ID and titled ones by their title', async () => {
			const [untitled] = sandbox.addSessions(sandbox.fixtures.defaultProjectId, 1);
			const titled = await createTitledSession('Summarise the refund policy');

			const { results } = await listSearch('searchSessions', { credentials: credentials(), parameters: {} });

			expect(results).toEqual(
				expect.arrayContaining([
					expect.objectContaining({ name: `Untitled session (${untitled})`, value: untitled }),
					expect.objectContaining({ name: 'Summarise the refund policy', value: titled }),
				]),
			);
			for (const result of results) expect(result.description).toMatch(/^Last updated /);
		});

		it('filters the page by title or ID', async () => {
			sandbox.addSessions(sandbox.fixtures.defaultProjectId, 3);
			const titled = await createTitledSession('Summarise the refund policy');

			const { results } = await listSearch('searchSessions', { credentials: credentials(), parameters: {}, filter: 'REFUND' });

			expect(results.map((result) => result.value)).toEqual([titled]);
		});

		it('lists the sessions of the chosen project', async () => {
			const { secondProjectId } = sandbox.fixtures;
			const inSecond = sandbox.addSessions(secondProjectId, 2);
			sandbox.addSessions(sandbox.fixtures.defaultProjectId, 2);

			const { results } = await listSearch('searchSessions', {
				credentials: credentials(),
				parameters: { project: locator(secondProjectId) } as INodeParameters,
			});

			expect(results.map((result) => result.value).sort()).toEqual([...inSecond].sort());
			expect(requestsTo('/api/v1/chat')[0].query.project_id).toBe(secondProjectId);
		});
	});

	describe('indexes (getIndexes)', () => {
		it('loads every index of the project, following next_page_token across pages', async () => {
			const added = sandbox.addIndexes(sandbox.fixtures.defaultProjectId, 250);

			const options = await loadOptions('getIndexes', { credentials: credentials(), parameters: {} });

			const values = options.map((option) => option.value);
			expect(values).toHaveLength(253);
			expect(new Set(values).size).toBe(253);
			expect([...values].sort()).toEqual([...sandbox.fixtures.indexIds, ...added.map((index) => index.id)].sort());

			const requests = requestsTo('/api/v1/indexes');
			expect(requests).toHaveLength(3);
			expect(requests[0].query.page_token).toBeUndefined();
			expect(requests[1].query.page_token).toEqual(expect.any(String));
			expect(requests[2].query.page_token).toEqual(expect.any(String));
			expect(requests[2].query.page_token).not.toBe(requests[1].query.page_token);
			for (const request of requests) expect(request.query).not.toHaveProperty('cursor');
		});

		it('shows each index by name and ID with its description, sorted by name', async () => {
			const options = await loadOptions('getIndexes', { credentials: credentials(), parameters: {} });

			expect(options).toEqual([
				{
					name: 'Product handbook (idx-product-handbook)',
					value: 'idx-product-handbook',
					description: 'Plans, pricing, refunds and feature reference.',
				},
				{
					name: 'Q3 reports (idx-q3-reports)',
					value: 'idx-q3-reports',
					description: 'Quarterly board reports and finance memos for Q3 2026.',
				},
				{
					name: 'Support tickets (idx-support-tickets)',
					value: 'idx-support-tickets',
					description: 'Resolved support tickets from October 2026.',
				},
			]);
		});

		it('loads only the indexes of the chosen project, asking LlamaCloud with project_id', async () => {
			const { organizationId, secondProjectId } = sandbox.fixtures;

			const options = await loadOptions('getIndexes', {
				credentials: credentials(),
				parameters: { organization: locator(organizationId), project: locator(secondProjectId, 'id') } as INodeParameters,
			});

			expect(options.map((option) => option.value)).toEqual(['idx-onboarding-faq', 'idx-release-notes']);
			expect(requestsTo('/api/v1/indexes')[0].query).toEqual({
				organization_id: organizationId,
				project_id: secondProjectId,
				page_size: '100',
			});
		});
	});
});

/** A session with a generated title (one chat turn, set up over plain HTTP), and a clean request log. */
async function createTitledSession(prompt: string): Promise<string> {
	const sessionId = await seedSession(sandbox, { indexIds: ['idx-product-handbook'], prompt });
	sandbox.clearRequests();
	return sessionId;
}
