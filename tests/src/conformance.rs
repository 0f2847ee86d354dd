//! OWNER: conformance helper. The backend contract as public async test functions.
