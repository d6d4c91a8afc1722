import {
	NodeOperationError,
	type IDataObject,
	type IExecuteSingleFunctions,
	type INodeProperties,
	type INodePropertyOptions,
} from 'n8n-workflow';

import {
	isMediaId,
	MAX_REPLY_TEXT_BYTES,
	PASSIVE_REPLY_FIELD,
	readPassiveReply,
	type PassiveReply,
} from '../../../shared/passiveReply';
import { kfAccountLocator } from '../../descriptions/kfAccountLocator';
import { localOperation } from '../../helpers/operation';
import { requireKfAccount, requireText } from '../../helpers/validation';
import { mediaSourceOptions } from './textAndMediaFields';
import { isFromBinary, MAIN_MEDIA, mediaIdOf, prepareMedia } from './uploadMedia';

/**
 * Reply: the passive reply (被动回复) to the push that started this execution, decided by the workflow
 * (docs/wechat-protocol.md §6). The node only builds it, as the output field `passiveReply` with WeChat's element
 * names; the trigger, with Reply set to From Workflow, answers WeChat with the first item of the last node that ran,
 * addresses that reply to the push's sender and encrypts it as the push was (nodes/shared/passiveReply.ts). Nothing is
 * sent to WeChat here except the upload of an image or voice file from binary data, which gives the media_id.
 */

/** The values of `replyType` (public names: users' saved workflows store them). */
const REPLY_TYPES = ['text', 'image', 'voice', 'transferToCustomerService'] as const;
type ReplyType = (typeof REPLY_TYPES)[number];

/** The node type of this package's trigger: the same package prefix, name + "Trigger". */
function triggerTypeOf(context: IExecuteSingleFunctions): string {
	return `${context.getNode().type}Trigger`;
}

function fail(context: IExecuteSingleFunctions, message: string, description: string): never {
	throw new NodeOperationError(context.getNode(), message, { description, itemIndex: context.getItemIndex() });
}

const TRIGGER_HINT =
	'n8n answers WeChat with the first item of the last node that runs, and only a WeChat Customer Service Trigger whose Reply is "From Workflow" waits for it. To message a user at any other time use Message → Send, a customer-service message (客服消息).';

/**
 * A reply has nobody to go to unless a trigger with Reply = From Workflow started this execution and waits for it:
 * elsewhere the item would be built and silently dropped. Checked from the workflow's graph, before anything else.
 */
function requireWaitingTrigger(context: IExecuteSingleFunctions): void {
	const triggerType = triggerTypeOf(context);
	const triggers = context
		.getParentNodes(context.getNode().name, { includeNodeParameters: true })
		.filter((parent) => parent.type === triggerType && !parent.disabled);
	if (triggers.some((trigger) => trigger.parameters?.reply === 'fromWorkflow')) return;
	if (triggers.length > 0) {
		const names = triggers.map((trigger) => `"${trigger.name}"`).join(', ');
		fail(
			context,
			`The trigger ${names} answers WeChat by itself: set its Reply to From Workflow`,
			`Message → Reply answers the push that started this execution. ${TRIGGER_HINT}`,
		);
	}
	fail(
		context,
		'Message → Reply answers the push that started this execution: put it after a WeChat Customer Service Trigger whose Reply is From Workflow',
		TRIGGER_HINT,
	);
}

function requireReplyType(context: IExecuteSingleFunctions): ReplyType {
	const value = String(context.getNodeParameter('replyType', '') ?? '').trim();
	if (!(REPLY_TYPES as readonly string[]).includes(value)) {
		fail(context, `"${value}" is not a reply type`, `Use one of: ${REPLY_TYPES.join(', ')}.`);
	}
	return value as ReplyType;
}

function textReply(context: IExecuteSingleFunctions): PassiveReply {
	const content = String(context.getNodeParameter('content', '') ?? '');
	requireText(
		context,
		content,
		'Text',
		'Enter the reply text (文本消息内容), e.g. the answer to a known question, or choose another reply type.',
	);
	const bytes = Buffer.byteLength(content, 'utf8');
	if (bytes > MAX_REPLY_TEXT_BYTES) {
		fail(
			context,
			`Text is ${bytes} bytes long; a passive reply (被动回复) takes at most ${MAX_REPLY_TEXT_BYTES} bytes (UTF-8)`,
			`Shorten the text, or send it with Message → Send, a customer-service message (客服消息), and reply with something short or nothing. A Chinese character takes 3 bytes. WeChat shows the user "该公众号暂时无法提供服务" for a reply it cannot use.`,
		);
	}
	// Sent as typed: line breaks and spacing around the text are part of the message.
	return { MsgType: 'text', Content: content };
}

/** A typed media_id, or the item's file uploaded as temporary media (as Message → Send does). */
async function mediaIdFor(context: IExecuteSingleFunctions, type: 'image' | 'voice'): Promise<string> {
	const media = await prepareMedia(context, MAIN_MEDIA, type);
	if (media.source === 'mediaId' && !isMediaId(media.mediaId)) {
		fail(
			context,
			'Media ID is not a WeChat media_id',
			`A media_id is one word of up to 128 letters, digits, "-" and "_", as WeChat returns it for an uploaded ${type} file (临时素材 media_id). Check the expression: it may yield a whole item instead of its media_id.`,
		);
	}
	return await mediaIdOf(context, media);
}

function transferReply(context: IExecuteSingleFunctions): PassiveReply {
	const raw = context.getNodeParameter('kfAccount', '') as unknown;
	// A resource locator's value, whichever mode it was picked in.
	const value = typeof raw === 'object' && raw !== null ? (raw as IDataObject).value : raw;
	if (String(value ?? '').trim() === '') return { MsgType: 'transfer_customer_service' };
	const kfAccount = requireKfAccount(context, value, 'Agent');
	return { MsgType: 'transfer_customer_service', TransInfo: { KfAccount: kfAccount } };
}

interface ReplyInput {
	replyType: ReplyType;
	reply: PassiveReply;
	/** The media_id WeChat gave the uploaded file, for later nodes (as Message → Send outputs it). */
	uploaded?: { media_id: string; media_type: 'image' | 'voice' };
}

async function readReply(context: IExecuteSingleFunctions): Promise<ReplyInput> {
	requireWaitingTrigger(context);
	const replyType = requireReplyType(context);
	switch (replyType) {
		case 'text':
			return { replyType, reply: textReply(context) };
		case 'image':
		case 'voice': {
			// Last, because it may upload: everything above is valid by now.
			const mediaId = await mediaIdFor(context, replyType);
			const reply: PassiveReply =
				replyType === 'image'
					? { MsgType: 'image', Image: { MediaId: mediaId } }
					: { MsgType: 'voice', Voice: { MediaId: mediaId } };
			const uploaded = isFromBinary(context, MAIN_MEDIA) ? { media_id: mediaId, media_type: replyType } : undefined;
			return { replyType, reply, uploaded };
		}
		case 'transferToCustomerService':
			return { replyType, reply: transferReply(context) };
	}
}

export const option: INodePropertyOptions = {
	name: 'Reply',
	value: 'reply',
	action: 'Reply to the push that started the workflow',
	description:
		'Answer the message that started this execution with a passive reply (被动回复): text, image, voice, or a transfer to customer service. Needs a WeChat Customer Service Trigger with Reply set to From Workflow.',
	routing: localOperation({
		read: readReply,
		run: (input, context) => {
			// The trigger checks it again; a reply that fails here would reach the user as "该公众号暂时无法提供服务".
			const checked = readPassiveReply(input.reply);
			if (!checked.ok) {
				fail(
					context,
					`The reply cannot be sent: ${checked.reason}`,
					'Every typed value was checked, so this came from WeChat\'s answer to the upload: check that the credential\'s API base URL points at WeChat (or a proxy that passes its answers through unchanged).',
				);
			}
			const output: IDataObject = { replyType: input.replyType, [PASSIVE_REPLY_FIELD]: checked.reply as unknown as IDataObject };
			return input.uploaded ? { ...output, ...input.uploaded } : output;
		},
	}),
};

/** The notice and Reply Type, which come before the text and media fields shared with Message → Send. */
export const typeFields: INodeProperties[] = [
	{
		displayName:
			'WeChat gets the first item of the last node that runs: make Reply the last node of its branch. WeChat waits 5 seconds at most; when the workflow takes longer, the trigger answers its fallback instead. A passive reply costs none of the customer-service message quota.',
		name: 'replyNotice',
		type: 'notice',
		default: '',
		displayOptions: { show: { resource: ['message'], operation: ['reply'] } },
	},
	{
		displayName: 'Reply Type',
		name: 'replyType',
		type: 'options',
		noDataExpression: true,
		default: 'text',
		hint: 'Answers the push that started this execution; the WeChat Customer Service Trigger\'s Reply must be From Workflow',
		options: [
			{ name: 'Image', value: 'image', description: 'An image (图片消息) by media_id, or uploaded from binary data' },
			{ name: 'Text', value: 'text', description: 'A text of at most 2,048 bytes (文本消息)' },
			{
				name: 'Transfer to Customer Service',
				value: 'transferToCustomerService',
				description:
					'Hand the user to a human agent (转发到客服, transfer_customer_service): the one named in Agent, or whom WeChat chooses',
			},
			{ name: 'Voice', value: 'voice', description: 'A voice clip (语音消息) by media_id, or uploaded from binary data' },
		],
		displayOptions: { show: { resource: ['message'], operation: ['reply'] } },
	},
];

const replyMedia = { show: { resource: ['message'], operation: ['reply'], replyType: ['image', 'voice'] } };

/** Between the shared Text and the shared Media ID (textAndMediaFields.ts); Send has properties of these names too. */
export const mediaFields: INodeProperties[] = [
	{
		displayName: 'Media Source',
		name: 'mediaSource',
		type: 'options',
		noDataExpression: true,
		default: 'binary',
		displayOptions: replyMedia,
		options: mediaSourceOptions,
	},
	{
		displayName: 'Input Binary Field',
		name: 'binaryPropertyName',
		type: 'string',
		default: 'data',
		required: true,
		displayOptions: { show: { ...replyMedia.show, mediaSource: ['binary'] } },
		hint: 'The input binary field holding the file, uploaded as temporary media. Limits: image JPG/PNG/GIF 10 MB, voice AMR/MP3 2 MB.',
	},
];

/**
 * The agent of a transfer: `kfAccount`, the public name of an agent everywhere in this node (Session's and Account's
 * operations use it too). n8n's engine evaluates a mapped value for every property of that name, so an Account or
 * Session operation that maps its account pays two evaluations more per item for this property
 * (test/engine/messageReply.test.ts); Send's bulk path pays nothing.
 */
export const fields: INodeProperties[] = [
	kfAccountLocator({
		displayName: 'Agent',
		required: false,
		displayOptions: { show: { resource: ['message'], operation: ['reply'], replyType: ['transferToCustomerService'] } },
		description:
			'The customer-service account (客服账号) to hand the user to, e.g. the agent who served them last ({{ $json.kf_account }} from Session → Get). Empty lets WeChat choose; a named agent who cannot take the user keeps the user waiting for that agent.',
	}),
];
