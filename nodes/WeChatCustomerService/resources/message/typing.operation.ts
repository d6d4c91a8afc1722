import {
	NodeOperationError,
	updateDisplayOptions,
	type IExecuteSingleFunctions,
	type INodeProperties,
	type INodePropertyOptions,
} from 'n8n-workflow';

import { weChatOperation } from '../../helpers/operation';
import { requireRecipient } from '../../helpers/validation';

const COMMANDS = ['Typing', 'CancelTyping'];

function requireCommand(context: IExecuteSingleFunctions): string {
	const command = String(context.getNodeParameter('command', '') ?? '').trim();
	if (!COMMANDS.includes(command)) {
		throw new NodeOperationError(context.getNode(), `"${command}" is not a typing command`, {
			itemIndex: context.getItemIndex(),
			description: 'Use Typing (show "typing…") or CancelTyping (hide it); WeChat knows no other command.',
		});
	}
	return command;
}

export const option: INodePropertyOptions = {
	name: 'Set Typing Status',
	value: 'typing',
	action: 'Show or hide the typing status',
	description: 'Show or hide "typing…" (正在输入) in the user\'s chat (客服输入状态)',
	routing: weChatOperation({
		method: 'POST',
		url: '/cgi-bin/message/custom/typing',
		read: (context) => ({
			touser: requireRecipient(context),
			command: requireCommand(context),
		}),
		run: async (typing, send) => {
			await send({ body: typing });
			return { ...typing, sent: true };
		},
	}),
};

const properties: INodeProperties[] = [
	{
		displayName: 'Command',
		name: 'command',
		type: 'options',
		default: 'Typing',
		options: [
			{
				name: 'Cancel Typing',
				value: 'CancelTyping',
				description: 'Hide the typing status before its 15 seconds are over',
			},
			{
				name: 'Show Typing',
				value: 'Typing',
				description: 'Show "typing…" for up to 15 seconds or until the next message is sent',
			},
		],
		hint: 'Typing works only within 30 seconds of a message exchanged with the user (otherwise error 45080) and cannot be repeated while it shows (45081)',
	},
];

export const fields = updateDisplayOptions(
	{ show: { resource: ['message'], operation: ['typing'] } },
	properties,
);
