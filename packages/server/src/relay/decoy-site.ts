/**
 * The face a relay shows to everyone who does not know its secret path: a stock nginx default site.
 * Every answer is rendered here, from the method and path alone, so that a relay and a plain decoy
 * server give byte-identical answers to a prober (same status lines, headers in the same order,
 * same bodies, the same close after garbage).
 */
export interface DecoyAnswer {
  status: number;
  reason: string;
  headers: [string, string][];
  body: string;
  /** Close the connection after answering (as nginx does after a malformed request). */
  close: boolean;
}

const WELCOME = `<!DOCTYPE html>
<html>
<head>
<title>Welcome to nginx!</title>
<style>
html { color-scheme: light dark; }
body { width: 35em; margin: 0 auto;
font-family: Tahoma, Verdana, Arial, sans-serif; }
</style>
</head>
<body>
<h1>Welcome to nginx!</h1>
<p>If you see this page, the nginx web server is successfully installed and
working. Further configuration is required.</p>

<p>For online documentation and support please refer to
<a href="http://nginx.org/">nginx.org</a>.<br/>
Commercial support is available at
<a href="http://nginx.com/">nginx.com</a>.</p>

<p><em>Thank you for using nginx.</em></p>
</body>
</html>
`;

const errorPage = (status: number, reason: string) =>
  `<html>\r\n<head><title>${status} ${reason}</title></head>\r\n<body>\r\n<center><h1>${status} ${reason}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n`;

const WELCOME_MODIFIED = 'Tue, 15 Apr 2025 12:06:14 GMT';
const WELCOME_ETAG = '"67fe4b96-267"';

/** nginx's date format (RFC 7231 IMF-fixdate). */
export function httpDate(ms: number): string {
  return new Date(ms).toUTCString();
}

function page(
  status: number,
  reason: string,
  body: string,
  now: number,
  close: boolean,
  extra: [string, string][] = [],
): DecoyAnswer {
  return {
    status,
    reason,
    body,
    close,
    headers: [
      ['Server', 'nginx'],
      ['Date', httpDate(now)],
      ['Content-Type', 'text/html'],
      ['Content-Length', String(Buffer.byteLength(body))],
      ...extra,
      ['Connection', close ? 'close' : 'keep-alive'],
    ],
  };
}

/** The answer to a well-formed request. */
export function decoyAnswer(method: string, path: string, now: number): DecoyAnswer {
  const bare = path.split('?')[0] ?? '';
  if (bare === '/' || bare === '/index.html') {
    if (method === 'GET' || method === 'HEAD')
      return page(200, 'OK', WELCOME, now, false, [
        ['Last-Modified', WELCOME_MODIFIED],
        ['ETag', WELCOME_ETAG],
        ['Accept-Ranges', 'bytes'],
      ]);
    return page(405, 'Not Allowed', errorPage(405, 'Not Allowed'), now, false);
  }
  return page(404, 'Not Found', errorPage(404, 'Not Found'), now, false);
}

/** The answer to bytes that are not HTTP (or headers too large): 400, then the connection closes. */
export function decoyGarbageAnswer(now: number): DecoyAnswer {
  return page(400, 'Bad Request', errorPage(400, 'Bad Request'), now, true);
}

/** The answer when the secret path is right but the core cannot be reached. */
export function decoyBadGateway(now: number): DecoyAnswer {
  return page(502, 'Bad Gateway', errorPage(502, 'Bad Gateway'), now, true);
}

/** The raw bytes of an answer; a HEAD request gets the headers only. */
export function renderDecoy(answer: DecoyAnswer, method = 'GET'): Buffer {
  const head = `HTTP/1.1 ${answer.status} ${answer.reason}\r\n${answer.headers.map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;
  return Buffer.from(method === 'HEAD' ? head : head + answer.body);
}
