import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// n8n-core's instance settings read (and on first use write) ~/.n8n/config. Tests get a throw-away folder and a fixed
// key instead, so they neither touch the user's n8n nor depend on it. Imported before n8n-core.
process.env.N8N_USER_FOLDER ??= mkdtempSync(join(tmpdir(), 'wechat-kf-engine-'));
process.env.N8N_ENCRYPTION_KEY ??= 'engine-harness-fixed-encryption-key';
process.env.N8N_LOG_LEVEL ??= 'silent';
