import {
	NodeConnectionTypes,
	NodeOperationError,
	type IDataObject,
	type IHookFunctions,
	type INodeParameters,
	type INodeType,
	type INodeTypeDescription,
	type IWebhookDescription,
	type IWebhookFunctions,
	type IWebhookResponseData,
	type WEBHOOK_RESOLVERS,
} from 'n8n-workflow';

import { redactSecrets } from '../shared/redact';
import { eventOptions } from './helpers/events';
import { PASSIVE_REPLY_FIELD } from '../shared/passiveReply';
import {
	DEFAULT_REPLY_DEADLINE_MS,
	findCredentialProblem,
	MAX_REPLY_DEADLINE_MS,
	MIN_REPLY_DEADLINE_MS,
	readEncryptionSetting,
	readPushSettings,
	type PushSettings,
} from './helpers/pushSettings';
import { processPushMemory, type PushMemory } from './helpers/deduplicate';
import { answerHandshake, receivePush, type PushOutcome } from './helpers/receivePush';
import { answerWhenWorkflowReplies, pendingAnswer, type PushResponse } from './helpers/replyFromWorkflow';
import { sharedPushMemory } from './helpers/sharedPushMemory';

const CREDENTIAL = 'weChatOfficialAccountApi';

/** An exception for the log: its class and message, cut short, with every credential secret blanked out. */
function describeError(error: unknown, knownSecrets: unknown[]): string {
	if (!(error instanceof Error)) return 'an unexpected error';
	const secrets = knownSecrets.filter((value): value is string => typeof value === 'string');
	return redactSecrets(`${error.name}: ${error.message}`.slice(0, 300), secrets);
}

/**
 * WeChat has no API to register a push URL: the user pastes it into the admin console. Activation can only check
 * that the credential holds what WeChat's verification needs, and fail with a message that says what to fix.
 */
async function checkPushSetup(this: IHookFunctions): Promise<void> {
	const credentials = await this.getCredentials(CREDENTIAL);
	const problem = findCredentialProblem(credentials, readEncryptionSetting(this.getNodeParameter('encryption', 'auto')));
	if (problem) {
		throw new NodeOperationError(this.getNode(), problem, {
			description:
				'Open the credential and copy the values from the WeChat admin console → 设置与开发 → 基本配置 → 服务器配置.',
		});
	}
}

/**
 * n8n 2.x's key for webhook-description fields it can compute without its expression engine (a registered symbol, so
 * the same in every copy of n8n-workflow; n8n 1.x does not know it and evaluates the expressions).
 */
const NATIVE_RESOLVERS = Symbol.for('n8n.webhookDescriptionResolvers') as typeof WEBHOOK_RESOLVERS;

/**
 * Who answers a push: the trigger, as the push arrives (n8n's "onReceived", with the answer the trigger returns), or
 * for Reply From Workflow the last node that ran (n8n's "lastNode", its `passiveReply` field; replyFromWorkflow.ts).
 * Each field is an expression, which the editor and n8n 1.x evaluate, and the same rule as a function, which n8n 2.x
 * runs instead when the node's parameters hold no expression (test/trigger/replyFromWorkflow.test.ts checks that
 * both agree).
 */
const replyFromWorkflow = (parameters: INodeParameters): boolean => parameters.reply === 'fromWorkflow';
const POST_RESPONSE_FIELDS = {
	responseMode: {
		template: '={{ $parameter["reply"] === "fromWorkflow" ? "lastNode" : "onReceived" }}',
		resolve: (parameters: INodeParameters) => (replyFromWorkflow(parameters) ? 'lastNode' : 'onReceived'),
	},
	// onReceived: '' makes n8n send exactly the answer webhook() returns, not its default (the first item).
	responseData: {
		template: '={{ $parameter["reply"] === "fromWorkflow" ? "firstEntryJson" : "" }}',
		resolve: (parameters: INodeParameters) => (replyFromWorkflow(parameters) ? 'firstEntryJson' : ''),
	},
};
const POST_WEBHOOK: IWebhookDescription = {
	name: 'default',
	httpMethod: 'POST',
	path: 'webhook',
	responseMode: POST_RESPONSE_FIELDS.responseMode.template,
	responseData: POST_RESPONSE_FIELDS.responseData.template,
	responsePropertyName: PASSIVE_REPLY_FIELD,
	[NATIVE_RESOLVERS]: POST_RESPONSE_FIELDS,
};

export class WeChatCustomerServiceTrigger implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'WeChat Customer Service Trigger',
		name: 'weChatCustomerServiceTrigger',
		icon: { light: 'file:wechat.svg', dark: 'file:wechat.dark.svg' },
		group: ['trigger'],
		// 1.1 behaves exactly as 1. n8n evaluates the expression $parameter.options.binaryData (meant for its own
		// Webhook node's first version) on every request to any webhook node of type version 1, which costs an
		// expression evaluation per push; from 1.1 on it does not. New nodes get 1.1; saved workflows keep 1.
		version: [1, 1.1],
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
			// A push that starts an execution returns its answer as webhookResponse; n8n sends it once the execution
			// exists. With Reply From Workflow, n8n answers when the execution ends (POST_WEBHOOK).
			POST_WEBHOOK,
		],
		properties: [
			{
				displayName:
					'WeChat has no API to register this URL. Activate the workflow, then in the WeChat admin console open 设置与开发 → 基本配置 → 服务器配置 → 修改配置 and enter: URL (服务器地址) = the Production URL above; Token (令牌) = the Push Token of the credential; EncodingAESKey = the EncodingAESKey of the credential; 消息加解密方式 = 安全模式 (safe mode, recommended), 兼容模式 (compatible) or 明文模式 (plaintext: no key, and nothing proves a push came from WeChat); 数据格式 = XML or JSON. WeChat checks the URL when you submit, so the workflow must be active first.',
				name: 'notice',
				type: 'notice',
				default: '',
			},
			{
				displayName: 'Encryption (消息加解密方式)',
				name: 'encryption',
				type: 'options',
				default: 'auto',
				options: [
					{
						name: 'From Credential',
						value: 'auto',
						description:
							'With an EncodingAESKey in the credential, accept only encrypted pushes (compatible or safe mode); without one, plaintext',
					},
					{
						name: 'Safe Mode (安全模式, Recommended)',
						value: 'safe',
						description: 'Accept only encrypted pushes with a valid msg_signature; needs the EncodingAESKey',
					},
					{
						name: 'Compatible Mode (兼容模式)',
						value: 'compatible',
						description:
							'Accept only encrypted pushes with a valid msg_signature; the plaintext copy WeChat adds is ignored',
					},
					{
						name: 'Plaintext Mode (明文模式)',
						value: 'plaintext',
						description:
							'Accept unencrypted pushes. Nothing signs their content: anyone who learns the Token can forge a push. Use safe mode.',
					},
				],
				description:
					'The 消息加解密方式 chosen in 服务器配置. Only in compatible and safe mode does WeChat sign the content of a push.',
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
					{
						name: 'From Workflow',
						value: 'fromWorkflow',
						description:
							'The workflow decides: end each branch with WeChat Customer Service → Message → Reply. If it has not replied by the deadline (Options), fails, or ends without a reply, WeChat gets the Fallback Reply.',
					},
				],
				description: 'The passive reply (被动回复) WeChat receives. Success and Transfer are sent once the execution is created, before the workflow runs.',
			},
			{
				displayName:
					'n8n answers WeChat with the first item of the last node that runs: make WeChat Customer Service → Message → Reply the last node of every branch. WeChat waits 5 seconds; by the Reply Deadline (Options) the trigger answers the Fallback Reply itself and drops a later reply. A passive reply costs none of the customer-service message quota.',
				name: 'fromWorkflowNotice',
				type: 'notice',
				default: '',
				displayOptions: { show: { reply: ['fromWorkflow'] } },
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
						displayName: 'Fallback Reply',
						name: 'fallbackReply',
						type: 'options',
						default: 'success',
						options: [
							{ name: 'Success', value: 'success', description: 'WeChat shows nothing' },
							{
								name: 'Transfer to Customer Service',
								value: 'transferToCustomerService',
								description: 'Hand the user to a human agent chosen by WeChat (user messages only; events get "success")',
							},
						],
						description:
							'Reply From Workflow only: what WeChat gets when the workflow has not replied by the deadline, fails, or ends without a Message → Reply',
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
					{
						displayName: 'Reply Deadline (Milliseconds)',
						name: 'replyDeadline',
						type: 'number',
						typeOptions: { minValue: MIN_REPLY_DEADLINE_MS, maxValue: MAX_REPLY_DEADLINE_MS },
						default: DEFAULT_REPLY_DEADLINE_MS,
						description:
							'Reply From Workflow only: how long the workflow has to reply before the trigger answers the Fallback Reply. WeChat gives up after 5,000 ms, network included.',
					},
					{
						displayName: 'Share Push Memory Across Processes',
						name: 'sharePushMemory',
						type: 'boolean',
						default: false,
						description:
							"Whether to keep what the trigger answered also in the workflow's static data, in n8n's database, so that a retried push that reaches another n8n process (queue mode with several webhook processes) or n8n after a restart is recognized. Turn it on in queue mode; it costs one database write per accepted push.",
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
		const node = this.getNode();
		const scope = `${this.getWorkflow().id ?? ''}/${node.id ?? node.name}`;
		// Who refused what, for an operator telling a wrong Token from an attack; never a secret or push content.
		const where = { workflowId: this.getWorkflow().id ?? '', node: node.name };
		let knownSecrets: unknown[] = [];
		let memory: PushMemory = processPushMemory;
		let sharedMemory = false;
		let settings: PushSettings | undefined;
		try {
			const request = this.getRequestObject();
			const query = (this.getQueryData() ?? {}) as IDataObject;
			const credentials = await this.getCredentials(CREDENTIAL);
			knownSecrets = [
				credentials.token,
				credentials.appSecret,
				credentials.encodingAESKey,
				credentials.previousEncodingAESKey,
				credentials.accessToken,
			];
			settings = readPushSettings(
				credentials,
				{
					encryption: this.getNodeParameter('encryption', 'auto'),
					events: this.getNodeParameter('events', ['*']),
					reply: this.getNodeParameter('reply', 'success'),
					kfAccount: this.getNodeParameter('kfAccount', ''),
					options: this.getNodeParameter('options', {}),
				},
				scope,
			);
			// In queue mode a retry may reach another webhook process: a memory every process reads.
			if (settings.sharePushMemory) {
				memory = sharedPushMemory(this.getWorkflowStaticData('node'), scope);
				sharedMemory = true;
			}
			outcome =
				this.getWebhookName() === 'setup'
					? answerHandshake(query, settings, Date.now())
					: receivePush({ query, rawBody: request.rawBody }, settings, Date.now(), memory);
		} catch (error) {
			// A bug or a missing credential must not surface as a thrown error: n8n would start an execution for it.
			outcome = {
				status: 500,
				contentType: 'text/plain',
				body: 'the trigger could not process the push',
				logLine: `failed: ${describeError(error, knownSecrets)}`,
			};
		}
		const method = this.getWebhookName() === 'setup' ? 'handshake' : 'push';
		if (outcome.logLine) this.logger.warn(`WeChat ${method} ${outcome.logLine}`, where);

		// Reply From Workflow: a delivery of a push whose first delivery still waits for the workflow gets that answer.
		const firstDelivery = outcome.note === 'duplicate' ? pendingAnswer(outcome.matchedKey) : undefined;
		if (firstDelivery) outcome = { ...outcome, ...(await firstDelivery) };

		if (outcome.item && settings?.reply === 'fromWorkflow') {
			// n8n answers when the execution ends (response mode lastNode); the trigger takes over that answer, and
			// answers the fallback itself at the deadline.
			try {
				answerWhenWorkflowReplies({
					response: this.getResponseObject() as unknown as PushResponse,
					outcome,
					settings,
					logger: this.logger,
					where,
					now: Date.now,
				});
			} catch (error) {
				// Without the takeover n8n would send the last node's JSON as it is: answer the fallback now instead.
				this.logger.warn(`WeChat push answer not prepared: ${describeError(error, knownSecrets)}`, where);
				try {
					this.getResponseObject().status(outcome.status).type(outcome.contentType).send(outcome.body);
				} catch {
					// The connection is gone; WeChat's next delivery gets the remembered fallback.
				}
				return { noWebhookResponse: true, workflowData: [this.helpers.returnJsonArray([outcome.item])] };
			}
			return { workflowData: [this.helpers.returnJsonArray([outcome.item])] };
		}

		if (outcome.item && !sharedMemory) {
			// A push that starts an execution is answered by n8n once it has created the execution (response mode
			// onReceived with a webhookResponse; docs/ARCHITECTURE.md, "A push"). Answering first would acknowledge a
			// push that n8n may then fail to store — under load sqlite refuses writes — and WeChat would not retry it.
			// If n8n answers with an error instead, the push is forgotten, so WeChat's next delivery runs it.
			const rememberedKeys = outcome.rememberedKeys ?? [];
			const logger = this.logger;
			try {
				const response = this.getResponseObject();
				response.type(outcome.contentType);
				response.once('finish', () => {
					if (response.statusCode < 300) return;
					memory.forget(rememberedKeys);
					logger.warn(
						`WeChat push failed: n8n could not start the execution (HTTP ${response.statusCode}); WeChat's next delivery of this push will run it`,
						where,
					);
				});
			} catch (error) {
				this.logger.warn(`WeChat push answer not prepared: ${describeError(error, knownSecrets)}`, where);
			}
			return { webhookResponse: outcome.body, workflowData: [this.helpers.returnJsonArray([outcome.item])] };
		}

		try {
			this.getResponseObject().status(outcome.status).type(outcome.contentType).send(outcome.body);
		} catch (error) {
			// The connection is gone (WeChat gave up after 5 s). A push still starts its execution, and WeChat's next
			// delivery gets the stored answer.
			this.logger.warn(`WeChat ${method} answer not sent: ${describeError(error, knownSecrets)}`, where);
		}
		if (!outcome.item) return { noWebhookResponse: true };
		// Share Push Memory Across Processes: the answer goes first, as n8n then saves the static data (the shared
		// copy) before it queues the execution. Answered after the execution is created, the copy would travel inside
		// the execution, and the worker that runs it would save that older copy over newer ones at its end
		// (README, "Running in queue mode").
		return { noWebhookResponse: true, workflowData: [this.helpers.returnJsonArray([outcome.item])] };
	}
}
