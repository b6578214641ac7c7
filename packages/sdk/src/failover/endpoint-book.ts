import {
  CourierError,
  type Endpoint,
  type EndpointList,
  parseEndpointLink,
  type SignedDocument,
  verifyEndpointList,
  verifyEndpointTicket,
} from '@courier/protocol';

/** What a client keeps between runs: the signed documents themselves, re-verified on load. */
export interface EndpointBookState {
  list?: SignedDocument;
  relays?: SignedDocument[];
  links?: SignedDocument[];
}

export interface EndpointBookOptions {
  /** The pinned endpoint-list keys (current and next), raw Ed25519 public keys. */
  trustedKeys: readonly Uint8Array[];
  /** The list shipped with the app (the bootstrap pool), used until a newer one arrives. */
  bootstrap?: SignedDocument;
  saved?: EndpointBookState;
  now?: () => number;
  /** Called with the new state whenever it changes, to be stored. */
  onChange?: (state: EndpointBookState) => void;
}

export type OfferResult = { kind: 'accepted'; serial: number } | { kind: 'rejected'; error: CourierError };

/**
 * The client's signed endpoint list. A new list replaces the held one only if it verifies against a
 * pinned key, its serial is not lower and it has not expired; otherwise the last good list stays.
 * Relays from the account's subset and from shared links are kept beside it, each verified alone.
 */
export class EndpointBook {
  private list: { document: SignedDocument; value: EndpointList } | undefined;
  private relays: { document: SignedDocument; endpoint: Endpoint; expiresAt: number }[] = [];
  private links: { document: SignedDocument; endpoint: Endpoint; expiresAt: number }[] = [];
  private readonly now: () => number;

  constructor(private readonly options: EndpointBookOptions) {
    this.now = options.now ?? Date.now;
    for (const document of [options.bootstrap, options.saved?.list])
      if (document) this.offerList(document, false);
    this.setRelays(options.saved?.relays ?? [], false);
    for (const document of options.saved?.links ?? []) this.tryAddLink(document, false);
  }

  get serial(): number | undefined {
    return this.list?.value.serial;
  }

  /** The core key pins of the held list (for relay-tunnelled TLS). */
  get corePins(): string[] {
    return this.list?.value.corePins ?? [];
  }

  /** Every usable endpoint: the list's, then the account's relays, then shared ones; no id twice. */
  endpoints(): Endpoint[] {
    const now = this.now();
    const seen = new Set<string>();
    const out: Endpoint[] = [];
    const extra = [...this.relays, ...this.links]
      .filter((r) => now <= r.expiresAt + 86_400_000)
      .map((r) => r.endpoint);
    for (const endpoint of [...(this.list?.value.endpoints ?? []), ...extra]) {
      if (seen.has(endpoint.id)) continue;
      seen.add(endpoint.id);
      out.push(endpoint);
    }
    return out;
  }

  /** Offers a signed list; keeps the held one unless the new one passes every check. */
  offerList(document: unknown, notify = true): OfferResult {
    try {
      const value = verifyEndpointList(document, {
        trustedKeys: this.options.trustedKeys,
        now: this.now(),
        ...(this.list ? { heldSerial: this.list.value.serial } : {}),
      });
      this.list = { document: document as SignedDocument, value };
      if (notify) this.changed();
      return { kind: 'accepted', serial: value.serial };
    } catch (error) {
      if (!(error instanceof CourierError)) throw error;
      return { kind: 'rejected', error };
    }
  }

  /** Replaces the account's relay subset with the verified ones among `documents`. */
  setRelays(documents: readonly unknown[], notify = true): number {
    const verified = [];
    for (const document of documents) {
      try {
        const ticket = verifyEndpointTicket(document, {
          trustedKeys: this.options.trustedKeys,
          now: this.now(),
        });
        verified.push({
          document: document as SignedDocument,
          endpoint: ticket.endpoint,
          expiresAt: ticket.expiresAt,
        });
      } catch (error) {
        if (!(error instanceof CourierError)) throw error;
      }
    }
    this.relays = verified;
    if (notify) this.changed();
    return verified.length;
  }

  /** Adds a relay someone shared as a `courier://endpoint?t=…` link; throws ENDPOINTS_* if it is not good. */
  addLink(link: string): Endpoint {
    const document = parseEndpointLink(link);
    const ticket = verifyEndpointTicket(document, { trustedKeys: this.options.trustedKeys, now: this.now() });
    this.links = [
      ...this.links.filter((l) => l.endpoint.id !== ticket.endpoint.id),
      { document, endpoint: ticket.endpoint, expiresAt: ticket.expiresAt },
    ];
    this.changed();
    return ticket.endpoint;
  }

  state(): EndpointBookState {
    return {
      ...(this.list ? { list: this.list.document } : {}),
      relays: this.relays.map((r) => r.document),
      links: this.links.map((l) => l.document),
    };
  }

  private tryAddLink(document: SignedDocument, notify: boolean): void {
    try {
      const ticket = verifyEndpointTicket(document, {
        trustedKeys: this.options.trustedKeys,
        now: this.now(),
      });
      this.links.push({ document, endpoint: ticket.endpoint, expiresAt: ticket.expiresAt });
      if (notify) this.changed();
    } catch (error) {
      if (!(error instanceof CourierError)) throw error;
    }
  }

  private changed(): void {
    this.options.onChange?.(this.state());
  }
}
