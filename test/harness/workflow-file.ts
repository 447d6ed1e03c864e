/* eslint-disable @n8n/community-nodes/no-restricted-imports -- Node.js test/dev code, never run inside n8n */
import { readFileSync } from 'node:fs';

import type { IConnections, INode, INodeParameters } from 'n8n-workflow';
import { Workflow } from 'n8n-workflow';

import type { LlamaCloudCredentialData } from './credentials';
import { MEMORY_NODE_TYPE } from './memory-node';
import { executeWorkflow, nodeTypes, type RunResult } from './run-workflow';

interface WorkflowJson {
	name: string;
	nodes: INode[];
	connections: IConnections;
}

/** Trigger nodes only start a run; n8n's manual trigger emits one empty item, which is what we feed. */
const isTrigger = (node: INode) => /trigger$/i.test(node.type);

/** What n8n's Chat Trigger emits for a message typed into its chat. */
export const SAMPLE_CHAT_MESSAGE = { sessionId: 'demo-conversation', action: 'sendMessage', chatInput: 'What were the main findings in Q3?' };

/**
 * n8n's memory sub-nodes (Redis, Postgres, Simple Memory, …) are not part of this repository: an example's
 * memory runs as the harness's chat memory of the same shape (LangChain's BufferWindowMemory behind n8n's
 * logging proxy), keyed by the chat's session ID as theirs are by default.
 */
function standInFor(node: INode): INode {
	if (!/^@n8n\/n8n-nodes-langchain\.memory/.test(node.type)) return node;
	const kind = node.type.endsWith('.memoryBufferWindow') ? 'simple' : 'stored';
	return { ...node, type: MEMORY_NODE_TYPE, typeVersion: 1, credentials: undefined, parameters: { kind } };
}

/** What an MCP client's tool call hands the tool: its arguments (the tool's one argument is `prompt`). */
export const SAMPLE_TOOL_CALL = { prompt: 'What were the main findings in Q3?' };

const isMcpTrigger = (node: INode) => /\.mcpTrigger$/.test(node.type);

const triggerOutput = (trigger: INode) => {
	if (isMcpTrigger(trigger)) return [SAMPLE_TOOL_CALL];
	return /chatTrigger$/i.test(trigger.type) ? [SAMPLE_CHAT_MESSAGE] : [{}];
};

/** The node a trigger starts: on its main output, or, for an MCP Server Trigger, the tool connected to it. */
function startNodeOf(json: WorkflowJson, trigger: INode): string | undefined {
	if (!isMcpTrigger(trigger)) return json.connections[trigger.name]?.main?.[0]?.[0]?.node;
	return Object.keys(json.connections).find((from) => json.connections[from].ai_tool?.some((targets) => targets?.some((c) => c.node === trigger.name)));
}

export interface WorkflowFileOptions {
	credentials: LlamaCloudCredentialData;
	/** Replaces the `indexIds` of every LlamaCloud node (to point an example at your own indexes). */
	indexIds?: string[];
}

/**
 * Runs an importable n8n workflow file (such as `examples/*.json`) through n8n-core's engine.
 * Its trigger is replaced by what the trigger emits: one empty item (a chat message for a Chat
 * Trigger) into the node it feeds; an MCP Server Trigger's tool gets a tool call's arguments.
 */
export async function runWorkflowFile(path: string, options: WorkflowFileOptions): Promise<RunResult & { name: string; nodeNames: string[] }> {
	const json = JSON.parse(readFileSync(path, 'utf8')) as WorkflowJson;
	const triggers = json.nodes.filter(isTrigger);
	if (triggers.length !== 1) throw new Error(`${path}: expected exactly one trigger node`);
	const trigger = triggers[0];
	const startNodeName = startNodeOf(json, trigger);
	if (!startNodeName) throw new Error(`${path}: the trigger is not connected`);

	const nodes = json.nodes
		.filter((node) => !isTrigger(node))
		.map((node) => {
			const parameters: INodeParameters = { ...node.parameters };
			if (options.indexIds && 'indexIds' in parameters) parameters.indexIds = options.indexIds;
			return standInFor({ ...node, parameters });
		});
	const connections = { ...json.connections };
	delete connections[trigger.name];
	// An MCP Server Trigger's tool runs as a tool call does: its arguments are its input item.
	if (isMcpTrigger(trigger)) delete connections[startNodeName];

	const workflow = new Workflow({
		id: 'example',
		name: json.name,
		nodes,
		connections,
		active: false,
		nodeTypes,
		settings: { executionOrder: 'v1' },
	});
	const result = await executeWorkflow(workflow, startNodeName, triggerOutput(trigger), options.credentials);
	return { ...result, name: json.name, nodeNames: nodes.map((node) => node.name) };
}
