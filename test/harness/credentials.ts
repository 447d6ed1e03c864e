import type {
	ICredentialDataDecryptedObject,
	ICredentialType,
	IHttpRequestOptions,
	INode,
	INodeCredentialsDetails,
	INodeProperties,
	IRequestOptionsSimplified,
	IWorkflowExecuteAdditionalData,
	Workflow,
} from 'n8n-workflow';
import { ICredentialsHelper } from 'n8n-workflow';
import { Credentials } from 'n8n-core';

import { LlamaCloudApi } from '../../credentials/LlamaCloudApi.credentials';

export interface LlamaCloudCredentialData extends ICredentialDataDecryptedObject {
	apiKey: string;
	region: 'na' | 'eu' | 'custom';
	baseUrl: string;
}

export const credentialType: ICredentialType = new LlamaCloudApi();

/**
 * Resolves `={{ ... }}` values of a credential type against the credential data, the way n8n's
 * own CredentialsHelper does: with `$credentials` available to the expression.
 */
export function resolveCredentialExpression(
	workflow: Workflow,
	node: INode,
	value: unknown,
	credentials: ICredentialDataDecryptedObject,
): unknown {
	if (typeof value !== 'string' || !value.startsWith('=')) return value;
	return workflow.expression.getParameterValue(value, null, 0, 0, node.name, [], 'internal', {
		$credentials: credentials,
	} as never);
}

/**
 * Gives the engine the test's credential and applies the credential type's own `authenticate`
 * (a function, or a `generic` block of expressions) to every request, as n8n's CredentialsHelper
 * does, so requests carry exactly what n8n would send.
 */
export class PackageCredentialsHelper extends ICredentialsHelper {
	constructor(private readonly data: Record<string, ICredentialDataDecryptedObject>) {
		super();
	}

	async authenticate(
		credentials: ICredentialDataDecryptedObject,
		typeName: string,
		requestOptions: IHttpRequestOptions | IRequestOptionsSimplified,
		workflow: Workflow,
		node: INode,
	): Promise<IHttpRequestOptions> {
		if (typeName !== credentialType.name) throw new Error(`Unknown credential type ${typeName}`);
		const authenticate = credentialType.authenticate;
		const options = requestOptions as IHttpRequestOptions;
		if (typeof authenticate === 'function') return await authenticate(credentials, options);
		if (!authenticate || authenticate.type !== 'generic') return options;
		for (const [target, values] of Object.entries(authenticate.properties)) {
			const bucket = ((options as unknown as Record<string, Record<string, unknown>>)[target] ??= {});
			for (const [key, value] of Object.entries(values as Record<string, unknown>)) {
				bucket[key] = resolveCredentialExpression(workflow, node, value, credentials);
			}
		}
		return options;
	}

	/** API keys need no token exchange before requests. */
	async preAuthentication(): Promise<ICredentialDataDecryptedObject | undefined> {
		return undefined;
	}

	async getCredentials(nodeCredentials: INodeCredentialsDetails, type: string) {
		return new Credentials(nodeCredentials, type, '');
	}

	async getDecrypted(
		_additionalData: IWorkflowExecuteAdditionalData,
		_nodeCredentials: INodeCredentialsDetails,
		type: string,
	): Promise<ICredentialDataDecryptedObject> {
		const data = this.data[type];
		if (!data) throw new Error(`No test credential of type ${type}`);
		return { ...data };
	}

	async updateCredentials(): Promise<void> {}

	async updateCredentialsOauthTokenData(): Promise<void> {}

	getCredentialsProperties(): INodeProperties[] {
		return credentialType.properties;
	}

	getParentTypes(): string[] {
		return [];
	}
}
