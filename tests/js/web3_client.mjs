// Runs @solana/web3.js (v1, the Connection API most JavaScript users have) against a
// node: the simulator in the tests. Reads one JSON request on stdin:
//   {"http": URL, "ws": URL, "steps": [{"op": NAME, ...arguments}, ...]}
// and prints one JSON array: per step {"ok": result} or {"error": {name, message, code}}.
// Results are made plain JSON (keys as base58, data as base64) so Python can compare
// them with what the simulator holds. Each op calls the library the way its users do.
import * as web3 from '@solana/web3.js';

const input = JSON.parse(await new Promise((resolve) => {
  let text = '';
  process.stdin.on('data', (c) => { text += c; });
  process.stdin.on('end', () => resolve(text));
}));

const conn = new web3.Connection(input.http, { wsEndpoint: input.ws, commitment: 'confirmed' });

function plainAccount(a) {
  const data = Buffer.isBuffer(a.data) ? a.data.toString('base64') : a.data;
  return { lamports: a.lamports, owner: a.owner.toBase58(), space: a.space ?? null, data };
}

function plainKeyed(list) {
  return list.map((k) => ({ pubkey: k.pubkey.toBase58(), account: plainAccount(k.account) }));
}

async function sendV0(kp, instructions, tables = []) {
  const { blockhash } = await conn.getLatestBlockhash();
  const msg = new web3.TransactionMessage({ payerKey: kp.publicKey, recentBlockhash: blockhash, instructions })
    .compileToV0Message(tables);
  const tx = new web3.VersionedTransaction(msg);
  tx.sign([kp]);
  return { signature: await conn.sendTransaction(tx), lookups: msg.addressTableLookups.length };
}

const ops = {
  // a lookup table made with the library's own builders (recent slot: the finalized one)
  async altCreate(s) {
    const kp = web3.Keypair.fromSecretKey(Uint8Array.from(s.secret));
    const recentSlot = await conn.getSlot('finalized');
    const [create, table] = web3.AddressLookupTableProgram.createLookupTable({
      authority: kp.publicKey, payer: kp.publicKey, recentSlot });
    const extend = web3.AddressLookupTableProgram.extendLookupTable({ payer: kp.publicKey,
      authority: kp.publicKey, lookupTable: table, addresses: s.addresses.map((a) => new web3.PublicKey(a)) });
    const sent = await sendV0(kp, [create, extend]);
    return { table: table.toBase58(), recentSlot, signature: sent.signature };
  },
  // the table read back with getAddressLookupTable, then a transfer looked up through it
  async altUse(s) {
    const kp = web3.Keypair.fromSecretKey(Uint8Array.from(s.secret));
    const t = (await conn.getAddressLookupTable(new web3.PublicKey(s.table))).value;
    if (t === null) return null;
    const st = t.state;
    const ix = web3.SystemProgram.transfer({ fromPubkey: kp.publicKey, toPubkey: st.addresses[s.index], lamports: s.lamports });
    const sent = await sendV0(kp, [ix], [t]);
    return { authority: st.authority ? st.authority.toBase58() : null, deactivationSlot: st.deactivationSlot.toString(),
      lastExtendedSlot: st.lastExtendedSlot, lastExtendedSlotStartIndex: st.lastExtendedSlotStartIndex,
      addresses: st.addresses.map((a) => a.toBase58()), active: t.isActive(), ...sent };
  },
  async getProgramAccounts(s) {
    const res = await conn.getProgramAccounts(new web3.PublicKey(s.program), s.config ?? {});
    if (Array.isArray(res)) return plainKeyed(res);
    return { context: res.context, value: plainKeyed(res.value) };
  },
  async getParsedProgramAccounts(s) {
    return plainKeyed(await conn.getParsedProgramAccounts(new web3.PublicKey(s.program), s.config ?? {}));
  },
  // web3.js's own batch call (the one getParsedTransactions uses): each answer whole
  async batch(s) { return await conn._rpcBatchRequest(s.calls); },
  async getRecentPrioritizationFees(s) {
    return await conn.getRecentPrioritizationFees(
      s.accounts ? { lockedWritableAccounts: s.accounts.map((a) => new web3.PublicKey(a)) } : undefined);
  },
  async getTransaction(s) {
    const t = await conn.getTransaction(s.signature, { maxSupportedTransactionVersion: s.version ?? 0, commitment: s.commitment ?? 'confirmed' });
    if (t === null) return null;
    const keys = t.transaction.message.staticAccountKeys.map((k) => k.toBase58());
    return { slot: t.slot, blockTime: t.blockTime, version: t.version ?? null, fee: t.meta.fee, err: t.meta.err,
      preBalances: t.meta.preBalances, postBalances: t.meta.postBalances, logMessages: t.meta.logMessages,
      computeUnitsConsumed: t.meta.computeUnitsConsumed ?? null, signatures: t.transaction.signatures, accountKeys: keys,
      postTokenBalances: t.meta.postTokenBalances };
  },
  async getParsedTransaction(s) {
    const t = await conn.getParsedTransaction(s.signature, { maxSupportedTransactionVersion: 0, commitment: 'confirmed' });
    if (t === null) return null;
    return { slot: t.slot, fee: t.meta.fee,
      accountKeys: t.transaction.message.accountKeys.map((k) => ({ pubkey: k.pubkey.toBase58(), signer: k.signer, writable: k.writable })),
      instructions: t.transaction.message.instructions.map((ix) => ('parsed' in ix
        ? { program: ix.program, type: ix.parsed.type, info: ix.parsed.info }
        : { programId: ix.programId.toBase58(), accounts: ix.accounts.map((a) => a.toBase58()), data: ix.data })) };
  },
  async getSignaturesForAddress(s) {
    return await conn.getSignaturesForAddress(new web3.PublicKey(s.address), s.options ?? {}, s.commitment ?? 'confirmed');
  },
  async getEpochInfo(s) { return await conn.getEpochInfo(s.commitment); },
  async getMinimumBalanceForRentExemption(s) {
    return await conn.getMinimumBalanceForRentExemption(s.size, s.commitment);
  },
  async getGenesisHash() { return await conn.getGenesisHash(); },
  async getEpochSchedule(s) {
    const e = await conn.getEpochSchedule();
    return { slotsPerEpoch: e.slotsPerEpoch, leaderScheduleSlotOffset: e.leaderScheduleSlotOffset,
      warmup: e.warmup, firstNormalEpoch: e.firstNormalEpoch, firstNormalSlot: e.firstNormalSlot,
      epochs: (s.slots ?? []).map((x) => e.getEpoch(x)) };
  },
  async getSlot(s) { return await conn.getSlot(s.commitment); },
  async getLatestBlockhash(s) { return await conn.getLatestBlockhash(s.commitment); },
  async getBlockHeight(s) { return await conn.getBlockHeight(s.commitment); },
  async sendRawTransaction(s) {
    return await conn.sendRawTransaction(Buffer.from(s.tx, 'base64'), { skipPreflight: s.skipPreflight });
  },
  async getSignatureStatus(s) {
    return (await conn.getSignatureStatus(s.signature)).value;
  },
  async getTokenSupply(s) { return await conn.getTokenSupply(new web3.PublicKey(s.mint)); },
  async getTokenAccountsByOwner(s) {
    const res = await conn.getTokenAccountsByOwner(new web3.PublicKey(s.owner), filterOf(s));
    return { context: res.context, value: plainKeyed(res.value) };
  },
  async getParsedTokenAccountsByOwner(s) {
    const res = await conn.getParsedTokenAccountsByOwner(new web3.PublicKey(s.owner), filterOf(s));
    return { context: res.context, value: plainKeyed(res.value) };
  },
  // a v0 message paying from `payer`: a compute-unit price and limit, then a transfer
  async getFeeForMessage(s) {
    const payer = new web3.PublicKey(s.payer);
    const message = new web3.TransactionMessage({
      payerKey: payer,
      recentBlockhash: s.blockhash,
      instructions: [
        web3.ComputeBudgetProgram.setComputeUnitLimit({ units: s.limit }),
        web3.ComputeBudgetProgram.setComputeUnitPrice({ microLamports: s.price }),
        web3.SystemProgram.transfer({ fromPubkey: payer, toPubkey: payer, lamports: 1 }),
      ],
    }).compileToV0Message();
    return await conn.getFeeForMessage(message);
  },
  // subscribe to each of `subs` and collect `count` notifications of each (then
  // unsubscribe), or fail after `timeoutMs`
  async collect(s) {
    const got = s.subs.map(() => []);
    const ids = [];
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out: ${JSON.stringify(got.map((g) => g.length))}`)), s.timeoutMs ?? 30000);
      const check = () => {
        if (s.subs.every((sub, i) => got[i].length >= sub.count)) { clearTimeout(timer); resolve(); }
      };
      s.subs.forEach((sub, i) => {
        const push = (x) => { if (got[i].length < sub.count) got[i].push(x); check(); };
        if (sub.kind === 'program') {
          ids.push(['program', conn.onProgramAccountChange(new web3.PublicKey(sub.program),
            (k, ctx) => push({ slot: ctx.slot, pubkey: k.accountId.toBase58(), account: plainAccount(k.accountInfo) }),
            { commitment: sub.commitment ?? 'confirmed', filters: sub.filters ?? [], encoding: sub.encoding ?? 'base64' })]);
        } else if (sub.kind === 'logs') {
          ids.push(['logs', conn.onLogs(sub.filter === 'all' ? 'all' : new web3.PublicKey(sub.filter),
            (logs, ctx) => push({ slot: ctx.slot, signature: logs.signature, err: logs.err, logs: logs.logs }),
            sub.commitment ?? 'confirmed')]);
        } else if (sub.kind === 'root') {
          ids.push(['root', conn.onRootChange((root) => push(root))]);
        } else if (sub.kind === 'slotsUpdates') {
          ids.push(['slotsUpdates', conn.onSlotUpdate((u) => push(u))]);
        } else if (sub.kind === 'slot') {
          ids.push(['slot', conn.onSlotChange((u) => push(u))]);
        } else if (sub.kind === 'signature') {
          ids.push(['signature', conn.onSignature(sub.signature,
            (res, ctx) => push({ slot: ctx.slot, err: res.err }), sub.commitment ?? 'confirmed')]);
        }
      });
    });
    for (const [kind, id] of ids) {
      if (kind === 'program') await conn.removeProgramAccountChangeListener(id);
      else if (kind === 'logs') await conn.removeOnLogsListener(id);
      else if (kind === 'root') await conn.removeRootChangeListener(id);
      else if (kind === 'slotsUpdates') await conn.removeSlotUpdateListener(id);
      else if (kind === 'slot') await conn.removeSlotChangeListener(id);
    }
    return got;
  },
};

function filterOf(s) {
  return s.mint ? { mint: new web3.PublicKey(s.mint) } : { programId: new web3.PublicKey(s.programId) };
}

const out = [];
for (const step of input.steps) {
  try {
    out.push({ ok: await ops[step.op](step) });
  } catch (e) {
    out.push({ error: { name: e?.name ?? 'Error', message: String(e?.message ?? e), code: e?.code ?? null } });
  }
}
process.stdout.write(JSON.stringify(out));
process.exit(0);
