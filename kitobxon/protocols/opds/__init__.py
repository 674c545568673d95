"""OPDS 1.2 (Atom) and 2.0 (JSON) catalogues at /opds/."""
