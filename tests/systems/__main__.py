"""``python -m tests.systems``: rewrite tests/systems/references.json with QuTiP (~1 min)."""

from tests.systems import write_references

write_references()
