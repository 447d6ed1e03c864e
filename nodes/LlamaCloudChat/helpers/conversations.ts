import { createHash } from 'node:crypto';

import { NodeOperationError, type IDataObject, type IExecuteFunctions } from 'n8n-workflow';

export const MAX_CONVERSATION_ID_LENGTH = 512;
export const DEFAULT_FORGET_AFTER_HOURS = 24;

/** What the node remembers of one conversation. Short keys: it is stored in the workflow's static data. */
export interface ConversationEntry extends IDataObject {
	/** The LlamaCloud session this node created for the conversation. */
	session: string;
	/** The sorted index set the session is bound to (locked after its first message). */
	indexes: string;
	/** Turns answered in that session. */
	turns: number;
	/** Last use, epoch milliseconds. */
	usedAt: number;
}

type Conversations = Map<string, ConversationEntry>;

/**
 * The conversation → session mapping, per workflow and node (its "scope").
 *
 * - In this process: a map per scope, the authority while n8n runs, and a queue per conversation
 *   so that two messages of one conversation never run at once (the second waits, then continues
 *   the session the first created).
 * - Across restarts: a snapshot of the scope's map in the node's static data
 *   (`getWorkflowStaticData('node')`), which n8n saves at the end of production executions.
 *   Each execution writes the whole map, so a save that wins the last-writer race still carries
 *   the other conversations this process knows. The first execution after a restart loads it.
 *
 * Keys are SHA-256 digests of scope and conversation ID: the IDs are bearer secrets of the chat,
 * and static data is stored (and exported) with the workflow. Sessions are only ever found
 * through this map, so a conversation ID can never name a session itself.
 */
class ConversationMemory {
	private readonly scopes = new Map<string, Conversations>();

	private readonly queues = new Map<string, Promise<void>>();

	/** Drops everything this process remembers, as an n8n restart does (tests use it). */
	clear(): void {
		this.scopes.clear();
		this.queues.clear();
	}

	/** The scope's map: this process's copy, else the one saved in static data (after a restart). */
	conversations(scope: string, staticData: IDataObject): Conversations {
		let conversations = this.scopes.get(scope);
		if (!conversations) {
			conversations = new Map();
			// Whatever was saved is checked entry by entry: what does not look like a conversation is left out.
			for (const [key, value] of Object.entries((staticData.conversations ?? {}) as IDataObject)) {
				const entry = value as ConversationEntry;
				if (entry && typeof entry.session === 'string' && typeof entry.indexes === 'string') {
					conversations.set(key, { session: entry.session, indexes: entry.indexes, turns: Number(entry.turns) || 0, usedAt: Number(entry.usedAt) || 0 });
				}
			}
			this.scopes.set(scope, conversations);
		}
		return conversations;
	}

	/** Conversations with a message running or waiting in this process: none once all are answered. */
	get busy(): number {
		return this.queues.size;
	}

	/** Runs `task` after every earlier task of the same conversation in this process. */
	async serialized<T>(key: string, task: () => Promise<T>): Promise<T> {
		const previous = this.queues.get(key) ?? Promise.resolve();
		let release = () => {};
		const current = new Promise<void>((resolve) => (release = resolve));
		const tail = previous.then(() => current);
		this.queues.set(key, tail);
		await previous;
		try {
			return await task();
		} finally {
			release();
			if (this.queues.get(key) === tail) this.queues.delete(key);
		}
	}
}

export const conversationMemory = new ConversationMemory();

/** The conversation ID of an item: `undefined` (one-shot) when empty after trimming. */
export function conversationIdOf(context: IExecuteFunctions, itemIndex: number): string | undefined {
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

export interface ConversationHandle {
	/** The remembered entry, if it can continue: same indexes, not forgotten. */
	entry?: ConversationEntry;
	/** Remembers (or replaces) the conversation's session and its turn count; saved to static data with the whole map. */
	remember(session: string, turns: number): void;
	/** Forgets the conversation, e.g. when LlamaCloud no longer has its session. */
	forget(): void;
}

/**
 * Opens one conversation of this node for the duration of `task`, serialized with the other
 * messages of the same conversation in this process. Forgotten entries (idle longer than
 * `forgetAfterMs`) are dropped from the whole scope on the way.
 */
export async function withConversation<T>(
	context: IExecuteFunctions,
	conversationId: string,
	indexIds: string[],
	forgetAfterMs: number,
	task: (conversation: ConversationHandle) => Promise<T>,
): Promise<T> {
	const node = context.getNode();
	// n8n keys a node's static data by its name: a renamed node starts with no memory, in both places.
	// (A workflow or node without an ID, never seen in practice, gets "undefined" in its place.)
	const scope = `${context.getWorkflow().id}\u0000${node.id}\u0000${node.name}`;
	const key = createHash('sha256').update(`${scope}\u0000${conversationId}`).digest('base64url');
	const indexes = [...indexIds].sort().join(',');

	return await conversationMemory.serialized(`${scope}\u0000${key}`, async () => {
		const staticData = context.getWorkflowStaticData('node');
		const conversations = conversationMemory.conversations(scope, staticData);
		const save = () => {
			const now = Date.now();
			for (const [other, entry] of conversations) if (now - entry.usedAt > forgetAfterMs) conversations.delete(other);
			staticData.conversations = Object.fromEntries(conversations);
		};
		const known = conversations.get(key);
		const usable = known && known.indexes === indexes && Date.now() - known.usedAt <= forgetAfterMs ? known : undefined;
		return await task({
			entry: usable ? { ...usable } : undefined,
			remember(session, turns) {
				conversations.delete(key); // re-inserted last: the map stays in order of use
				conversations.set(key, { session, indexes, turns, usedAt: Date.now() });
				save();
			},
			forget() {
				conversations.delete(key);
				save();
			},
		});
	});
}
