export { H1Parser, H1State, H1ErrorKind, findHeadEnd, type H1ParserEvents, type H1Limits } from './parser.js';
export { serializeRequestHead, serializeResponseHead, responseHeadLength, reasonPhrase, chunkHeader, chunkEnd, lastChunk, type H1Hop } from './serializer.js';
export { parseLocalResponse } from './local.js';
