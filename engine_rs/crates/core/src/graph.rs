//! graph: see the module owner's docs.
