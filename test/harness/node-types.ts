import type { INodeType, INodeTypes, IVersionedNodeType } from 'n8n-workflow';
import { NodeHelpers } from 'n8n-workflow';

import { LlamaCloudChat } from '../../nodes/LlamaCloudChat/LlamaCloudChat.node';
import { MEMORY_NODE_TYPE, TestChatMemory } from './memory-node';

/** The node's type name as n8n registers it for an installed community package. */
export const NODE_TYPE = 'n8n-nodes-llamacloud-chat.llamaCloudChat';

/** The AI Agent tool variant n8n derives from `usableAsTool` (n8n's tool generation appends `Tool`). */
export const TOOL_NODE_TYPE = `${NODE_TYPE}Tool`;

/**
 * The tool variant as n8n builds it at start-up: the same node under the name `<name>Tool` (which is
 * what `@tool` display conditions and the node's own tool checks read). n8n also swaps the outputs
 * for `ai_tool` and adds a tool-description parameter; here it keeps its main input and output, so
 * that the engine can run it with the tool's arguments as its input item, as an agent's call does.
 */
export function toolVariant(node: INodeType = new LlamaCloudChat()): INodeType {
	const description = { ...node.description, name: `${node.description.name}Tool`, displayName: `${node.description.displayName} Tool` };
	return Object.assign(Object.create(Object.getPrototypeOf(node)), node, { description });
}

/** The node types the engine may run: this package's node, loaded the way n8n loads it. */
export class PackageNodeTypes implements INodeTypes {
	private readonly types: Record<string, INodeType | IVersionedNodeType> = {
		[NODE_TYPE]: new LlamaCloudChat(),
		[TOOL_NODE_TYPE]: toolVariant(),
		[MEMORY_NODE_TYPE]: new TestChatMemory(),
	};

	/** Adds a node type a test needs next to this package's (e.g. a stand-in for an AI Agent). */
	register(name: string, type: INodeType): void {
		this.types[name] = type;
	}

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
