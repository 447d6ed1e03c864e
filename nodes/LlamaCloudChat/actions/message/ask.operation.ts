import {
	NodeApiError,
	NodeOperationError,
	updateDisplayOptions,
	type IDataObject,
	type IExecuteFunctions,
	type INodeExecutionData,
	type INodeProperties,
} from 'n8n-workflow';

import { sendMessage, toolResult, type MessageOptions } from '../../turn';
import {
	DEFAULT_FORGET_AFTER_HOURS,
	MAX_CONVERSATION_ID_LENGTH,
	withConversation,
	type Conversation,
} from '../../conversations';
import { scopeQuery } from '../../helpers/scope';
import { sessionPath } from '../../helpers/session';
import { runsAsTool } from '../../helpers/runsAsTool';
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

const deleteSessionOption: INodeProperties = {
	displayName: 'Delete Session After Answer',
	name: 'deleteSession',
	type: 'boolean',
	default: false,
	description: 'Whether to delete the session once the answer is read, for one-shot questions that need no follow-up. A conversation keeps its session.',
};

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
	{
		displayName: 'Conversation ID',
		name: 'conversationId',
		type: 'string',
		// n8n's Chat Trigger sends one per chat window.
		default: '={{ $json.sessionId }}',
		placeholder: '={{ $json.sessionId }}',
		description: `Messages with the same ID continue one LlamaCloud session, so follow-up questions have the history. Empty: a new session for every question. At most ${MAX_CONVERSATION_ID_LENGTH} characters. Kept by the node in this n8n process only; ignored when a Memory is connected (its session key is the conversation). Treat IDs as secrets.`,
		// A tool call asks one standalone question; the AI Agent keeps the conversation in its own memory.
		displayOptions: { hide: { '@tool': [true] } },
	},
	optionsCollection([
		{
			...deleteSessionOption,
			// Conversations keep their session for the next message. n8n shows it while the Conversation ID
			// is an expression (known only per item); a conversation ignores it.
			displayOptions: { show: { '/conversationId': [''] }, hide: { '@tool': [true] } },
		},
		{
			...deleteSessionOption,
			// Tool calls are never conversations (Conversation ID is hidden for them), and clean up by default.
			default: true,
			description: 'Whether to delete the session the tool call created once the answer is read',
			displayOptions: { show: { '@tool': [true] } },
		},
		{
			displayName: 'Forget After (Hours)',
			name: 'forgetAfterHours',
			type: 'number',
			typeOptions: { minValue: 0, numberPrecision: 2 },
			default: DEFAULT_FORGET_AFTER_HOURS,
			displayOptions: { hide: { '/conversationId': [''], '@tool': [true] } },
			description:
				'A conversation idle for this long starts a new session with its next message; 0 never forgets. The LlamaCloud session itself is kept (see the nightly clean-up example).',
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

/** Creates the session for the question (bound to its indexes); returns it as LlamaCloud does. */
async function createSession(context: IExecuteFunctions, indexIds: string[], qs: IDataObject, itemIndex: number): Promise<IDataObject> {
	const body = { index_ids: indexIds, ...sharedAccessBody(context, itemIndex) };
	return await llamaCloudRequest(context, 'POST', '/api/v1/chat', { qs, body, itemIndex });
}

/**
 * Deletes a session the node created for a question; a failed clean-up is logged and returned as
 * its message, never thrown (the answer or the error matters more).
 */
async function deleteCreatedSession(context: IExecuteFunctions, sessionId: string, qs: IDataObject, itemIndex: number): Promise<string | undefined> {
	try {
		await llamaCloudRequest(context, 'DELETE', sessionPath(sessionId), { qs, itemIndex, notFoundAfterRetryIsDone: true });
		return undefined;
	} catch (error) {
		context.logger.warn('LlamaCloud session could not be deleted after asking', {
			node: context.getNode().name,
			sessionId,
			error: (error as Error).message,
		});
		return (error as Error).message;
	}
}

/** The error of a failed turn as a node error, whatever was thrown. */
function asNodeError(context: IExecuteFunctions, error: unknown, itemIndex: number): NodeApiError | NodeOperationError {
	return error instanceof NodeApiError || error instanceof NodeOperationError
		? error
		: new NodeOperationError(context.getNode(), error as Error, { itemIndex });
}

/** Adds what happened to the question and its session to the error's description (for the operator). */
function tellOutcome(error: NodeApiError | NodeOperationError, outcome: Outcome, session: string): void {
	error.description = [error.description, WHAT_HAPPENED[outcome], session].filter(Boolean).join(' ');
}

/** The current API revision says what a new session's share link grants; older ones do not. */
function copySharedAccess(session: IDataObject, json: IDataObject): void {
	if (typeof session.shared_access === 'string') json.shared_access = session.shared_access;
}

/** LlamaCloud no longer has the session (deleted, or expired): it turned the message away with a 404. */
function sessionGone(error: unknown): boolean {
	return error instanceof NodeApiError && String(error.httpCode) === '404' && error.context.delivery === 'rejected';
}

interface ConversationTurn {
	prompt: string;
	indexIds: string[];
	qs: IDataObject;
	itemIndex: number;
}

/** Forget After (Hours) in milliseconds; 0: a conversation is never forgotten by time. */
function forgetAfterMsOf(context: IExecuteFunctions, itemIndex: number): number {
	const hours = Number(context.getNodeParameter('options.forgetAfterHours', itemIndex, DEFAULT_FORGET_AFTER_HOURS));
	return (Number.isFinite(hours) && hours >= 0 ? hours : DEFAULT_FORGET_AFTER_HOURS) * 3_600_000;
}

/**
 * The first turn of a new session failed. When it surely got no answer (not sent, turned away, or
 * failed inside LlamaCloud), the session holds nothing: it is deleted and the conversation forgets
 * it, so that no session is left behind and the next message starts afresh, with a memory or the
 * node's own store alike. When the outcome is unknown, the turn may have reached it: the session is
 * kept (the node's own store continues it, having remembered it before the turn) and the error names it.
 */
async function firstTurnFailed(
	context: IExecuteFunctions,
	conversation: Conversation,
	error: NodeApiError | NodeOperationError,
	turn: { sessionId: string; qs: IDataObject; itemIndex: number },
): Promise<NodeApiError | NodeOperationError> {
	const { sessionId, qs, itemIndex } = turn;
	error.context.session_id = sessionId;
	const outcome = outcomeOf(error);
	if (error.context.cancelled === true || outcome === 'unknown') {
		tellOutcome(error, outcome, `Session ${sessionId}, created for this conversation's first message, was kept: the message may have reached it.`);
		return error;
	}
	const deleteError = await deleteCreatedSession(context, sessionId, qs, itemIndex);
	await conversation.forget();
	tellOutcome(
		error,
		outcome,
		deleteError === undefined
			? `Session ${sessionId}, created for this conversation's first message, was deleted.`
			: `Session ${sessionId}, created for this conversation's first message, could not be deleted (${deleteError}).`,
	);
	return error;
}

/**
 * A message of a conversation: continues the session that serves the conversation, or creates one
 * (first message, Indexes changed, forgotten after Forget After, or LlamaCloud no longer has it).
 * Where the conversation is kept (a memory sub-node or the node's own store) is the conversation's business.
 */
async function askInConversation(
	context: IExecuteFunctions,
	conversation: Conversation,
	turn: ConversationTurn,
	options: MessageOptions,
): Promise<INodeExecutionData[]> {
	const { prompt, indexIds, qs, itemIndex } = turn;
	let known = conversation.session;
	let json: IDataObject | undefined;
	if (known) {
		try {
			json = await sendMessage(context, { sessionId: known.id, prompt, indexIds, qs, itemIndex }, options);
		} catch (error) {
			if (!sessionGone(error)) throw asNodeError(context, error, itemIndex);
			// LlamaCloud refused the message before taking it: a new session gets it, not a duplicate.
			context.logger.info("The conversation's LlamaCloud session is gone; starting a new one", {
				node: context.getNode().name,
				sessionId: known.id,
			});
			await conversation.forget();
			known = undefined;
		}
	}
	let sessionId = known?.id;
	if (!json) {
		const session = await createSession(context, indexIds, qs, itemIndex);
		sessionId = String(session.session_id);
		await conversation.started(sessionId);
		try {
			json = await sendMessage(context, { sessionId, prompt, indexIds, qs, itemIndex }, options);
		} catch (error) {
			throw await firstTurnFailed(context, conversation, asNodeError(context, error, itemIndex), { sessionId, qs, itemIndex });
		}
		copySharedAccess(session, json);
	}
	const turns = (known?.turns ?? 0) + 1;
	const warning = await conversation.answered(sessionId as string, turns, prompt, String(json.output ?? json.answer ?? ''));
	json.conversation = {
		...(conversation.id !== undefined ? { id: conversation.id } : {}),
		session_id: sessionId,
		turn: turns,
		new_session: !known,
		store: conversation.store,
		...(warning !== undefined ? { warning } : {}),
	};
	return [{ json, pairedItem: { item: itemIndex } }];
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
	const qs = scopeQuery(this, itemIndex);
	// A conversation: a memory sub-node is connected, or a Conversation ID is set. As an AI Agent tool
	// every call is one-shot (no Memory input, the Conversation ID is hidden there).
	const indexes = [...indexIds].sort().join(',');
	const conversation = await withConversation(
		this,
		{ itemIndex, indexes, forgetAfterMs: forgetAfterMsOf(this, itemIndex) },
		async (open) => await askInConversation(this, open, { prompt, indexIds, qs, itemIndex }, options),
	);
	if (conversation) return conversation.result;
	// A tool call is one-shot: its sessions are cleaned up unless the option says otherwise.
	const deleteSession = this.getNodeParameter('options.deleteSession', itemIndex, runsAsTool(this)) as boolean;

	const session = await createSession(this, indexIds, qs, itemIndex);
	const sessionId = String(session.session_id);
	const removeSession = async () => await deleteCreatedSession(this, sessionId, qs, itemIndex);

	let json: IDataObject;
	try {
		json = await sendMessage(this, { sessionId, prompt, indexIds, qs, itemIndex }, options);
	} catch (error) {
		const nodeError = asNodeError(this, error, itemIndex);
		nodeError.context.session_id = sessionId;
		// When the question surely got no answer (not sent, turned away, or failed inside LlamaCloud), a
		// one-shot session has nothing worth keeping. When the outcome is unknown (no answer came, or the
		// stream broke), keep it, so that it can be checked before asking again; but an AI Agent cannot
		// check it, so a tool call deletes it whatever the outcome.
		const outcome = outcomeOf(nodeError);
		const cancelled = nodeError.context.cancelled === true;
		const mayDelete = deleteSession && !cancelled && (outcome !== 'unknown' || runsAsTool(this));
		const deleted = mayDelete && (await removeSession()) === undefined;
		tellOutcome(
			nodeError,
			outcome,
			deleted
				? `Session ${sessionId}, created for this question, was deleted.`
				: deleteSession && outcome === 'unknown' && !mayDelete
					? `Session ${sessionId}, created for this question, was kept so that you can check it.`
					: `Session ${sessionId} was created for this question.`,
		);
		throw nodeError;
	}
	copySharedAccess(session, json);
	if (deleteSession) {
		// The answer is already here: a failed clean-up must not throw it away (or invite a re-ask).
		const deleteError = await removeSession();
		json.session_deleted = deleteError === undefined;
		if (deleteError !== undefined) json.session_delete_error = deleteError;
	}
	if (runsAsTool(this)) json = toolResult(json, options.simplify);
	return [{ json, pairedItem: { item: itemIndex } }];
}
