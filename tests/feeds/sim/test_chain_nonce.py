"""The System program's account and durable-nonce instructions in the simulator
(feeds.sim.system through feeds.sim.chain), the runtime's durable-nonce rule, and the
block engines' rate limit.

Oracles: LiteSVM runs the real System program: the same instructions run in both (each
side with its own blockhash, so the stored durable nonce is compared with the sha256 of
"DURABLE_NONCE" and that side's blockhash), and the accounts (bytes, lamports, owner),
errors and log lines must agree. solders' ``system_program`` builders and decoders are the
layouts' oracle. LiteSVM 0.29 does not keep two of the runtime's nonce rules (it accepts a
nonce advanced in the current slot, and it leaves the nonce where it was when a later
instruction fails): those follow Agave's ``check_transactions.rs``
(``check_load_and_advance_message_nonce_account``: not advanceable when the stored nonce
is already the current one; the advanced nonce is committed with the fee) and are
checked against it here by hand.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from typing import Any

import pytest
from solders import system_program as sp
from solders.hash import Hash
from solders.instruction import AccountMeta, Instruction
from solders.keypair import Keypair
from solders.message import Message
from solders.pubkey import Pubkey
from solders.transaction import VersionedTransaction

from feeds.sim import system as SYS
from feeds.sim.chain import BlockEngine
from feeds.sim.state import Account
from feeds.wire import instructions as I
from tests.support.chain import SvmTwin, svm_error

QUIET = {"trades_per_slot": 0, "dislocation_rate": 0.0}
RENT_80 = 1_447_680


class Twin(SvmTwin):
    """The simulator and LiteSVM side by side, one payer; every transaction runs in both
    with a recent blockhash of each."""

    def __init__(self) -> None:
        super().__init__(seed=6)
        self.n = 0

    def step(self) -> None:
        self.world.step()
        self.svm.expire_blockhash()

    def _tx(self, ixs: Sequence[Instruction], bh: Hash, signers: Sequence[Keypair]) -> Any:
        self.n += 1  # a distinct signature each time (its price)
        msg = Message.new_with_blockhash([I.set_compute_unit_price(self.n), *ixs], self.me, bh)
        return VersionedTransaction(msg, [self.kp, *signers])

    def run(self, ixs: Sequence[Instruction], signers: Sequence[Keypair] = ()) -> Any:
        """Run on both; the error (None: success), which must be the same, with the same
        log lines."""
        n = self.n
        r = self.svm.send_transaction(self._tx(ixs, self.svm.latest_blockhash(), signers))
        svm_err = svm_error(r.err()) if hasattr(r, "err") else None
        svm_logs = list((r.meta() if hasattr(r, "meta") else r).logs())
        self.n = n
        bh = Hash.from_string(self.chain.latest_blockhash()[0])
        out = self.chain.run(self._tx(ixs, bh, signers), commit=True)
        assert (svm_err, svm_logs) == (out.err, out.logs)
        return out.err

    def same(self, *keys: Pubkey, fresh: bool = False) -> None:
        """The accounts agree byte for byte but the durable nonce, which each side took
        from its own blockhash: with ``fresh`` (stored in this slot), that of the current
        one."""
        for key in keys:
            a, b = self.svm.get_account(key), self.world.accounts.get(str(key))
            if a is None or a.lamports == 0:
                assert b is None, key
                continue
            assert b is not None, key
            da, db = bytes(a.data), b.data
            assert (a.lamports, str(a.owner), len(da)) == (b.lamports, b.owner, len(db)), key
            assert da[:40] + da[72:] == db[:40] + db[72:], key
            if fresh:
                assert da[40:72] == _durable(bytes(self.svm.latest_blockhash()))
                assert db[40:72] == _durable(SYS.N.b58decode(self.chain.latest_blockhash()[0]))


def _durable(blockhash: bytes) -> bytes:
    return hashlib.sha256(b"DURABLE_NONCE" + blockhash).digest()


def advance(nonce: Pubkey, authority: Pubkey) -> Instruction:
    return sp.advance_nonce_account(
        sp.AdvanceNonceAccountParams(nonce_pubkey=nonce, authorized_pubkey=authority)
    )


def withdraw(nonce: Pubkey, authority: Pubkey, to: Pubkey, lamports: int) -> Instruction:
    return sp.withdraw_nonce_account(
        sp.WithdrawNonceAccountParams(
            nonce_pubkey=nonce, authorized_pubkey=authority, to_pubkey=to, lamports=lamports
        )
    )


def authorize(nonce: Pubkey, authority: Pubkey, new: Pubkey) -> Instruction:
    return sp.authorize_nonce_account(
        sp.AuthorizeNonceAccountParams(
            nonce_pubkey=nonce, authorized_pubkey=authority, new_authority=new
        )
    )


def test_the_builders_and_the_layouts_are_solders() -> None:
    me, n = Pubkey.new_unique(), Pubkey.new_unique()
    seeded = Pubkey.create_with_seed(me, "arbscope-nonce-0", sp.ID)
    create, init = I.create_nonce_account_with_seed(
        str(me), str(seeded), "arbscope-nonce-0", str(me), RENT_80
    )
    ref = sp.create_nonce_account_with_seed(me, seeded, me, "arbscope-nonce-0", me, RENT_80)
    assert (create, init) == tuple(ref)
    assert I.nonce_address(str(me), "arbscope-nonce-0") == str(seeded)
    assert I.advance_nonce(str(n), str(me)) == advance(n, me)
    rec = I.decode(
        I.SYSTEM_PROGRAM,
        bytes(advance(n, me).data),
        [str(m.pubkey) for m in advance(n, me).accounts],
    )
    assert rec == I.AdvanceNonce(str(n), str(me))
    data = SYS.nonce_account_data(str(me), str(n))
    assert len(data) == SYS.NONCE_LEN == 80
    v = SYS.read_versions(data)
    assert v is not None and v.data == SYS.NonceData(str(me), str(n), 5_000) and not v.legacy
    assert SYS.read_versions(b"") is None and SYS.read_versions(bytes(80)) == SYS.Versions(
        True, None
    )


def test_a_nonce_account_lives_as_litesvm_runs_it() -> None:
    t = Twin()
    nk = Keypair()
    n = nk.pubkey()
    other = Keypair()
    t.svm.airdrop(other.pubkey(), 10**9)
    t.chain.airdrop([str(other.pubkey()), 10**9])
    assert t.run([advance(n, t.me)]) == {"InstructionError": [1, "InvalidAccountData"]}
    # create, initialize (and again: already initialized), advance in the same slot
    assert t.run(list(sp.create_nonce_account(t.me, n, t.me, RENT_80)), [nk]) is None
    t.same(n, fresh=True)
    t.same(t.me)
    assert t.run(list(sp.create_nonce_account(t.me, n, t.me, RENT_80)), [nk]) == {
        "InstructionError": [1, {"Custom": 0}]
    }
    assert t.run([advance(n, t.me)]) == {"InstructionError": [1, {"Custom": 7}]}
    t.step()
    assert t.run([advance(n, other.pubkey())], [other]) == {
        "InstructionError": [1, "MissingRequiredSignature"]
    }
    assert t.run([advance(n, t.me)]) is None
    t.same(n, fresh=True)
    t.step()
    # withdraw: more than it holds, leaving it under rent, the extra, then authorize
    assert t.run([withdraw(n, t.me, t.me, RENT_80 + 1)]) == {
        "InstructionError": [1, "InsufficientFunds"]
    }
    assert t.run([withdraw(n, t.me, t.me, 1)]) == {"InstructionError": [1, "InsufficientFunds"]}
    t.svm.airdrop(n, 1_000)
    t.chain.airdrop([str(n), 1_000])
    assert t.run([withdraw(n, t.me, other.pubkey(), 1_000)]) is None
    t.same(n, other.pubkey())
    assert t.run([authorize(n, t.me, other.pubkey())]) is None
    t.same(n)
    assert t.run([authorize(n, t.me, t.me)]) == {
        "InstructionError": [1, "MissingRequiredSignature"]
    }
    assert t.run([sp.upgrade_nonce_account(sp.UpgradeNonceAccountParams(nonce_pubkey=n))]) == {
        "InstructionError": [1, "InvalidArgument"]
    }
    # the whole balance closes it (the new authority signs)
    assert t.run([withdraw(n, other.pubkey(), t.me, RENT_80)], [other]) is None
    t.same(n, t.me)
    assert t.world.accounts.get(str(n)) is None


def test_an_uninitialized_account_a_seeded_one_and_bad_accounts() -> None:
    t = Twin()
    nk = Keypair()
    n = nk.pubkey()
    create = sp.create_account(
        sp.CreateAccountParams(
            from_pubkey=t.me, to_pubkey=n, lamports=RENT_80, space=80, owner=sp.ID
        )
    )
    assert t.run([create], [nk]) is None
    t.same(n)
    t.step()
    assert t.run([advance(n, t.me)]) == {"InstructionError": [1, "InvalidAccountData"]}
    # initialize under the rent-exempt minimum; a wrong sysvar; too few accounts
    poor = Keypair()
    small = sp.create_account(
        sp.CreateAccountParams(
            from_pubkey=t.me, to_pubkey=poor.pubkey(), lamports=RENT_80 - 1, space=80, owner=sp.ID
        )
    )
    init = sp.initialize_nonce_account(
        sp.InitializeNonceAccountParams(nonce_pubkey=poor.pubkey(), authority=t.me)
    )
    assert t.run([small, init], [poor]) == {"InstructionError": [2, "InsufficientFunds"]}
    ix = advance(n, t.me)
    wrong = Instruction(
        ix.program_id,
        bytes(ix.data),
        [
            ix.accounts[0],
            AccountMeta(Pubkey.from_string(SYS.RENT_SYSVAR), False, False),
            ix.accounts[2],
        ],
    )
    assert t.run([wrong]) == {"InstructionError": [1, "InvalidArgument"]}
    short = Instruction(ix.program_id, bytes(ix.data), [ix.accounts[0]])
    assert t.run([short]) == {"InstructionError": [1, "MissingAccount"]}
    readonly = Instruction(
        ix.program_id, bytes(ix.data), [AccountMeta(n, False, False), *ix.accounts[1:]]
    )
    assert t.run([readonly]) == {"InstructionError": [1, "InvalidArgument"]}
    assert t.run([Instruction(sp.ID, bytes([4, 0]), [])]) == {
        "InstructionError": [1, "InvalidInstructionData"]
    }
    # the executor's way: an account at a seeded address, the wallet as its base
    seed = "arbscope-nonce-0"
    seeded = Pubkey.create_with_seed(t.me, seed, sp.ID)
    ixs = I.create_nonce_account_with_seed(str(t.me), str(seeded), seed, str(t.me), RENT_80)
    assert t.run(ixs) is None
    t.same(seeded, fresh=True)
    t.same(t.me)
    mismatch = sp.create_nonce_account_with_seed(t.me, n, t.me, seed, t.me, RENT_80)
    assert t.run(list(mismatch)) == {"InstructionError": [1, {"Custom": 5}]}
    # a withdrawal of an uninitialized account's lamports signed by itself (rent check)
    assert t.run([withdraw(n, n, t.me, 1)], [nk]) == {
        "InsufficientFundsForRent": {"account_index": 1}
    }


def _nonced(t: Twin, nonce: str, ixs: Sequence[Instruction], bh: str) -> VersionedTransaction:
    t.n += 1
    msg = Message.new_with_blockhash(
        [I.advance_nonce(nonce, str(t.me)), I.set_compute_unit_price(t.n), *ixs],
        t.me,
        Hash.from_string(bh),
    )
    return VersionedTransaction(msg, [t.kp])


def _made_nonce(t: Twin) -> str:
    seed = "arbscope-nonce-0"
    seeded = str(Pubkey.create_with_seed(t.me, seed, sp.ID))
    assert (
        t.run(I.create_nonce_account_with_seed(str(t.me), seeded, seed, str(t.me), RENT_80)) is None
    )
    t.step()
    return seeded


def stored(t: Twin, nonce: str) -> str:
    v = SYS.read_versions(t.world.accounts[nonce].data)
    assert v is not None and v.data is not None
    return v.data.nonce


@pytest.mark.slow
def test_a_durable_transaction_lands_once_and_its_other_versions_never() -> None:
    t = Twin()
    nonce = _made_nonce(t)
    for _ in range(160):  # the nonce's blockhash is long out of the window
        t.world.step()
    first = stored(t, nonce)
    assert not t.chain.blockhash_valid(first)
    tip = I.JITO_TIP_ACCOUNTS[0]
    v1 = _nonced(t, nonce, [I.transfer(str(t.me), tip, 1_000)], first)
    v2 = _nonced(t, nonce, [I.transfer(str(t.me), tip, 2_000)], first)
    # both simulate (the nonce holds), with a fee; an unknown blockhash is refused
    assert (
        t.chain.simulate([b64(v2), {"encoding": "base64", "commitment": "processed"}])["err"]
        is None
    )
    fee = t.chain.fee_for_message(v2.message)
    assert fee is not None and fee == t.chain.run(v2, commit=False).fee >= 5_000
    assert t.chain.fee_for_message(_nonced(t, nonce, [], str(Hash.new_unique())).message) is None
    before = (t.world.lamports(str(t.me)), t.world.lamports(tip))
    sent = t.chain.send([b64(v2), {"encoding": "base64", "preflightCommitment": "processed"}])
    assert sent == str(v2.signatures[0])
    t.chain.send([b64(v1), {"encoding": "base64", "skipPreflight": True}])
    t.world.step()  # v2 runs first and moves the nonce; v1 is dropped: no status, no fee
    assert t.chain.statuses[str(v2.signatures[0])][1] is None
    assert str(v1.signatures[0]) not in t.chain.statuses
    assert (t.world.lamports(str(t.me)), t.world.lamports(tip)) == (
        before[0] - fee - 2_000,
        before[1] + 2_000,
    )
    assert stored(t, nonce) == SYS.durable_nonce(t.chain.latest_blockhash()[0])
    # the moved nonce: BlockhashNotFound everywhere
    with pytest.raises(Exception, match="Blockhash not found"):
        t.chain.send([b64(v1), {"encoding": "base64"}])
    # in this slot it cannot be advanced again (the runtime's "not advanceable")
    v3 = _nonced(t, nonce, [], stored(t, nonce))
    assert t.chain.run(v3, commit=False).err == "BlockhashNotFound"
    t.world.step()
    assert t.chain.run(v3, commit=False).err is None


def test_a_failing_durable_transaction_pays_and_uses_its_nonce_up() -> None:
    t = Twin()
    nonce = _made_nonce(t)
    t.world.step()
    first = stored(t, nonce)
    poor = _nonced(t, nonce, [I.transfer(str(t.me), str(Pubkey.new_unique()), 10**15)], first)
    before = t.world.lamports(str(t.me))
    out = t.chain.run(poor, commit=True)
    assert out.err == {"InstructionError": [2, {"Custom": 1}]} and out.ran
    assert t.world.lamports(str(t.me)) == before - out.fee  # the fee, nothing else
    assert stored(t, nonce) == SYS.durable_nonce(t.chain.latest_blockhash()[0]) != first
    again = _nonced(t, nonce, [], first)
    t.world.step()
    assert t.chain.run(again, commit=False).err == "BlockhashNotFound"


def test_a_nonce_the_authority_does_not_sign_for_or_not_first_is_no_durable_nonce() -> None:
    t = Twin()
    nonce = _made_nonce(t)
    t.world.step()
    first = stored(t, nonce)
    other = Keypair()
    t.n += 1
    msg = Message.new_with_blockhash(
        [I.advance_nonce(nonce, str(other.pubkey()))], t.me, Hash.from_string(first)
    )
    tx = VersionedTransaction(msg, [t.kp, other])
    assert t.chain.run(tx, commit=False).err == "BlockhashNotFound"
    msg = Message.new_with_blockhash(
        [I.set_compute_unit_price(1), I.advance_nonce(nonce, str(t.me))],
        t.me,
        Hash.from_string(first),
    )
    assert t.chain.run(VersionedTransaction(msg, [t.kp]), commit=False).err == "BlockhashNotFound"


def test_a_bundle_of_a_moved_nonce_does_not_land_and_pays_nothing() -> None:
    t = Twin()
    nonce = _made_nonce(t)
    t.world.step()
    first = stored(t, nonce)
    tip = I.JITO_TIP_ACCOUNTS[1]
    v1 = _nonced(t, nonce, [I.transfer(str(t.me), tip, 1_000)], first)
    v2 = _nonced(t, nonce, [I.transfer(str(t.me), tip, 3_000)], first)
    t.chain.engines["slow"] = BlockEngine(delay_slots=1)
    b1 = t.chain.send_bundle([[b64(v1)], {"encoding": "base64"}], "slow")
    b2 = t.chain.send_bundle([[b64(v2)], {"encoding": "base64"}], "")
    tips = t.world.lamports(tip)
    t.world.step()
    t.world.step()
    assert t.chain.bundles[("", b2)]["status"] == "Landed"
    assert t.chain.bundles[("slow", b1)]["status"] == "Failed"
    assert t.world.lamports(tip) == tips + 3_000


def test_a_nonce_account_in_json_parsed_is_the_account_decoders() -> None:
    data = SYS.nonce_account_data("11111111111111111111111111111112", str(Hash.default()))
    assert SYS.parse_nonce(data) == {
        "type": "initialized",
        "info": {
            "authority": "11111111111111111111111111111112",
            "blockhash": str(Hash.default()),
            "feeCalculator": {"lamportsPerSignature": "5000"},
        },
    }
    assert SYS.parse_nonce(bytes(80)) is None and SYS.parse_nonce(b"") is None
    shown = SYS.N.ui_account(Account(I.SYSTEM_PROGRAM, data, RENT_80), "jsonParsed")
    assert shown["data"] == {"program": "nonce", "parsed": SYS.parse_nonce(data), "space": 80}
    plain = SYS.N.ui_account(Account(I.SYSTEM_PROGRAM, bytes(80), RENT_80), "jsonParsed")
    assert plain["data"] == [base64.b64encode(bytes(80)).decode(), "base64"]


def test_a_block_engine_takes_its_rate_and_refuses_the_rest() -> None:
    e = BlockEngine()  # Jito's default: 1 a second
    assert e.admit(0.0) and not e.admit(0.5) and e.admit(1.0) and not e.admit(1.9)
    assert e.limited == 2
    fast = BlockEngine(rps=3)
    assert [fast.admit(10.0) for _ in range(4)] == [True, True, True, False]
    unlimited = BlockEngine(rps=0)
    assert all(unlimited.admit(0.0) for _ in range(50)) and unlimited.limited == 0


def b64(tx: VersionedTransaction) -> str:
    return base64.b64encode(bytes(tx)).decode()
