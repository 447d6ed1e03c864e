import type { AllEntities } from 'n8n-workflow';

type NodeMap = {
	session: 'create' | 'delete' | 'get' | 'getAll' | 'getSummary';
	message: 'ask' | 'send';
};

export type LlamaCloudChatType = AllEntities<NodeMap>;
