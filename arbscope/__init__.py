"""arbscope: wiring package (CLI, session, market, execution)."""

# the simulated market's default seed (``sim.seed``): a market of every venue in which,
# within a minute of ``make run``, cycles through each of them (Raydium CLMM, Meteora
# DLMM and PumpSwap beside AMM v4, CP-Swap and Whirlpool) go and fill on paper (its 2-hop
# cycles are the ones that fit a transaction before address lookup tables)
SIM_SEED = 63
