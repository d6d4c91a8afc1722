import { NodeOperationError, type IExecuteSingleFunctions } from 'n8n-workflow';

import { mediaFormData, readMediaFile, type MediaFile } from '../../helpers/binaryMedia';
import { requireText } from '../../helpers/validation';
import { weChatApiRequest } from '../../transport/weChatApiRequest';

/** The kinds of temporary media (临时素材) a message can upload. */
export type UploadType = 'image' | 'voice' | 'video' | 'thumb';

/**
 * A media reference that has passed every local check but may still need uploading. Checking and uploading are two
 * steps so that a message with two files (a video and its thumbnail) uploads nothing when either file is wrong.
 */
export type PreparedMedia =
	| { source: 'mediaId'; mediaId: string }
	| { source: 'binary'; file: MediaFile; type: UploadType };

export interface MediaParameters {
	/** Parameter choosing `mediaId` or `binary`. */
	source: string;
	/** Parameter holding a typed media_id. */
	mediaId: string;
	/** Parameter naming the input binary property. */
	binaryProperty: string;
	/** What the user calls the id field, for messages. */
	mediaIdLabel: string;
}

export const MAIN_MEDIA: MediaParameters = {
	source: 'mediaSource',
	mediaId: 'mediaId',
	binaryProperty: 'binaryPropertyName',
	mediaIdLabel: 'Media ID',
};

export const THUMB_MEDIA: MediaParameters = {
	source: 'thumbSource',
	mediaId: 'thumbMediaId',
	binaryProperty: 'thumbBinaryPropertyName',
	mediaIdLabel: 'Thumbnail Media ID',
};

/** Whether the item's file is uploaded for this media (rather than a typed media_id used). */
export function isFromBinary(context: IExecuteSingleFunctions, parameters: MediaParameters): boolean {
	return context.getNodeParameter(parameters.source, 'mediaId') === 'binary';
}

/** A typed media_id, required. */
export function typedMediaId(context: IExecuteSingleFunctions, parameterName: string, label: string, type: UploadType) {
	const what = type === 'thumb' ? 'a thumbnail (缩略图, a JPG of at most 64 KB)' : `a ${type} file`;
	return requireText(
		context,
		context.getNodeParameter(parameterName, ''),
		label,
		`Enter the media_id WeChat returned when ${what} was uploaded (临时素材 media_id, valid for 3 days, or a permanent material 永久素材), or switch the source to "Binary Data" to upload the item's file in this step.`,
	);
}

export async function prepareMedia(
	context: IExecuteSingleFunctions,
	parameters: MediaParameters,
	type: UploadType,
): Promise<PreparedMedia> {
	if (!isFromBinary(context, parameters)) {
		return { source: 'mediaId', mediaId: typedMediaId(context, parameters.mediaId, parameters.mediaIdLabel, type) };
	}
	const propertyName = String(context.getNodeParameter(parameters.binaryProperty, ''));
	return { source: 'binary', file: await readMediaFile(context, propertyName, type), type };
}

/** The media_id to send: the typed one, or the one WeChat returns for the uploaded file. */
export async function mediaIdOf(context: IExecuteSingleFunctions, media: PreparedMedia): Promise<string> {
	if (media.source === 'mediaId') return media.mediaId;
	return await uploadTemporaryMedia(context, media.file, media.type);
}

/** `POST /cgi-bin/media/upload?type=…` with the file in the multipart field `media`; answers the new media_id. */
export async function uploadTemporaryMedia(
	context: IExecuteSingleFunctions,
	file: MediaFile,
	type: UploadType,
): Promise<string> {
	const itemIndex = context.getItemIndex();
	const answer = await weChatApiRequest.call(
		context,
		{ method: 'POST', url: '/cgi-bin/media/upload', qs: { type }, body: mediaFormData(file) },
		itemIndex,
	);
	// Thumb uploads are documented to answer thumb_media_id; some answers carry media_id as well or instead.
	const mediaId = type === 'thumb' ? (answer.thumb_media_id ?? answer.media_id) : answer.media_id;
	if (typeof mediaId !== 'string' || !mediaId) {
		throw new NodeOperationError(context.getNode(), `WeChat accepted the ${type} upload but returned no media_id`, {
			itemIndex,
			description:
				'Check that the credential\'s API base URL points at WeChat (or a proxy that passes its answers through unchanged).',
		});
	}
	return mediaId;
}
