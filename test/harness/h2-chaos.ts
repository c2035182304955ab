// A misbehaving HTTP/2 server for load tests: an H2Peer (h2-peers.ts) that, as each request stream
// arrives, draws from a seeded PRNG whether to drop the TCP connection, send GOAWAY, reset the
// stream (REFUSED_STREAM or INTERNAL_ERROR), answer 503, or cut its response in the middle; every
// connection can also end gracefully after `closeAfter` streams. The draws follow the order in
// which streams arrive, so one seed gives the same sequence of actions (which requests they hit
// depends on timing); tests print the seed and the tally of actions in their diagnostics.
//
// The server counts what a proxy in front of it cannot hide from its clients: responses it cut
// after they started (`cut`), and responses under way on a connection it crashed (`atRisk`).
// Everything else it does leaves the request unanswered with no response byte sent, which a proxy
// with layer-7 retries (`retry-on all-retryable-errors`) can send again.
import * as http2 from 'node:http2';
import type * as net from 'node:net';
import { H2Peer, respondThenReset, type H2PeerStream } from './h2-peers.js';
import { bodyPattern } from './origin.js';

const { NGHTTP2_REFUSED_STREAM, NGHTTP2_INTERNAL_ERROR, NGHTTP2_NO_ERROR } = http2.constants;

/**
 * What the server does with one stream:
 * - answer: as the query says (h2-peers.ts), after a random delay;
 * - destroy: the connection dies between two responses: no new answer starts on it, the answers
 *   under way finish, then the socket is destroyed (no GOAWAY, no RST_STREAM): every stream left
 *   on it ends with no response byte;
 * - crash: the socket is destroyed at once, answers under way included (they count in `atRisk`);
 * - goaway: GOAWAY(NO_ERROR) naming the stream before this one as the last processed: this one
 *   and every later one are refused, the earlier ones finish, then the connection closes;
 * - refuse / internal: RST_STREAM(REFUSED_STREAM / INTERNAL_ERROR) before any response;
 * - status503: a 503 with an empty body;
 * - cut: the response head and half the body, then RST_STREAM(INTERNAL_ERROR).
 */
export type ChaosAction = 'answer' | 'destroy' | 'crash' | 'goaway' | 'refuse' | 'internal' | 'status503' | 'cut';

/** The probability of each action per stream; the rest is 'answer'. */
export type ChaosRates = Partial<Record<Exclude<ChaosAction, 'answer'>, number>>;

export interface ChaosOptions extends ChaosRates {
  /** PRNG seed. */
  seed: number;
  /** Each connection closes gracefully (GOAWAY, open streams finish) after this many streams; 0 = never. */
  closeAfter?: number;
  /** Answers wait a random 0..maxDelayMs (so that several streams are in flight on a connection). */
  maxDelayMs?: number;
  /**
   * Chooses the action for a stream instead of the PRNG (null: the draw decides): for tests that
   * need a given failure on a given request.
   */
  plan?(ps: H2PeerStream, peer: ChaosPeer): ChaosAction | null;
  /** SETTINGS of the server. */
  settings?: http2.Settings;
  port?: number;
}

/** mulberry32: small, seedable, good enough to spread failures. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const DRAWN: Array<Exclude<ChaosAction, 'answer'>> = ['destroy', 'crash', 'goaway', 'refuse', 'internal', 'status503', 'cut'];

/** A stream whose answer has started (its head may be on the wire) and has not closed yet. */
type Answering = Set<http2.ServerHttp2Stream>;

/** The chaos server. */
export class ChaosPeer extends H2Peer {
  readonly tally: Record<ChaosAction, number> = {
    answer: 0,
    destroy: 0,
    crash: 0,
    goaway: 0,
    refuse: 0,
    internal: 0,
    status503: 0,
    cut: 0,
  };
  /** Responses cut on purpose. */
  cut = 0;
  /** Answers under way on a connection when it crashed: each may have reached the proxy in part. */
  atRisk = 0;
  /** Streams refused because they came after our GOAWAY. */
  refusedAfterGoaway = 0;
  /** Connections closed after `closeAfter` streams. */
  closedAfterN = 0;
  private readonly perSession = new Map<number, number>();
  /** Connections that sent GOAWAY (every later stream is refused) or are about to be destroyed. */
  private readonly goingAway = new Set<number>();
  private readonly dying = new Set<number>();
  private readonly answering = new Map<number, Answering>();
  private readonly rnd: () => number;
  private readonly rawSockets = new Map<number, net.Socket>();

  constructor(readonly chaos: ChaosOptions) {
    super({
      onStream: (ps) => this.onChaosStream(ps),
      ...(chaos.settings ? { settings: chaos.settings } : {}),
      ...(chaos.port !== undefined ? { port: chaos.port } : {}),
    });
    this.rnd = prng(chaos.seed);
    // session.socket is a proxy that refuses destroy(); the accepted socket (by client port) is not.
    this.server.on('connection', (sock: net.Socket) => {
      // As real servers do: without it a delayed answer's DATA waits for the ACK of its HEADERS.
      sock.setNoDelay(true);
      const port = sock.remotePort ?? -1;
      this.rawSockets.set(port, sock);
      sock.once('close', () => {
        if (this.rawSockets.get(port) === sock) this.rawSockets.delete(port);
      });
    });
    this.on('sessionClose', (id: number) => {
      this.perSession.delete(id);
      this.goingAway.delete(id);
      this.dying.delete(id);
      this.answering.delete(id);
    });
  }

  /** The draw for one stream, by the configured rates. */
  private draw(): ChaosAction {
    const r = this.rnd();
    let acc = 0;
    for (const a of DRAWN) {
      acc += this.chaos[a] ?? 0;
      if (r < acc) return a;
    }
    return 'answer';
  }

  private onChaosStream(ps: H2PeerStream): boolean {
    const { stream: st, session: id } = ps;
    const sess = st.session;
    if (this.dying.has(id)) return true; // never answered: lost with the connection
    if (this.goingAway.has(id)) {
      this.refusedAfterGoaway++;
      st.close(NGHTTP2_REFUSED_STREAM);
      return true;
    }
    const n = (this.perSession.get(id) ?? 0) + 1;
    this.perSession.set(id, n);
    // Always drawn, so that `plan` does not shift the sequence for the other streams.
    const drawn = this.draw();
    const action = this.chaos.plan?.(ps, this) ?? drawn;
    this.tally[action]++;
    switch (action) {
      case 'destroy':
        this.dying.add(id);
        this.destroyWhen(id, () => (this.answering.get(id)?.size ?? 0) === 0);
        return true;
      case 'crash':
        this.killNow(id);
        return true;
      case 'goaway':
        this.goingAway.add(id);
        // Last stream 0 would make node substitute the last stream it processed: this one.
        sess?.goaway(NGHTTP2_NO_ERROR, Math.max(1, (st.id ?? 1) - 2));
        st.close(NGHTTP2_REFUSED_STREAM);
        // Not session.close(): its own GOAWAY would carry a higher last stream id, a protocol
        // error for the peer. The streams before this one finish, then the connection closes.
        this.destroyWhen(id, () => (this.openStreams.get(id) ?? 0) === 0);
        return true;
      case 'refuse':
        st.close(NGHTTP2_REFUSED_STREAM);
        return true;
      case 'internal':
        st.close(NGHTTP2_INTERNAL_ERROR);
        return true;
      case 'cut':
        void ps.body.then(() => {
          if (st.destroyed || st.closed) return;
          const size = Math.max(2, Number(ps.query.get('size') ?? 0));
          try {
            this.cut++;
            respondThenReset(st, { ':status': 200 }, bodyPattern(size).subarray(0, size >> 1), NGHTTP2_INTERNAL_ERROR);
          } catch {
            // The connection went away meanwhile.
          }
        });
        return true;
      case 'status503':
      case 'answer':
        this.answerLater(ps, action === 'status503');
        if (this.chaos.closeAfter && n >= this.chaos.closeAfter && sess && !sess.closed) {
          this.closedAfterN++;
          // Graceful: GOAWAY naming the last stream processed; the streams under way finish first.
          sess.close();
        }
        return true;
    }
  }

  private answerLater(ps: H2PeerStream, unavailable: boolean): void {
    const { stream: st, session: id } = ps;
    const go = (): void => {
      if (st.destroyed || st.closed || this.dying.has(id)) return;
      let set = this.answering.get(id);
      if (set === undefined) this.answering.set(id, (set = new Set()));
      const mine = set;
      mine.add(st);
      st.once('close', () => mine.delete(st));
      if (!unavailable) {
        ps.answer();
        return;
      }
      void ps.body.then(() => {
        try {
          if (!st.destroyed && !st.closed) st.respond({ ':status': 503, 'content-length': 0 }, { endStream: true });
        } catch {
          // gone meanwhile
        }
      });
    };
    const max = this.chaos.maxDelayMs ?? 0;
    if (max <= 0) go();
    else setTimeout(go, Math.floor(this.rnd() * (max + 1)));
  }

  /** Destroys the socket of connection `id` now, without a frame. */
  private killNow(id: number): void {
    // Only answers whose head was sent may have reached the proxy in part.
    for (const a of this.answering.get(id) ?? []) if (a.headersSent) this.atRisk++;
    this.answering.delete(id);
    const sess = this.sessions.get(id);
    // session.destroy() alone would send GOAWAY first.
    this.rawSockets.get(sess?.socket?.remotePort ?? -1)?.destroy();
    sess?.destroy();
  }

  /**
   * Destroys connection `id` once `ready()` holds, re-checked as its streams close; after 2 s it is
   * destroyed anyway (a proxy that stopped reading), the answers still under way counted at risk.
   */
  private destroyWhen(id: number, ready: () => boolean): void {
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      this.off('request', later);
      clearTimeout(timer);
      // The frames of the answers just finished leave before the socket goes.
      setTimeout(() => this.killNow(id), 20);
    };
    const check = (): void => {
      if (done) return;
      if (!this.sessions.has(id)) {
        done = true;
        this.off('request', later);
        clearTimeout(timer);
      } else if (ready()) finish();
    };
    const timer = setTimeout(finish, 2000);
    // 'request' comes from the stream's first 'close' listener, before ours that updates
    // `answering`: check once every listener has run.
    const later = (): void => queueMicrotask(check);
    this.on('request', later);
    queueMicrotask(check);
  }

  /** One line for diagnostics. */
  describe(): string {
    const t = Object.entries(this.tally)
      .filter(([, v]) => v > 0)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ');
    return (
      `chaos server :${this.port} seed=${this.chaos.seed}: connections=${this.sessionsTotal} ${t} ` +
      `refusedAfterGoaway=${this.refusedAfterGoaway} closedAfterN=${this.closedAfterN} atRisk=${this.atRisk}`
    );
  }
}

/** Starts a chaos server on 127.0.0.1. */
export function startChaosPeer(opts: ChaosOptions): Promise<ChaosPeer> {
  return new ChaosPeer(opts).listen();
}
