import { createHash } from 'node:crypto';

import type { IDataObject, IExecuteFunctions } from 'n8n-workflow';

import { conversationQueues } from './queue';
import type { Conversation, ConversationScope } from './types';

/** Conversations the node's own store keeps per node, at most. */
export const MAX_STORED_CONVERSATIONS = 1000;

/**
 * Of those, conversations with two or more answered turns (the "protected" segment) kept at most;
 * the least recently used of them are dropped first. Conversations with at most one turn (the
 * "probation" segment) get the rest, at least MAX_STORED_CONVERSATIONS - MAX_PROTECTED_CONVERSATIONS:
 * a burst of new conversations (a public chat reloaded 1,000 times) evicts only other new ones.
 */
export const MAX_PROTECTED_CONVERSATIONS = 750;

/** Conversations that have answered this many turns are protected from new ones. */
const PROTECTED_AFTER_TURNS = 2;

/** Forget After of entries saved before each kept its own (the parameter's default, 24 hours). */
const DEFAULT_FORGET_AFTER_MS = 24 * 3_600_000;

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
	/** Its own Forget After, in milliseconds (0: never by time); entries saved before it had one use the default. */
	forgetMs?: number;
}

type Conversations = Map<string, ConversationEntry>;

/**
 * The node's own store, for a single n8n process: conversation → session, per workflow and node
 * (its "scope"), without any setup.
 *
 * - In this process: a map per scope, in order of use, the authority while n8n runs. It is a
 *   segmented LRU: at most MAX_PROTECTED_CONVERSATIONS conversations with two or more turns, and the
 *   rest of MAX_STORED_CONVERSATIONS for those with fewer (least recently used dropped first in each),
 *   so that one-message conversations cannot evict the ones in use (see `trim`).
 * - Across restarts: a copy of the scope's map in the node's static data
 *   (`getWorkflowStaticData('node')`), which n8n saves at the end of production executions. The
 *   first execution after a restart loads it. n8n keeps the copy of whichever execution saves last:
 *   a conversation that a concurrent execution started meanwhile is then missing from the saved copy
 *   (this process still knows it until it restarts).
 * - Several n8n processes (queue mode, several mains) do not share it: connect a memory sub-node.
 *
 * Keys are SHA-256 digests of scope and conversation ID: the IDs are bearer secrets of the chat,
 * and static data is stored (and exported) with the workflow. Sessions are only ever found
 * through this map, so a conversation ID can never name a session itself.
 */
class NodeConversationStore {
	private readonly scopes = new Map<string, Conversations>();

	/** Drops everything this process remembers, as an n8n restart does (tests use it). */
	clear(): void {
		this.scopes.clear();
		conversationQueues.clear();
	}

	/** Conversations with a message running or waiting in this process. */
	get busy(): number {
		return conversationQueues.busy;
	}

	/** The scope's map: this process's copy, else the one saved in static data (after a restart). */
	conversations(scope: string, staticData: IDataObject): Conversations {
		let conversations = this.scopes.get(scope);
		if (!conversations) {
			conversations = new Map();
			// Whatever was saved is checked entry by entry: what does not look like a conversation is left out.
			const saved: Array<[string, ConversationEntry]> = [];
			for (const [key, value] of Object.entries((staticData.conversations ?? {}) as IDataObject)) {
				const entry = value as ConversationEntry;
				if (entry && typeof entry.session === 'string' && typeof entry.indexes === 'string') {
					const kept: ConversationEntry = { session: entry.session, indexes: entry.indexes, turns: Number(entry.turns) || 0, usedAt: Number(entry.usedAt) || 0 };
					if (typeof entry.forgetMs === 'number' && entry.forgetMs >= 0) kept.forgetMs = entry.forgetMs;
					saved.push([key, kept]);
				}
			}
			saved.sort((a, b) => a[1].usedAt - b[1].usedAt);
			for (const [key, entry] of saved) conversations.set(key, entry);
			trim(conversations);
			this.scopes.set(scope, conversations);
		}
		return conversations;
	}
}

export const nodeConversationStore = new NodeConversationStore();

/**
 * Drops the least recently used conversations past the bounds (the map is in order of use): first
 * protected ones past MAX_PROTECTED_CONVERSATIONS, then the others past what the protected ones leave
 * of MAX_STORED_CONVERSATIONS.
 */
function trim(conversations: Conversations): void {
	const newestFirst = [...conversations].reverse();
	let protectedKept = 0;
	for (const [key, entry] of newestFirst) {
		if (entry.turns < PROTECTED_AFTER_TURNS) continue;
		if (protectedKept < MAX_PROTECTED_CONVERSATIONS) protectedKept++;
		else conversations.delete(key);
	}
	let othersKept = 0;
	for (const [key, entry] of newestFirst) {
		if (entry.turns >= PROTECTED_AFTER_TURNS) continue;
		if (othersKept < MAX_STORED_CONVERSATIONS - protectedKept) othersKept++;
		else conversations.delete(key);
	}
}

const expired = (entry: ConversationEntry, forgetAfterMs: number, now: number) => forgetAfterMs > 0 && now - entry.usedAt > forgetAfterMs;

/** Each entry expires by the Forget After it was last used with. */
const expiredByItsOwn = (entry: ConversationEntry, now: number) => expired(entry, entry.forgetMs ?? DEFAULT_FORGET_AFTER_MS, now);

/**
 * Opens the conversation `conversationId` of this node in its own store for the duration of `task`,
 * after every earlier message of it in this process.
 */
export async function withNodeConversation<T>(
	context: IExecuteFunctions,
	conversationId: string,
	scope: ConversationScope,
	task: (conversation: Conversation) => Promise<T>,
): Promise<T> {
	const node = context.getNode();
	// n8n keys a node's static data by its name: a renamed node starts with no memory, in both places.
	const scopeKey = `${context.getWorkflow().id}\u0000${node.id}\u0000${node.name}`;
	const key = createHash('sha256').update(`${scopeKey}\u0000${conversationId}`).digest('base64url');
	const { indexes, forgetAfterMs, itemIndex } = scope;

	return await conversationQueues.serialized(context, itemIndex, `node\u0000${scopeKey}\u0000${key}`, async () => {
		const staticData = context.getWorkflowStaticData('node');
		const conversations = nodeConversationStore.conversations(scopeKey, staticData);
		const save = () => {
			const now = Date.now();
			for (const [other, entry] of conversations) if (expiredByItsOwn(entry, now)) conversations.delete(other);
			trim(conversations);
			staticData.conversations = Object.fromEntries(conversations);
		};
		const remember = (session: string, turns: number) => {
			conversations.delete(key); // re-inserted last: the map stays in order of use
			conversations.set(key, { session, indexes, turns, usedAt: Date.now(), forgetMs: forgetAfterMs });
			save();
		};
		const known = conversations.get(key);
		const usable = known && known.indexes === indexes && !expired(known, forgetAfterMs, Date.now()) ? known : undefined;
		return await task({
			store: 'node',
			id: conversationId,
			session: usable ? { id: usable.session, turns: usable.turns } : undefined,
			async started(session) {
				// Remembered before the turn: a failed first turn must not leave a session nobody continues.
				remember(session, 0);
			},
			async answered(session, turns) {
				remember(session, turns);
				return undefined;
			},
			async forget() {
				conversations.delete(key);
				save();
			},
		});
	});
}
