//! The integration tests of `imagegen-rehearse`, one test binary for all of them: the pinned cloud
//! assembly in `tests/fixtures/cdk.out` (see its README) loaded, resolved, inventoried and
//! authorised.

mod endpoint;
mod fixture;
