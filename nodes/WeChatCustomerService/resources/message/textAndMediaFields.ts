import type { INodeProperties } from 'n8n-workflow';

import { MESSAGE_TYPES } from './messagePayloads';

/**
 * Fields of Message → Send and Message → Reply defined once for both. n8n's declarative engine evaluates a
 * parameter's expression for every property of that name, for every item, whether or not the property is shown
 * (test/engine/perItemCost.test.ts): a second `content` would make a mapped text of a bulk send cost two evaluations
 * more per item, a second `mediaId` a mapped media_id.
 *
 * Their display rules must hold under both ways n8n reads them. The editor checks a rule against the node's stored
 * parameters, where the other operation's type selector is absent; n8n's getNodeParameters (which decides what is
 * stored, and what the engine uses) checks it with every missing parameter at its default, so there Send sees
 * `replyType` "text" and Reply sees `msgType` "text". Hence rules that hide rather than show by type, and never
 * hide on "text"; the media_id is kept off text messages by Media Source instead, which is absent or at its default
 * (`binary`) wherever no media source was chosen. For the same reason Media Source and Input Binary Field cannot be
 * shared ("show for Send's media or Reply's media" has no form that holds under both readings) and are one property
 * per operation (send.operation.ts, reply.operation.ts): a choice of options is never an expression, and a binary
 * field name rarely is. test/unit/messageFieldsDisplay.test.ts checks both readings.
 */

const MESSAGE_AND_REPLY = { resource: ['message'], operation: ['send', 'reply'] };

export const mediaSourceOptions = [
	{
		name: 'Binary Data',
		value: 'binary',
		description: 'Upload a file of the input item as temporary media (临时素材) and use it in the same step',
	},
	{
		name: 'Media ID',
		value: 'mediaId',
		description: 'Use media uploaded earlier (a media_id, e.g. from a previous run\'s output)',
	},
];

export const textField: INodeProperties = {
	displayName: 'Text',
	name: 'content',
	type: 'string',
	typeOptions: { rows: 4 },
	default: '',
	required: true,
	displayOptions: {
		show: MESSAGE_AND_REPLY,
		hide: {
			msgType: MESSAGE_TYPES.filter((type) => type !== 'text'),
			replyType: ['image', 'voice', 'transferToCustomerService'],
		},
	},
	description:
		'The message text. Links are allowed, including mini program links (data-miniprogram-appid). A passive reply takes at most 2,048 bytes (UTF-8).',
};

/** Send's types without media of their own; "text" is left to Media Source (see above). */
const WITHOUT_MEDIA = MESSAGE_TYPES.filter((type) => !['text', 'image', 'voice', 'video'].includes(type));

export const mediaIdField: INodeProperties = {
	displayName: 'Media ID',
	name: 'mediaId',
	type: 'string',
	default: '',
	required: true,
	displayOptions: {
		show: { ...MESSAGE_AND_REPLY, mediaSource: ['mediaId'] },
		hide: { msgType: WITHOUT_MEDIA, replyType: ['transferToCustomerService'] },
	},
	description:
		'The media_id of an uploaded file of this type: temporary media (临时素材) stay valid for 3 days, permanent materials (永久素材) indefinitely',
};
