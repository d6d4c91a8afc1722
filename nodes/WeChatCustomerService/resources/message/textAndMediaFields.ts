import type { INodeProperties } from 'n8n-workflow';

/**
 * Fields of Message → Send and Message → Reply defined once for both. n8n's declarative engine evaluates a
 * parameter's expression for every property of that name, for every item, whether or not the property is shown
 * (test/engine/perItemCost.test.ts): a second `content` would make a mapped text of a bulk send cost two evaluations
 * more per item, a second `mediaId` a mapped media_id.
 *
 * Their display rules have to allow for how n8n decides what is shown: it checks a rule against the node's values
 * with every missing parameter at its default, shown or not. Send therefore sees `replyType` "text", and Reply sees
 * `msgType` "text", so a rule cannot say "msgType is image or replyType is image" (it would show the field for Send's
 * text too). The text needs no more than "both are text"; the media_id relies on Media Source, whose default
 * (`binary`) hides it wherever no media source was chosen. Media Source and Input Binary Field are therefore one
 * property per operation (send.operation.ts, reply.operation.ts): a choice of options is never an expression, and a
 * binary field name rarely is.
 */

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
		show: { resource: ['message'], operation: ['send', 'reply'], msgType: ['text'], replyType: ['text'] },
	},
	description:
		'The message text. Links are allowed, including mini program links (data-miniprogram-appid). A passive reply takes at most 2,048 bytes (UTF-8).',
};

export const mediaIdField: INodeProperties = {
	displayName: 'Media ID',
	name: 'mediaId',
	type: 'string',
	default: '',
	required: true,
	displayOptions: {
		show: {
			resource: ['message'],
			operation: ['send', 'reply'],
			mediaSource: ['mediaId'],
			// "text": the other operation's type at its default (see above); Media Source is only chosen for media.
			msgType: ['image', 'voice', 'video', 'text'],
			replyType: ['image', 'voice', 'text'],
		},
	},
	description:
		'The media_id of an uploaded file of this type: temporary media (临时素材) stay valid for 3 days, permanent materials (永久素材) indefinitely',
};
