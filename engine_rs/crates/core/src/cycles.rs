//! cycles: see the module owner's docs.
