import { errorClassIndex, NO_ERROR_CLASS } from '../src/contract';

/**
 * The cause classes of failed requests (SPEC 7) as the senders pass them:
 * an index into ERROR_CLASSES, so recording one is an array increment.
 */
export const CAUSE = {
  none: NO_ERROR_CLASS,
  refused: errorClassIndex('connection refused'),
  reset: errorClassIndex('connection reset'),
  timeout: errorClassIndex('timeout'),
  dns: errorClassIndex('DNS'),
  tls: errorClassIndex('TLS'),
  cut: errorClassIndex('response cut'),
  protocol: errorClassIndex('protocol'),
  incompleteStream: errorClassIndex('incomplete stream'),
  tooLarge: errorClassIndex('response too large'),
  httpStatus: errorClassIndex('http status'),
  other: errorClassIndex('other'),
} as const;

/** OpenSSL's certificate verdicts (Node gives them as the error's code). */
const CERTIFICATE_CODES = /^(CERT_|UNABLE_TO_|DEPTH_ZERO_SELF_SIGNED_CERT$|SELF_SIGNED_CERT_IN_CHAIN$|HOSTNAME_MISMATCH$|INVALID_CA$|ERR_TLS_|ERR_SSL_)/;

/**
 * The class of a failure from the error's code, as Node's sockets and undici
 * give it. `answered`: part of the answer had arrived, so a connection that
 * ends now cut the response rather than refused it.
 */
export function causeOfErrorCode(code: string | undefined, answered: boolean): number {
  switch (code) {
    case 'ECONNREFUSED':
      return CAUSE.refused;
    case 'ECONNRESET':
    case 'EPIPE':
    case 'ECONNABORTED':
      return answered ? CAUSE.cut : CAUSE.reset;
    case 'ETIMEDOUT':
    case 'UND_ERR_CONNECT_TIMEOUT':
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
      return CAUSE.timeout;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_FAIL':
    case 'EAI_NONAME':
      return CAUSE.dns;
    case 'EPROTO':
      return CAUSE.tls;
    case 'UND_ERR_SOCKET':
    case 'UND_ERR_CLOSED':
      // the service closed the connection: before any answer it is a reset, during one a cut
      return answered ? CAUSE.cut : CAUSE.reset;
    case 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH':
      return CAUSE.cut;
    case 'UND_ERR_INFO':
      return CAUSE.protocol;
    default:
      if (code === undefined) return CAUSE.other;
      if (code.startsWith('HPE_')) return CAUSE.protocol; // llhttp: an answer that does not parse
      if (CERTIFICATE_CODES.test(code)) return CAUSE.tls;
      return CAUSE.other;
  }
}

/** The class of an error an HTTP client threw: undici's parse errors carry no code, only their name. */
export function causeOfError(err: Error & { code?: string }, answered: boolean): number {
  if (err.name === 'HTTPParserError') return CAUSE.protocol;
  return causeOfErrorCode(err.code, answered);
}
