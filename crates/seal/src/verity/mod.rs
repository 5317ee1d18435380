//! dm-verity hash devices (format version 1), byte-compatible with `veritysetup`.
