// HTTP/2 <-> htx mapping; the framing is node:http2's (nghttp2), used by the muxes.
export * from './mapping.js';
