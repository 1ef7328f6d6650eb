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

const ops = {
  async getProgramAccounts(s) {
    const res = await conn.getProgramAccounts(new web3.PublicKey(s.program), s.config ?? {});
    if (Array.isArray(res)) return plainKeyed(res);
    return { context: res.context, value: plainKeyed(res.value) };
  },
  async getParsedProgramAccounts(s) {
    return plainKeyed(await conn.getParsedProgramAccounts(new web3.PublicKey(s.program), s.config ?? {}));
  },
};

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
