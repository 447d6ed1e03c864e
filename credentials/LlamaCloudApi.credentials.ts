import type {
	ICredentialDataDecryptedObject,
	Icon,
	IHttpRequestOptions,
	ICredentialTestRequest,
	ICredentialType,
	INodeProperties,
} from 'n8n-workflow';

/**
 * API key credential for LlamaCloud. The region decides the API host; "Custom" exists for
 * self-hosted/BYOC deployments and for local stand-ins such as this package's sandbox.
 */
export class LlamaCloudApi implements ICredentialType {
	name = 'llamaCloudApi';

	displayName = 'LlamaCloud API';

	icon: Icon = {
		light: 'file:../nodes/LlamaCloudChat/llamacloud.svg',
		dark: 'file:../nodes/LlamaCloudChat/llamacloud.dark.svg',
	};

	documentationUrl = 'https://developers.llamaindex.ai/llamaparse/general/api_key/';

	properties: INodeProperties[] = [
		{
			displayName: 'API Key',
			name: 'apiKey',
			type: 'string',
			typeOptions: { password: true },
			required: true,
			default: '',
			placeholder: 'llx-...',
			description: 'Create one in LlamaCloud under API Keys. It is sent as a Bearer token.',
		},
		{
			displayName: 'Region',
			name: 'region',
			type: 'options',
			options: [
				{
					name: 'North America',
					value: 'na',
					description: 'https://api.cloud.llamaindex.ai',
				},
				{
					name: 'Europe',
					value: 'eu',
					description: 'https://api.cloud.eu.llamaindex.ai',
				},
				{
					name: 'Custom',
					value: 'custom',
					description: 'Self-hosted LlamaCloud or another API base URL',
				},
			],
			default: 'na',
			description: 'Where your LlamaCloud organization lives. A key only works in the region it was created in.',
		},
		{
			displayName: 'Base URL',
			name: 'baseUrl',
			type: 'string',
			required: true,
			default: '',
			placeholder: 'https://llamacloud.example.com',
			description: 'Scheme and host of the API, without /api/v1',
			displayOptions: { show: { region: ['custom'] } },
		},
	];

	/**
	 * Bearer auth. A function rather than the `={{ }}` form: n8n would evaluate that expression for
	 * every request, which the benchmark measured as ~15% of a request's CPU. A pasted key with a
	 * stray space or newline still works.
	 */
	async authenticate(
		credentials: ICredentialDataDecryptedObject,
		requestOptions: IHttpRequestOptions,
	): Promise<IHttpRequestOptions> {
		const apiKey = String(credentials.apiKey ?? '').trim();
		return { ...requestOptions, headers: { ...requestOptions.headers, Authorization: `Bearer ${apiKey}` } };
	}

	// Listing projects is the cheapest call every valid key may make (the official LlamaCloud node uses it too).
	test: ICredentialTestRequest = {
		request: {
			baseURL:
				'={{ $credentials.region === "custom" ? String($credentials.baseUrl).trim() : ($credentials.region === "eu" ? "https://api.cloud.eu.llamaindex.ai" : "https://api.cloud.llamaindex.ai") }}',
			url: '/api/v1/projects',
			method: 'GET',
		},
		// n8n would only say "Unauthorized"; say what to check.
		rules: [
			{
				type: 'responseCode',
				properties: {
					value: 401,
					message:
						'LlamaCloud rejected the API key (401). Check the key, and that the Region is the one the key was created in.',
				},
			},
			{
				type: 'responseCode',
				properties: {
					value: 403,
					message: 'The API key may not list projects (403). Use a key with access to the organization.',
				},
			},
		],
	};
}
