"""One module per plan component; each has ``base`` (rate-independent, built once) and ``price``."""
