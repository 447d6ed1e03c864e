// Each reader gets the words meant for them. n8n-core streams a failed node's description into the
// chat (WorkflowExecute: sendChunk({ type: 'error', content: error.description })), n8n's Chat Hub
// shows it to its user, and an AI Agent's model reads a failed tool's message. So when a chat user or
// a model reads the error, the description is short and names no session, URL or operator step, a
// tool's message says what failed and what the model can do, and the operator's own message and
// description stay in the execution, in the error's details (context.data). Through n8n's engine.

import {
	NodeConnectionTypes,
	type EngineResponse,
	type IDataObject,
	type IExecuteFunctions,
	type INodeExecutionData,
	type INodeParameters,
	type INodeType,
	type INodeTypeDescription,
	type WorkflowExecuteMode,
} from 'n8n-workflow';

import { CHAT_TEXTS, modelText } from '../../../nodes/LlamaCloudChat/helpers/audience';
import { TOOL_NODE_TYPE, toolVariant } from '../../harness/node-types';
import { nodeTypes, runWorkflow, type RunResult } from '../../harness/run-workflow';
import { useSandbox } from '../../harness/support';
import type { FaultAction, Sandbox } from '../../sandbox';
import { credentialsFor, expectErrorItem, workflowError } from './support';

let sandbox: Sandbox;

useSandbox((started) => (sandbox = started));

const STREAM = /\/messages\/stream$/;
const ask: INodeParameters = { resource: 'message', operation: 'ask', prompt: 'What grew in Q3?', indexIds: ['idx-q3-reports'], options: { maxRetries: 0 } };

interface ErrorFields {
	message: string;
	description?: string | null;
	context: IDataObject & { data?: string; session_id?: string };
}

interface How {
	tool?: boolean;
	mode?: WorkflowExecuteMode;
	streaming?: boolean;
	continueOnFail?: boolean;
}

async function run(how: How): Promise<RunResult> {
	return await runWorkflow({
		credentials: credentialsFor(sandbox),
		items: [{ prompt: 'What grew in Q3?' }],
		nodes: [
			{
				name: 'Ask',
				...(how.tool ? { type: TOOL_NODE_TYPE } : {}),
				parameters: how.tool ? { ...ask, prompt: '={{ $json.prompt }}' } : ask,
				continueOnFail: how.continueOnFail,
			},
		],
		mode: how.mode ?? (how.streaming ? 'webhook' : 'manual'),
		streaming: how.streaming,
	});
}

/** The session the node created for the question. */
function sessionOfRun(): string {
	const stream = sandbox.requests.find((request) => STREAM.test(request.path));
	return decodeURIComponent(String(stream?.path.split('/')[4]));
}

/** The text n8n streamed into the chat for the failed node. */
function streamedError(result: RunResult): string {
	const errors = result.chunks.filter((chunk) => chunk.type === 'error');
	expect(errors).toHaveLength(1);
	return String(errors[0].content);
}

/** Nothing a chat user may not read: no session, URL, option or operator step. */
function expectForChatUser(text: string): void {
	expect(text).not.toMatch(/ses-|https?:|Session →|Retr|'|Timeout|credential|check/i);
	expect(text.length).toBeLessThan(90);
}

const FAILURES: Array<[string, keyof typeof CHAT_TEXTS, () => void, string]> = [
	['the answer broke off', 'transient', () => sandbox.setStreamBehaviour({ mode: 'drop-mid-stream' }), 'The connection broke while LlamaCloud was answering'],
	['LlamaCloud had a server problem (503)', 'transient', () => fault(STREAM, { type: 'status', status: 503, body: { detail: 'Service unavailable' } }), 'LlamaCloud error 503: Service unavailable'],
	[
		'LlamaCloud turned the question away (422)',
		'rejected',
		() => fault(STREAM, { type: 'status', status: 422, body: { detail: 'prompt: String should have at most 1000 characters' } }),
		'LlamaCloud error 422: prompt: String should have at most 1000 characters',
	],
	['the API key was refused (401)', 'unavailable', () => fault('/api/v1/chat', { type: 'status', status: 401, body: { detail: 'Invalid authentication token' } }), 'LlamaCloud error 401: Invalid authentication token'],
];

function fault(path: string | RegExp, action: FaultAction): void {
	sandbox.injectFault({ method: 'POST', path, action });
}

describe('a chat user reads a short text: what n8n streams, and what the Chat Hub shows', () => {
	it.each(FAILURES)('%s: the chat gets "%s" words; the operator keeps message and details', async (_label, kind, makeFail, operatorMessage) => {
		makeFail();
		const result = await run({ streaming: true });
		const error = workflowError(result) as unknown as ErrorFields;

		expect(streamedError(result)).toBe(CHAT_TEXTS[kind]);
		expectForChatUser(CHAT_TEXTS[kind]);
		expect(error.description).toBe(CHAT_TEXTS[kind]);
		// The operator's message is unchanged, and the description they would have read is in the details.
		expect(error.message.startsWith(operatorMessage)).toBe(true);
		expect(typeof error.context.data).toBe('string');
		expect((error.context.data as string).length).toBeGreaterThan(CHAT_TEXTS[kind].length);
	});

	it('the operator still reads the session to check, and what to do, in the details', async () => {
		sandbox.setStreamBehaviour({ mode: 'drop-mid-stream' });
		const result = await run({ streaming: true });
		const error = workflowError(result) as unknown as ErrorFields;
		const sessionId = sessionOfRun();
		expect(error.context.session_id).toBe(sessionId);
		expect(error.context.data).toContain(`Check session ${sessionId} with Session → Get`);
		expect(JSON.stringify(result.chunks)).not.toContain(sessionId);
	});

	it("n8n's Chat Hub (mode chat) shows the description: the short text, also without streaming", async () => {
		sandbox.setStreamBehaviour({ mode: 'drop-mid-stream' });
		const result = await run({ mode: 'chat' });
		const error = workflowError(result) as unknown as ErrorFields;
		expect(error.description).toBe(CHAT_TEXTS.transient);
		expect(error.context.data).toContain(`Check session ${sessionOfRun()} with Session → Get`);
	});

	it('an execution nobody else reads (not streamed) keeps the operator texts as they were', async () => {
		sandbox.setStreamBehaviour({ mode: 'drop-mid-stream' });
		const result = await run({});
		const error = workflowError(result) as unknown as ErrorFields;
		expect(error.description).toContain(`Check session ${sessionOfRun()} with Session → Get`);
		expect(error.context.data).toBeUndefined();
	});
});

describe('a model reads what failed and what it can do', () => {
	it.each(FAILURES)('%s: the tool error says it in "%s" words', async (_label, kind, makeFail, operatorMessage) => {
		makeFail();
		const result = await run({ tool: true, streaming: true });
		const error = workflowError(result) as unknown as ErrorFields;

		const detail = kind === 'rejected' ? 'prompt: String should have at most 1000 characters' : undefined;
		expect(error.message).toBe(modelText(kind, detail));
		expect(error.message).toMatch(/answer without the documents/);
		// n8n streams the description of a failed tool node too: the chat user's words.
		expect(error.description).toBe(CHAT_TEXTS[kind]);
		expect(streamedError(result)).toBe(CHAT_TEXTS[kind]);
		// The operator's message and description are in the details.
		expect(error.context.data?.startsWith(`${operatorMessage}`)).toBe(true);
		expect(`${error.message} ${error.description}`).not.toMatch(/ses-|Session →|'Retries'|credential/);
	});

	it('under Continue On Fail the model reads the same words in the error item', async () => {
		fault(STREAM, { type: 'status', status: 503, body: { detail: 'Service unavailable' } });
		const result = await run({ tool: true, continueOnFail: true });
		expect(result.error).toBeUndefined();
		const json = expectErrorItem(result.output('Ask')[0], 0);
		expect(json).toEqual({ error: modelText('transient'), description: CHAT_TEXTS.transient, httpCode: '503' });
	});
});

describe("an AI Agent that has n8n's engine run its tool (Tools Agent v3: engine requests)", () => {
	// The agent asks the engine to run the tool node; the engine keeps a failed tool's
	// `{ error: message }` as the tool's `ai_tool` output, and the agent reads that as the tool's
	// observation (n8n-nodes-langchain's buildSteps: the ai_tool items, else the error's message).
	// n8n-core 2.11.1, the engine these tests run, then stops the workflow; n8n 2.41.1 goes on and
	// hands that output to the agent (WorkflowExecute.handleNodeExecutionError).
	const START_TYPE = 'test.start';
	const AGENT_TYPE = 'test.engineRequestAgent';
	const AGENT_TOOL_TYPE = `${TOOL_NODE_TYPE.slice(0, -'Tool'.length)}ForEngineTool`;

	const testType = (name: string, description: Partial<INodeTypeDescription>, execute: INodeType['execute']): INodeType => ({
		description: { displayName: name, name, group: ['transform'], version: 1, description: name, defaults: { name }, properties: [], inputs: [], outputs: [], ...description },
		execute,
	});

	beforeAll(() => {
		nodeTypes.register(
			START_TYPE,
			testType('start', { inputs: [NodeConnectionTypes.Main], outputs: [NodeConnectionTypes.Main] }, async function (this: IExecuteFunctions) {
				return [this.getInputData()];
			}),
		);
		nodeTypes.register(
			AGENT_TYPE,
			testType(
				'agent',
				{ inputs: [NodeConnectionTypes.Main, { type: NodeConnectionTypes.AiTool, displayName: 'Tool' }], outputs: [NodeConnectionTypes.Main] },
				async function (this: IExecuteFunctions, response?: EngineResponse) {
					if (!response || response.actionResponses.length === 0) {
						const call = { actionType: 'ExecutionNodeAction', nodeName: 'Tool', input: { prompt: 'What grew in Q3?' }, type: NodeConnectionTypes.AiTool, id: 'call-1', metadata: { itemIndex: 0 } };
						return { actions: [call], metadata: {} } as unknown as INodeExecutionData[][];
					}
					const toolData = response.actionResponses[0].data;
					const items = toolData.data?.[NodeConnectionTypes.AiTool]?.[0]?.map((item) => item.json);
					const observation = items?.length ? JSON.stringify(items) : JSON.stringify({ error: toolData.error?.message });
					return [[{ json: { observation } }]];
				},
			),
		);
		const base = toolVariant();
		nodeTypes.register(
			AGENT_TOOL_TYPE,
			Object.assign(Object.create(Object.getPrototypeOf(base) as object) as INodeType, base, {
				description: { ...base.description, name: 'llamaCloudChatForEngineTool', inputs: [], outputs: [NodeConnectionTypes.AiTool] },
			}),
		);
	});

	it('the model reads the tool error in its words, and the chat user in theirs', async () => {
		fault(STREAM, { type: 'status', status: 503, body: { detail: 'Service unavailable' } });
		const result = await runWorkflow({
			credentials: credentialsFor(sandbox),
			mode: 'webhook',
			streaming: true,
			items: [{ chatInput: 'What grew in Q3?' }],
			nodes: [
				{ name: 'Start', type: START_TYPE, parameters: {} },
				{ name: 'Agent', type: AGENT_TYPE, parameters: {} },
				{ name: 'Tool', type: AGENT_TOOL_TYPE, parameters: { ...ask, prompt: '={{ $json.prompt }}' } },
			],
			connections: {
				Start: { [NodeConnectionTypes.Main]: [[{ node: 'Agent', type: NodeConnectionTypes.Main, index: 0 }]] },
				Tool: { [NodeConnectionTypes.AiTool]: [[{ node: 'Agent', type: NodeConnectionTypes.AiTool, index: 0 }]] },
			},
		});
		expect(sandbox.stats.sessionsCreated).toBe(1);
		// What the engine keeps as the tool's output, the agent's observation: the model's words only.
		const toolRun = result.run.data.resultData.runData.Tool[0];
		expect(toolRun.data?.[NodeConnectionTypes.AiTool]).toEqual([[{ json: { error: modelText('transient') } }]]);
		expect(streamedError(result)).toBe(CHAT_TEXTS.transient);
		expect((toolRun.error as unknown as ErrorFields).context.data).toContain('LlamaCloud error 503: Service unavailable');
	});
});
