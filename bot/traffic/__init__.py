"""Traffic backends: what actually moves a service's share of traffic."""
