"""The digital library: files of records read and heard online, access, digital loans."""
