import type { INodeType, INodeTypes, IVersionedNodeType } from 'n8n-workflow';
import { NodeHelpers } from 'n8n-workflow';

import { LlamaCloudChat } from '../../nodes/LlamaCloudChat/LlamaCloudChat.node';

/** The node's type name as n8n registers it for an installed community package. */
export const NODE_TYPE = 'n8n-nodes-llamacloud-chat.llamaCloudChat';

/** The node types the engine may run: this package's node, loaded the way n8n loads it. */
export class PackageNodeTypes implements INodeTypes {
	private readonly types: Record<string, INodeType | IVersionedNodeType> = {
		[NODE_TYPE]: new LlamaCloudChat(),
	};

	getByName(nodeType: string): INodeType | IVersionedNodeType {
		const type = this.types[nodeType];
		if (!type) throw new Error(`Unknown node type ${nodeType}`);
		return type;
	}

	getByNameAndVersion(nodeType: string, version?: number): INodeType {
		return NodeHelpers.getVersionedNodeType(this.getByName(nodeType), version);
	}

	getKnownTypes() {
		return {};
	}
}
