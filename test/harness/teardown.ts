import { SSHClientsManager } from 'n8n-core/dist/execution-engine/ssh-clients-manager';

import { Container } from './n8n-internals';

/** n8n-core starts a cleanup interval for SSH tunnels on first use; stop it so test processes can exit. */
export function stopEngineServices(): void {
	Container.get<{ onShutdown(): void }>(SSHClientsManager).onShutdown();
}
