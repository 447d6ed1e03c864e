// While the user edits the node, the lists (sessions, indexes) follow the Organization and Project
// chosen so far. A value that is not a whole ID yet (half typed, an expression, padded) must not be
// sent as a scope: LlamaCloud would answer 422 and the list would show an error instead of entries.
// Through n8n-core's LoadOptionsContext, against the sandbox.

import { listSearch, loadOptions } from '../../harness/methods';
import { byId, useSandbox } from '../../harness/support';
import type { Sandbox } from '../../sandbox';
import { credentialsFor } from '../reliability/support';

let sandbox: Sandbox;

useSandbox((started) => (sandbox = started));

async function sessionListQuery(organization: string, project: string): Promise<Record<string, unknown>> {
	await listSearch('searchSessions', {
		credentials: credentialsFor(sandbox),
		parameters: { organization: byId(organization), project: byId(project) },
	});
	const [request] = sandbox.requests.filter((r) => r.method === 'GET' && r.path === '/api/v1/chat');
	return request.query;
}

describe('the scope of the lists in the editor', () => {
	it('sends a chosen Organization and Project, without the spaces around them', async () => {
		const { organizationId, defaultProjectId } = sandbox.fixtures;
		const query = await sessionListQuery(` ${organizationId} `, `\t${defaultProjectId.toUpperCase()}\n`);
		expect(query).toMatchObject({ organization_id: organizationId, project_id: defaultProjectId.toUpperCase() });
	});

	it.each([
		['half typed', (id: string) => id.slice(0, 20)],
		['with something before it', (id: string) => `x${id}`],
		['with something after it', (id: string) => `${id}x`],
		['an expression', () => '={{ $json.project }}'],
	])('leaves out a Project that is %s', async (_case, value) => {
		const query = await sessionListQuery('', value(sandbox.fixtures.defaultProjectId));
		expect(query).not.toHaveProperty('project_id');
		expect(query).not.toHaveProperty('organization_id');
	});

	it('scopes the index list the same way', async () => {
		await loadOptions('getIndexes', {
			credentials: credentialsFor(sandbox),
			parameters: { organization: byId(''), project: byId(` ${sandbox.fixtures.defaultProjectId} `) },
		});
		const [request] = sandbox.requests;
		expect(request.query).toEqual({ project_id: sandbox.fixtures.defaultProjectId, page_size: '100' });
	});
});
