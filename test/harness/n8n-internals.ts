/* eslint-disable @n8n/community-nodes/no-restricted-imports -- Node.js test/dev code, never run inside n8n */
import { createRequire } from 'node:module';

/**
 * n8n-core's own copies of its DI container and logger class. They must be the exact module
 * instances n8n-core uses (npm may nest them), so they are resolved from n8n-core's location.
 */
const requireFromCore = createRequire(require.resolve('n8n-core'));

export const { Container } = requireFromCore('@n8n/di') as {
	Container: { set(token: unknown, value: unknown): void; get<T>(token: unknown): T };
};
export const { Logger } = requireFromCore('@n8n/backend-common') as { Logger: abstract new (...args: never[]) => unknown };
