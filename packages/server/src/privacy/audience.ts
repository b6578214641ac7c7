import type { Audience } from '../storage/ports.ts';
import type { Stores } from '../storage/ports.ts';

/** How a viewer stands to a person. "Contacts" are the people one has a direct chat with. */
export type Relation = 'self' | 'contact' | 'stranger';

export async function relationOf(
  stores: Pick<Stores, 'groups'>,
  viewer: string,
  target: string,
): Promise<Relation> {
  if (viewer === target) return 'self';
  const direct = await stores.groups.byDirectKey([viewer, target].sort().join(':'));
  return direct && direct.memberCount === 2 ? 'contact' : 'stranger';
}

export function allows(audience: Audience, relation: Relation): boolean {
  if (relation === 'self') return true;
  if (audience === 'everybody') return true;
  return audience === 'contacts' && relation === 'contact';
}
