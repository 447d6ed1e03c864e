import {
	NodeConnectionTypes,
	type IExecuteFunctions,
	type INodeExecutionData,
	type INodeType,
	type INodeTypeDescription,
} from 'n8n-workflow';

import { properties } from './actions/properties';
import { router } from './actions/router';
import { listSearch, loadOptions } from './methods';

/**
 * Message → Ask takes an optional memory sub-node (as n8n's AI Agent does), to keep its conversations
 * wherever n8n runs; the other operations have the main input only. n8n evaluates this per node.
 */
const askInputs =
	`[undefined, 'message'].includes($parameter.resource) && [undefined, 'ask'].includes($parameter.operation)` +
	` ? ['${NodeConnectionTypes.Main}', { type: '${NodeConnectionTypes.AiMemory}', displayName: 'Memory', maxConnections: 1, required: false }]` +
	` : ['${NodeConnectionTypes.Main}']`;

/**
 * LlamaCloud chat sessions in n8n. Parameters evolve through `version` (n8n's light versioning:
 * a new version adds `@version` display conditions), so saved workflows keep working.
 */
export class LlamaCloudChat implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'LlamaCloud Chat',
		name: 'llamaCloudChat',
		icon: { light: 'file:llamacloud.svg', dark: 'file:llamacloud.dark.svg' },
		group: ['transform'],
		version: [1],
		defaultVersion: 1,
		subtitle: '={{ $parameter["operation"] + ": " + $parameter["resource"] }}',
		description: 'Chat with your LlamaCloud indexes: create sessions, ask questions, read answers with citations',
		defaults: { name: 'LlamaCloud Chat' },
		usableAsTool: true,
		inputs: `={{ ${askInputs} }}`,
		outputs: [NodeConnectionTypes.Main],
		credentials: [{ name: 'llamaCloudApi', required: true }],
		properties,
	};

	methods = { listSearch, loadOptions };

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return await router.call(this);
	}
}
