"""Local mode: the whole system on one machine with an embedded AWS emulator (moto server)."""
