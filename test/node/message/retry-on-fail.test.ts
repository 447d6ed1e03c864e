// n8n's own "Retry On Fail" node setting re-runs a failed node with the same input items. A message
// that may have reached LlamaCloud must not be sent again by it: the item fails with an error that
// names the setting, and an item that was already answered gets its answer back without a new turn.

import { NodeConnectionTypes, type IDataObject, type IExecuteFunctions, type INodeType, type INodeTypeDescription } from 'n8n-workflow';

import { CHAT_TEXTS, modelText } from '../../../nodes/LlamaCloudChat/helpers/audience';
import { TOOL_NODE_TYPE, toolVariant } from '../../harness/node-types';
import { nodeTypes, runWorkflow, type RunResult, type WorkflowNode } from '../../harness/run-workflow';
import { useSandbox } from '../../harness/support';
import type { Sandbox } from '../../sandbox';
import { byId, createSessionDirectly, credentialsFor, errorOf, expectNoApiKeyLeak, streamRequests } from './support';

let sandbox: Sandbox;

useSandbox((started) => (sandbox = started));

/** Retry On Fail as a user ticks it: 3 tries, the shortest wait n8n allows. */
const retrying = { retryOnFail: true, maxTries: 3, waitBetweenTries: 1 };

async function run(node: WorkflowNode, items: IDataObject[] = [{}]): Promise<RunResult> {
	return await runWorkflow({ credentials: credentialsFor(sandbox), nodes: [{ ...retrying, ...node }], items });
}

const ask = (parameters: IDataObject = {}): WorkflowNode => ({
	name: 'Ask',
	parameters: { resource: 'message', operation: 'ask', prompt: 'What grew in Q3?', indexIds: ['idx-q3-reports'], ...parameters },
});

const REFUSED_MESSAGE = "n8n's Retry On Fail re-ran a message that may already have reached LlamaCloud: it was not sent again";

/** The operator's description of the refused retry: the first attempt's own failure is kept, and the way out is named. */
function expectRefusedDescription(description: string | null | undefined): void {
	expect(description).toContain('The first attempt failed: The connection broke while LlamaCloud was answering');
	expect(description).toContain("Turn off 'Retry On Fail' in the node's Settings");
	expect(description).toContain("'Retries' option");
}

function expectRetryRefused(result: RunResult): void {
	const error = errorOf(result);
	expect(error.message).toBe(REFUSED_MESSAGE);
	expectRefusedDescription(error.description);
	expectNoApiKeyLeak(sandbox, result);
}

/**
 * As a tool, the model reads the message: what failed and what it can do; the description is the
 * chat user's; the operator's message and description are in the error's details (context.data).
 */
function expectToolRetryRefused(result: RunResult): void {
	const error = errorOf(result) as ReturnType<typeof errorOf> & { context: { data?: string } };
	expect(error.message).toBe(modelText('transient'));
	expect(error.description).toBe(CHAT_TEXTS.transient);
	expect(error.context.data?.startsWith(`${REFUSED_MESSAGE}\n\n`)).toBe(true);
	expectRefusedDescription(error.context.data);
	expectNoApiKeyLeak(sandbox, result);
}

describe("n8n's Retry On Fail never sends a turn twice", () => {
	it('Send: a stream that breaks mid-answer is not sent again', async () => {
		sandbox.setStreamBehaviour({ mode: 'drop-mid-stream' });
		const sessionId = await createSessionDirectly(sandbox, ['idx-q3-reports']);
		const result = await run({ name: 'Send', parameters: { resource: 'message', operation: 'send', sessionId: byId(sessionId), prompt: 'What grew in Q3?' } });
		expectRetryRefused(result);
		expect(streamRequests(sandbox)).toHaveLength(1);
		expect(sandbox.stats.turnsStarted).toBe(1);
	});

	it('Ask (one-shot): no second session, no second turn', async () => {
		sandbox.setStreamBehaviour({ mode: 'drop-mid-stream' });
		const result = await run(ask());
		expectRetryRefused(result);
		expect(sandbox.stats.sessionsCreated).toBe(1);
		expect(sandbox.stats.turnsStarted).toBe(1);
	});

	it('Ask with a Conversation ID: no second turn', async () => {
		sandbox.setStreamBehaviour({ mode: 'drop-mid-stream' });
		const result = await run(ask({ conversationId: 'chat-retry-1' }));
		expectRetryRefused(result);
		expect(sandbox.stats.sessionsCreated).toBe(1);
		expect(sandbox.stats.turnsStarted).toBe(1);
	});

	it('Ask as an AI Agent tool: no second session, no second turn', async () => {
		sandbox.setStreamBehaviour({ mode: 'drop-mid-stream' });
		const result = await run({ name: 'Tool', type: TOOL_NODE_TYPE, parameters: { resource: 'message', operation: 'ask', prompt: '={{ $json.prompt }}', indexIds: ['idx-q3-reports'] } }, [
			{ prompt: 'What grew in Q3?' },
		]);
		expectToolRetryRefused(result);
		expect(sandbox.stats.sessionsCreated).toBe(1);
		expect(sandbox.stats.turnsStarted).toBe(1);
	});

	it('a message LlamaCloud turned away (no turn started) may be retried by n8n', async () => {
		sandbox.injectFault({ method: 'POST', path: /\/messages\/stream$/, action: { type: 'status', status: 400, body: { detail: 'Try later' } } });
		const sessionId = await createSessionDirectly(sandbox, ['idx-q3-reports']);
		const result = await run({ name: 'Send', parameters: { resource: 'message', operation: 'send', sessionId: byId(sessionId), prompt: 'What grew in Q3?' } });
		expect(result.error).toBeUndefined();
		expect(result.output('Send')[0].json.answer).toContain('Q3 revenue grew 12%');
		expect(streamRequests(sandbox)).toHaveLength(2);
		expect(sandbox.stats.turnsCompleted).toBe(1);
	});

	it('Session → Create whose answer was lost (a session may exist) is not sent again either', async () => {
		sandbox.injectFault({ method: 'POST', path: '/api/v1/chat', action: { type: 'lose-response' } });
		const result = await run({ name: 'Create', parameters: { resource: 'session', operation: 'create', indexIds: ['idx-q3-reports'] } });
		const error = errorOf(result);
		expect(error.message).toBe("n8n's Retry On Fail re-ran a request that may already have created a LlamaCloud session: it was not sent again");
		expect(error.description).toContain('The first attempt failed: The connection broke before LlamaCloud answered');
		expect(error.description).toContain('The session was not created again');
		expect(sandbox.stats.sessionsCreated).toBe(1);
		expect(sandbox.requests.filter((request) => request.method === 'POST')).toHaveLength(1);
	});

	it('under Continue On Fail, an item that was answered gets its answer back on the re-run, without a second turn', async () => {
		// The first item's stream breaks; n8n re-runs the node (its first output item has an error).
		sandbox.injectFault({ method: 'POST', path: /\/messages\/stream$/, when: (request) => (request.body as IDataObject).prompt === 'first', action: { type: 'drop' } });
		const node: WorkflowNode = { ...ask({ prompt: '={{ $json.q }}', options: { batching: { batch: { batchSize: 2 } } } }), continueOnFail: true };
		const result = await run(node, [{ q: 'first' }, { q: 'second' }]);
		expect(result.error).toBeUndefined();
		const [first, second] = result.output('Ask');
		expect(first.json.error).toBe("n8n's Retry On Fail re-ran a message that may already have reached LlamaCloud: it was not sent again");
		expect(second.json.answer).toContain('Q3 revenue grew 12%');
		expect(second.pairedItem).toEqual({ item: 1 });
		expect(streamRequests(sandbox).map((request) => (request.body as IDataObject).prompt)).toEqual(['first', 'second']);
		expect(sandbox.stats.sessionsCreated).toBe(2);
	});
});

/** A node type of this test's own, next to this package's (an AI Agent stand-in, a fork). */
function testNodeType(
	name: string,
	description: string,
	shape: Pick<INodeTypeDescription, 'inputs' | 'outputs'> & { execute: INodeType['execute'] },
): INodeType {
	const { execute, ...ports } = shape;
	return {
		description: { displayName: name, name: name.toLowerCase(), group: ['transform'], version: 1, description, defaults: { name }, properties: [], ...ports },
		execute,
	};
}

describe("n8n's Retry On Fail of a tool an AI Agent calls (n8n-core's own tool invocation)", () => {
	// n8n-core runs a tool called by an agent through its own retry loop, which counts every try
	// as a new run of the tool node: the same call must still not send its message twice.
	const AGENT_TYPE = 'test.fakeAgent';
	/** The tool variant as n8n offers it to an agent: an `ai_tool` output (its name, as n8n's, ends in `Tool`). */
	const AGENT_TOOL_TYPE = `${TOOL_NODE_TYPE.slice(0, -'Tool'.length)}ForAgentTool`;

	beforeAll(() => {
		const agent = testNodeType('Agent', 'Calls its one tool once, as a model would', {
			inputs: [NodeConnectionTypes.Main, { type: NodeConnectionTypes.AiTool, displayName: 'Tool' }],
			outputs: [NodeConnectionTypes.Main],
			async execute(this: IExecuteFunctions) {
				const [tool] = (await this.getInputConnectionData(NodeConnectionTypes.AiTool, 0)) as Array<{ invoke(args: IDataObject): Promise<unknown> }>;
				try {
					return [[{ json: { toolAnswer: (await tool.invoke({ prompt: 'What grew in Q3?' })) as string } }]];
				} catch (error) {
					return [[{ json: { toolError: (error as Error).message } }]];
				}
			},
		});
		const base = toolVariant();
		const tool = Object.assign(Object.create(Object.getPrototypeOf(base) as object) as INodeType, base, {
			description: { ...base.description, name: 'llamaCloudChatTool', inputs: [], outputs: [NodeConnectionTypes.AiTool] },
		});
		nodeTypes.register(AGENT_TYPE, agent);
		nodeTypes.register(AGENT_TOOL_TYPE, tool);
	});

	async function agentRun(): Promise<RunResult> {
		return await runWorkflow({
			credentials: credentialsFor(sandbox),
			nodes: [
				{ name: 'Agent', type: AGENT_TYPE, parameters: {} },
				{
					name: 'Tool',
					type: AGENT_TOOL_TYPE,
					...retrying,
					waitBetweenTries: 0,
					parameters: { resource: 'message', operation: 'ask', prompt: "={{ $fromAI('prompt', 'The question', 'string') }}", indexIds: ['idx-q3-reports'] },
				},
			],
			connections: { Tool: { [NodeConnectionTypes.AiTool]: [[{ node: 'Agent', type: NodeConnectionTypes.AiTool, index: 0 }]] } },
		});
	}

	it('answers the call once when nothing fails', async () => {
		const result = await agentRun();
		expect(result.error).toBeUndefined();
		expect(result.output('Agent')[0].json.toolAnswer).toContain('Q3 revenue grew 12%');
		expect(sandbox.stats.turnsStarted).toBe(1);
	});

	it('a stream that breaks mid-answer is not sent again by the retries', async () => {
		sandbox.setStreamBehaviour({ mode: 'drop-mid-stream' });
		const result = await agentRun();
		// n8n-core's tool invocation (as the MCP Server Trigger uses it) gives the model the message, then
		// "Details:" and the description: what the model can do, then what a chat user would read.
		expect(result.output('Agent')[0].json.toolError).toBe(`${modelText('transient')}\n\nDetails: ${CHAT_TEXTS.transient}`);
		expect(sandbox.stats.sessionsCreated).toBe(1);
		expect(sandbox.stats.turnsStarted).toBe(1);
		expectNoApiKeyLeak(sandbox, result);
	});
});

describe('an item that reaches the node twice in one execution is two messages', () => {
	const FORK_TYPE = 'test.fork';

	beforeAll(() => {
		// Passes its items on, unchanged (the same objects), on both of its outputs.
		const fork = testNodeType('Fork', 'The same items on two outputs', {
			inputs: [NodeConnectionTypes.Main],
			outputs: [NodeConnectionTypes.Main, NodeConnectionTypes.Main],
			async execute(this: IExecuteFunctions) {
				const items = this.getInputData();
				return [items, items];
			},
		});
		nodeTypes.register(FORK_TYPE, fork);
	});

	it('through two branches into the same node, both are sent and answered', async () => {
		const askTwice = { ...ask({ prompt: '={{ $json.q }}' }), ...retrying };
		const result = await runWorkflow({
			credentials: credentialsFor(sandbox),
			nodes: [{ name: 'Fork', type: FORK_TYPE, parameters: {} }, askTwice],
			connections: {
				Fork: {
					[NodeConnectionTypes.Main]: [
						[{ node: 'Ask', type: NodeConnectionTypes.Main, index: 0 }],
						[{ node: 'Ask', type: NodeConnectionTypes.Main, index: 0 }],
					],
				},
			},
			items: [{ q: 'What grew in Q3?' }],
		});
		expect(result.error).toBeUndefined();
		expect(result.run.data.resultData.runData.Ask).toHaveLength(2);
		expect(sandbox.stats.turnsCompleted).toBe(2);
	});
});
