"""What plugins share, in one place: BIRD CLI parsing (:mod:`.bird`), waiting with a
deadline (:mod:`.waiting`), version parsing (:mod:`.versions`), atomic writes
(:mod:`.files`) and parallel maps (:mod:`.parallel`).

Plugins import these (and :mod:`nativek8s.api`), never each other. Modules are imported one
by one so a plugin pays only for what it uses.
"""
