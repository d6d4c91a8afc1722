import {
	NodeConnectionTypes,
	NodeOperationError,
	type IDataObject,
	type IHookFunctions,
	type INodeType,
	type INodeTypeDescription,
	type IWebhookFunctions,
	type IWebhookResponseData,
} from 'n8n-workflow';

import { eventOptions } from './helpers/events';
import { findCredentialProblem, readPushSettings } from './helpers/pushSettings';
import { answerHandshake, receivePush, type PushOutcome } from './helpers/receivePush';

const CREDENTIAL = 'weChatOfficialAccountApi';

/**
 * WeChat has no API to register a push URL: the user pastes it into the admin console. Activation can only check
 * that the credential holds what WeChat's verification needs, and fail with a message that says what to fix.
 */
async function checkPushSetup(this: IHookFunctions): Promise<void> {
	const credentials = await this.getCredentials(CREDENTIAL);
	const problem = findCredentialProblem(credentials);
	if (problem) {
		throw new NodeOperationError(this.getNode(), problem, {
			description:
				'Open the credential and copy the values from the WeChat admin console → 设置与开发 → 基本配置 → 服务器配置.',
		});
	}
}

export class WeChatCustomerServiceTrigger implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'WeChat Customer Service Trigger',
		name: 'weChatCustomerServiceTrigger',
		icon: { light: 'file:wechat.svg', dark: 'file:wechat.dark.svg' },
		group: ['trigger'],
		version: 1,
		subtitle: '={{ ($parameter["events"] || []).join(", ") }}',
		description:
			'Starts a workflow when a WeChat Official Account user writes or an event is pushed (消息推送), and can hand the user to a human agent',
		defaults: { name: 'WeChat Customer Service Trigger' },
		inputs: [],
		outputs: [NodeConnectionTypes.Main],
		credentials: [{ name: CREDENTIAL, required: true }],
		webhooks: [
			// WeChat checks the URL with a GET (echostr) when the server configuration is saved, then POSTs every push
			// to the same URL.
			{ name: 'setup', httpMethod: 'GET', responseMode: 'onReceived', path: 'webhook' },
			{ name: 'default', httpMethod: 'POST', responseMode: 'onReceived', path: 'webhook' },
		],
		properties: [
			{
				displayName:
					'WeChat has no API to register this URL. Activate the workflow, then in the WeChat admin console open 设置与开发 → 基本配置 → 服务器配置 → 修改配置 and enter: URL (服务器地址) = the Production URL above; Token (令牌) = the Push Token of the credential; EncodingAESKey = the EncodingAESKey of the credential; 消息加解密方式 = 安全模式 (safe mode, recommended), 兼容模式 (compatible) or 明文模式 (plaintext, no key needed); 数据格式 = XML or JSON. WeChat checks the URL when you submit, so the workflow must be active first.',
				name: 'notice',
				type: 'notice',
				default: '',
			},
			{
				displayName: 'Events',
				name: 'events',
				type: 'multiOptions',
				required: true,
				default: ['*'],
				options: eventOptions,
				description:
					'Which pushes start the workflow. Others are acknowledged with "success" and start nothing.',
			},
			{
				displayName: 'Reply',
				name: 'reply',
				type: 'options',
				default: 'success',
				options: [
					{
						name: 'Success',
						value: 'success',
						description: 'Answer "success" at once: WeChat shows nothing and the workflow replies later if it wants to',
					},
					{
						name: 'Transfer to Customer Service',
						value: 'transferToCustomerService',
						description:
							'Hand the user to a human agent (transfer_customer_service) for user messages; events still get "success"',
					},
				],
				description: 'The passive reply (被动回复) WeChat receives; it is sent before the workflow runs',
			},
			{
				displayName: 'Agent Account',
				name: 'kfAccount',
				type: 'string',
				default: '',
				placeholder: 'agent1@gh_account',
				description:
					'The customer-service account (kf_account) to hand the user to. Empty lets WeChat choose; a named agent who is offline keeps the user waiting.',
				displayOptions: { show: { reply: ['transferToCustomerService'] } },
			},
			{
				displayName: 'Options',
				name: 'options',
				type: 'collection',
				placeholder: 'Add option',
				default: {},
				options: [
					{
						displayName: 'Data Format (数据格式)',
						name: 'format',
						type: 'options',
						default: 'auto',
						options: [
							{ name: 'Auto', value: 'auto', description: 'Accept XML and JSON pushes' },
							{ name: 'JSON', value: 'json', description: 'Reject XML pushes with HTTP 400' },
							{ name: 'XML', value: 'xml', description: 'Reject JSON pushes with HTTP 400' },
						],
						description: 'The data format chosen in 服务器配置',
					},
					{
						displayName: 'Ignore Retried Pushes',
						name: 'deduplicate',
						type: 'boolean',
						default: true,
						description:
							'Whether a push WeChat delivers again (same MsgId, or same sender, time and event) is acknowledged with the same answer and starts no second execution',
					},
					{
						displayName: 'Max Timestamp Age (Seconds)',
						name: 'maxTimestampAge',
						type: 'number',
						typeOptions: { minValue: 0 },
						default: 300,
						description:
							'How far the push timestamp may be from the server clock before the push is rejected as a replay; 0 switches the check off',
					},
				],
			},
		],
	};

	webhookMethods = {
		default: {
			async checkExists(this: IHookFunctions): Promise<boolean> {
				await checkPushSetup.call(this);
				// Nothing is registered at WeChat, so there is never an existing registration to find.
				return false;
			},
			async create(this: IHookFunctions): Promise<boolean> {
				await checkPushSetup.call(this);
				return true;
			},
			async delete(this: IHookFunctions): Promise<boolean> {
				// The URL stays in WeChat's console until the user changes it; pushes to an inactive workflow get 404.
				return true;
			},
		},
	};

	async webhook(this: IWebhookFunctions): Promise<IWebhookResponseData> {
		let outcome: PushOutcome;
		try {
			const request = this.getRequestObject();
			const query = (this.getQueryData() ?? {}) as IDataObject;
			const credentials = await this.getCredentials(CREDENTIAL);
			if (this.getWebhookName() === 'setup') {
				outcome = answerHandshake(query, typeof credentials.token === 'string' ? credentials.token : '');
			} else {
				const node = this.getNode();
				const settings = readPushSettings(
					credentials,
					{
						events: this.getNodeParameter('events', ['*']),
						reply: this.getNodeParameter('reply', 'success'),
						kfAccount: this.getNodeParameter('kfAccount', ''),
						options: this.getNodeParameter('options', {}),
					},
					`${this.getWorkflow().id ?? ''}/${node.id ?? node.name}`,
				);
				outcome = receivePush({ query, rawBody: request.rawBody }, settings, Date.now());
			}
		} catch {
			// A bug or a missing credential must not surface as a thrown error: n8n would start an execution for it.
			outcome = { status: 500, contentType: 'text/plain', body: 'the trigger could not process the push' };
		}

		try {
			this.getResponseObject().status(outcome.status).type(outcome.contentType).send(outcome.body);
		} catch {
			// The connection is gone (WeChat gave up after 5 s); the push is still processed, and with Ignore
			// Retried Pushes on WeChat's next delivery gets the stored answer without a second execution.
		}

		// The answer is already sent: the execution runs after it, never delaying WeChat's 5-second deadline.
		if (!outcome.item) return { noWebhookResponse: true };
		return { noWebhookResponse: true, workflowData: [this.helpers.returnJsonArray([outcome.item])] };
	}
}
