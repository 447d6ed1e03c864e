// pairedItem where n8n-core cannot fill it in: with "On Error: Continue (using error output)" the
// node has two outputs, so n8n does not pair items by position, and each operation's own
// `pairedItem` is all that links an output item to its input. One item of three fails, so both
// outputs carry items.

import type { IDataObject, INodeExecutionData, INodeParameters } from 'n8n-workflow';

import { buildWorkflow } from '../../harness/run-workflow';
import { useSandbox } from '../../harness/support';
import type { FaultRule, Sandbox } from '../../sandbox';
import { TrackedRuns, byId, credentialsFor, seedSessions } from './support';

let sandbox: Sandbox;
const runs = new TrackedRuns();

useSandbox((started) => (sandbox = started));

afterEach(() => {
	runs.expectNoSecrets(sandbox.apiKey);
});

const notFound = { type: 'status', status: 404, body: { detail: 'Session not found' } } as const;
const sessionLocator = byId('={{ $json.session_id }}');
const INDEXES = ['idx-q3-reports', 'idx-product-handbook', 'idx-support-tickets'];

interface Case {
	parameters: INodeParameters;
	/** Items for the node, and the fault that fails the second one. */
	setup(): Promise<{ items: IDataObject[]; fault: FaultRule }>;
}

const sessionItems = async (path: (session: string) => string, method: string) => {
	const sessions = await seedSessions(sandbox, 3);
	return { items: sessions.map((session_id) => ({ session_id })), fault: { method, path: path(sessions[1]), times: Infinity, action: notFound } };
};

const CASES: Array<[string, Case]> = [
	[
		'Session → Create',
		{
			parameters: { resource: 'session', operation: 'create', indexIds: '={{ [$json.index] }}' },
			setup: async () => ({
				items: INDEXES.map((index) => ({ index })),
				fault: {
					method: 'POST',
					path: '/api/v1/chat',
					when: (request) => JSON.stringify((request.body as IDataObject)?.index_ids) === JSON.stringify([INDEXES[1]]),
					action: { type: 'status', status: 422, body: { detail: 'Unsupported index' } },
				},
			}),
		},
	],
	['Session → Get', { parameters: { resource: 'session', operation: 'get', sessionId: sessionLocator }, setup: () => sessionItems((s) => `/api/v1/chat/${s}`, 'GET') }],
	[
		'Session → Get Summary',
		{ parameters: { resource: 'session', operation: 'getSummary', sessionId: sessionLocator }, setup: () => sessionItems((s) => `/api/v1/chat/${s}/summary`, 'GET') },
	],
	['Session → Delete', { parameters: { resource: 'session', operation: 'delete', sessionId: sessionLocator }, setup: () => sessionItems((s) => `/api/v1/chat/${s}`, 'DELETE') }],
	[
		'Message → Send',
		{
			parameters: { resource: 'message', operation: 'send', sessionId: sessionLocator, prompt: 'What grew in Q3?' },
			setup: () => sessionItems((s) => `/api/v1/chat/${s}/messages/stream`, 'POST'),
		},
	],
	[
		'Message → Ask',
		{
			parameters: { resource: 'message', operation: 'ask', prompt: '={{ $json.question }}', indexIds: ['idx-q3-reports'] },
			setup: async () => ({
				items: [0, 1, 2].map((n) => ({ question: `Question ${n}` })),
				fault: {
					method: 'POST',
					path: /\/messages\/stream$/,
					when: (request) => (request.body as IDataObject)?.prompt === 'Question 1',
					times: Infinity,
					action: { type: 'status', status: 400, body: { detail: 'Refused' } },
				},
			}),
		},
	],
];

describe('pairedItem with an error output (n8n-core does not pair items for the node)', () => {
	it.each(CASES)('%s: success and error items each name their input item', async (_name, c) => {
		const { items, fault } = await c.setup();
		sandbox.injectFault(fault);
		const workflow = buildWorkflow([{ name: 'LlamaCloud', parameters: { ...c.parameters, options: { maxRetries: 0 } }, continueOnFail: true }]);
		workflow.nodes.LlamaCloud.onError = 'continueErrorOutput';

		const result = await runs.runBuilt(workflow, 'LlamaCloud', items, credentialsFor(sandbox));

		expect(result.error).toBeUndefined();
		const [success, errors] = (result.run.data.resultData.runData.LlamaCloud[0].data?.main ?? []) as INodeExecutionData[][];
		expect(success.map((item) => item.pairedItem)).toEqual([{ item: 0 }, { item: 2 }]);
		for (const item of success) expect(item.json.error).toBeUndefined();
		expect(errors.map((item) => item.pairedItem)).toEqual([{ item: 1 }]);
		expect(errors[0].json.error).toEqual(expect.stringContaining('LlamaCloud error'));
	});
});
