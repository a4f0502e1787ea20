"""Log formats, one module each; :mod:`incidentkit.parse.registry` lists them in the order
they are tried, says what a format module holds and loads one by its entry
(:func:`incidentkit.parse.registry.load`).

Example
-------
>>> from incidentkit.parse import registry
>>> registry.load("alb_access").ROLE
'request'
"""
