/** A loopback HTTP server standing in for a third party a workflow calls (the group-bot webhook, an image host). */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

import { onShutdown } from './processes';

export interface Receiver {
	url: string;
	requests: Array<{
		method: string;
		path: string;
		headers: Record<string, string | string[] | undefined>;
		body: string;
	}>;
	close(): Promise<void>;
}

/** Records what it receives; `respond` decides the answer (default `{"errcode":0}`). Closed at shutdown. */
export async function startReceiver(
	respond?: (request: { method: string; path: string }) => { status?: number; type?: string; body: string | Buffer },
): Promise<Receiver> {
	const requests: Receiver['requests'] = [];
	const server = createServer((request, response) => {
		const chunks: Buffer[] = [];
		request.on('data', (chunk: Buffer) => chunks.push(chunk));
		request.on('end', () => {
			const entry = {
				method: request.method ?? '',
				path: request.url ?? '',
				headers: request.headers,
				body: Buffer.concat(chunks).toString('utf8'),
			};
			requests.push(entry);
			const answer = respond?.(entry) ?? { body: '{"errcode":0,"errmsg":"ok"}', type: 'application/json' };
			response.writeHead(answer.status ?? 200, { 'content-type': answer.type ?? 'application/json' });
			response.end(answer.body);
		});
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	const { port } = server.address() as AddressInfo;
	const close = () =>
		new Promise<void>((resolve) => {
			server.closeAllConnections?.();
			server.close(() => resolve());
		});
	onShutdown(close);
	return { url: `http://127.0.0.1:${port}`, requests, close };
}
