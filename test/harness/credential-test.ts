import './environment';

import { httpRequest } from 'n8n-core/dist/execution-engine/node-execution-context/utils/request-helper-functions';
import { NodeApiError, type IHttpRequestOptions, type JsonObject } from 'n8n-workflow';

import { PackageCredentialsHelper, credentialType, resolveCredentialExpression, type LlamaCloudCredentialData } from './credentials';
import { buildWorkflow } from './run-workflow';

export interface CredentialTestResult {
	status: 'OK' | 'Error';
	message: string;
	/** What was sent, for assertions. */
	request: IHttpRequestOptions;
}

/**
 * Runs the credential type's `test.request` the way n8n's "Test" button does: expressions resolved
 * against the credential data, the credential's authentication applied, sent with n8n's HTTP helper.
 */
export async function testCredential(data: LlamaCloudCredentialData): Promise<CredentialTestResult> {
	const workflow = buildWorkflow([{ name: 'Credential test', parameters: {} }]);
	const node = workflow.getNode('Credential test')!;
	const testRequest = credentialType.test!.request;
	const resolve = (value: unknown) => resolveCredentialExpression(workflow, node, value, data) as string;
	let request: IHttpRequestOptions = {
		method: testRequest.method ?? 'GET',
		baseURL: resolve(testRequest.baseURL),
		url: resolve(testRequest.url),
		json: true,
	};
	request = await new PackageCredentialsHelper({}).authenticate(data, credentialType.name, request, workflow, node);
	try {
		await httpRequest({ ...request });
		return { status: 'OK', message: 'Connection tested successfully', request };
	} catch (error) {
		// As n8n's credential tester: a `responseCode` rule matching the status gives the message.
		const status = (error as { response?: { status?: number } }).response?.status;
		const rule = credentialType.test!.rules?.find(
			(candidate) => candidate.type === 'responseCode' && candidate.properties.value === status,
		);
		if (rule) return { status: 'Error', message: rule.properties.message, request };
		const apiError = new NodeApiError(node, error as JsonObject);
		const detail = (error as { response?: { data?: { detail?: unknown } } }).response?.data?.detail;
		return {
			status: 'Error',
			message: typeof detail === 'string' ? `${apiError.message}: ${detail}` : apiError.message,
			request,
		};
	}
}
