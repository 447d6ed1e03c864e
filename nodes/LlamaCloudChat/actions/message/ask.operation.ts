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
import { llamaCloudRequest, type Delivery } from '../../transport';
import {
	indexIdsProperty,
	optionsCollection,
	scopeProperties,
	shareLinkAccessOption,
	sharedAccessBody,
} from '../common.descriptions';
import { messageOptions, promptProperty, readMessageOptions } from './options';

/** What an AI Agent is told the prompt is for; the model writes it (n8n-core builds the tool schema from $fromAI). */
export const TOOL_PROMPT_DESCRIPTION =
	'The question to answer from the documents in the chosen LlamaCloud indexes, written as a complete, standalone question';

// Scope first: index and session lists are loaded for the chosen project.
const properties: INodeProperties[] = [
	...scopeProperties,
	{
		...promptProperty,
		// Behind n8n's Chat Trigger the question arrives as `chatInput`.
		default: '={{ $json.chatInput }}',
		description: `${promptProperty.description}. Defaults to the message n8n's Chat Trigger sends.`,
		// n8n ≥ 1.88 shows the tool variant's own default below; older n8n shows this one everywhere.
		displayOptions: { hide: { '@tool': [true] } },
	},
	{
		...promptProperty,
		// As an AI Agent tool the model writes the question: the tool's schema gets a `prompt` argument.
		default: `={{ $fromAI('prompt', '${TOOL_PROMPT_DESCRIPTION}', 'string') }}`,
		description: `${promptProperty.description}. As a tool, the AI Agent writes it (a $fromAI parameter).`,
		displayOptions: { show: { '@tool': [true] } },
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
			description:
				'Whether to delete the session once the answer is read, for one-shot questions that need no follow-up. When the node runs as an AI Agent tool, sessions are deleted unless this is set and off.',
		},
		...messageOptions,
		shareLinkAccessOption,
	]),
];

const displayOptions = { show: { resource: ['message'], operation: ['ask'] } };

export const description = updateDisplayOptions(displayOptions, properties);

type Outcome = Delivery | 'failed';

/** What happened to the question, from the error's tags (transport: delivery; chat turn: turnFailed). */
function outcomeOf(error: NodeApiError | NodeOperationError): Outcome {
	if (error.context.turnFailed === true) return 'failed';
	const delivery = error.context.delivery as Delivery | undefined;
	return delivery === 'not_sent' || delivery === 'rejected' ? delivery : 'unknown';
}

/** Said of the question after the error's own description; `unknown` is already explained there. */
const WHAT_HAPPENED: Record<Outcome, string> = {
	not_sent: 'The question was not sent.',
	rejected: 'LlamaCloud answered with an error instead of starting the turn.',
	failed: '',
	unknown: '',
};

/** The node runs as an AI Agent tool (n8n derives the `…Tool` node type from `usableAsTool`). */
function runsAsTool(context: IExecuteFunctions): boolean {
	return context.getNode().type.endsWith('Tool');
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
	// A tool call is one-shot: its sessions are cleaned up unless the option says otherwise.
	const deleteSession = this.getNodeParameter('options.deleteSession', itemIndex, runsAsTool(this)) as boolean;
	const qs = scopeQuery(this, itemIndex);

	const body = { index_ids: indexIds, ...sharedAccessBody(this, itemIndex) };
	const session = await llamaCloudRequest(this, 'POST', '/api/v1/chat', { qs, body, itemIndex });
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
		// When the question surely got no answer (not sent, turned away, or failed inside LlamaCloud), a
		// one-shot session has nothing worth keeping. When the outcome is unknown (no answer came, or the
		// stream broke), keep it, so that it can be checked before asking again.
		const outcome = outcomeOf(nodeError);
		const deleted = deleteSession && outcome !== 'unknown' && (await removeSession()) === undefined;
		const session = deleted
			? `Session ${sessionId}, created for this question, was deleted.`
			: deleteSession && outcome === 'unknown'
				? `Session ${sessionId}, created for this question, was kept so that you can check it.`
				: `Session ${sessionId} was created for this question.`;
		nodeError.description = [nodeError.description, WHAT_HAPPENED[outcome], session].filter(Boolean).join(' ');
		throw nodeError;
	}
	// The current API revision says what the session's share link grants; older ones do not.
	if (typeof session.shared_access === 'string') json.shared_access = session.shared_access;
	if (deleteSession) {
		// The answer is already here: a failed clean-up must not throw it away (or invite a re-ask).
		const deleteError = await removeSession();
		json.session_deleted = deleteError === undefined;
		if (deleteError !== undefined) json.session_delete_error = deleteError;
	}
	return [{ json, pairedItem: { item: itemIndex } }];
}
