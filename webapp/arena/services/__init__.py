"""The arena's rules: who a voter is, which battle to serve, how a vote counts, ratings."""
