"""SpatialSoundQA scoring (question types A-E).

Parse rules (:mod:`.text`), embedders (:mod:`.embedders`), per-type scores (:mod:`.scoring`) and bootstrap
intervals (:mod:`.stats`). Definitions: ``metrics/qa.md``.
"""
