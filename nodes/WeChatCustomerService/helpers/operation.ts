import type {
	DeclarativeRestApiSettings,
	IBinaryKeyData,
	ICredentialsDecrypted,
	IDataObject,
	IExecutePaginationFunctions,
	IHttpRequestOptions,
	INodeExecutionData,
	INodePropertyRouting,
} from 'n8n-workflow';

import { readRequestPolicy } from '../transport/requestPolicy';
import { sendToWeChat } from '../transport/weChatApiRequest';
import { CREDENTIAL_NAME } from './errors';

/** What one request to the operation's endpoint carries; both are set afresh for every request. */
export interface WeChatCall {
	qs?: IDataObject;
	/** A JSON object, or a `FormData` for multipart uploads. */
	body?: IDataObject | FormData;
}

/** Sends one request to the operation's endpoint and returns WeChat's answer (errcode already checked). */
export type SendToEndpoint = (call?: WeChatCall) => Promise<IDataObject>;

/** An output item that carries files as well as JSON (Get Media); paired with the input item it came from. */
export class ItemWithBinary {
	constructor(
		readonly json: IDataObject,
		readonly binary: IBinaryKeyData,
	) {}
}

export interface OperationSpec<Input> {
	method: 'GET' | 'POST';
	/** Path below the API base URL. */
	url: string;
	/**
	 * A read changes nothing at WeChat, so "system busy" (-1) may be retried; a write is retried after -1 only when
	 * the user accepts a possible repeat (requestPolicy.ts). Reads are GETs, and the chat-record query.
	 */
	reads?: boolean;
	/**
	 * This item's parameters, read and validated once, before anything is sent: a problem is reported with no request
	 * made. Work that must not be repeated (a media upload) belongs here too: a token retry repeats only `send`.
	 */
	read: (context: IExecutePaginationFunctions) => Input | Promise<Input>;
	/** The requests and the output items. Most operations send once; the chat export pages through windows. */
	run: (
		input: Input,
		send: SendToEndpoint,
		context: IExecutePaginationFunctions,
	) => Promise<IDataObject | IDataObject[] | ItemWithBinary>;
}

/**
 * Options → Same Credential for Every Item: the credential read once per node run and shared by that run's items.
 * n8n otherwise reads, decrypts and resolves the credential for every request (with the item's index, so a field
 * may be an expression over the item — which is why this is an option, off by default). Keyed by the run's execute
 * data, one object per node run, so nothing is shared between runs, executions or workflows, and nothing needs
 * evicting. n8n writes a renewed token into the shared object (its preAuthentication), so every later item uses it.
 * A failed read is not kept: the next item reads again.
 */
const credentialsOfRuns = new WeakMap<object, Promise<ICredentialsDecrypted>>();

async function credentialOfRun(context: IExecutePaginationFunctions): Promise<ICredentialsDecrypted> {
	const run = context.getExecuteData() as unknown as object;
	let credential = credentialsOfRuns.get(run);
	if (!credential) {
		const reference = context.getNode().credentials?.[CREDENTIAL_NAME];
		credential = context.getCredentials(CREDENTIAL_NAME).then((data) => ({
			id: reference?.id ?? '',
			name: reference?.name ?? '',
			type: CREDENTIAL_NAME,
			data,
		}));
		credentialsOfRuns.set(run, credential);
		credential.catch(() => credentialsOfRuns.delete(run));
	}
	return await credential;
}

/**
 * The routing of every operation: read the parameters once, send, shape the output — in one function n8n calls per
 * item. n8n's declarative engine hands an operation's request to a `pagination` function (only when `send.paginate`
 * is set), and that function is the one place where a request can be sent again, which the access-token retry needs;
 * no preSend or postReceive step is used, so the node reads every parameter once per item (n8n's engine evaluates
 * each set parameter twice more by itself: test/engine/perItemCost.test.ts).
 */
export function weChatOperation<Input>(spec: OperationSpec<Input>): INodePropertyRouting {
	return {
		request: { method: spec.method, url: spec.url },
		send: { paginate: true },
		operations: {
			async pagination(
				this: IExecutePaginationFunctions,
				requestData: DeclarativeRestApiSettings.ResultOptions,
			): Promise<INodeExecutionData[]> {
				const input = await spec.read(this);
				const policy = readRequestPolicy(
					this.getNodeParameter('requestOptions', {}) as IDataObject,
					spec.reads ?? spec.method === 'GET',
				);
				const sharedCredential = policy.sameCredentialForEveryItem ? await credentialOfRun(this) : undefined;
				const send: SendToEndpoint = async (call = {}) => {
					const options = { ...requestData.options, qs: { ...call.qs }, body: call.body } as IHttpRequestOptions;
					return await sendToWeChat(
						this,
						options,
						this.getItemIndex(),
						async () => {
							if (sharedCredential) {
								return (await this.helpers.httpRequestWithAuthentication.call(this, CREDENTIAL_NAME, options, {
									credentialsDecrypted: sharedCredential,
								})) as IDataObject;
							}
							const [item] = await this.makeRoutingRequest({ ...requestData, options });
							return (item?.json ?? {}) as IDataObject;
						},
						policy,
					);
				};
				const output = await spec.run(input, send, this);
				if (output instanceof ItemWithBinary) {
					return [{ json: output.json, binary: output.binary, pairedItem: { item: this.getItemIndex() } }];
				}
				return (Array.isArray(output) ? output : [output]).map((json) => ({ json }));
			},
		},
	};
}

/** An operation that calls no WeChat endpoint of its own (Message → Reply): its output is what it built locally. */
export interface LocalOperationSpec<Input> {
	/** As in `OperationSpec`: this item's parameters, read and validated once, before anything is sent. */
	read: (context: IExecutePaginationFunctions) => Input | Promise<Input>;
	/** The output item; requests it needs (a media upload) go through `weChatApiRequest` like any other. */
	run: (input: Input, context: IExecutePaginationFunctions) => IDataObject | Promise<IDataObject>;
}

/**
 * The routing of an operation without an endpoint. n8n's declarative engine sends an operation's request only when its
 * `pagination` function calls `makeRoutingRequest`; this one never does, and the routing names no URL, so nothing
 * reaches WeChat but what `run` sends itself. Parameters are read once per item, as in `weChatOperation`.
 */
export function localOperation<Input>(spec: LocalOperationSpec<Input>): INodePropertyRouting {
	return {
		send: { paginate: true },
		operations: {
			async pagination(this: IExecutePaginationFunctions): Promise<INodeExecutionData[]> {
				const input = await spec.read(this);
				return [{ json: await spec.run(input, this) }];
			},
		},
	};
}

/** The entries of a list in WeChat's answer, one output item each; an absent list is an empty one. */
export function listIn(answer: IDataObject, property: string): IDataObject[] {
	const list = answer[property];
	return Array.isArray(list) ? (list as IDataObject[]) : [];
}
