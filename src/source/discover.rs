//! Discovery of a site's sources. STUB.
