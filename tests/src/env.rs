//! OWNER: conformance helper. Where the test servers are (from `scripts/test`).
