/** The HTTP kit (layer 1: imports only core/): one path for every call to a remote service. */
export { DEFAULT_MAX_BODY_BYTES, errorBodyOf, errorDetail, readBodyLimited, readErrorBody, readJson, type ErrorBody } from "./body.js";
export { CHAT_BASE_ENV, CHAT_DEFAULT_BASE, CHAT_KEY_ENV, ChatClient, jsonInContent, jsonRefusal, resolveChatServer, type ChatReply, type ChatServer } from "./chat.js";
export { ProviderError } from "./errors.js";
export { checkContext, DEFAULT_RETRY, fetchWithRetry, httpContext, retryAfterFromHeaders, retryAfterMs, sleep, type HttpContext, type HttpOverrides, type RetryPolicy } from "./fetch.js";
export { checkKeyDestination, redact, requireEnv, type KeyScope } from "./keys.js";
export { isSafetyBlock, readApiError, refusalOrThrow, type ApiError } from "./openai-compat.js";
export { baseLabel, cleanBase, isLocalHost, joinUrl, parseBaseUrl } from "./url.js";
