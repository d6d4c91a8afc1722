import {
	NodeOperationError,
	updateDisplayOptions,
	type IDataObject,
	type IExecuteSingleFunctions,
	type IN8nHttpFullResponse,
	type INodeProperties,
	type INodePropertyOptions,
} from 'n8n-workflow';

import { webUrlProblem } from '../../../shared/webUrl';
import {
	DEFAULT_DOWNLOAD_MAX_BYTES,
	DownloadTooLarge,
	extensionForMime,
	fileNameFromDisposition,
	readBodyAtMost,
} from '../../helpers/binaryMedia';
import { ItemWithBinary, weChatOperation } from '../../helpers/operation';
import { requireText } from '../../helpers/validation';
import { tooLargeError, weChatApiDownload, type DownloadedFile } from '../../transport/weChatApiRequest';

/**
 * Get Media: `GET /cgi-bin/media/get?media_id=` (获取临时素材) into a binary property. WeChat answers an image, voice or
 * thumb with the file itself (Content-Type, and Content-Disposition naming it MEDIA_ID.ext), a video with JSON
 * `{"video_url": …}` pointing at its video CDN, and an error with JSON `{errcode, errmsg}` (40007: the media_id is
 * unknown or older than 3 days). docs/wechat-protocol.md §10.
 */

interface GetMediaInput {
	mediaId: string;
	binaryPropertyName: string;
	maxBytes: number;
}

const MB = 1024 * 1024;

function readInput(context: IExecuteSingleFunctions): GetMediaInput {
	const mediaId = requireText(
		context,
		context.getNodeParameter('mediaId', ''),
		'Media ID',
		'Enter the MediaId of the image, voice or video a user sent, e.g. {{ $json.MediaId }} from the WeChat Customer Service Trigger, or a media_id returned by an upload. Temporary media can be downloaded for 3 days.',
	);
	if (/\s/.test(mediaId) || mediaId.length > 256) {
		throw new NodeOperationError(context.getNode(), 'Media ID is not a WeChat media_id', {
			itemIndex: context.getItemIndex(),
			description:
				'A media_id is one word of letters, digits, "-" and "_" (the trigger\'s MediaId field). Check the expression: it may yield a whole message instead of its MediaId.',
		});
	}
	const binaryPropertyName = String(context.getNodeParameter('binaryPropertyName', 'data') ?? '').trim();
	if (!binaryPropertyName) {
		throw new NodeOperationError(context.getNode(), 'Put Output File in Field is empty', {
			itemIndex: context.getItemIndex(),
			description: 'Name the binary property the file goes into, e.g. data.',
		});
	}
	const options = context.getNodeParameter('getMediaOptions', {}) as IDataObject;
	const maxMb = options.maxSizeMb === undefined ? DEFAULT_DOWNLOAD_MAX_BYTES / MB : Number(options.maxSizeMb);
	if (!Number.isFinite(maxMb) || maxMb <= 0) {
		throw new NodeOperationError(context.getNode(), `Max Size (MB) must be a positive number, not ${String(options.maxSizeMb)}`, {
			itemIndex: context.getItemIndex(),
			description: 'Set Max Size (MB) to the largest file to accept, or remove the option to use 10 MB.',
		});
	}
	return { mediaId, binaryPropertyName, maxBytes: Math.floor(maxMb * MB) };
}

/** The link without its query: WeChat's `vkey` there is a download grant, kept out of messages. */
function describeLink(url: string): string {
	return url.replace(/[?#].*$/, '');
}

/** A video: WeChat's JSON names a link on its video CDN, fetched without the access token (the link is signed). */
async function downloadVideo(context: IExecuteSingleFunctions, input: GetMediaInput, videoUrl: string) {
	const itemIndex = context.getItemIndex();
	if (webUrlProblem(videoUrl) !== undefined) {
		throw new NodeOperationError(context.getNode(), 'WeChat answered a video_url that is not a web address', {
			itemIndex,
			description:
				'Check that the credential\'s API base URL points at WeChat (or a proxy that passes its answers through unchanged).',
		});
	}
	let response: IN8nHttpFullResponse;
	try {
		response = (await context.helpers.httpRequest({
			url: videoUrl,
			method: 'GET',
			encoding: 'stream',
			returnFullResponse: true,
			json: false,
		})) as IN8nHttpFullResponse;
	} catch (error) {
		const source = error as { httpCode?: unknown; response?: { status?: unknown }; code?: unknown };
		const status = source.httpCode ?? source.response?.status ?? source.code ?? 'no answer';
		throw new NodeOperationError(
			context.getNode(),
			`Downloading the video from WeChat's link ${describeLink(videoUrl)} failed (${String(status)})`,
			{
				itemIndex,
				description:
					'WeChat\'s video links are short-lived and sometimes answer 404 for a few seconds after they are issued. Retry the step (Settings → Retry On Fail) to get a fresh link.',
			},
		);
	}
	const buffer = await readBodyAtMost(response.body, input.maxBytes, response.headers['content-length']).catch(
		(error: unknown) => {
			if (error instanceof DownloadTooLarge) throw tooLargeError(context, itemIndex, error);
			throw error;
		},
	);
	return {
		buffer,
		contentType: String(response.headers['content-type'] ?? ''),
		contentDisposition: String(response.headers['content-disposition'] ?? ''),
	};
}

/** WeChat's MIME type without parameters; '' when it says nothing useful. */
function mimeTypeOf(contentType: string): string {
	const mime = contentType.split(';')[0].trim().toLowerCase();
	return mime === 'application/octet-stream' ? '' : mime;
}

async function toItem(
	context: IExecuteSingleFunctions,
	input: GetMediaInput,
	file: DownloadedFile,
	fallbackMime: string,
): Promise<ItemWithBinary> {
	const mimeType = mimeTypeOf(file.contentType) || fallbackMime;
	const extension = extensionForMime(mimeType);
	const fileName =
		fileNameFromDisposition(file.contentDisposition) ?? (extension ? `${input.mediaId}.${extension}` : input.mediaId);
	const binary = await context.helpers.prepareBinaryData(file.buffer, fileName, mimeType || undefined);
	return new ItemWithBinary(
		{
			mediaId: input.mediaId,
			fileName: binary.fileName ?? fileName,
			mimeType: binary.mimeType,
			fileSize: file.buffer.length,
			video: fallbackMime === 'video/mp4',
		},
		{ [input.binaryPropertyName]: binary },
	);
}

export const option: INodePropertyOptions = {
	name: 'Get Media',
	value: 'getMedia',
	action: 'Download media a user sent',
	description:
		'Download temporary media (临时素材) by its media_id, such as the picture, voice note or video a user sent, into a binary property',
	routing: weChatOperation({
		method: 'GET',
		url: '/cgi-bin/media/get',
		reads: true,
		read: readInput,
		run: async (input, _send, context) => {
			const itemIndex = context.getItemIndex();
			const answer = await weChatApiDownload.call(
				context,
				{ url: '/cgi-bin/media/get', qs: { media_id: input.mediaId } },
				itemIndex,
				input.maxBytes,
			);
			if ('file' in answer) {
				if (answer.file.buffer.length === 0) {
					throw new NodeOperationError(context.getNode(), `WeChat answered an empty file for media ${input.mediaId}`, {
						itemIndex,
						description: 'Try again later; if it persists, the media is damaged at WeChat.',
					});
				}
				return await toItem(context, input, answer.file, '');
			}
			const videoUrl = answer.json.video_url;
			if (typeof videoUrl === 'string' && videoUrl !== '') {
				return await toItem(context, input, await downloadVideo(context, input, videoUrl), 'video/mp4');
			}
			throw new NodeOperationError(context.getNode(), 'WeChat answered neither a file nor a video link', {
				itemIndex,
				description:
					'Check that the credential\'s API base URL points at WeChat (or a proxy that passes its answers through unchanged).',
			});
		},
	}),
};

const properties: INodeProperties[] = [
	{
		displayName: 'Media ID',
		name: 'mediaId',
		type: 'string',
		default: '',
		required: true,
		placeholder: '={{ $json.MediaId }}',
		description:
			'The media_id of the picture, voice note or video: the MediaId of an image, voice or video message from the WeChat Customer Service Trigger, or one returned by an upload. WeChat keeps temporary media for 3 days.',
	},
	{
		displayName: 'Put Output File in Field',
		name: 'binaryPropertyName',
		type: 'string',
		default: 'data',
		required: true,
		hint: 'The name of the output binary field to put the file in',
	},
	{
		displayName: 'Options',
		name: 'getMediaOptions',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		options: [
			{
				displayName: 'Max Size (MB)',
				name: 'maxSizeMb',
				type: 'number',
				typeOptions: { minValue: 0.001, numberPrecision: 3 },
				default: 10,
				description:
					'Larger files are refused without being read into memory. WeChat\'s temporary images and videos are at most 10 MB, voice at most 2 MB.',
			},
		],
	},
];

export const fields = updateDisplayOptions({ show: { resource: ['message'], operation: ['getMedia'] } }, properties);
