"""Wire formats, without I/O: PubSub frames (:mod:`.protocol`), the instruction layouts
every venue shares (:mod:`.instructions`), transaction sizing (:mod:`.txsize`) and the
pool-universe file (:mod:`.universe`). Nothing here opens a socket or reads a clock."""
