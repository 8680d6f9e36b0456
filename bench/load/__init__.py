"""Load: the service under many clients, for hours, across replicas (latency, jobs, memory)."""
