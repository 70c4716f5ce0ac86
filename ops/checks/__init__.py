"""Check types: what each live check asks AWS (or an HTTP endpoint), in batches, and how it judges the answer.

`base` holds the interface and the registry; each module registers its types. Import
`ops.checks.registry` to get every type by its code.
"""
