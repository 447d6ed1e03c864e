import {
	NodeApiError,
	NodeOperationError,
	updateDisplayOptions,
	type IDataObject,
	type IExecuteFunctions,
	type INodeExecutionData,
	type INodeProperties,
	type JsonObject,
} from 'n8n-workflow';

import { sendMessage } from '../../helpers/chatTurn';
import { scopeQuery } from '../../helpers/scope';
import { sessionPath } from '../../helpers/session';
import { parseIndexIds, validatePrompt } from '../../helpers/validation';
import { llamaCloudRequest } from '../../transport';
import { indexIdsProperty, optionsCollection, scopeProperties } from '../common.descriptions';
import { messageOptions, promptProperty, readMessageOptions } from './options';

// Scope first: index and session lists are loaded for the chosen project.
const properties: INodeProperties[] = [
	...scopeProperties,
	{
		...promptProperty,
		// Behind n8n's Chat Trigger the question arrives as `chatInput`. As an AI Agent tool, map it with $fromAI.
		default: '={{ $json.chatInput }}',
		description: `${promptProperty.description}. As an AI Agent tool, map it with $fromAI("prompt").`,
	},
	{
		...indexIdsProperty,
		required: true,
		description: `${indexIdsProperty.description} The new session is bound to them.`,
	},
	optionsCollection([
		{
			displayName: 'Delete Session After Answer',
			name: 'deleteSession',
			type: 'boolean',
			default: false,
			description: 'Whether to delete the session once the answer is read, for one-shot questions that need no follow-up',
		},
		...messageOptions,
	]),
];

const displayOptions = { show: { resource: ['message'], operation: ['ask'] } };

export const description = updateDisplayOptions(displayOptions, properties);

/** LlamaCloud answered with an HTTP error before streaming, or streamed an error `stop`. */
function turnSurelyFailed(error: NodeApiError | NodeOperationError): boolean {
	if (error.context.turnFailed === true) return true;
	return error instanceof NodeApiError && /^\d{3}$/.test(String(error.httpCode ?? ''));
}

export async function execute(this: IExecuteFunctions, itemIndex: number): Promise<INodeExecutionData[]> {
	const node = this.getNode();
	const prompt = validatePrompt(node, this.getNodeParameter('prompt', itemIndex, ''), itemIndex);
	const indexIds = parseIndexIds(node, this.getNodeParameter('indexIds', itemIndex, []), itemIndex);
	if (indexIds.length === 0) {
		throw new NodeOperationError(node, 'Indexes: choose at least one index to ask', {
			itemIndex,
			description: 'Pick indexes from the list, or map their IDs, e.g. {{ ["idx-abc123"] }}.',
		});
	}
	const options = readMessageOptions(this, itemIndex);
	const deleteSession = this.getNodeParameter('options.deleteSession', itemIndex, false) as boolean;
	const qs = scopeQuery(this, itemIndex);

	const session = await llamaCloudRequest(this, 'POST', '/api/v1/chat', { qs, body: { index_ids: indexIds }, itemIndex });
	const sessionId = String(session.session_id);
	/** Deletes the session; a failed clean-up is reported, never thrown (the answer or error matters more). */
	const removeSession = async (): Promise<string | undefined> => {
		try {
			await llamaCloudRequest(this, 'DELETE', sessionPath(sessionId), { qs, itemIndex, notFoundAfterRetryIsDone: true });
			return undefined;
		} catch (error) {
			this.logger.warn('LlamaCloud session could not be deleted after asking', {
				node: node.name,
				sessionId,
				error: (error as Error).message,
			});
			return (error as Error).message;
		}
	};

	let json: IDataObject;
	try {
		json = await sendMessage(this, { sessionId, prompt, indexIds, qs, itemIndex }, options);
	} catch (error) {
		const nodeError =
			error instanceof NodeOperationError ? error : new NodeApiError(node, error as JsonObject, { itemIndex });
		nodeError.context.session_id = sessionId;
		// When the turn surely failed (LlamaCloud refused it, or reported an error), a one-shot session
		// has nothing worth keeping. When the outcome is unknown (the stream broke), keep it and say where.
		const deleted = deleteSession && turnSurelyFailed(nodeError) && (await removeSession()) === undefined;
		nodeError.description = deleted
			? `${nodeError.description ?? ''} The session ${sessionId} was deleted.`.trim()
			: `${nodeError.description ?? ''} The question was asked in session ${sessionId}.`.trim();
		throw nodeError;
	}
	if (deleteSession) {
		// The answer is already here: a failed clean-up must not throw it away (or invite a re-ask).
		const deleteError = await removeSession();
		json.session_deleted = deleteError === undefined;
		if (deleteError !== undefined) json.session_delete_error = deleteError;
	}
	return [{ json, pairedItem: { item: itemIndex } }];
}
