import { type ClientState, encode, nodeTypes, ratchetTreeEncoder } from 'ts-mls';
import { parseDeviceIdentity } from './device-identity.ts';

/**
 * One device's view of one MLS group at one epoch. Immutable: every operation returns a new MlsGroup
 * (and the secrets the old one used that should now be erased). Persist it with `exportGroupState`.
 */
export interface MlsGroup {
  readonly groupId: Uint8Array;
  readonly epoch: bigint;
  readonly ownLeafIndex: number;
  /** False once this device has been removed (it can then neither send nor read new epochs). */
  readonly active: boolean;
  /** @internal the library's state; only this package reads it. */
  readonly state: ClientState;
}

/** A member leaf of the group. */
export interface GroupMember {
  readonly leafIndex: number;
  /** Undefined when the credential is not a `<accountId>:<deviceId>` basic credential. */
  readonly accountId: string | undefined;
  readonly deviceId: string | undefined;
  readonly identity: Uint8Array;
  readonly signaturePublicKey: Uint8Array;
}

/** @internal Wraps library state. */
export function wrapGroup(state: ClientState): MlsGroup {
  return {
    groupId: state.groupContext.groupId,
    epoch: state.groupContext.epoch,
    ownLeafIndex: state.privatePath.leafIndex,
    active: state.groupActiveState.kind === 'active',
    state,
  };
}

/** The member at a leaf, or undefined for a blank leaf or an index outside the tree. */
export function groupMemberAt(group: MlsGroup, leafIndex: number): GroupMember | undefined {
  const node = group.state.ratchetTree[leafIndex * 2];
  if (node === undefined || node.nodeType !== nodeTypes.leaf) return undefined;
  const credential = node.leaf.credential;
  const identity = 'identity' in credential ? credential.identity : new Uint8Array();
  const parsed = parseDeviceIdentity(identity);
  return {
    leafIndex,
    accountId: parsed?.accountId,
    deviceId: parsed?.deviceId,
    identity,
    signaturePublicKey: node.leaf.signaturePublicKey,
  };
}

/** Every member leaf in leaf order. */
export function groupMembers(group: MlsGroup): GroupMember[] {
  const members: GroupMember[] = [];
  const leaves = Math.ceil(group.state.ratchetTree.length / 2);
  for (let leaf = 0; leaf < leaves; leaf++) {
    const member = groupMemberAt(group, leaf);
    if (member !== undefined) members.push(member);
  }
  return members;
}

/**
 * The public ratchet tree (RFC 9420 §12.4.3.3 `ratchet_tree` encoding). The delivery service serves it
 * to joiners so that a Welcome need not carry it; it holds public keys only.
 */
export function exportRatchetTree(group: MlsGroup): Uint8Array {
  return encode(ratchetTreeEncoder, group.state.ratchetTree);
}
