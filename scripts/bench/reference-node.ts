/* eslint-disable @n8n/community-nodes/node-usable-as-tool -- Node.js test/dev code, never run inside n8n */
/**
 * A minimal n8n node that makes the same request as Session → Create the least an n8n node can:
 * one getCredentials per run for the base URL, then `httpRequestWithAuthentication` per item with
 * the same credential (so n8n's credential expression, request conversion and agents are all
 * there). The node compared with it isolates what OUR code adds on top of n8n's own per-item cost.
 */
import type {
	IDataObject,
	IExecuteFunctions,
	IN8nHttpFullResponse,
	INodeExecutionData,
	INodeType,
	INodeTypeDescription,
	INodeTypes,
	IVersionedNodeType,
} from 'n8n-workflow';
import { NodeConnectionTypes, NodeHelpers, Workflow } from 'n8n-workflow';

export const REFERENCE_TYPE = 'bench.referenceCreate';

class ReferenceCreate implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Bench Reference Create',
		name: 'referenceCreate',
		group: ['transform'],
		version: 1,
		description: 'Benchmark reference: POST /api/v1/chat per item',
		defaults: { name: 'Reference' },
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		credentials: [{ name: 'llamaCloudApi', required: true }],
		properties: [],
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const items = this.getInputData();
		const credentials = await this.getCredentials<{ baseUrl: string }>('llamaCloudApi');
		const url = `${credentials.baseUrl}/api/v1/chat`;
		const output: INodeExecutionData[] = [];
		for (let itemIndex = 0; itemIndex < items.length; itemIndex++) {
			const response = (await this.helpers.httpRequestWithAuthentication.call(this, 'llamaCloudApi', {
				method: 'POST',
				url,
				body: { index_ids: ['idx-q3-reports'] },
				json: true,
				timeout: 60_000,
				returnFullResponse: true,
				ignoreHttpStatusErrors: true,
			})) as IN8nHttpFullResponse;
			if (response.statusCode !== 201) throw new Error(`reference create: HTTP ${response.statusCode}`);
			output.push({ json: response.body as IDataObject, pairedItem: { item: itemIndex } });
		}
		return [output];
	}
}

class ReferenceNodeTypes implements INodeTypes {
	private readonly node = new ReferenceCreate();

	getByName(nodeType: string): INodeType | IVersionedNodeType {
		if (nodeType !== REFERENCE_TYPE) throw new Error(`Unknown node type ${nodeType}`);
		return this.node;
	}

	getByNameAndVersion(nodeType: string, version?: number): INodeType {
		return NodeHelpers.getVersionedNodeType(this.getByName(nodeType), version);
	}

	getKnownTypes() {
		return {};
	}
}

const referenceNodeTypes = new ReferenceNodeTypes();

export function referenceWorkflow(): Workflow {
	return new Workflow({
		id: 'bench-reference',
		name: 'Bench reference',
		nodes: [
			{
				id: 'reference-0',
				name: 'Reference',
				type: REFERENCE_TYPE,
				typeVersion: 1,
				position: [0, 0],
				parameters: {},
				credentials: { llamaCloudApi: { id: 'cred-1', name: 'LlamaCloud account' } },
			},
		],
		connections: {},
		active: false,
		nodeTypes: referenceNodeTypes,
		settings: { executionOrder: 'v1' },
	});
}
