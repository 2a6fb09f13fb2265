"""Operating the app: health and readiness, Prometheus metrics, request ids and JSON logs.

- `metrics`: the counters and histograms the routes feed, and one scrape for all workers;
- `readiness`: what `GET /api/ready` checks (database, Redis, migrations at head);
- `logs` and `middleware`: a request id that follows each API request into the logs;
- `provenance`: where a ledger entry came from (`python -m credits_app explain`).
"""
