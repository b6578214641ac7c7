/**
 * Official MLS test vectors, cryptographic building blocks: tree-math, crypto-basics, key-schedule,
 * secret-tree, transcript-hashes — run against ts-mls as installed and patched here.
 */
import { contentTypes, type GroupContext, mlsExporter as publicExporter, protocolVersions } from 'ts-mls';
import { describe, expect, test } from 'vitest';
import {
  authenticatedContentDecoder,
  createConfirmedHash,
  createInterimHash,
  createSecretTree,
  decryptWithLabel,
  deriveSecret,
  deriveTreeSecret,
  encryptWithLabel,
  expandSenderDataKey,
  expandSenderDataNonce,
  expandWithLabel,
  groupContextEncoder,
  initializeEpoch,
  left,
  nodeWidth,
  parent,
  ratchetToGeneration,
  refhash,
  right,
  root,
  sibling,
  signWithLabel,
  toLeafIndex,
  toNodeIndex,
  verifyWithLabel,
} from './ts-mls-internal.ts';
import { fullSuite, HPKE_UNAVAILABLE, hashAndKdf, hex, loadVectors, toHex } from './testing-vectors.ts';
import { defaultKeyRetentionConfig, encode } from 'ts-mls';

const maybe = (id: number) => (HPKE_UNAVAILABLE[id] === undefined ? test : test.skip);

describe('tree-math.json', () => {
  interface TreeMath {
    n_leaves: number;
    n_nodes: number;
    root: number;
    left: (number | null)[];
    right: (number | null)[];
    parent: (number | null)[];
    sibling: (number | null)[];
  }
  const vectors = loadVectors<TreeMath>('tree-math.json');
  test.each(vectors.map((v, i) => [i, v] as const))('vector %i', (_i, v) => {
    expect(nodeWidth(v.n_leaves)).toBe(v.n_nodes);
    expect(root(v.n_leaves)).toBe(v.root);
    const check = (expected: (number | null)[], f: (i: number) => number) => {
      for (const [i, want] of expected.entries()) {
        if (want === null) expect(() => f(i)).toThrow();
        else expect(f(i)).toBe(want);
      }
    };
    check(v.left, (i) => left(toNodeIndex(i)));
    check(v.right, (i) => right(toNodeIndex(i)));
    check(v.parent, (i) => parent(toNodeIndex(i), v.n_leaves));
    check(v.sibling, (i) => sibling(toNodeIndex(i), v.n_leaves));
  });
});

interface CryptoBasics {
  cipher_suite: number;
  ref_hash: { label: string; value: string; out: string };
  expand_with_label: { secret: string; label: string; context: string; length: number; out: string };
  derive_secret: { secret: string; label: string; out: string };
  derive_tree_secret: { secret: string; label: string; generation: number; length: number; out: string };
  sign_with_label: { priv: string; pub: string; content: string; label: string; signature: string };
  encrypt_with_label: {
    priv: string;
    pub: string;
    label: string;
    context: string;
    plaintext: string;
    kem_output: string;
    ciphertext: string;
  };
}

describe('crypto-basics.json', () => {
  const vectors = loadVectors<CryptoBasics>('crypto-basics.json');
  test.each(vectors.map((v) => [v.cipher_suite, v] as const))('suite %i: hash and KDF', async (_id, v) => {
    const { hash, kdf } = hashAndKdf(v.cipher_suite);
    expect(toHex(await refhash(v.ref_hash.label, hex(v.ref_hash.value), hash))).toBe(v.ref_hash.out);
    const e = v.expand_with_label;
    expect(toHex(await expandWithLabel(hex(e.secret), e.label, hex(e.context), e.length, kdf))).toBe(e.out);
    expect(toHex(await deriveSecret(hex(v.derive_secret.secret), v.derive_secret.label, kdf))).toBe(
      v.derive_secret.out,
    );
    const t = v.derive_tree_secret;
    expect(toHex(await deriveTreeSecret(hex(t.secret), t.label, t.generation, t.length, kdf))).toBe(t.out);
  });
  for (const v of vectors) {
    const reason = HPKE_UNAVAILABLE[v.cipher_suite];
    maybe(v.cipher_suite)(
      `suite ${v.cipher_suite}: sign and encrypt with label${reason ? ` (skipped: ${reason})` : ''}`,
      async () => {
        const suite = await fullSuite(v.cipher_suite);
        const s = v.sign_with_label;
        expect(
          await verifyWithLabel(hex(s.pub), s.label, hex(s.content), hex(s.signature), suite.signature),
        ).toBe(true);
        const ours = await signWithLabel(hex(s.priv), s.label, hex(s.content), suite.signature);
        expect(await verifyWithLabel(hex(s.pub), s.label, hex(s.content), ours, suite.signature)).toBe(true);
        const c = v.encrypt_with_label;
        const priv = await suite.hpke.importPrivateKey(hex(c.priv));
        const pub = await suite.hpke.importPublicKey(hex(c.pub));
        const opened = await decryptWithLabel(
          priv,
          c.label,
          hex(c.context),
          hex(c.kem_output),
          hex(c.ciphertext),
          suite.hpke,
        );
        expect(toHex(opened)).toBe(c.plaintext);
        const sealed = await encryptWithLabel(pub, c.label, hex(c.context), hex(c.plaintext), suite.hpke);
        expect(
          toHex(await decryptWithLabel(priv, c.label, hex(c.context), sealed.enc, sealed.ct, suite.hpke)),
        ).toBe(c.plaintext);
      },
    );
  }
});

interface KeyScheduleVector {
  cipher_suite: number;
  group_id: string;
  initial_init_secret: string;
  epochs: {
    commit_secret: string;
    confirmation_key: string;
    confirmed_transcript_hash: string;
    encryption_secret: string;
    epoch_authenticator: string;
    exporter: { context: string; label: string; length: number; secret: string };
    exporter_secret: string;
    external_pub: string;
    external_secret: string;
    group_context: string;
    init_secret: string;
    joiner_secret: string;
    membership_key: string;
    psk_secret: string;
    resumption_psk: string;
    sender_data_secret: string;
    tree_hash: string;
    welcome_secret: string;
  }[];
}

describe('key-schedule.json', () => {
  const vectors = loadVectors<KeyScheduleVector>('key-schedule.json');
  test.each(vectors.map((v) => [v.cipher_suite, v] as const))('suite %i: every epoch', async (id, v) => {
    const suite = hashAndKdf(id);
    let initSecret = hex(v.initial_init_secret);
    for (const [index, epoch] of v.epochs.entries()) {
      const context: GroupContext = {
        version: protocolVersions.mls10,
        cipherSuite: id as GroupContext['cipherSuite'],
        groupId: hex(v.group_id),
        epoch: BigInt(index),
        treeHash: hex(epoch.tree_hash),
        confirmedTranscriptHash: hex(epoch.confirmed_transcript_hash),
        extensions: [],
      };
      expect(toHex(encode(groupContextEncoder, context))).toBe(epoch.group_context);
      const secrets = await initializeEpoch(
        initSecret,
        hex(epoch.commit_secret),
        context,
        hex(epoch.psk_secret),
        suite.kdf,
      );
      const k = secrets.keySchedule;
      expect(toHex(secrets.joinerSecret)).toBe(epoch.joiner_secret);
      expect(toHex(secrets.welcomeSecret)).toBe(epoch.welcome_secret);
      expect(toHex(secrets.encryptionSecret)).toBe(epoch.encryption_secret);
      expect(toHex(k.initSecret)).toBe(epoch.init_secret);
      expect(toHex(k.senderDataSecret)).toBe(epoch.sender_data_secret);
      expect(toHex(k.exporterSecret)).toBe(epoch.exporter_secret);
      expect(toHex(k.externalSecret)).toBe(epoch.external_secret);
      expect(toHex(k.confirmationKey)).toBe(epoch.confirmation_key);
      expect(toHex(k.membershipKey)).toBe(epoch.membership_key);
      expect(toHex(k.resumptionPsk)).toBe(epoch.resumption_psk);
      expect(toHex(k.epochAuthenticator)).toBe(epoch.epoch_authenticator);
      const x = epoch.exporter;
      expect(toHex(await publicExporter(k.exporterSecret, x.label, hex(x.context), x.length, suite))).toBe(
        x.secret,
      );
      if (HPKE_UNAVAILABLE[id] === undefined) {
        const full = await fullSuite(id);
        const { publicKey } = await full.hpke.deriveKeyPair(hex(epoch.external_secret));
        expect(toHex(await full.hpke.exportPublicKey(publicKey))).toBe(epoch.external_pub);
      }
      initSecret = k.initSecret;
    }
  });
});

interface SecretTreeVector {
  cipher_suite: number;
  encryption_secret: string;
  sender_data: { sender_data_secret: string; ciphertext: string; key: string; nonce: string };
  leaves: {
    generation: number;
    application_key: string;
    application_nonce: string;
    handshake_key: string;
    handshake_nonce: string;
  }[][];
}

describe('secret-tree.json', () => {
  const vectors = loadVectors<SecretTreeVector>('secret-tree.json');
  test.each(vectors.map((v, i) => [i, v.cipher_suite, v] as const))(
    'vector %i (suite %i)',
    async (_i, id, v) => {
      const suite = hashAndKdf(id);
      const sd = v.sender_data;
      expect(toHex(await expandSenderDataKey(suite, hex(sd.sender_data_secret), hex(sd.ciphertext)))).toBe(
        sd.key,
      );
      expect(toHex(await expandSenderDataNonce(suite, hex(sd.sender_data_secret), hex(sd.ciphertext)))).toBe(
        sd.nonce,
      );
      let tree = createSecretTree(v.leaves.length, hex(v.encryption_secret));
      for (const [leaf, generations] of v.leaves.entries()) {
        for (const g of generations) {
          const senderData = {
            leafIndex: toLeafIndex(leaf),
            generation: g.generation,
            reuseGuard: new Uint8Array(4) as Parameters<typeof ratchetToGeneration>[1]['reuseGuard'],
          };
          const app = await ratchetToGeneration(
            tree,
            senderData,
            contentTypes.application,
            defaultKeyRetentionConfig,
            suite,
          );
          expect([app.generation, toHex(app.key), toHex(app.nonce)]).toEqual([
            g.generation,
            g.application_key,
            g.application_nonce,
          ]);
          const hs = await ratchetToGeneration(
            app.newTree,
            senderData,
            contentTypes.commit,
            defaultKeyRetentionConfig,
            suite,
          );
          expect([hs.generation, toHex(hs.key), toHex(hs.nonce)]).toEqual([
            g.generation,
            g.handshake_key,
            g.handshake_nonce,
          ]);
          tree = hs.newTree;
        }
      }
    },
  );
});

interface TranscriptVector {
  cipher_suite: number;
  confirmation_key: string;
  authenticated_content: string;
  interim_transcript_hash_before: string;
  confirmed_transcript_hash_after: string;
  interim_transcript_hash_after: string;
}

describe('transcript-hashes.json', () => {
  const vectors = loadVectors<TranscriptVector>('transcript-hashes.json');
  test.each(vectors.map((v) => [v.cipher_suite, v] as const))('suite %i', async (id, v) => {
    const { hash } = hashAndKdf(id);
    const decoded = authenticatedContentDecoder(hex(v.authenticated_content), 0);
    if (decoded === undefined) throw new Error('authenticated content did not decode');
    const [content] = decoded;
    if (
      content.content.contentType !== contentTypes.commit ||
      content.auth.contentType !== contentTypes.commit
    ) {
      throw new Error('expected a commit');
    }
    const tag = content.auth.confirmationTag;
    expect(await hash.verifyMac(hex(v.confirmation_key), tag, hex(v.confirmed_transcript_hash_after))).toBe(
      true,
    );
    const confirmed = await createConfirmedHash(
      hex(v.interim_transcript_hash_before),
      { wireformat: content.wireformat, content: content.content, signature: content.auth.signature },
      hash,
    );
    expect(toHex(confirmed)).toBe(v.confirmed_transcript_hash_after);
    expect(toHex(await createInterimHash(confirmed, tag, hash))).toBe(v.interim_transcript_hash_after);
  });
});
