-- Build one game's pending counts (j:game:GAME:pending:people and
-- :projects, see _scoring.lua) from its pending set, for a game whose set
-- was filled before the counts were kept.  Idempotent.
--
-- ARGV[1]: the game's slug.
-- Returns the number of commits in its pending set.

return recount_pending(ARGV[1])
