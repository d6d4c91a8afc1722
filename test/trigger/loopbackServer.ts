/**
 * A tiny HTTP adapter on 127.0.0.1 that does what n8n's webhook server does for this trigger: read the raw body,
 * parse the query, pick the webhook by method (GET → `setup`, POST → `default`), call `webhook()` with a context
 * around the real request and response, and record every execution `webhook()` asks n8n to start.
 * Lets the emulator's `deliverPush` deliver pushes over a real socket, retries included.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ICredentialDataDecryptedObject, IDataObject } from 'n8n-workflow';

import { callWebhook, type WebhookResult } from './webhookContext';

export interface LoopbackTrigger {
	url: string;
	/** Items of the executions started, in order. */
	executions: IDataObject[];
	/** Every webhook() result, in order (including those that started nothing). */
	results: WebhookResult[];
	parameters: Record<string, unknown>;
	credentials?: ICredentialDataDecryptedObject;
	close(): Promise<void>;
}

/** express's query parser turns a repeated key into an array; so does this. */
function parseQuery(search: URLSearchParams): Record<string, unknown> {
	const query: Record<string, unknown> = {};
	for (const key of new Set(search.keys())) {
		const values = search.getAll(key);
		Object.defineProperty(query, key, {
			value: values.length === 1 ? values[0] : values,
			enumerable: true,
			writable: true,
			configurable: true,
		});
	}
	return query;
}

function contentTypeHeader(type: string | undefined): string {
	if (!type) return 'text/plain; charset=utf-8';
	// express's res.type() adds the charset for text types.
	return type.startsWith('text/') && !type.includes('charset') ? `${type}; charset=utf-8` : type;
}

export async function startLoopbackTrigger(options: {
	parameters?: Record<string, unknown>;
	credentials?: ICredentialDataDecryptedObject;
	nodeId?: string;
}): Promise<LoopbackTrigger> {
	const executions: IDataObject[] = [];
	const results: WebhookResult[] = [];
	const state = {
		parameters: options.parameters ?? {},
		credentials: options.credentials,
	};

	const server = http.createServer((req, res) => {
		const chunks: Buffer[] = [];
		req.on('data', (chunk: Buffer) => chunks.push(chunk));
		req.on('end', () => {
			const url = new URL(req.url ?? '/', 'http://127.0.0.1');
			if (url.pathname !== '/webhook/trigger/webhook' || (req.method !== 'GET' && req.method !== 'POST')) {
				res.writeHead(404).end('not found');
				return;
			}
			void callWebhook({
				webhookName: req.method === 'GET' ? 'setup' : 'default',
				query: parseQuery(url.searchParams),
				rawBody: Buffer.concat(chunks),
				headers: req.headers as Record<string, string>,
				parameters: state.parameters,
				credentials: state.credentials,
				nodeId: options.nodeId,
				onSend: (response) => {
					res.writeHead(response.status ?? 200, { 'content-type': contentTypeHeader(response.contentType) });
					res.end(response.body ?? '');
				},
			}).then(
				(result) => {
					results.push(result);
					if (result.item) executions.push(result.item);
					if (!res.headersSent) res.writeHead(500).end('webhook() sent no answer');
				},
				() => {
					if (!res.headersSent) res.writeHead(500).end('webhook() threw');
				},
			);
		});
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	const { port } = server.address() as AddressInfo;
	return {
		url: `http://127.0.0.1:${port}/webhook/trigger/webhook`,
		executions,
		results,
		get parameters() {
			return state.parameters;
		},
		set parameters(value) {
			state.parameters = value;
		},
		get credentials() {
			return state.credentials;
		},
		set credentials(value) {
			state.credentials = value;
		},
		close: () =>
			new Promise<void>((resolve, reject) => {
				server.closeAllConnections();
				server.close((error) => (error ? reject(error) : resolve()));
			}),
	};
}
