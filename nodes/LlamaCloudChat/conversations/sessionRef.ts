import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';

/**
 * A sealed reference to the LlamaCloud session of a conversation, as kept in a memory sub-node's
 * message metadata. Whatever a memory holds can be read and written by other workflows sharing it,
 * and in part by the browser (the Chat Trigger's Load Previous Session sends the messages to the
 * chat), so the reference is encrypted and authenticated (AES-256-GCM) with a key derived from the
 * credential's API key, and bound to the workflow, the node, the index set and the conversation: a forged, copied or
 * foreign reference does not open, and the node then starts a new session instead of being steered
 * to one it did not create. The API key itself is never stored.
 */
export interface SessionRef {
	/** The LlamaCloud session ID. */
	session: string;
	/** Turns answered in it. */
	turns: number;
	/** When the last turn was answered, epoch milliseconds. */
	usedAt: number;
}

/**
 * Who may open a reference: the workflow, the node, the sorted index set and the conversation (the
 * memory's session key, where the memory names it) it was sealed for.
 */
export interface RefBinding {
	workflowId: string;
	nodeId: string;
	indexes: string;
	conversation: string;
}

const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** API keys whose sealing key this process keeps (a few credentials are in use at once). */
export const MAX_CACHED_KEYS = 8;

/**
 * Sealing keys by a SHA-256 digest of their API key (the key itself is never a map key), derived once
 * per API key: a history's references all open with the same one. The oldest derivation goes first.
 */
const keys = new Map<string, Buffer>();

function keyOf(apiKey: string): Buffer {
	const digest = createHash('sha256').update(apiKey).digest('base64url');
	let key = keys.get(digest);
	if (!key) {
		key = Buffer.from(hkdfSync('sha256', apiKey, 'n8n-nodes-llamacloud-chat', 'conversation session reference v1', 32));
		keys.set(digest, key);
		if (keys.size > MAX_CACHED_KEYS) keys.delete(keys.keys().next().value as string);
	}
	return key;
}

function aadOf(binding: RefBinding): Buffer {
	return Buffer.from(JSON.stringify([VERSION, binding.workflowId, binding.nodeId, binding.indexes, binding.conversation]));
}

export function sealSessionRef(ref: SessionRef, binding: RefBinding, apiKey: string): string {
	const iv = randomBytes(IV_BYTES);
	const cipher = createCipheriv('aes-256-gcm', keyOf(apiKey), iv, { authTagLength: TAG_BYTES });
	cipher.setAAD(aadOf(binding));
	const sealed = Buffer.concat([cipher.update(JSON.stringify([ref.session, ref.turns, ref.usedAt]), 'utf8'), cipher.final()]);
	return `${VERSION}.${Buffer.concat([iv, sealed, cipher.getAuthTag()]).toString('base64url')}`;
}

/** The reference, or `undefined` when it was not sealed by this node of this workflow for these indexes with this credential. */
export function openSessionRef(token: unknown, binding: RefBinding, apiKey: string): SessionRef | undefined {
	if (typeof token !== 'string' || !token.startsWith(`${VERSION}.`)) return undefined;
	const bytes = Buffer.from(token.slice(VERSION.length + 1), 'base64url');
	// Too short, edited, or sealed for something else: the authentication fails, and nothing opens.
	try {
		// The whole 16-byte tag, always: GCM would also accept a shorter (weaker) one.
		const decipher = createDecipheriv('aes-256-gcm', keyOf(apiKey), bytes.subarray(0, IV_BYTES), { authTagLength: TAG_BYTES });
		decipher.setAAD(aadOf(binding));
		decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
		const plain = Buffer.concat([decipher.update(bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES)), decipher.final()]);
		const [session, turns, usedAt] = JSON.parse(plain.toString('utf8')) as unknown[];
		if (typeof session !== 'string' || session === '') return undefined;
		return { session, turns: Number(turns) || 0, usedAt: Number(usedAt) || 0 };
	} catch {
		return undefined;
	}
}
