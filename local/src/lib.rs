//! Offline AWS stand-ins (placeholder).
