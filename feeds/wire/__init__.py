"""Wire formats, without I/O: PubSub frames (:mod:`.protocol`), instruction layouts
shared by every venue (:mod:`.instructions`) and
the pool-universe file (:mod:`.universe`). Nothing here opens a socket or reads a clock."""
