// The "LlamaCloud API" credential: the Test button's answer for each status its rules cover (run
// by n8n-core's RoutingNode, see test/harness/credential-test.ts), and a pasted API key with
// stray whitespace, in the Test button and in the node.

import { testCredential } from '../../harness/credential-test';
import { runWorkflow } from '../../harness/run-workflow';
import { sandboxCredentials, useSandbox } from '../../harness/support';
import type { Sandbox } from '../../sandbox';

let sandbox: Sandbox;

useSandbox((started) => (sandbox = started));

const PROJECTS = '/api/v1/projects';

describe('the Test button', () => {
	it('explains a 403: the key may not list projects', async () => {
		sandbox.injectFault({ method: 'GET', path: PROJECTS, action: { type: 'status', status: 403, body: { detail: 'Forbidden' } } });

		const result = await testCredential(sandboxCredentials(sandbox));

		expect(result).toMatchObject({
			status: 'Error',
			message: 'The API key may not list projects (403). Use a key with access to the organization.',
		});
	});

	it('explains a 401 with the key-and-region rule', async () => {
		// n8n repeats a request answered 401 once (after pre-authentication), so the fault stays.
		sandbox.injectFault({ method: 'GET', path: PROJECTS, times: Infinity, action: { type: 'status', status: 401, body: { detail: 'Invalid authentication token' } } });

		const result = await testCredential(sandboxCredentials(sandbox));

		expect(result.message).toBe('LlamaCloud rejected the API key (401). Check the key, and that the Region is the one the key was created in.');
	});

	it('reports a status no rule covers with n8n’s generic message', async () => {
		sandbox.injectFault({ method: 'GET', path: PROJECTS, action: { type: 'status', status: 500 } });

		const result = await testCredential(sandboxCredentials(sandbox));

		expect(result.status).toBe('Error');
		expect(result.message).toMatch(/500/);
		expect(result.message).not.toMatch(/API key/);
	});

	it('accepts a pasted key with spaces and a line break around it, and sends it trimmed', async () => {
		const result = await testCredential(sandboxCredentials(sandbox, { apiKey: `  ${sandbox.apiKey}\n` }));

		expect(result.status).toBe('OK');
		expect(sandbox.requests[0].headers.authorization).toBe(`Bearer ${sandbox.apiKey}`);
	});
});

describe('the node with a pasted key with stray whitespace', () => {
	it('authenticates with the trimmed key', async () => {
		const result = await runWorkflow({
			credentials: sandboxCredentials(sandbox, { apiKey: `\t${sandbox.apiKey} \r\n` }),
			nodes: [{ name: 'Create', parameters: { resource: 'session', operation: 'create', indexIds: ['idx-q3-reports'] } }],
		});

		expect(result.error).toBeUndefined();
		expect(result.output('Create')[0].json.session_id).toMatch(/^ses-/);
		expect(sandbox.requests.map((request) => request.headers.authorization)).toEqual([`Bearer ${sandbox.apiKey}`]);
	});
});
