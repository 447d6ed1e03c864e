/* eslint-disable @n8n/community-nodes/no-restricted-globals, @n8n/community-nodes/no-restricted-imports -- Node.js test/dev code, never run inside n8n */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// n8n-core keeps instance settings in a user folder: give every process a throw-away one,
// before n8n-core is loaded, so tests never touch ~/.n8n.
if (!process.env.N8N_USER_FOLDER) {
	process.env.N8N_USER_FOLDER = mkdtempSync(join(tmpdir(), 'llamacloud-chat-n8n-'));
}
process.env.N8N_DIAGNOSTICS_ENABLED ??= 'false';
