import type { Audience } from '../storage/ports.ts';
import type { Stores } from '../storage/ports.ts';

/**
 * How a viewer stands to a person. A "contact" is two-sided: the two share a direct chat that both
 * accepted (the opener by opening it, the other by accepting the message request), and neither
 * blocked the other. Someone the person blocked is a stranger to them, exactly like anyone else
 * (what they see must not tell them they are blocked).
 */
export type Relation = 'self' | 'contact' | 'stranger';

export async function relationOf(
  stores: Pick<Stores, 'groups' | 'blocks'>,
  viewer: string,
  target: string,
): Promise<Relation> {
  if (viewer === target) return 'self';
  return (await isContact(stores, viewer, target)) ? 'contact' : 'stranger';
}

/** Are the two accounts contacts (see Relation)? */
export async function isContact(
  stores: Pick<Stores, 'groups' | 'blocks'>,
  a: string,
  b: string,
): Promise<boolean> {
  const direct = await stores.groups.byDirectKey([a, b].sort().join(':'));
  if (direct?.memberCount !== 2) return false;
  const members = await stores.groups.members(direct.id);
  if (members.length !== 2 || members.some((m) => m.consent !== 'accepted')) return false;
  return !(await stores.blocks.isBlocked(a, b)) && !(await stores.blocks.isBlocked(b, a));
}

export function allows(audience: Audience, relation: Relation): boolean {
  if (relation === 'self') return true;
  if (audience === 'everybody') return true;
  return audience === 'contacts' && relation === 'contact';
}
