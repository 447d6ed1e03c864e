import './environment';

import { LoadOptionsContext } from 'n8n-core';
import type { INodeListSearchResult, INodeParameters, INodePropertyOptions } from 'n8n-workflow';

import { LlamaCloudChat } from '../../nodes/LlamaCloudChat/LlamaCloudChat.node';
import type { LlamaCloudCredentialData } from './credentials';
import { buildAdditionalData, buildWorkflow } from './run-workflow';

const node = new LlamaCloudChat();

interface EditorState {
	credentials: LlamaCloudCredentialData;
	/** The node's current parameters, as the editor would send them. */
	parameters: INodeParameters;
}

/** The context n8n gives list methods while a user edits the node (n8n-core's LoadOptionsContext). */
function editorContext(state: EditorState, path: string) {
	const workflow = buildWorkflow([{ name: 'LlamaCloud Chat', parameters: state.parameters }]);
	const additionalData = buildAdditionalData(state.credentials);
	additionalData.currentNodeParameters = state.parameters;
	return new LoadOptionsContext(workflow, workflow.getNode('LlamaCloud Chat')!, additionalData, path);
}

export async function loadOptions(method: keyof typeof node.methods.loadOptions, state: EditorState): Promise<INodePropertyOptions[]> {
	return await node.methods.loadOptions[method].call(editorContext(state, 'parameters.indexIds'));
}

export async function listSearch(
	method: keyof typeof node.methods.listSearch,
	state: EditorState & { filter?: string; paginationToken?: string },
): Promise<INodeListSearchResult> {
	return await node.methods.listSearch[method].call(editorContext(state, 'parameters'), state.filter, state.paginationToken);
}
