import type { Io } from './output.ts';
import type { Profile } from './profile.ts';

/** What every command gets: the profile (device) it acts for, where to print, and the output mode. */
export interface CommandContext {
  profile: Profile;
  io: Io;
  json: boolean;
  /** Reads one line from the person (the terminal, or piped standard input). */
  ask: (question: string) => Promise<string>;
}
