// The official SPL Token TypeScript client (@solana/spl-token from npm, as @openbook-dex/openbook-v2
// pins it in package-lock.json) as an oracle for the engine's Token-2022 kernels
// (tests/engine/test_token2022_js.py drives it). Reads one JSON request on stdin, prints one
// JSON answer {"ok": answer} or {"error": message}:
//   {"op": "fees", "cases": [[older, newer, epoch, amount], ...]}  (fees as
//       [epoch, maximum_fee, bps]; integers as decimal strings)
//       -> [calculateEpochFee(config, epoch, amount) as a decimal string, ...]
//   {"op": "extension_types"} -> {name: number} of the client's ExtensionType enum
//   {"op": "decode", "accounts": [[base64, owner program], ...]} -> per account, what the
//       client's unpackMint / unpackAccount and extension getters read: its kind, base fields
//       and each extension's values (keys as strings, integers as decimal strings)
// Everything computed is the client's own code (calculateEpochFee, getEpochFee, calculateFee,
// unpackMint, unpackAccount, getExtensionTypes, the get*<Extension> readers, and
// @solana/spl-token-metadata's unpack, which @solana/spl-token depends on).
import {
    ACCOUNT_SIZE, calculateEpochFee, ExtensionType, getExtensionData, getExtensionTypes,
    getMetadataPointerState, getTransferFeeAmount, getTransferFeeConfig, getTransferHook,
    getTransferHookAccount, unpackAccount, unpackMint,
} from '@solana/spl-token';
import { unpack as unpackMetadata } from '@solana/spl-token-metadata';
import { PublicKey } from '@solana/web3.js';
import { serve } from './serve.mjs';

const key = (k) => (k === null || k === undefined ? null : k.toBase58());
const feeOf = (f) => ({ epoch: String(f.epoch), maximumFee: String(f.maximumFee),
    transferFeeBasisPoints: String(f.transferFeeBasisPoints) });

function decode([data, owner]) {
    const raw = Buffer.from(data, 'base64');
    const info = { data: raw, owner: new PublicKey(owner), lamports: 0, executable: false };
    const address = PublicKey.default;
    const isMint = raw.length === 82 || (raw.length > ACCOUNT_SIZE && raw[ACCOUNT_SIZE] === 1);
    const out = { kind: isMint ? 'mint' : 'account', extensions: {} };
    const state = isMint ? unpackMint(address, info, info.owner) : unpackAccount(address, info, info.owner);
    const types = getExtensionTypes(state.tlvData);
    out.types = types.map((t) => ExtensionType[t]);
    if (isMint) {
        out.decimals = state.decimals;
        out.supply = String(state.supply);
        const fee = getTransferFeeConfig(state);
        if (fee) out.extensions.TransferFeeConfig = {
            transferFeeConfigAuthority: key(fee.transferFeeConfigAuthority),
            withdrawWithheldAuthority: key(fee.withdrawWithheldAuthority),
            withheldAmount: String(fee.withheldAmount),
            olderTransferFee: feeOf(fee.olderTransferFee), newerTransferFee: feeOf(fee.newerTransferFee) };
        const hook = getTransferHook(state);
        if (hook) out.extensions.TransferHook = { authority: key(hook.authority), programId: key(hook.programId) };
        const ptr = getMetadataPointerState(state);
        if (ptr) out.extensions.MetadataPointer = { authority: key(ptr.authority), metadataAddress: key(ptr.metadataAddress) };
        const meta = getExtensionData(ExtensionType.TokenMetadata, state.tlvData);
        if (meta) {
            const m = unpackMetadata(meta);
            out.extensions.TokenMetadata = { updateAuthority: key(m.updateAuthority), mint: key(m.mint),
                name: m.name, symbol: m.symbol, uri: m.uri, additionalMetadata: m.additionalMetadata };
        }
    } else {
        out.mint = key(state.mint);
        out.owner = key(state.owner);
        out.amount = String(state.amount);
        const held = getTransferFeeAmount(state);
        if (held) out.extensions.TransferFeeAmount = { withheldAmount: String(held.withheldAmount) };
        const hookAccount = getTransferHookAccount(state);
        if (hookAccount) out.extensions.TransferHookAccount = { transferring: hookAccount.transferring };
    }
    return out;
}

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
    if (req.op === 'decode') {
        return req.accounts.map(decode);
    }
    throw new Error(`unknown op ${req.op}`);
}

serve(answer);
