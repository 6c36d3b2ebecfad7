"""Rules of the Recotap domain that every layer shares, with no I/O: how a domain is
cleaned (:mod:`.domains`) and what differs between the API's two editions
(:mod:`.editions`). The API client, the record kinds and the sandbox all read them here,
so that none of them has to import another for a rule (issue 17, item 6)."""
