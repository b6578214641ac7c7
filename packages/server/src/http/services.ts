import type { AccountService } from '../services/account-service.ts';
import type { AuthService, Principal } from '../services/auth-service.ts';
import type { PolicyBook } from '../privacy/policy-versions.ts';
import type { ConsentService } from '../services/consent-service.ts';
import type { GroupService } from '../services/group-service.ts';
import type { ExportJobs } from '../services/export-jobs.ts';
import type { PrivacyService } from '../services/privacy-service.ts';
import type { Storage } from '../storage/ports.ts';

/** What the HTTP routes may use. */
export interface HttpServices {
  auth: AuthService;
  accounts: AccountService;
  groups: GroupService;
  consent: ConsentService;
  privacy: PrivacyService;
  exports: ExportJobs;
  policies: PolicyBook;
  storage: Storage;
  clientIp: (request: import('node:http').IncomingMessage) => string;
  /** The client's address, and whether it came through a relay (rate limits key on both). */
  clientSource: (request: import('node:http').IncomingMessage) => import('./client-ip.ts').ClientSource;
}

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal;
  }
}
