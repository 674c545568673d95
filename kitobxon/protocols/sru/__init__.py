"""SRU 2.0 with CQL at /sru, and the copy-cataloguing client."""
