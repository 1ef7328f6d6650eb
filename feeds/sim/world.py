"""The simulated market behind the simulator server: accounts with real layouts.

Tokens have hidden fair prices that follow a geometric Brownian motion with jumps. Pools
of the three kinds the engine reads (Raydium AMM v4, Raydium CP-Swap, Orca Whirlpool)
hold real account bytes: pool accounts, SPL token vaults, mints, CP-Swap configs and
fixed tick arrays at their PDAs. Each slot, noise traders trade in random directions,
arbitrageurs trade pools back towards the fair price (so dislocations decay), and now
and then a large trade knocks a pool off its price: a real arbitrage cycle opens.

Every trade is executed with the engine's own swap math, so the bytes a client decodes
price exactly like the pool the sim holds. The world is pure computation: no I/O, no
clock; ``step()`` advances one slot. Same seed, same slots, same bytes.
"""

from __future__ import annotations

import hashlib
import math
import random
from dataclasses import dataclass, field, replace
from typing import Any

import engine_rs
from engine_rs import decoded as D
from engine_rs import synthetic
from engine_rs.python import accounts as A
from engine_rs.python import pda
from engine_rs.python.accounts import TICK_ARRAY_SIZE
from engine_rs.python.b58 import b58encode

from . import layouts as L

RENT = {L.AMM_V4_LEN: 6_124_800, L.CPMM_POOL_LEN: 5_324_000, L.CPMM_CONFIG_LEN: 2_533_440,
        L.WHIRLPOOL_LEN: 5_435_760, L.FIXED_TICK_ARRAY_LEN: 70_407_360,
        L.TOKEN_ACCOUNT_LEN: 2_039_280, L.MINT_LEN: 1_461_600}  # fmt: skip
RAYDIUM_AMM_AUTHORITY = "5Q544fKrFoe6tsEbD7S8EmxGTJYAKtTVhAW5Q5pge4j1"
CPMM_AUTHORITY = "GpMZbSM2GgvTKHJirzeGfMFoaZ8UR2X7F4v8vHTvxFbL"
WHIRLPOOLS_CONFIG = "2LecshUwdy9xi7meFgHtFJQNSKk4KdTrcpvaB56dP2NQ"  # mainnet config
OPENBOOK = "srmqPvymJeFKQ4zGQed1GxppgkRHL5ZF2z7pBpV3D2u"
KINDS = ("amm_v4", "cpmm", "whirlpool")
SYSTEM_PROGRAM = "11111111111111111111111111111111"
PROGRAM_OF = {"amm_v4": A.RAYDIUM_AMM_V4, "cpmm": A.RAYDIUM_CPMM, "whirlpool": A.WHIRLPOOL}


def _key(*parts: object) -> str:
    return b58encode(hashlib.sha256(":".join(map(str, ("arbscope-sim", *parts))).encode()).digest())


@dataclass(slots=True)
class Account:
    """One account as a node serves it."""

    owner: str
    data: bytes
    lamports: int

    def value(self) -> dict[str, Any]:
        """The JSON ``value`` of ``getAccountInfo`` / ``accountNotification`` (base64)."""
        import base64

        return {
            "lamports": self.lamports,
            "data": [base64.b64encode(self.data).decode(), "base64"],
            "owner": self.owner,
            "executable": False,
            "rentEpoch": 18446744073709551615,
            "space": len(self.data),
        }


@dataclass(slots=True)
class Pool:
    """A pool the world trades: its kind, state and the addresses of its accounts."""

    kind: str  # amm_v4 | cpmm | whirlpool
    address: str
    mint_a: str
    mint_b: str
    vault_a: str
    vault_b: str
    record: Any  # the decoded-record form of the pool account (replace() to change it)
    spec: synthetic.PoolSpec  # the engine's view: reserves or sqrt price / liquidity
    fees_a: int = 0  # amounts in the vaults that are not reserves (pnl, protocol fees)
    fees_b: int = 0
    tick_arrays: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Trade:
    """One executed swap, as the logs of its transaction tell it."""

    signature: str
    program: str
    pool: str
    a_to_b: bool
    amount_in: int
    amount_out: int
    log: str  # the "Program log: ray_log: ..." or "Program data: ..." line


@dataclass(frozen=True, slots=True)
class SwapQuote:
    """What an exact-in swap would do: tokens taken and given; for a Whirlpool, the
    price, tick and liquidity after it."""

    paid_in: int
    out: int
    sqrt_price: int = 0
    tick: int = 0
    liquidity: int = 0


@dataclass(frozen=True, slots=True)
class SlotResult:
    """What one slot changed: accounts (in write order), trades, the slot's fee sample."""

    slot: int
    changed: list[str]
    trades: list[Trade]
    priority_fee: int  # the lowest CU price (micro-lamports) that landed in the slot
    congested: bool
    landed: tuple[Any, ...] = ()  # feeds.sim.chain.Landed: transactions that ran this slot


@dataclass(frozen=True, slots=True)
class WorldConfig:
    """The market's shape; the defaults make a lively screen."""

    seed: int = 7
    tokens: int = 16
    pools: int = 48
    bases: int = 2
    trades_per_slot: int = 12
    slot_seconds: float = 0.4
    volatility: float = 0.02  # of the fair prices, per sqrt(hour): 2 bps a slot
    jump_rate: float = 0.002  # per token per slot
    dislocation_rate: float = 0.3  # per slot: a large trade knocks one pool off
    arbitrageur_share: float = 0.6
    congestion_switch: float = 0.01  # per slot: calm <-> congested
    first_slot: int = 300_000_000


class World:
    """The simulated market (see the module docstring)."""

    def __init__(self, config: WorldConfig | None = None, backend: Any = None) -> None:
        self.config = c = config or WorldConfig()
        self.eng = backend or engine_rs.backend()
        self.rng = random.Random(c.seed)
        self.slot = c.first_slot
        self.congested = False
        self._touched: list[str] = []  # accounts written since the slot began
        self.accounts: dict[str, Account] = {}
        self.pools: list[Pool] = []
        mk = synthetic.market(
            c.seed, c.tokens, c.pools, bases=c.bases, hub_share=0.35, clmm_share=0.3,
            dislocation=0.0, noise=0.0005,
        )  # fmt: skip
        self.mints = list(mk.tokens)
        self.bases = list(mk.bases)
        self.fair = dict(zip(mk.tokens, mk.prices))
        self.decimals = {m: self.rng.choice([6, 9]) for m in self.mints}
        for m in self.mints:
            rec = D.Mint(None, 10**18, self.decimals[m], True, None)
            self._put(m, A.SPL_TOKEN, L.encode_mint(rec))
        self.configs = {}
        for i, rate in enumerate((2_500, 3_000)):
            addr = _key("cpmm-config", i)
            cfg = D.RaydiumAmmConfig(
                254, False, i, rate, 120_000, 40_000, 150_000_000, _key("owner", 0),
                _key("owner", 1), 0,
            )  # fmt: skip
            self.configs[rate] = (addr, cfg)
            self._put(addr, A.RAYDIUM_CPMM, L.encode_raydium_amm_config(cfg))
        for i, spec in enumerate(mk.pools):
            self.pools.append(self._make_pool(i, spec))
        self.by_address = {p.address: p for p in self.pools}
        self._sig = 0
        self.chain: Any = None  # the transaction runtime (feeds.sim.chain.Chain), if any

    # ------------------------------------------------------------ construction
    def _put(self, address: str, owner: str, data: bytes) -> None:
        self.accounts[address] = Account(owner, data, RENT.get(len(data), 2_039_280))

    def _vault(self, address: str, mint: str, owner: str, amount: int) -> None:
        rec = D.TokenAccount(mint, owner, amount, None, 1, None, 0, None)
        self._put(address, A.SPL_TOKEN, L.encode_token_account(rec))

    def _make_pool(self, i: int, spec: synthetic.PoolSpec) -> Pool:
        r = self.rng
        if spec.kind == "clmm":
            return self._make_whirlpool(i, spec)
        kind = "amm_v4" if (spec.fee_num, spec.fee_den) == (25, 10_000) else "cpmm"
        a, b = spec.mint_a, spec.mint_b
        va, vb = _key("vault", i, 0), _key("vault", i, 1)
        fa, fb = r.randint(0, 10**6), r.randint(0, 10**6)
        if kind == "amm_v4":
            addr = _key("amm", i)
            rec: Any = D.RaydiumAmmV4(
                6, r.randint(250, 255), self.decimals[a], self.decimals[b], 1, 25, 10_000, 25,
                10_000, fa, fb, 1_700_000_000, va, vb, a, b, _key("lp", i), _key("oo", i),
                _key("market", i), OPENBOOK, _key("to", i), RAYDIUM_AMM_AUTHORITY, 10**12,
            )  # fmt: skip
            self._put(addr, A.RAYDIUM_AMM_V4, L.encode_raydium_amm_v4(rec))
            owner = RAYDIUM_AMM_AUTHORITY
        else:
            rate = 2_500 if spec.fee_num * 1_000_000 // spec.fee_den == 2_500 else 3_000
            spec.fee_num, spec.fee_den = rate, 1_000_000
            addr = _key("cpmm", i)
            cfg_addr = self.configs[rate][0]
            rec = D.RaydiumCpmmPool(
                cfg_addr, _key("creator", i), va, vb, _key("lp", i), a, b, A.SPL_TOKEN,
                A.SPL_TOKEN, _key("obs", i), 253, 0, 9, self.decimals[a], self.decimals[b],
                10**12, fa, fb, 0, 0, 1_700_000_000, 800, 0, False, 0, 0,
            )  # fmt: skip
            self._put(addr, A.RAYDIUM_CPMM, L.encode_raydium_cpmm(rec))
            owner = CPMM_AUTHORITY
        spec.pool_id = addr
        self._vault(va, a, owner, spec.reserve_a + fa)
        self._vault(vb, b, owner, spec.reserve_b + fb)
        return Pool(kind, addr, a, b, va, vb, rec, spec, fa, fb)

    def _make_whirlpool(self, i: int, spec: synthetic.PoolSpec) -> Pool:
        r = self.rng
        ts = spec.tick_spacing
        # the address is the PDA of (config, mints, fee tier index): a second pool of the
        # same pair and spacing takes another index, as adaptive-fee tiers do (spec §2.4)
        fee_tier = ts
        addr, bump = pda.whirlpool_address(WHIRLPOOLS_CONFIG, spec.mint_a, spec.mint_b, fee_tier)
        while addr in self.accounts:
            fee_tier += 1024
            addr, bump = pda.whirlpool_address(
                WHIRLPOOLS_CONFIG, spec.mint_a, spec.mint_b, fee_tier
            )
        spec.pool_id = addr
        width = TICK_ARRAY_SIZE * ts
        # liquidity in a few nested positions around the price, all within +-2 arrays
        # (the arrays a client fetches for a quote, spec §2.3)
        cur = spec.tick_current // ts
        edges: dict[int, int] = {}
        for _ in range(3):
            lo = (cur - r.randint(8, 150)) * ts
            hi = (cur + r.randint(8, 150)) * ts
            liq = spec.liquidity // 3
            edges[lo] = edges.get(lo, 0) + liq
            edges[hi] = edges.get(hi, 0) - liq
        lo_bound = -443_636 // ts * ts
        hi_bound = 443_636 // ts * ts
        ticks = sorted((t, n) for t, n in edges.items() if lo_bound <= t <= hi_bound and n)
        spec.ticks = ticks
        spec.liquidity = sum(n for t, n in ticks if t <= spec.tick_current)
        va, vb = _key("vault", i, 0), _key("vault", i, 1)
        sqrt = spec.sqrt_price_x64
        amount_a = max(1, int(spec.liquidity / (sqrt / 2**64)))
        amount_b = max(1, int(spec.liquidity * (sqrt / 2**64)))
        rec = D.Whirlpool(
            WHIRLPOOLS_CONFIG, bump, ts, fee_tier, spec.fee_rate, 300, spec.liquidity, sqrt,
            spec.tick_current, 0, 0, spec.mint_a, va, 0, spec.mint_b, vb, 0, 1_700_000_000,
            (_key("reward", i, 0), _key("reward", i, 1), _key("reward", i, 2)),
        )  # fmt: skip
        self._put(addr, A.WHIRLPOOL, L.encode_whirlpool(rec))
        self._vault(va, spec.mint_a, addr, amount_a)
        self._vault(vb, spec.mint_b, addr, amount_b)
        arrays: dict[int, list[tuple[int, int, int]]] = {}
        gross: dict[int, int] = {}
        for t, n in ticks:
            gross[t] = gross.get(t, 0) + abs(n)
            start = t // width * width
            arrays.setdefault(start, []).append(((t - start) // ts, n, gross[t]))
        names = []
        for start in sorted(set(arrays) | set(pda.tick_array_starts(ts, spec.tick_current, 0))):
            ta, _ = pda.tick_array_address(addr, start)
            self._put(
                ta, A.WHIRLPOOL, L.encode_fixed_tick_array(start, addr, arrays.get(start, []))
            )
            names.append(ta)
        return Pool("whirlpool", addr, spec.mint_a, spec.mint_b, va, vb, rec, spec,
                    tick_arrays=names)  # fmt: skip

    # ------------------------------------------------------------ the market
    def fair_price(self, pool: Pool) -> float:
        """Units of b per unit of a at the hidden fair prices."""
        return self.fair[pool.mint_a] / self.fair[pool.mint_b]

    def pool_price(self, pool: Pool) -> float:
        s = pool.spec
        if s.kind == "cpmm":
            return s.reserve_b / s.reserve_a
        return (s.sqrt_price_x64 / 2**64) ** 2

    def _move_prices(self) -> None:
        c, r = self.config, self.rng
        dt_hours = c.slot_seconds / 3600.0
        sigma = c.volatility * math.sqrt(dt_hours)
        for m in self.mints:
            if m == self.mints[0]:
                continue  # the numeraire
            z = r.gauss(0.0, 1.0) * sigma - 0.5 * sigma * sigma
            if r.random() < c.jump_rate:
                z += r.gauss(0.0, 0.01)
            self.fair[m] *= math.exp(z)

    def _signature(self) -> str:
        self._sig += 1
        return b58encode(hashlib.sha512(f"sig:{self.config.seed}:{self._sig}".encode()).digest())

    def swap(self, pool: Pool, a_to_b: bool, amount: int) -> Trade | None:
        """Execute one exact-in swap on ``pool`` with the engine's math; the accounts it
        writes are updated. None when the pool cannot take it (out of liquidity)."""
        q = self.quote_swap(pool, a_to_b, amount)
        if q is None:
            return None
        return self.commit_swap(pool, a_to_b, q, self._signature())

    def quote_swap(self, pool: Pool, a_to_b: bool, amount: int) -> SwapQuote | None:
        """What an exact-in swap of ``amount`` would do to ``pool`` now (nothing changes);
        None when the pool cannot take it (no output, or out of liquidity)."""
        from engine_rs.errors import EngineError

        s = pool.spec
        try:
            return self._quote(s, a_to_b, amount)
        except EngineError:
            return None

    def _quote(self, s: synthetic.PoolSpec, a_to_b: bool, amount: int) -> SwapQuote | None:
        """:meth:`quote_swap`, letting the engine's errors through (the simulator's
        runtime turns them into program errors)."""
        if s.kind == "cpmm":
            rin, rout = (s.reserve_a, s.reserve_b) if a_to_b else (s.reserve_b, s.reserve_a)
            out = self.eng.cpmm_amount_out(amount, rin, rout, s.fee_num, s.fee_den)
            if out <= 0 or out >= rout:
                return None
            return SwapQuote(amount, out)
        res = self.eng.clmm_swap(
            s.sqrt_price_x64, s.liquidity, s.tick_current, s.tick_spacing,
            s.fee_rate, s.ticks, amount, a_to_b,
        )  # fmt: skip
        if res.amount_out <= 0:
            return None
        return SwapQuote(res.amount_in, res.amount_out, res.sqrt_price_x64, res.tick_current,
                         res.liquidity)  # fmt: skip

    def commit_swap(self, pool: Pool, a_to_b: bool, q: SwapQuote, signature: str) -> Trade:
        """Apply a quoted swap: the pool's state, its vaults (and account), the log line."""
        s = pool.spec
        paid_in, out = q.paid_in, q.out
        if s.kind == "cpmm":
            if a_to_b:
                s.reserve_a, s.reserve_b = s.reserve_a + paid_in, s.reserve_b - out
            else:
                s.reserve_b, s.reserve_a = s.reserve_b + paid_in, s.reserve_a - out
        else:
            s.sqrt_price_x64, s.tick_current, s.liquidity = q.sqrt_price, q.tick, q.liquidity
        self._write_pool(pool, a_to_b, paid_in, out)
        if pool.kind == "amm_v4":
            pc, coin = self._balance(pool.vault_b), self._balance(pool.vault_a)
            log = "Program log: ray_log: " + L.encode_ray_log(
                D.SwapBaseInLog(paid_in, 0, 2 if a_to_b else 1, paid_in, coin, pc, out)
            )
        elif pool.kind == "whirlpool":
            pre = pool.record.sqrt_price
            log = "Program data: " + L.encode_traded(
                D.Traded(pool.address, a_to_b, pre, s.sqrt_price_x64, paid_in, out, 0, 0, 0, 0)
            )
        else:
            log = "Program log: Instruction: SwapBaseInput"
        if pool.kind == "whirlpool":
            pool.record = replace(
                pool.record, sqrt_price=s.sqrt_price_x64, tick_current_index=s.tick_current,
                liquidity=s.liquidity,
            )  # fmt: skip
            self.accounts[pool.address].data = L.encode_whirlpool(
                pool.record, self.accounts[pool.address].data
            )
        return Trade(signature, PROGRAM_OF[pool.kind], pool.address, a_to_b, paid_in, out, log)

    # ------------------------------------------------------------ user accounts
    def lamports(self, address: str) -> int:
        acc = self.accounts.get(address)
        return 0 if acc is None else acc.lamports

    def credit_lamports(self, address: str, lamports: int) -> None:
        """Add lamports to ``address`` (a system account, created when new)."""
        acc = self.accounts.get(address)
        if acc is None:
            self.accounts[address] = Account(SYSTEM_PROGRAM, b"", lamports)
        else:
            acc.lamports += lamports
        self._touched.append(address)

    def open_token_account(self, address: str, mint: str, owner: str, amount: int = 0) -> None:
        """A new SPL token account (an ATA the runtime creates, or the faucet's)."""
        self._vault(address, mint, owner, amount)
        self._touched.append(address)

    def token_account(self, address: str) -> D.TokenAccount | None:
        """The SPL token account at ``address``, decoded (None: not a token account)."""
        acc = self.accounts.get(address)
        if acc is None or acc.owner != A.SPL_TOKEN or len(acc.data) < L.TOKEN_ACCOUNT_LEN:
            return None
        rec: D.TokenAccount = A.decode_token_account(acc.data)
        return rec

    def move_tokens(self, address: str, delta: int) -> None:
        """Add ``delta`` (may be negative) to a token account's amount."""
        self._set_balance(address, self._balance(address) + delta)
        self._touched.append(address)

    def _balance(self, vault: str) -> int:
        return int.from_bytes(self.accounts[vault].data[64:72], "little")

    def _set_balance(self, vault: str, amount: int) -> None:
        acc = self.accounts[vault]
        acc.data = acc.data[:64] + amount.to_bytes(8, "little") + acc.data[72:]

    def _write_pool(self, pool: Pool, a_to_b: bool, paid_in: int, out: int) -> None:
        va, vb = (pool.vault_a, pool.vault_b) if a_to_b else (pool.vault_b, pool.vault_a)
        self._set_balance(va, self._balance(va) + paid_in)
        self._set_balance(vb, max(0, self._balance(vb) - out))
        self._touched.extend(
            [pool.address, pool.vault_a, pool.vault_b]
            if pool.kind == "whirlpool"
            else [pool.vault_a, pool.vault_b]
        )

    def _trade_size(self, pool: Pool, a_to_b: bool, frac: float) -> int:
        s = pool.spec
        if s.kind == "cpmm":
            depth: float = s.reserve_a if a_to_b else s.reserve_b
        else:
            sqrt = s.sqrt_price_x64 / 2**64
            depth = s.liquidity / sqrt if a_to_b else s.liquidity * sqrt
        return max(1, min(2**62, int(depth * frac)))

    def step(self) -> SlotResult:
        """One slot: prices move, traders and arbitrageurs trade, sometimes a pool is
        knocked off its price. Returns what changed."""
        c, r = self.config, self.rng
        self.slot += 1
        self._touched = []
        trades: list[Trade] = []
        landed: list[Any] = []
        if self.chain is not None:  # transactions sent last slot land first in this one
            landed = self.chain.land(self.slot)
        self._move_prices()
        if r.random() < c.congestion_switch:
            self.congested = not self.congested
        for _ in range(c.trades_per_slot):
            pool = r.choice(self.pools)
            gap = math.log(self.pool_price(pool) / self.fair_price(pool))
            if r.random() < c.arbitrageur_share and abs(gap) > 0.0005:
                # sell the expensive side until about half of the gap is gone
                a_to_b = gap > 0
                frac = min(0.05, abs(gap) / 4)
            else:
                a_to_b = r.random() < 0.5
                frac = r.uniform(0.00002, 0.0008)
            t = self.swap(pool, a_to_b, self._trade_size(pool, a_to_b, frac))
            if t is not None:
                trades.append(t)
        if r.random() < c.dislocation_rate:
            pool = r.choice(self.pools)
            a_to_b = r.random() < 0.5
            t = self.swap(pool, a_to_b, self._trade_size(pool, a_to_b, r.uniform(0.004, 0.012)))
            if t is not None:
                trades.append(t)
        changed = list(dict.fromkeys(self._touched))
        if self.congested:
            fee = int(r.lognormvariate(math.log(200_000), 0.6))
        else:
            fee = 0 if r.random() < 0.4 else int(r.lognormvariate(math.log(2_000), 1.0))
        return SlotResult(self.slot, changed, trades, fee, self.congested, tuple(landed))

    # ------------------------------------------------------------ what clients ask
    def universe(self) -> list[tuple[str, str]]:
        """Every pool as ``(address, kind)``: what a pool-universe file would list."""
        return [(p.address, p.kind) for p in self.pools]
