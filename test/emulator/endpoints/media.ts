/**
 * media/upload (temporary media), media/get, and the video download link media/get hands out.
 *
 * Like the avatar upload, WeChat judges the file type by the filename's extension: image jpg/jpeg/png/gif, voice
 * amr/mp3, video mp4, thumb jpg/jpeg → else 40005. Sizes: image 10 MB (docs/wechat-protocol.md §7), voice 2 MB, video 10 MB,
 * thumb 64 KB → else 40006. Missing `type` or an unknown one → 40004; no `media` file part → 41005; empty → 44001.
 */
import { randomBytes } from 'node:crypto';

import type { MediaItem, MediaType } from '../state';
import { wechatError } from '../wechatErrors';
import type { Endpoint } from './types';

const MB = 1024 * 1024;

export const MEDIA_RULES: Record<MediaType, { maxBytes: number; extensions: RegExp }> = {
	image: { maxBytes: 10 * MB, extensions: /\.(jpe?g|png|gif)$/i },
	voice: { maxBytes: 2 * MB, extensions: /\.(amr|mp3)$/i },
	video: { maxBytes: 10 * MB, extensions: /\.mp4$/i },
	thumb: { maxBytes: 64 * 1024, extensions: /\.jpe?g$/i },
};

function isMediaType(value: string | undefined): value is MediaType {
	return value !== undefined && Object.prototype.hasOwnProperty.call(MEDIA_RULES, value);
}

export const mediaEndpoints: Endpoint[] = [
	{
		path: '/cgi-bin/media/upload',
		methods: ['POST'],
		guard: 'basic',
		body: 'multipart',
		handle(request, { state }) {
			const type = request.query.type;
			if (!isMediaType(type)) return wechatError(40004);
			const file = request.multipart?.files.find((f) => f.field === 'media');
			if (!file) return wechatError(41005);
			const rules = MEDIA_RULES[type];
			if (!rules.extensions.test(file.filename)) return wechatError(40005);
			if (file.size === 0) return wechatError(44001);
			if (file.size > rules.maxBytes) return wechatError(40006);
			const item = state.addMedia({ type, data: file.data, filename: file.filename, contentType: file.contentType });
			const answer: Record<string, unknown> = { type, media_id: item.media_id, created_at: item.created_at };
			// Some SDKs read thumb_media_id for thumbs (WeChat's own answer for thumb uses that name).
			if (type === 'thumb') answer.thumb_media_id = item.media_id;
			return answer;
		},
	},
	{
		path: '/cgi-bin/media/get',
		methods: ['GET'],
		guard: 'basic',
		body: 'none',
		handle(request, { state, baseUrl }) {
			const item = state.findUsableMedia(request.query.media_id ?? '');
			if (!item) return wechatError(40007);
			// Video is not served here: WeChat answers a JSON with a download link on its video CDN.
			if (item.type === 'video') {
				const vkey = randomBytes(24).toString('hex');
				state.videoLinks.set(vkey, { mediaId: item.media_id, expiresAt: state.nowSeconds() + VIDEO_LINK_SECONDS });
				return { video_url: `${baseUrl}${VIDEO_CDN_PATH}?vkey=${vkey}` };
			}
			return mediaFile(item);
		},
	},
];

/** The emulator's stand-in for WeChat's video CDN (vweixinp.tc.qq.com): no access_token, a signed `vkey` instead. */
export const VIDEO_CDN_PATH = '/video-cdn/download.mp4';

/** How long a video link works. WeChat does not document it; links are short-lived. */
export const VIDEO_LINK_SECONDS = 600;

/** The file as WeChat serves it: the stored bytes, named MEDIA_ID.ext (WeChat's documented header). */
function mediaFile(item: MediaItem): { binary: Buffer; contentType: string; headers: Record<string, string> } {
	const extension = /\.([A-Za-z0-9]+)$/.exec(item.filename)?.[1]?.toLowerCase() ?? DEFAULT_EXTENSION[item.type];
	const binary = item.data ?? Buffer.alloc(0);
	return {
		binary,
		contentType: item.contentType || 'application/octet-stream',
		headers: {
			'content-length': String(binary.length),
			'content-disposition': `attachment; filename="${item.media_id}.${extension}"`,
			'cache-control': 'no-cache, must-revalidate',
		},
	};
}

const DEFAULT_EXTENSION: Record<MediaType, string> = { image: 'jpg', voice: 'amr', video: 'mp4', thumb: 'jpg' };

/**
 * A GET of a video link: the file for a known, unexpired `vkey`, else 404 as a CDN answers (no WeChat errcode).
 * Undefined means "not found".
 */
export function videoDownload(
	query: Record<string, string>,
	state: { videoLinks: Map<string, { mediaId: string; expiresAt: number }>; media: Map<string, MediaItem>; nowSeconds(): number },
): ReturnType<typeof mediaFile> | undefined {
	const link = state.videoLinks.get(query.vkey ?? '');
	if (!link || link.expiresAt <= state.nowSeconds()) return undefined;
	const item = state.media.get(link.mediaId);
	if (!item) return undefined;
	const file = mediaFile(item);
	return { ...file, contentType: item.contentType || 'video/mp4' };
}
