/**
 * A stand-in for n8n's webhook context (`IWebhookFunctions`) and hook context (`IHookFunctions`): just what the
 * trigger reads, shaped like n8n-core's WebhookContext (request with `rawBody` as a Buffer, express-like response).
 */
import type {
	ICredentialDataDecryptedObject,
	IDataObject,
	IHookFunctions,
	INode,
	INodeExecutionData,
	IWebhookFunctions,
	IWebhookResponseData,
} from 'n8n-workflow';

import { WeChatCustomerServiceTrigger } from '../../nodes/WeChatCustomerServiceTrigger/WeChatCustomerServiceTrigger.node.ts';

export const TOKEN = 'pushToken123';
export const APP_ID = 'wx1234567890abcdef';
export const AES_KEY = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG';
export const OLD_AES_KEY = 'ZYXWVUTSRQPONMLKJIHGFEDCBA9876543210zyxwvut';
export const OTHER_AES_KEY = 'QwErTyUiOpAsDfGhJkLzXcVbNm1234567890qWeRtYu';
export const APP_SECRET = 'appSecretThatMustNeverLeak';

export const credentials = (overrides: Record<string, unknown> = {}): ICredentialDataDecryptedObject => ({
	appId: APP_ID,
	appSecret: APP_SECRET,
	token: TOKEN,
	encodingAESKey: AES_KEY,
	previousEncodingAESKey: '',
	...overrides,
});

export interface CapturedResponse {
	status?: number;
	contentType?: string;
	body?: string;
	sends: number;
	/** Every line the trigger wrote through n8n's logger, with its level and metadata. */
	logs: Array<{ level: string; message: string; metadata?: unknown }>;
}

export interface WebhookCall {
	webhookName?: 'default' | 'setup';
	query: Record<string, unknown>;
	rawBody?: Buffer | string;
	headers?: Record<string, string>;
	parameters?: Record<string, unknown>;
	credentials?: ICredentialDataDecryptedObject;
	workflowId?: string;
	nodeId?: string;
	/**
	 * The workflow's static data for the trigger node, as n8n loads it from the database for this request (the shared
	 * push memory lives there); a fresh empty object when not given.
	 */
	staticData?: IDataObject;
	/** Called by the response's send(); lets the HTTP adapter write the real answer. */
	onSend?: (response: CapturedResponse) => void;
	/** n8n fails to create the execution (as when sqlite refuses the write): it answers 500 instead. */
	executionFails?: boolean;
}

const DEFAULT_PARAMETERS: Record<string, unknown> = {
	events: ['*'],
	reply: 'success',
	kfAccount: '',
	options: {},
};

function node(nodeId: string): INode {
	return {
		id: nodeId,
		name: 'WeChat Customer Service Trigger',
		type: 'n8n-nodes-wechat-customer-service.weChatCustomerServiceTrigger',
		typeVersion: 1,
		position: [0, 0],
		parameters: {},
	};
}

function returnJsonArray(data: IDataObject | IDataObject[]): INodeExecutionData[] {
	return (Array.isArray(data) ? data : [data]).map((json) => ({ json }));
}

/** The express-like response object of the stand-in, with what n8n itself calls on it. */
export interface StandInResponse {
	statusCode: number;
	headersSent: boolean;
	status(code: number): StandInResponse;
	type(contentType: string): StandInResponse;
	set(name: string, value: string): StandInResponse;
	setHeader(name: string, value: string): StandInResponse;
	setHeaders(headers: Map<string, string>): StandInResponse;
	send(body: string): StandInResponse;
	json(body: unknown): StandInResponse;
	end(body?: string): StandInResponse;
	once(event: string, listener: () => void): StandInResponse;
}

/** What node's http module throws for a header written after the answer went out (ERR_HTTP_HEADERS_SENT). */
function headersSentError(): Error {
	return Object.assign(new Error('Cannot set headers after they are sent to the client'), {
		code: 'ERR_HTTP_HEADERS_SENT',
	});
}

export function createWebhookContext(call: WebhookCall): {
	context: IWebhookFunctions;
	response: CapturedResponse;
	res: StandInResponse;
} {
	const response: CapturedResponse = { sends: 0, logs: [] };
	const onFinish: Array<() => void> = [];
	const log =
		(level: string) =>
		(message: string, metadata?: unknown): void => {
			response.logs.push({ level, message, metadata });
		};
	const parameters = { ...DEFAULT_PARAMETERS, ...call.parameters };
	const staticData = call.staticData ?? {};
	const request = {
		method: call.webhookName === 'setup' ? 'GET' : 'POST',
		query: call.query,
		headers: call.headers ?? {},
		rawBody: typeof call.rawBody === 'string' ? Buffer.from(call.rawBody, 'utf8') : call.rawBody,
		// What n8n's own parser would have made of the body; the trigger must not rely on it.
		body: {},
	};
	// Shaped like express's response: type() and send() go through set(), json() through send(), and every header
	// or body written after the answer went out throws, as in n8n.
	const res: StandInResponse = {
		statusCode: 200,
		headersSent: false,
		status(code: number) {
			response.status = code;
			res.statusCode = code;
			return res;
		},
		type(contentType: string) {
			return res.set('Content-Type', contentType);
		},
		set(name: string, value: string) {
			return res.setHeader(name, value);
		},
		setHeader(name: string, value: string) {
			if (res.headersSent) throw headersSentError();
			if (name.toLowerCase() === 'content-type') response.contentType = value;
			return res;
		},
		setHeaders(headers: Map<string, string>) {
			for (const [name, value] of headers) res.setHeader(name, value);
			return res;
		},
		send(body: string) {
			return res.end(body);
		},
		json(body: unknown) {
			if (response.contentType === undefined) res.set('Content-Type', 'application/json');
			return res.send(JSON.stringify(body));
		},
		end(body?: string) {
			if (res.headersSent) throw headersSentError();
			res.headersSent = true;
			response.body = body ?? '';
			response.sends++;
			call.onSend?.(response);
			for (const listener of onFinish.splice(0)) listener();
			return res;
		},
		once(event: string, listener: () => void) {
			if (event === 'finish') onFinish.push(listener);
			return res;
		},
	};
	const context = {
		getWebhookName: () => call.webhookName ?? 'default',
		getRequestObject: () => request,
		getResponseObject: () => res,
		getQueryData: () => call.query,
		getBodyData: () => request.body,
		getHeaderData: () => request.headers,
		getNodeParameter: (name: string, fallback?: unknown) =>
			Object.prototype.hasOwnProperty.call(parameters, name) ? parameters[name] : fallback,
		getCredentials: async (type: string) => {
			if (type !== 'weChatOfficialAccountApi') throw new Error(`unexpected credential type ${type}`);
			return call.credentials ?? credentials();
		},
		getNode: () => node(call.nodeId ?? 'node-1'),
		getWorkflow: () => ({ id: call.workflowId ?? 'workflow-1', name: 'Test', active: true }),
		getWorkflowStaticData: (type: string) => {
			if (type !== 'node') throw new Error(`unexpected static data type ${type}`);
			return staticData;
		},
		getMode: () => 'webhook',
		helpers: { returnJsonArray },
		logger: { error: log('error'), warn: log('warn'), info: log('info'), debug: log('debug') },
	};
	return { context: context as unknown as IWebhookFunctions, response, res };
}

/**
 * What n8n 2.x does with webhook()'s result in response mode onReceived: with `noWebhookResponse` nothing (the node
 * answered); with `workflowData` it creates the execution, then answers `webhookResponse` with the description's
 * response code (200) — or, when creating the execution failed, an error (500, JSON) instead.
 */
export function answerAsN8nDoes(call: WebhookCall, result: IWebhookResponseData, res: StandInResponse): void {
	if (result.noWebhookResponse === true || !result.workflowData) return;
	// Reply From Workflow: n8n answers when the execution ends (lastNode); the test plays that part (n8nAnswers).
	if (descriptionField(call, 'responseMode', 'onReceived') === 'lastNode') return;
	if (call.executionFails) {
		res.status(500).type('application/json').send('{"code":0,"message":"There was a problem executing the workflow"}');
		return;
	}
	// n8n's order: the description's responseData (its default 'firstEntryJson'), then the node's webhookResponse.
	const responseData = descriptionField(call, 'responseData', 'firstEntryJson');
	res.status(200).send(String(responseData || result.webhookResponse));
}

/**
 * A field of the trigger's webhook description as n8n 2.x resolves it for static parameters: by the resolver the
 * description declares for it (its expression is the editor's and n8n 1.x's copy of the same rule), else as written.
 */
export function descriptionField(call: WebhookCall, field: string, fallback: unknown): unknown {
	const description = trigger.description.webhooks?.find((webhook) => webhook.name === (call.webhookName ?? 'default'));
	if (!description) return fallback;
	const resolvers = (description as unknown as Record<symbol, Record<string, { resolve: (p: unknown) => unknown }>>)[
		Symbol.for('n8n.webhookDescriptionResolvers')
	];
	const resolver = resolvers?.[field];
	const value = resolver ? resolver.resolve({ ...DEFAULT_PARAMETERS, ...call.parameters }) : description[field];
	return value ?? fallback;
}

export const trigger = new WeChatCustomerServiceTrigger();

export interface WebhookResult {
	result: IWebhookResponseData;
	response: CapturedResponse;
	/** The item that started an execution, if one did. */
	item?: IDataObject;
}

export async function callWebhook(call: WebhookCall): Promise<WebhookResult> {
	const { context, response, res } = createWebhookContext(call);
	const result = await trigger.webhook.call(context);
	answerAsN8nDoes(call, result, res);
	const item = call.executionFails ? undefined : result.workflowData?.[0]?.[0]?.json;
	return { result, response, item };
}

/** `IHookFunctions` for the activation methods. */
export function createHookContext(credentialValues: ICredentialDataDecryptedObject): IHookFunctions {
	const context = {
		getCredentials: async () => credentialValues,
		getNode: () => node('node-1'),
		getNodeParameter: (name: string, fallback?: unknown) =>
			Object.prototype.hasOwnProperty.call(DEFAULT_PARAMETERS, name) ? DEFAULT_PARAMETERS[name] : fallback,
		getNodeWebhookUrl: () => 'http://127.0.0.1:5678/webhook/abc/webhook',
		getWebhookName: () => 'default',
		getWorkflow: () => ({ id: 'workflow-1', name: 'Test', active: true }),
		getMode: () => 'trigger',
		getActivationMode: () => 'activate',
	};
	return context as unknown as IHookFunctions;
}
