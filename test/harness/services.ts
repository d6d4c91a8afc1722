import { createRequire } from 'node:module';
import { BinaryDataService } from 'n8n-core';

// n8n-core resolves its own copy of @n8n/di (other n8n packages in node_modules pin another version), and only that
// copy's container knows n8n-core's services.
const requireFromCore = createRequire(require.resolve('n8n-core'));
const { Container } = requireFromCore('@n8n/di') as typeof import('@n8n/di');

let ready: Promise<void> | undefined;

/**
 * The services n8n-core's engine takes from its DI container and that n8n's server would have set up: binary data
 * kept in memory (mode "default").
 */
export function ensureEngineServices(): void {
	ready ??= Container.get(BinaryDataService).init();
}

export async function engineServicesReady(): Promise<void> {
	ensureEngineServices();
	await ready;
}

/** The bytes of a binary property a node produced, wherever n8n-core stored them. */
export async function binaryBuffer(binary: import('n8n-workflow').IBinaryData | undefined): Promise<Buffer> {
	if (!binary) throw new Error('no binary data');
	return await Container.get(BinaryDataService).getAsBuffer(binary);
}
