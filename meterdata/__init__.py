"""Datasets: the manifest format and loader, the synthetic photo generator and meter types, contact sheets,
the meter-digits import. What ``training`` learns from and the benchmarks score on."""
