import type { SmsSender } from '../ports.ts';

export interface HttpSmsOptions {
  url: string;
  credential: string;
  sender: string;
  timeoutMs: number;
}

/** A real SMS gateway over HTTP: POST {from, to, text} as JSON with a bearer credential. */
export class HttpSmsSender implements SmsSender {
  constructor(private readonly options: HttpSmsOptions) {}

  async send(to: string, text: string): Promise<void> {
    const response = await fetch(this.options.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${this.options.credential}` },
      body: JSON.stringify({ from: this.options.sender, to, text }),
      signal: AbortSignal.timeout(this.options.timeoutMs),
    });
    if (!response.ok) throw new Error(`SMS gateway answered ${response.status}`);
  }
}
