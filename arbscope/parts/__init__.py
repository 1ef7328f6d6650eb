"""The session's parts (``arbscope.session.FeedSession`` builds and wires them; each does
one thing of the session's and keeps its own state): its fees and tips, its tokens' names,
its trading desk (live mode, the wallet, the operator's orders), its health, the pools
waiting to be evaluated, the fast path's prewarm, what the screen reads, what others do
on its pools, its start and stop, and the inputs it is told."""
