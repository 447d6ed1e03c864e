import './environment';

import { ExecuteContext, RoutingNode } from 'n8n-core';
import {
	Workflow,
	createRunExecutionData,
	type ICredentialDataDecryptedObject,
	type IHttpRequestOptions,
	type INode,
	type INodeType,
	type INodeTypes,
	type IRequestOptionsSimplified,
} from 'n8n-workflow';

import { PackageCredentialsHelper, credentialType, type LlamaCloudCredentialData } from './credentials';
import { buildAdditionalData } from './run-workflow';

export interface CredentialTestResult {
	status: 'OK' | 'Error';
	message: string;
	/** What was sent (after the credential's authentication), for assertions. */
	request: IHttpRequestOptions;
}

/** The credential helper of the test, noting the last request it authenticated. */
class RecordingCredentialsHelper extends PackageCredentialsHelper {
	sent: IHttpRequestOptions | undefined;

	async authenticate(...args: Parameters<PackageCredentialsHelper['authenticate']>): Promise<IHttpRequestOptions> {
		this.sent = await super.authenticate(...args);
		return this.sent;
	}
}

interface RequestError {
	message?: string;
	httpCode?: string | null;
	cause?: { code?: string; response?: { status?: number; statusText?: string } };
}

/**
 * Runs the credential type's `test` the way n8n's "Test" button does (CredentialsTester in the `n8n`
 * package, `runRequestTest`): a temporary node type whose only property routes `test.request`,
 * run by n8n-core's own `RoutingNode` in an `ExecuteContext`, so that n8n resolves the
 * expressions against the credential, applies the credential's authentication and sends the
 * request with its HTTP helpers.
 *
 * The rule matching itself (`responseCode` rules, then the status text) lives only in the `n8n`
 * CLI package, which is not a dependency of this project (it needs Node 24): the loop below
 * follows n8n 2.41.1's `CredentialsTester.runRequestTest` line by line. The real n8n runs it in
 * `npm run test:e2e` (REST credential test).
 */
export async function testCredential(data: LlamaCloudCredentialData): Promise<CredentialTestResult> {
	const testRequest = credentialType.test!;
	const probeType: INodeType = {
		description: {
			displayName: 'Credential test',
			name: 'credentialTest',
			group: ['transform'],
			version: 1,
			description: 'Runs a credential test request',
			defaults: { name: 'Credential test' },
			inputs: ['main'],
			outputs: ['main'],
			credentials: [{ name: credentialType.name, required: true }],
			properties: [{ displayName: 'Temp', name: 'temp', type: 'string', default: '', routing: { request: testRequest.request } }],
		},
	};
	const nodeTypes: INodeTypes = {
		getByName: () => probeType,
		getByNameAndVersion: () => probeType,
		getKnownTypes: () => ({}),
	};
	const node: INode = {
		id: 'temp',
		name: 'Temp-Node',
		type: probeType.description.name,
		typeVersion: 1,
		position: [0, 0],
		parameters: {},
		credentials: { [credentialType.name]: { id: 'cred-1', name: 'LlamaCloud account' } },
	};
	const workflow = new Workflow({ nodes: [node], connections: {}, active: false, nodeTypes });
	const additionalData = buildAdditionalData(data);
	const credentialsHelper = new RecordingCredentialsHelper({ [credentialType.name]: data });
	additionalData.credentialsHelper = credentialsHelper;
	const context = new ExecuteContext(
		workflow,
		node,
		additionalData,
		'internal',
		createRunExecutionData(),
		0,
		[],
		{ main: [[{ json: {} }]] },
		{ node, data: {}, source: null },
		[],
	);
	const credentials = { id: 'cred-1', name: 'LlamaCloud account', type: credentialType.name, data: data as ICredentialDataDecryptedObject };
	const sent = () => credentialsHelper.sent ?? ({ ...(testRequest.request as IRequestOptionsSimplified) } as unknown as IHttpRequestOptions);

	try {
		await new RoutingNode(context, probeType, credentials).runNode();
	} catch (caught) {
		const error = caught as RequestError;
		// n8n 2.41.1 keeps the axios error as `cause`; n8n-core 2.11.1's NodeApiError keeps only `httpCode`.
		const statusCode = error.cause?.response?.status ?? (/^\d{3}$/.test(String(error.httpCode)) ? Number(error.httpCode) : undefined);
		const networkCode = error.cause?.code ?? (/^E[A-Z_]+$/.test(String(error.httpCode)) ? String(error.httpCode) : undefined);
		if (statusCode !== undefined) {
			for (const rule of testRequest.rules ?? []) {
				if (rule.type === 'responseCode' && statusCode === rule.properties.value) {
					return { status: 'Error', message: rule.properties.message, request: sent() };
				}
			}
			if (statusCode < 199 || statusCode > 299) {
				return {
					status: 'Error',
					message: error.cause?.response?.statusText || `Received HTTP status code: ${statusCode}`,
					request: sent(),
				};
			}
		} else if (networkCode) {
			return { status: 'Error', message: networkCode, request: sent() };
		}
		return { status: 'Error', message: String(error.message), request: sent() };
	}
	return { status: 'OK', message: 'Connection successful!', request: sent() };
}
