"""The council's clearinghouse (docs/clearinghouse.md): licensing by authorities, REE
agreements disclosed and reviewed, disputes ruled — each step a signed event of the ledger.

The rules are pure and live in ``raretrace.domain`` (``licence_actions``, ``agreements``,
``disputes``, dispatched by ``domain.clearinghouse``); this package builds the events
(``events``), says what each caller may see of them (``views``) and offers one function per
operation to the command line and the HTTP service (``service``).
"""
