/** The core's HTTP path serving the signed endpoint list (relays serve it at `<secret path>/endpoints`). */
export const ENDPOINTS_PATH = '/v1/endpoints';
/** The core's WebSocket path whose bytes are a TLS session to the core (the blind relay mode). */
export const TUNNEL_PATH = '/v1/tunnel';
