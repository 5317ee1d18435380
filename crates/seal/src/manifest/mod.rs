//! Tree manifests: seal, and drift against a seal.
