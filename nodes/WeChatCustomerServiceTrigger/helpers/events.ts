/**
 * The `events` filter: WeChat's message types (MsgType) and event names (Event of MsgType `event`).
 * Message types and events are separate namespaces — `location` is a location message, `LOCATION` the periodic
 * location-report event — so a value only ever matches its own kind.
 */
import type { INodePropertyOptions } from 'n8n-workflow';

import { textField, type PushFields } from './parsePush';

export const ALL_PUSHES = '*';

export const MESSAGE_TYPES = ['text', 'image', 'voice', 'video', 'shortvideo', 'location', 'link'] as const;

export const EVENT_NAMES = [
	'subscribe',
	'unsubscribe',
	'SCAN',
	'LOCATION',
	'CLICK',
	'VIEW',
	'kf_create_session',
	'kf_close_session',
	'kf_switch_session',
] as const;

export const eventOptions: INodePropertyOptions[] = [
	{ name: '*', value: ALL_PUSHES, description: 'Every message and event' },
	{ name: 'Event: Click Menu (CLICK)', value: 'CLICK', description: 'The user clicked a menu item that sends a key' },
	{
		name: 'Event: Customer Service Session Closed (kf_close_session)',
		value: 'kf_close_session',
		description: 'An agent closed the session with the user (KfAccount)',
	},
	{
		name: 'Event: Customer Service Session Created (kf_create_session)',
		value: 'kf_create_session',
		description: 'An agent accepted the user (KfAccount)',
	},
	{
		name: 'Event: Customer Service Session Switched (kf_switch_session)',
		value: 'kf_switch_session',
		description: 'The session moved from one agent to another (FromKfAccount, ToKfAccount)',
	},
	{
		name: 'Event: Location Report (LOCATION)',
		value: 'LOCATION',
		description: 'The periodic location report of a user who allowed it (Latitude, Longitude, Precision)',
	},
	{
		name: 'Event: Scan QR Code While Following (SCAN)',
		value: 'SCAN',
		description: 'A follower scanned a parametric QR code (EventKey, Ticket)',
	},
	{ name: 'Event: Subscribe (subscribe)', value: 'subscribe', description: 'The user followed the account (关注)' },
	{
		name: 'Event: Unsubscribe (unsubscribe)',
		value: 'unsubscribe',
		description: 'The user unfollowed the account (取消关注)',
	},
	{ name: 'Event: View Menu Link (VIEW)', value: 'VIEW', description: 'The user clicked a menu item that opens a web page' },
	{ name: 'Message: Image', value: 'image', description: 'PicUrl, MediaId' },
	{ name: 'Message: Link', value: 'link', description: 'Title, Description and the link address' },
	{ name: 'Message: Location', value: 'location', description: 'Location_X, Location_Y, Scale, Label' },
	{ name: 'Message: Short Video', value: 'shortvideo', description: 'MediaId, ThumbMediaId' },
	{ name: 'Message: Text', value: 'text', description: 'Content' },
	{ name: 'Message: Video', value: 'video', description: 'MediaId, ThumbMediaId' },
	{ name: 'Message: Voice', value: 'voice', description: 'MediaId, Format, and Recognition when enabled' },
];

/** A user message, as opposed to an event: the only pushes that may be transferred to customer service. */
export function isUserMessage(fields: PushFields): boolean {
	return textField(fields, 'MsgType') !== 'event';
}

/**
 * Whether a push passes the filter. Event names compare without case: WeChat's own documentation mixes capitals
 * (SCAN, CLICK) and lower case (subscribe, kf_create_session), and a differently cased name must not silently drop a
 * push. Message types are lower case everywhere.
 */
export function matchesEvents(fields: PushFields, selected: string[]): boolean {
	if (selected.includes(ALL_PUSHES)) return true;
	const msgType = textField(fields, 'MsgType') ?? '';
	if (msgType !== 'event') {
		return (MESSAGE_TYPES as readonly string[]).includes(msgType) && selected.includes(msgType);
	}
	const event = (textField(fields, 'Event') ?? '').toLowerCase();
	return selected.some(
		(value) => (EVENT_NAMES as readonly string[]).includes(value) && value.toLowerCase() === event,
	);
}
