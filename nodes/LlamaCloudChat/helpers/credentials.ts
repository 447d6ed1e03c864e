import type { ICredentialDataDecryptedObject, IExecuteFunctions, ILoadOptionsFunctions } from 'n8n-workflow';

export const CREDENTIAL_TYPE = 'llamaCloudApi';

type CredentialReader = IExecuteFunctions | ILoadOptionsFunctions;

/**
 * Decrypted credentials, read once per execution. n8n decrypts a credential on every
 * `getCredentials` call; a 1,000-item run would decrypt it 1,000 times.
 *
 * - Keyed by the execution's cancel signal (n8n-core hands every node of one execution, tools
 *   included, the same `AbortSignal`), then by the credential the node uses: one decryption per
 *   credential and execution.
 * - Held in a WeakMap: when n8n lets go of the execution, the decrypted key goes with it; the entry
 *   is also dropped as soon as the execution is cancelled. Nothing is kept across executions, so a
 *   credential edited in n8n is read afresh by the next execution.
 * - Bounded by the executions running in this process.
 * - Contexts without a cancel signal (loading options in the editor) cache per context, i.e. per call
 *   of n8n's into the node.
 *
 * Credential fields resolved per item (an expression on the item's data) are read for the first item
 * only: the API key and region are one per credential.
 */
const byExecution = new WeakMap<object, Map<string, Promise<ICredentialDataDecryptedObject>>>();

function executionOf(context: CredentialReader): object {
	const signal = 'getExecutionCancelSignal' in context ? context.getExecutionCancelSignal() : undefined;
	return signal ?? context;
}

/** The node's LlamaCloud credential, decrypted at most once per execution. */
export async function llamaCloudCredentials(context: CredentialReader): Promise<ICredentialDataDecryptedObject> {
	const execution = executionOf(context);
	let credentials = byExecution.get(execution);
	if (!credentials) {
		const fresh = new Map<string, Promise<ICredentialDataDecryptedObject>>();
		credentials = fresh;
		byExecution.set(execution, fresh);
		if (execution instanceof AbortSignal) execution.addEventListener('abort', () => byExecution.delete(execution), { once: true });
	}
	const node = context.getNode();
	const key = node.credentials?.[CREDENTIAL_TYPE]?.id ?? `node:${node.name}`;
	let read = credentials.get(key);
	if (!read) {
		read = context.getCredentials(CREDENTIAL_TYPE);
		credentials.set(key, read);
		// A failed read is not kept: the next item may find the credential available again.
		read.catch(() => credentials.delete(key));
	}
	return await read;
}
