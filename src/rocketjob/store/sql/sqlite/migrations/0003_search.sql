-- Mission Control's search. SQLite matches descriptions by walking the list's own index
-- newest first (no trigram index here); this migration keeps both backends' versions equal.

SELECT 1;
