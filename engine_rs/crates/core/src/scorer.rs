//! scorer: see the module owner's docs.
