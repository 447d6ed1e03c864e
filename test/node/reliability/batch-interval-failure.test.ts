// Batching with a Batch Interval when an item fails, through n8n's engine against the sandbox:
// without Continue On Fail the node stops at the failure and starts no later batch; with it,
// every batch still runs and each item gets its own output.

import type { INodeParameters } from 'n8n-workflow';

import { useSandbox } from '../../harness/support';
import type { Sandbox } from '../../sandbox';
import { TrackedRuns, byId, credentialsFor, expectErrorItem, seedSessions, workflowError } from './support';

let sandbox: Sandbox;
const runs = new TrackedRuns();

useSandbox((started) => (sandbox = started));

afterEach(() => {
	runs.expectNoSecrets(sandbox.apiKey);
});

async function summariesWithSecondFailing(continueOnFail: boolean) {
	const sessions = await seedSessions(sandbox, 5);
	sandbox.injectFault({
		method: 'GET',
		path: `/api/v1/chat/${sessions[1]}/summary`,
		times: Infinity,
		action: { type: 'status', status: 404, body: { detail: 'Session not found' } },
	});
	const parameters: INodeParameters = {
		resource: 'session',
		operation: 'getSummary',
		sessionId: byId('={{ $json.session_id }}'),
		options: { maxRetries: 0, batching: { batch: { batchSize: 1, batchInterval: 20 } } },
	};
	const result = await runs.run({
		credentials: credentialsFor(sandbox),
		items: sessions.map((session_id) => ({ session_id })),
		nodes: [{ name: 'LlamaCloud', parameters, continueOnFail }],
	});
	const requested = sandbox.requests.map((request) => sessions.indexOf(request.path.split('/')[4]));
	return { result, sessions, requested };
}

describe('Batch Interval when an item fails', () => {
	it('stops at the failing batch: no later batch is started', async () => {
		const { result, requested } = await summariesWithSecondFailing(false);

		expect(workflowError(result).message).toBe('LlamaCloud error 404: Session not found');
		expect(workflowError(result).context?.itemIndex).toBe(1);
		expect(requested).toEqual([0, 1]);
	});

	it('with Continue On Fail, runs every batch and gives one item per input', async () => {
		const { result, sessions, requested } = await summariesWithSecondFailing(true);

		expect(result.error).toBeUndefined();
		expect(requested).toEqual([0, 1, 2, 3, 4]);
		const output = result.output('LlamaCloud');
		expect(output).toHaveLength(5);
		expectErrorItem(output[1], 1);
		for (const index of [0, 2, 3, 4]) {
			expect(output[index].json.session_id).toBe(sessions[index]);
			expect(output[index].pairedItem).toEqual({ item: index });
		}
	});
});
