//! sizing: see the module owner's docs.
