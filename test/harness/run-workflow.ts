import './environment';

import { ExecutionLifecycleHooks, WorkflowExecute } from 'n8n-core';
import type {
	IConnections,
	IDataObject,
	INode,
	INodeExecutionData,
	INodeParameters,
	IRun,
	IWorkflowExecuteAdditionalData,
	StructuredChunk,
	WorkflowExecuteMode,
} from 'n8n-workflow';
import { Workflow, createDeferredPromise, createRunExecutionData } from 'n8n-workflow';

import { PackageCredentialsHelper, type LlamaCloudCredentialData } from './credentials';
import { installRecordingLogger } from './logs';
import { NODE_TYPE, PackageNodeTypes } from './node-types';

export const nodeTypes = new PackageNodeTypes();
installRecordingLogger();

export interface WorkflowNode {
	name: string;
	parameters: INodeParameters;
	continueOnFail?: boolean;
	/** n8n's node settings 'Retry On Fail', 'Max. Tries' and 'Wait Between Tries (ms)'. */
	retryOnFail?: boolean;
	maxTries?: number;
	waitBetweenTries?: number;
	/** Defaults to this package's node. */
	type?: string;
	typeVersion?: number;
}

export interface RunOptions {
	/** Nodes in execution order; each feeds the next unless `connections` says otherwise. */
	nodes: WorkflowNode[];
	connections?: IConnections;
	credentials: LlamaCloudCredentialData;
	/** Items given to the first node. */
	items?: IDataObject[];
	/** Called once the execution started, with what n8n calls to cancel it (the editor's Stop button). */
	onStarted?: (cancel: () => void) => void;
	/** Execution mode, as n8n sets it: 'manual' (the editor) by default, 'webhook' for production chat/webhook runs. */
	mode?: WorkflowExecuteMode;
	/**
	 * The execution's response streams, as behind a Chat Trigger or Webhook in streaming mode: n8n's
	 * `sendChunk` hook is registered and `streamingEnabled` set, so the node's `isStreaming()` is true.
	 */
	streaming?: boolean;
	/**
	 * Sees each chunk as n8n's `sendChunk` hook gets it (with `streaming`). Throwing from it is a
	 * response that can no longer be written, e.g. a chat client that went away.
	 */
	onChunk?: (chunk: StructuredChunk) => void;
	/** The workflow's static data as n8n loaded it from its database (e.g. what an earlier run saved). */
	staticData?: IDataObject;
	/** Defaults to 'test-workflow'. */
	workflowId?: string;
}

/** A chunk n8n's `sendChunk` hook received, with when it arrived (performance.now()). */
export type ReceivedChunk = StructuredChunk & { receivedAt: number };

export interface RunResult {
	run: IRun;
	/** Output items of a node (main output 0, first run). */
	output(nodeName: string): INodeExecutionData[];
	/** The error that stopped the workflow, if any. */
	error: IRun['data']['resultData']['error'];
	/** What the execution streamed (only with `streaming`). */
	chunks: ReceivedChunk[];
	/**
	 * The static data n8n would save after this run: only for non-manual runs, and only when a node
	 * changed it (n8n's workflowExecuteAfter hook gets it as `newStaticData`), as plain JSON.
	 */
	savedStaticData?: IDataObject;
}

export function buildWorkflow(
	nodes: WorkflowNode[],
	connections?: IConnections,
	extra: { staticData?: IDataObject; workflowId?: string } = {},
): Workflow {
	const workflowNodes: INode[] = nodes.map((node, index) => ({
		id: `node-${index}`,
		name: node.name,
		type: node.type ?? NODE_TYPE,
		typeVersion: node.typeVersion ?? 1,
		position: [index * 220, 0],
		parameters: node.parameters,
		credentials: { llamaCloudApi: { id: 'cred-1', name: 'LlamaCloud account' } },
		...(node.continueOnFail ? { onError: 'continueRegularOutput' as const } : {}),
		...(node.retryOnFail ? { retryOnFail: true, maxTries: node.maxTries, waitBetweenTries: node.waitBetweenTries } : {}),
	}));
	const chain: IConnections = {};
	for (let index = 0; index < nodes.length - 1; index++) {
		chain[nodes[index].name] = { main: [[{ node: nodes[index + 1].name, type: 'main', index: 0 }]] };
	}
	return new Workflow({
		id: extra.workflowId ?? 'test-workflow',
		name: 'LlamaCloud Chat test',
		nodes: workflowNodes,
		connections: connections ?? chain,
		active: false,
		nodeTypes,
		settings: { executionOrder: 'v1' },
		// As n8n does when it loads a workflow: a fresh copy of what its database holds.
		staticData: extra.staticData ? (JSON.parse(JSON.stringify(extra.staticData)) as IDataObject) : undefined,
	});
}

export function buildAdditionalData(
	credentials: LlamaCloudCredentialData,
	hooks?: ExecutionLifecycleHooks,
): IWorkflowExecuteAdditionalData {
	return {
		credentialsHelper: new PackageCredentialsHelper({ llamaCloudApi: credentials }),
		hooks,
		executeWorkflow: async () => {
			throw new Error('Sub-workflows are not part of these tests');
		},
		getRunExecutionData: async () => undefined,
		currentNodeExecutionIndex: 0,
		restApiUrl: 'http://127.0.0.1:5678/rest',
		instanceBaseUrl: 'http://127.0.0.1:5678',
		formWaitingBaseUrl: 'http://127.0.0.1:5678/form-waiting',
		webhookBaseUrl: 'http://127.0.0.1:5678/webhook',
		webhookWaitingBaseUrl: 'http://127.0.0.1:5678/webhook-waiting',
		webhookTestBaseUrl: 'http://127.0.0.1:5678/webhook-test',
		variables: {},
		logAiEvent: () => {},
		startRunnerTask: async () => {
			throw new Error('Task runners are not part of these tests');
		},
	} as unknown as IWorkflowExecuteAdditionalData;
}

/**
 * Runs a workflow through n8n-core's real execution engine (`WorkflowExecute`), the same code path
 * n8n uses for manual executions: parameters and expressions are resolved by n8n, requests go
 * through n8n's HTTP helpers with the credential's own authentication.
 */
export async function runWorkflow(options: RunOptions): Promise<RunResult> {
	const workflow = buildWorkflow(options.nodes, options.connections, options);
	return await executeWorkflow(workflow, options.nodes[0].name, options.items ?? [{}], options.credentials, options);
}

export async function executeWorkflow(
	workflow: Workflow,
	startNodeName: string,
	inputItems: IDataObject[],
	credentials: LlamaCloudCredentialData,
	options: Pick<RunOptions, 'mode' | 'streaming' | 'onChunk' | 'onStarted'> = {},
): Promise<RunResult> {
	const mode = options.mode ?? 'manual';
	const hooks = new ExecutionLifecycleHooks(mode, 'test-execution', {
		id: workflow.id,
		name: workflow.name ?? 'test',
		active: false,
		isArchived: false,
		nodes: Object.values(workflow.nodes),
		connections: workflow.connectionsBySourceNode,
		createdAt: new Date(),
		updatedAt: new Date(),
		activeVersionId: null,
	} as never);
	const finished = createDeferredPromise<IRun>();
	let savedStaticData: IDataObject | undefined;
	hooks.addHandler('workflowExecuteAfter', (run, newStaticData) => {
		// n8n persists static data only after production (non-manual) runs.
		if (mode !== 'manual' && newStaticData) savedStaticData = JSON.parse(JSON.stringify(newStaticData)) as IDataObject;
		finished.resolve(run);
	});
	const chunks: ReceivedChunk[] = [];
	if (options.streaming) {
		hooks.addHandler('sendChunk', (chunk) => {
			options.onChunk?.(chunk);
			chunks.push({ ...chunk, receivedAt: performance.now() });
		});
	}
	const additionalData = buildAdditionalData(credentials, hooks);
	if (options.streaming) additionalData.streamingEnabled = true;

	const startNode = workflow.getNode(startNodeName);
	if (!startNode) throw new Error(`No node named "${startNodeName}"`);
	const items = inputItems.map((json) => ({ json }));
	const runExecutionData = createRunExecutionData({
		executionData: { nodeExecutionStack: [{ node: startNode, data: { main: [items] }, source: null }] },
	});

	const workflowExecute = new WorkflowExecute(additionalData, mode, runExecutionData);
	const running = workflowExecute.processRunExecutionData(workflow);
	options.onStarted?.(() => running.cancel());
	await running;
	const run = await finished.promise;
	return {
		run,
		chunks,
		savedStaticData,
		error: run.data.resultData.error,
		output(nodeName: string) {
			const taskData = run.data.resultData.runData[nodeName]?.[0];
			if (!taskData) throw new Error(`Node "${nodeName}" did not run`);
			return taskData.data?.main?.[0] ?? [];
		},
	};
}
