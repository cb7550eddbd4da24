"""Speed and memory benchmarks for Shipwatch: ``python -m bench`` runs them all."""
