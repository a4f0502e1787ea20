"""Log formats, one module each; :mod:`incidentkit.parse.registry` lists them in the order
they are tried and says what a format module holds.

Merge note: branch ``wip/s3`` adds this file with its ``S3_FORMATS`` and ``load``; take
that version (nothing here is imported by name).
"""
