"""Ground helpers shared by every stage, one concept each: numbers for a reader (:mod:`.fmt`),
progress bars (:mod:`.progress`), AWS resource identifiers (:mod:`.resource_ids`), blameless
wording (:mod:`.blameless`). They import nothing from the stages above them."""
