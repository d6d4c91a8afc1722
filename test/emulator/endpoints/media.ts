/**
 * media/upload (temporary media) and media/get.
 *
 * Like the avatar upload, WeChat judges the file type by the filename's extension: image jpg/jpeg/png/gif, voice
 * amr/mp3, video mp4, thumb jpg/jpeg → else 40005. Sizes: image 10 MB (docs/wechat-protocol.md §7), voice 2 MB, video 10 MB,
 * thumb 64 KB → else 40006. Missing `type` or an unknown one → 40004; no `media` file part → 41005; empty → 44001.
 */
import type { MediaType } from '../state';
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
		handle(request, { state }) {
			const item = state.findUsableMedia(request.query.media_id ?? '');
			if (!item) return wechatError(40007);
			return {
				binary: item.data ?? Buffer.alloc(0),
				contentType: item.contentType || 'application/octet-stream',
				headers: { 'content-disposition': `attachment; filename="${item.filename}"` },
			};
		},
	},
];
