// The official SPL Token TypeScript client (@solana/spl-token from npm, as @openbook-dex/openbook-v2
// pins it in package-lock.json) as an oracle for the engine's Token-2022 kernels
// (tests/engine/test_token2022_js.py drives it). Reads one JSON request on stdin, prints one
// JSON answer {"ok": answer} or {"error": message}:
//   {"op": "fees", "cases": [[older, newer, epoch, amount], ...]}  (fees as
//       [epoch, maximum_fee, bps]; integers as decimal strings)
//       -> [calculateEpochFee(config, epoch, amount) as a decimal string, ...]
//   {"op": "extension_types"} -> {name: number} of the client's ExtensionType enum
// Everything computed is the client's own code (calculateEpochFee, getEpochFee, calculateFee).
import { calculateEpochFee, ExtensionType } from '@solana/spl-token';

function fee([epoch, maximumFee, bps]) {
    return { epoch: BigInt(epoch), maximumFee: BigInt(maximumFee), transferFeeBasisPoints: Number(bps) };
}

function answer(req) {
    if (req.op === 'fees') {
        return req.cases.map(([older, newer, epoch, amount]) =>
            calculateEpochFee(
                { olderTransferFee: fee(older), newerTransferFee: fee(newer) },
                BigInt(epoch),
                BigInt(amount),
            ).toString(),
        );
    }
    if (req.op === 'extension_types') {
        return Object.fromEntries(
            Object.entries(ExtensionType).filter(([k, v]) => typeof v === 'number'),
        );
    }
    throw new Error(`unknown op ${req.op}`);
}

let input = '';
process.stdin.on('data', (chunk) => (input += chunk));
process.stdin.on('end', () => {
    try {
        process.stdout.write(JSON.stringify({ ok: answer(JSON.parse(input)) }));
    } catch (e) {
        process.stdout.write(JSON.stringify({ error: String(e && e.stack ? e.stack : e) }));
    }
});
