import { NodeConnectionTypes, NodeOperationError, type IExecuteFunctions } from 'n8n-workflow';

import { runsAsTool } from '../helpers/runsAsTool';
import { isChatMemory, withMemoryConversation } from './memoryStore';
import { withNodeConversation } from './nodeStore';
import type { Conversation, ConversationScope } from './types';

export { MAX_PROTECTED_CONVERSATIONS, MAX_STORED_CONVERSATIONS, nodeConversationStore } from './nodeStore';
export { MAX_WAITING_PER_CONVERSATION } from './queue';
export type { Conversation, KnownSession } from './types';

export const MAX_CONVERSATION_ID_LENGTH = 512;
export const DEFAULT_FORGET_AFTER_HOURS = 24;

/**
 * The memory sub-node connected to Ask's Memory input, if any. The tool variant has no inputs (n8n
 * drops a tool's inputs): it never has one.
 */
async function connectedMemory(context: IExecuteFunctions, itemIndex: number): Promise<unknown> {
	if (runsAsTool(context)) return undefined;
	return await context.getInputConnectionData(NodeConnectionTypes.AiMemory, itemIndex);
}

/** The conversation ID of an item: `undefined` (one-shot) when empty after trimming. */
export function conversationIdOf(context: IExecuteFunctions, itemIndex: number): string | undefined {
	if (runsAsTool(context)) return undefined; // a tool call asks one standalone question
	const raw = context.getNodeParameter('conversationId', itemIndex, '') as unknown;
	if (raw === undefined || raw === null) return undefined;
	if (typeof raw !== 'string' && typeof raw !== 'number') {
		throw new NodeOperationError(context.getNode(), `Conversation ID must be text, got ${Array.isArray(raw) ? 'a list' : typeof raw}`, {
			itemIndex,
			description: "Map the chat's session ID, e.g. {{ $json.sessionId }}, or leave it empty for one-shot questions.",
		});
	}
	const id = String(raw).trim();
	if (id === '') return undefined;
	if (id.length > MAX_CONVERSATION_ID_LENGTH) {
		throw new NodeOperationError(
			context.getNode(),
			`Conversation ID is too long: ${id.length} characters, at most ${MAX_CONVERSATION_ID_LENGTH}`,
			{
				itemIndex,
				description: "Map a short, random ID per conversation, e.g. the Chat Trigger's {{ $json.sessionId }}.",
			},
		);
	}
	return id;
}

/**
 * Runs `task` with the item's conversation: the one kept in a connected memory sub-node (its session
 * key is the conversation), else the one named by the Conversation ID in the node's own store.
 * Returns `undefined` without running `task` when the item is no conversation (a one-shot question).
 */
export async function withConversation<T>(
	context: IExecuteFunctions,
	scope: ConversationScope,
	task: (conversation: Conversation) => Promise<T>,
): Promise<{ result: T } | undefined> {
	const memory = await connectedMemory(context, scope.itemIndex);
	if (memory !== undefined) {
		if (!isChatMemory(memory)) {
			throw new NodeOperationError(context.getNode(), 'Memory: the connected sub-node is not a chat memory', {
				itemIndex: scope.itemIndex,
				description: 'Connect a chat memory to the Memory input: Redis, Postgres or MongoDB Chat Memory, or Simple Memory.',
			});
		}
		return { result: await withMemoryConversation(context, memory, scope, task) };
	}
	const conversationId = conversationIdOf(context, scope.itemIndex);
	if (conversationId === undefined) return undefined;
	return { result: await withNodeConversation(context, conversationId, scope, task) };
}
